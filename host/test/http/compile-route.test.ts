import {
  compareRoutePrecedence,
  compileRoute,
  matchRoute,
  toRoutingPath,
} from '../../src/http/compile-route';
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

  it('passes {name} parameters as the routing path has them', () => {
    const route = compileRoute('', 'users/{user}/items/{item}');
    expect(matchRoute(route, '/users/ada l/items/7')).toEqual({ user: 'ada l', item: '7' });
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

  // ASP.NET Core's catch-all takes any character; a regular expression's `.` stops at a line
  // break unless told otherwise, and `GET /%0A` fell through the app's catch-all to a bare 404.
  it('takes line breaks and other control characters into a catch-all', () => {
    const route = compileRoute('', '{*path}');
    expect(matchRoute(route, toRoutingPath('/%0A'))).toEqual({ path: '\n' });
    expect(matchRoute(route, toRoutingPath('/a%0D%0Ab/%00'))).toEqual({ path: 'a\r\nb/\u0000' });
  });

  it('applies simple constraints such as {id:int}', () => {
    const route = compileRoute('', 'items/{id:int}');
    expect(matchRoute(route, '/items/42')).toEqual({ id: '42' });
    expect(matchRoute(route, '/items/x42')).toBeUndefined();
  });

  it('limits {id:int} to 32 bits and {id:long} to 64, with an optional sign, as .NET parses them', () => {
    const int = compileRoute('', 'items/{id:int}');
    expect(matchRoute(int, '/items/2147483647')).toEqual({ id: '2147483647' });
    expect(matchRoute(int, '/items/-2147483648')).toEqual({ id: '-2147483648' });
    expect(matchRoute(int, '/items/+7')).toEqual({ id: '+7' });
    expect(matchRoute(int, '/items/2147483648')).toBeUndefined();
    expect(matchRoute(int, '/items/-2147483649')).toBeUndefined();
    const long = compileRoute('', 'items/{id:long}');
    expect(matchRoute(long, '/items/2147483648')).toEqual({ id: '2147483648' });
    expect(matchRoute(long, '/items/9223372036854775807')).toEqual({ id: '9223372036854775807' });
    expect(matchRoute(long, '/items/9223372036854775808')).toBeUndefined();
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

describe('toRoutingPath', () => {
  it('decodes percent-escapes as ASP.NET Core does before routing', () => {
    expect(toRoutingPath('/users/ada%20l/incr%65ment')).toBe('/users/ada l/increment');
  });

  it('keeps %2F as written, so an encoded slash stays inside its segment', () => {
    expect(toRoutingPath('/files/a%2Fb/c%2fd')).toBe('/files/a%2Fb/c%2fd');
    const route = compileRoute('', 'files/{*rest}');
    expect(matchRoute(route, toRoutingPath('/files/a%2Fb/c'))).toEqual({ rest: 'a%2Fb/c' });
    expect(matchRoute(compileRoute('', 'get/{name}'), toRoutingPath('/get/a%2Fb'))).toEqual({
      name: 'a%2Fb',
    });
  });

  it('keeps a malformed percent-escape as it is, and decodes the ones around it', () => {
    expect(toRoutingPath('/%E0%A4%A')).toBe('/%E0%A4%A');
    expect(toRoutingPath('/a%20b/%zz/%41')).toBe('/a b/%zz/A');
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
