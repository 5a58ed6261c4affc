import { compileRoute } from '../../src/http/compile-route';
import { type HttpRoute, RouteTable } from '../../src/http/route-table';

const route = (functionName: string, template: string, methods: string[]): HttpRoute => ({
  functionName,
  methods: new Set(methods),
  route: compileRoute('', template),
});

const table = new RouteTable([
  route('getItem', 'items/{id}', ['GET']),
  route('putItem', 'items/{id}', ['PUT']),
  route('newItem', 'items/new', ['GET']),
  route('anything', 'any', []),
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

  it('sends HEAD to the GET function when no function takes HEAD itself', () => {
    expect(table.lookup('HEAD', '/items/7')).toMatchObject({
      kind: 'found',
      route: { functionName: 'getItem' },
    });
    expect(table.lookup('HEAD', '/probe')).toMatchObject({
      kind: 'found',
      route: { functionName: 'probe' },
    });
  });

  it('accepts every method for a function that lists none', () => {
    expect(table.lookup('PATCH', '/any')).toMatchObject({
      kind: 'found',
      route: { functionName: 'anything' },
    });
  });

  it('reports the accepted methods when the path exists but the method does not', () => {
    expect(table.lookup('DELETE', '/items/7')).toEqual({
      kind: 'methodNotAllowed',
      allowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT'],
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
