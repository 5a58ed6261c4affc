import { findTriggerBinding } from '../../src/app/find-trigger-binding';
import { toHttpRoute } from '../../src/http/to-http-route';

const metadata = (name: string, trigger: Record<string, unknown>) => ({
  name,
  bindings: {
    httpTrigger1: { type: 'httpTrigger', direction: 'in' as const, ...trigger },
    $return: { type: 'http', direction: 'out' as const },
  },
});

function routeOf(name: string, trigger: Record<string, unknown>, prefix = 'api', env = {}) {
  const meta = metadata(name, trigger);
  const binding = findTriggerBinding(meta);
  if (!binding) throw new Error('no trigger');
  return toHttpRoute(meta, binding, prefix, env);
}

describe('toHttpRoute', () => {
  it("uses the function's name as its route when it sets none", () => {
    expect(routeOf('get', { methods: ['get'] }).route.template).toBe('api/get');
  });

  it('upper-cases the methods, and takes every method when the binding has no list', () => {
    expect([...(routeOf('get', { methods: ['get', 'Post'] }).methods as Set<string>)]).toEqual([
      'GET',
      'POST',
    ]);
    expect(routeOf('any', {}).methods).toBe('any');
  });

  it('takes no method for an empty list, as the Functions host does', () => {
    expect(routeOf('none', { methods: [] }).methods).toEqual(new Set());
  });

  it('resolves %AppSetting% references in the route', () => {
    expect(routeOf('get', { route: '%VERSION%/get' }, '', { VERSION: 'v2' }).route.template).toBe(
      'v2/get',
    );
  });

  it('refuses a route that is not a string', () => {
    expect(() => routeOf('get', { route: 5 })).toThrow('route must be a string');
  });
});
