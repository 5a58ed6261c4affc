import { compareRoutePrecedence, compileRoute, matchRoute } from '../../src/http/compile-route';
import { HostStartupError } from '../../src/utils/host-startup-error';

describe('compileRoute', () => {
  it('joins the route prefix and the route', () => {
    expect(compileRoute('api', 'items').template).toBe('api/items');
    expect(compileRoute('', '/items/').template).toBe('items');
    expect(compileRoute('', '').template).toBe('');
  });

  it('matches literal segments case-insensitively and ignores a trailing slash', () => {
    const route = compileRoute('api', 'Get');
    expect(matchRoute(route, '/api/get')).toEqual({});
    expect(matchRoute(route, '/API/GET/')).toEqual({});
    expect(matchRoute(route, '/api/get/more')).toBeUndefined();
    expect(matchRoute(route, '/get')).toBeUndefined();
  });

  it('passes {name} parameters, percent-decoded', () => {
    const route = compileRoute('', 'users/{user}/items/{item}');
    expect(matchRoute(route, '/users/ada%20l/items/7')).toEqual({ user: 'ada l', item: '7' });
    expect(matchRoute(route, '/users/ada/items')).toBeUndefined();
  });

  it('makes {name?} optional at the end', () => {
    const route = compileRoute('', 'hello/{name?}');
    expect(matchRoute(route, '/hello')).toEqual({});
    expect(matchRoute(route, '/hello/bob')).toEqual({ name: 'bob' });
  });

  it('takes the rest of the path with a catch-all {*rest}', () => {
    const route = compileRoute('', 'files/{*path}');
    expect(matchRoute(route, '/files/a/b/c.txt')).toEqual({ path: 'a/b/c.txt' });
    expect(matchRoute(route, '/files')).toEqual({});
  });

  it('applies simple constraints such as {id:int}', () => {
    const route = compileRoute('', 'items/{id:int}');
    expect(matchRoute(route, '/items/42')).toEqual({ id: '42' });
    expect(matchRoute(route, '/items/x42')).toBeUndefined();
  });

  it('keeps a malformed percent-escape as it is rather than failing', () => {
    expect(matchRoute(compileRoute('', '{name}'), '/%E0%A4%A')).toEqual({ name: '%E0%A4%A' });
  });

  it.each([
    ['a mixed segment', 'files/{name}.{ext}'],
    ['an unknown constraint', 'items/{id:regex}'],
    ['a required segment after an optional one', 'a/{b?}/c'],
    ['a catch-all before the end', '{*rest}/more'],
    ['a repeated parameter', '{id}/{ID}'],
    ['an empty segment', 'a//b'],
  ])('refuses %s with a start-up error', (_case, template) => {
    expect(() => compileRoute('', template)).toThrow(HostStartupError);
  });
});

describe('compareRoutePrecedence', () => {
  it('puts literal segments before parameters, and parameters before optional and catch-all ones', () => {
    const templates = ['{*all}', 'items/{id?}', 'items/{id}', 'items/new', 'items/{id:int}'];
    const sorted = templates.map((t) => compileRoute('', t)).sort(compareRoutePrecedence);
    expect(sorted.map((route) => route.template)).toEqual([
      'items/new',
      'items/{id:int}',
      'items/{id}',
      'items/{id?}',
      '{*all}',
    ]);
  });
});
