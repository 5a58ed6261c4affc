import { fromRpcHttpResponse } from '../../src/converters/from-rpc-http-response';

describe('fromRpcHttpResponse', () => {
  it('reads status, headers and body bytes', () => {
    const answer = fromRpcHttpResponse({
      statusCode: '409',
      headers: { 'content-type': 'application/json' },
      body: { bytes: Buffer.from('{"error":"x"}') },
    });
    expect(answer.status).toBe(409);
    expect(answer.headers).toEqual({ 'content-type': 'application/json' });
    expect(Buffer.from(answer.body).toString()).toBe('{"error":"x"}');
  });

  it('defaults to 200 and an empty body', () => {
    const answer = fromRpcHttpResponse({});
    expect(answer.status).toBe(200);
    expect(answer.body.byteLength).toBe(0);
  });

  it('turns cookies into Set-Cookie headers beside one the app set itself', () => {
    const answer = fromRpcHttpResponse({
      headers: { 'set-cookie': 'first=1' },
      cookies: [{ name: 'second', value: '2', sameSite: 'lax' }],
    });
    expect(answer.headers['set-cookie']).toEqual(['first=1', 'second=2; path=/; samesite=lax']);
  });

  it('reads string and JSON bodies too', () => {
    expect(Buffer.from(fromRpcHttpResponse({ body: { string: 'text' } }).body).toString()).toBe(
      'text',
    );
    expect(Buffer.from(fromRpcHttpResponse({ body: { json: '{"a":1}' } }).body).toString()).toBe(
      '{"a":1}',
    );
  });

  it('refuses a status outside 100-599 as an error of the app', () => {
    expect(() => fromRpcHttpResponse({ statusCode: '42' })).toThrow('invalid HTTP status "42"');
  });
});
