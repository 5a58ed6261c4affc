import { once } from 'node:events';
import { Agent, type IncomingMessage, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ReadyServer, startHostProcess } from '../../src';

// Kestrel's limits, which the host keeps: no total request time; a body must come at 240 bytes/s
// or more once 5 s have passed.
jest.setTimeout(90_000);

const fixtures = path.join(__dirname, '../fixtures');
const UPLOAD_MS = 32_000;

let streams: ReadyServer;
let buffered: ReadyServer;

beforeAll(async () => {
  [streams, buffered] = await Promise.all([
    startHostProcess({ appRoot: path.join(fixtures, 'stream-app') }),
    startHostProcess({ appRoot: path.join(fixtures, 'basic-app') }),
  ]);
});

afterAll(async () => {
  await Promise.all([streams?.stop(), buffered?.stop()]);
});

async function text(res: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return body;
}

/** Sends a body of 1 KiB every 250 ms (4 KiB/s) for `durationMs`; resolves with the answer. */
async function steadyUpload(
  url: string,
  durationMs: number,
): Promise<{ status: number; body: string; sent: number }> {
  const req = httpRequest(url, { method: 'POST', agent: false });
  const response = once(req, 'response').then(([res]) => res as IncomingMessage);
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < durationMs) {
    req.write('x'.repeat(1024));
    sent += 1024;
    await sleep(250);
  }
  req.end();
  const res = await response;
  return { status: res.statusCode ?? 0, body: await text(res), sent };
}

describe('request timeouts, as Kestrel', () => {
  it(`takes an upload that runs ${UPLOAD_MS / 1000} s at a steady rate, with and without streams`, async () => {
    const [streamed, whole] = await Promise.all([
      steadyUpload(`${streams.url}/api/count`, UPLOAD_MS),
      steadyUpload(`${buffered.url}/api/echo`, UPLOAD_MS),
    ]);
    expect({ status: streamed.status, body: JSON.parse(streamed.body) as unknown }).toEqual({
      status: 200,
      body: { bytes: streamed.sent },
    });
    expect(whole.status).toBe(201);
    expect((JSON.parse(whole.body) as { length: number }).length).toBe(whole.sent);
  });

  it.each([
    ['with streams', () => streams, '/api/count'],
    ['without streams', () => buffered, '/api/echo'],
  ])(
    'cuts off a client that trickles its body, %s, with 408 JSON',
    async (_mode, server, route) => {
      const socket = connect(server().port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`POST ${route} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`);
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += String(chunk)));
      const closed = once(socket, 'close');
      // One byte a second, far below 240 bytes/s, until the host closes the connection.
      const trickle = setInterval(() => socket.writable && socket.write('x'), 1000);
      try {
        await closed;
      } finally {
        clearInterval(trickle);
      }
      expect(received).toMatch(/^HTTP\/1\.1 408 /);
      expect(received).toMatch(/\r\nconnection: close\r\n/i);
      expect(received).toContain('slower than 240 bytes/s');
      expect(server().logs()).toMatch(/slower than 240 bytes\/s; connection closed/);
    },
  );

  it('answers the next request on a connection whose last body the app left unread', async () => {
    // The app reads one chunk of an 8 MiB body and answers at once. The rest must not stay in
    // the connection in front of the next request. It once did: a body small enough to fit in
    // the socket buffers let the client send its next request, which waited behind it until
    // the 30 s total request timeout fired and answered it 408.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const req = httpRequest(`${streams.url}/api/refuse`, { method: 'POST', agent });
      const response = once(req, 'response').then(([res]) => res as IncomingMessage);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      // Written without waiting for 'drain': a client that is still sending when the answer comes.
      for (let i = 0; i < 128; i++) req.write(chunk);
      req.end();
      const refused = await response;
      expect(refused.statusCode).toBe(413);
      await text(refused);
      const next = httpRequest(`${streams.url}/api/describe/next`, { agent });
      next.end();
      const [res] = (await once(next, 'response')) as [IncomingMessage];
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(await text(res))).toMatchObject({ name: 'next' });
      // Both went over the one connection, which stayed open.
      expect(next.socket).toBe(req.socket);
    } finally {
      agent.destroy();
    }
  });
});
