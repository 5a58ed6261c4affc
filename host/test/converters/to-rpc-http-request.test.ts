import { toRpcHttpRequest } from '../../src/converters/to-rpc-http-request';

describe('toRpcHttpRequest', () => {
  it('puts method, absolute URL, headers, query, route parameters and body bytes in the RPC shape', () => {
    const body = Buffer.from('{"by":2}');
    const rpc = toRpcHttpRequest(
      'POST',
      new URL('http://127.0.0.1:8000/increment?by=2'),
      { 'content-type': 'application/json', host: '127.0.0.1:8000' },
      { id: '7' },
      body,
    );
    expect(rpc).toEqual({
      method: 'POST',
      url: 'http://127.0.0.1:8000/increment?by=2',
      headers: { 'content-type': 'application/json', host: '127.0.0.1:8000' },
      query: { by: '2' },
      params: { id: '7' },
      body: { bytes: body },
    });
  });

  it('joins repeated query keys and repeated headers with commas, as the Functions host does', () => {
    const rpc = toRpcHttpRequest(
      'GET',
      new URL('http://h/x?by=1&by=2'),
      { 'x-many': ['a', 'b'] },
      {},
      Buffer.alloc(0),
    );
    expect(rpc.query).toEqual({ by: '1,2' });
    expect(rpc.headers).toEqual({ 'x-many': 'a, b' });
  });
});
