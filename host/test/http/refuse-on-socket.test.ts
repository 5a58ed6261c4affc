import { PassThrough } from 'node:stream';
import { refusalForClientError, refuseOnSocket } from '../../src/http/refuse-on-socket';

describe('refusalForClientError', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408],
    ['HPE_INVALID_METHOD', 400],
    ['HPE_INVALID_CONSTANT', 400],
    [undefined, 400],
  ])('answers %s with %i and a message', (code, status) => {
    expect(refusalForClientError(code)).toEqual({ status, message: expect.stringMatching(/\w/) });
  });
});

describe('refuseOnSocket', () => {
  it('writes a complete JSON answer and closes the connection', async () => {
    const socket = new PassThrough();
    const written: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => written.push(chunk));
    const ended = new Promise((resolve) => socket.on('end', resolve));
    refuseOnSocket(socket, { status: 431, message: 'too long' });
    await ended;
    const [head, body] = Buffer.concat(written).toString('utf8').split('\r\n\r\n');
    expect(head.split('\r\n')).toEqual([
      'HTTP/1.1 431 Request Header Fields Too Large',
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ]);
    expect(JSON.parse(body)).toEqual({ error: 'too long' });
  });

  it('only destroys a connection that can no longer be written', () => {
    const socket = new PassThrough();
    socket.end();
    const destroy = jest.spyOn(socket, 'destroy');
    refuseOnSocket(socket, { status: 400, message: 'x' });
    expect(destroy).toHaveBeenCalled();
  });
});
