import { compileRoute } from '../../src/http/compile-route';
import { type HttpRoute, RouteTable } from '../../src/http/route-table';

const route = (functionName: string, template: string, methods: string[] | 'any'): HttpRoute => ({
  functionName,
  methods: methods === 'any' ? methods : new Set(methods),
  route: compileRoute('', template),
});

const table = new RouteTable([
  route('getItem', 'items/{id}', ['GET']),
  route('putItem', 'items/{id}', ['PUT']),
  route('newItem', 'items/new', ['GET']),
  route('anything', 'any', 'any'),
  route('nothing', 'none', []),
  route('probe', 'probe', ['HEAD']),
]);

describe('RouteTable.lookup', () => {
  it('finds the function registered for the method and path, with its parameters', () => {
    expect(table.lookup('PUT', '/items/7')).toMatchObject({
      kind: 'found',
      route: { functionName: 'putItem' },
      params: { id: '7' },
    });
  });

  it('prefers a literal route over a parameter regardless of registration order', () => {
    expect(table.lookup('GET', '/items/new')).toMatchObject({
      kind: 'found',
      route: { functionName: 'newItem' },
    });
  });

  it('sends HEAD only to a function that lists it, as the Functions host does', () => {
    expect(table.lookup('HEAD', '/items/7')).toEqual({ kind: 'notFound' });
    expect(table.lookup('HEAD', '/probe')).toMatchObject({
      kind: 'found',
      route: { functionName: 'probe' },
    });
  });

  it('accepts every method for a function without a method list, and none for an empty list', () => {
    expect(table.lookup('PATCH', '/any')).toMatchObject({
      kind: 'found',
      route: { functionName: 'anything' },
    });
    expect(table.lookup('GET', '/none')).toEqual({ kind: 'notFound' });
  });

  it('finds nothing when the path exists only for other methods, as the Functions host does', () => {
    expect(table.lookup('DELETE', '/items/7')).toEqual({ kind: 'notFound' });
  });

  describe('with a catch-all function that accepts every method', () => {
    const withCatchAll = new RouteTable([
      route('fallback', '{*path}', 'any'),
      route('getItem', 'items/{id}', ['GET']),
      route('root', '{page:guid?}', ['GET']),
    ]);

    it('gives the catch-all what no more specific route takes', () => {
      expect(withCatchAll.lookup('DELETE', '/items/7')).toMatchObject({
        route: { functionName: 'fallback' },
        params: { path: 'items/7' },
      });
      expect(withCatchAll.lookup('GET', '/nowhere/at/all')).toMatchObject({
        route: { functionName: 'fallback' },
      });
    });

    it('keeps the more specific routes first, the root included', () => {
      expect(withCatchAll.lookup('GET', '/items/7')).toMatchObject({
        route: { functionName: 'getItem' },
      });
      expect(withCatchAll.lookup('GET', '/')).toMatchObject({ route: { functionName: 'root' } });
    });

    it('gives HEAD to the catch-all where the more specific route takes only GET', () => {
      expect(withCatchAll.lookup('HEAD', '/items/7')).toMatchObject({
        route: { functionName: 'fallback' },
      });
    });
  });

  it('reports an unknown path as not found', () => {
    expect(table.lookup('GET', '/nothing')).toEqual({ kind: 'notFound' });
  });
});

describe('RouteTable.allowedMethods', () => {
  it('lists nothing for an unknown path', () => {
    expect(table.allowedMethods('/nothing')).toEqual([]);
  });

  it('lists every method for a function that accepts any', () => {
    expect(table.allowedMethods('/any')).toEqual([
      'DELETE',
      'GET',
      'HEAD',
      'OPTIONS',
      'PATCH',
      'POST',
      'PUT',
    ]);
  });
});
