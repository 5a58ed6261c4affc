import { AppRegistry } from '../../src/app/app-registry';
import type { ProgrammingModel } from '../../src/core/core-types';
import { createCoreApi } from '../../src/core/create-core-api';
import { Disposable } from '../../src/utils/disposable';

describe('createCoreApi', () => {
  it('offers the members of the @azure/functions-core contract', () => {
    const api = createCoreApi(new AppRegistry(), () => undefined);
    expect(typeof api.version).toBe('string');
    expect(typeof api.hostVersion).toBe('string');
    expect(api.Disposable).toBe(Disposable);
    for (const member of [
      'registerFunction',
      'registerHook',
      'setProgrammingModel',
      'getProgrammingModel',
      'log',
    ] as const) {
      expect(typeof api[member]).toBe('function');
    }
  });

  it('records functions, hooks and the programming model in the registry', () => {
    const registry = new AppRegistry();
    const api = createCoreApi(registry, () => undefined);
    const model = { name: 'test', version: '1' } as ProgrammingModel;
    api.setProgrammingModel(model);
    api.registerFunction({ name: 'get', bindings: {} }, () => undefined);
    api.registerHook('appStart', () => undefined);
    expect(api.getProgrammingModel()).toBe(model);
    expect(registry.functions.has('get')).toBe(true);
    expect(registry.hooks('appStart')).toHaveLength(1);
  });

  it('passes log calls outside invocations to the host log', () => {
    const lines: string[] = [];
    createCoreApi(new AppRegistry(), (level, category, message) =>
      lines.push(`${level} ${category} ${message}`),
    ).log('warning', 'system', 'careful');
    expect(lines).toEqual(['warning system careful']);
  });
});
