import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { readRequestBody } from '../../src/http/read-request-body';

function fakeRequest(
  headers: Record<string, string>,
): PassThrough & { headers: Record<string, string> } {
  return Object.assign(new PassThrough(), { headers });
}
const asRequest = (stream: PassThrough) => stream as unknown as IncomingMessage;

describe('readRequestBody', () => {
  it('reads nothing when the request declares no body', () => {
    expect(readRequestBody(asRequest(fakeRequest({})), 10)).toEqual({
      kind: 'read',
      body: Buffer.alloc(0),
    });
  });

  it('reads a body up to the limit', async () => {
    const req = fakeRequest({ 'content-length': '11' });
    const result = readRequestBody(asRequest(req), 11);
    req.write('hello ');
    req.end('world');
    await expect(result).resolves.toEqual({ kind: 'read', body: Buffer.from('hello world') });
  });

  it('refuses a declared length over the limit without reading a byte', () => {
    const req = fakeRequest({ 'content-length': '11' });
    expect(readRequestBody(asRequest(req), 10)).toEqual({ kind: 'tooLarge' });
    expect(req.listenerCount('data')).toBe(0);
  });

  it('refuses a chunked body once it passes the limit and stops reading', async () => {
    const req = fakeRequest({ 'transfer-encoding': 'chunked' });
    const result = readRequestBody(asRequest(req), 10);
    req.write('123456');
    req.write('7890ab');
    await expect(result).resolves.toEqual({ kind: 'tooLarge' });
    expect(req.listenerCount('data')).toBe(0);
    expect(req.isPaused()).toBe(true);
  });

  it('reports a client that goes away mid-body', async () => {
    const req = fakeRequest({ 'content-length': '100' });
    const result = readRequestBody(asRequest(req), 1000);
    req.write('partial');
    req.destroy();
    await expect(result).resolves.toEqual({ kind: 'aborted' });
  });
});
