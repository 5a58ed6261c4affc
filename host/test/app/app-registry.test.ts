import { AppRegistry } from '../../src/app/app-registry';

const metadata = (name: string) => ({ name, bindings: {} });
const noop = () => undefined;

describe('AppRegistry', () => {
  it('keeps registered functions by name until disposed', () => {
    const registry = new AppRegistry();
    const registration = registry.registerFunction(metadata('get'), noop);
    expect([...registry.functions.keys()]).toEqual(['get']);
    registration.dispose();
    expect(registry.functions.size).toBe(0);
  });

  it('refuses a second function of the same name', () => {
    const registry = new AppRegistry();
    registry.registerFunction(metadata('get'), noop);
    expect(() => registry.registerFunction(metadata('get'), noop)).toThrow(
      'A function with the name "get" has already been registered.',
    );
  });

  it('refuses functions once the app has loaded, as the worker does', () => {
    const registry = new AppRegistry();
    registry.closeRegistration();
    expect(() => registry.registerFunction(metadata('late'), noop)).toThrow('during app startup');
  });

  it('keeps hooks in registration order until disposed', () => {
    const registry = new AppRegistry();
    const first = () => 1;
    const second = () => 2;
    const registration = registry.registerHook('preInvocation', first);
    registry.registerHook('preInvocation', second);
    expect(registry.hooks('preInvocation')).toEqual([first, second]);
    registration.dispose();
    expect(registry.hooks('preInvocation')).toEqual([second]);
  });

  it('refuses an unknown hook name with a RangeError, as the worker does', () => {
    expect(() => new AppRegistry().registerHook('beforeEverything', noop)).toThrow(RangeError);
  });
});
