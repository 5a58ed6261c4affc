import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { type ReadyServer, request, startHostProcess } from '../../src';

// An app that calls app.setup({ enableHttpStream: true }), as Microsoft's quickstart does.
const streamApp = path.join(__dirname, '../fixtures/stream-app');

let host: ReadyServer;

beforeAll(async () => {
  host = await startHostProcess({
    appRoot: streamApp,
    env: { LOG_LEVEL: undefined, FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: undefined },
  });
});

afterAll(async () => {
  await host?.stop();
});

/** Opens a request and resolves with the response as soon as its headers arrive. */
function open(
  pathAndQuery: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const req = httpRequest(`${host.url}${pathAndQuery}`, { ...options, agent: false });
  const response = once(req, 'response').then(([res]) => res as IncomingMessage);
  return { req, response };
}

/**
 * Reads from `res` until `text` has arrived and returns what arrived since the last call,
 * leaving the response open for further reads.
 */
function reader(res: IncomingMessage): (text: string) => Promise<string> {
  let received = '';
  let ended = false;
  let notify = (): void => undefined;
  res.on('data', (chunk: Buffer) => {
    received += String(chunk);
    notify();
  });
  res.on('close', () => {
    ended = true;
    notify();
  });
  return async (text) => {
    while (!received.includes(text)) {
      if (ended)
        throw new Error(
          `the response ended before "${text}" arrived; got ${JSON.stringify(received)}`,
        );
      await new Promise<void>((resolve) => (notify = resolve));
    }
    const upToText = received.slice(0, received.indexOf(text) + text.length);
    received = received.slice(upToText.length);
    return upToText;
  };
}

/** The TCP ports process `pid` listens on, from /proc (Linux). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`))?.[1])
      .filter((inode) => inode !== undefined),
  );
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // fields: sl, local_address, rem_address, st (0A = LISTEN), …, inode (10th)
      if (fields[3] === '0A' && inodes.has(fields[9])) {
        ports.push(parseInt(fields[1].split(':')[1], 16));
      }
    }
  }
  return ports;
}

function safeReadlink(file: string): string {
  try {
    return readlinkSync(file);
  } catch {
    // The descriptor closed between listing and reading.
    return '';
  }
}

describe('HTTP streams (app.setup({ enableHttpStream: true }))', () => {
  it('starts the app and says streams are on', () => {
    expect(host.logs()).toContain('HTTP streams are enabled');
  });

  const onLinux = process.platform === 'linux' ? it : it.skip;
  onLinux(
    "hands requests to the library in-process: the library's proxy port is closed",
    async () => {
      // The library opened its own server for the host to forward to; the host uses its
      // handler directly, so the process listens on the host's one port only.
      const pid = host.proc.pid ?? 0;
      const reply = await request(`${host.url}/api/describe/ada`);
      expect(reply.status).toBe(200);
      expect(listeningPorts(pid)).toEqual([host.port]);
    },
  );

  it("reads a handler's stream only as fast as its client takes it", async () => {
    const chunks = async () =>
      ((await request(`${host.url}/api/flood/chunks`)).json() as { chunks: number }).chunks;
    const before = await chunks();
    const { req, response } = open('/api/flood');
    req.end();
    const res = await response;
    res.pause();
    // Unread, the answer fills the socket buffers and then stops: the count settles, far
    // below what an endless producer makes when nobody waits for the client.
    const limit = before + 1024; // 64 MiB
    let seen = -1;
    let current = await chunks();
    for (let same = 0; same < 5 && current < limit;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      seen = current;
      current = await chunks();
      same = current === seen ? same + 1 : 0;
    }
    expect(current).toBeLessThan(limit);
    expect(current).toBeGreaterThan(before);
    res.destroy();
  });

  it('delivers the events of an endless response as they are written', async () => {
    const { req, response } = open('/api/ticks');
    req.end();
    const res = await response;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['x-ms-invocation-id']).toBeUndefined();
    // The stream never ends, so these events can only have come while it was open.
    expect(await reader(res)('data: 2\n\n')).toMatch(/^data: 0\n\ndata: 1\n\ndata: 2\n\n/);
    res.destroy();
  });

  it("cancels the handler's stream when its client disconnects", async () => {
    const before = (await request(`${host.url}/api/ticks/cancelled`)).json() as {
      cancelled: number;
    };
    const { req, response } = open('/api/ticks');
    req.end();
    const res = await response;
    await reader(res)('data: 0');
    res.destroy();
    let cancelled = before.cancelled;
    while (cancelled === before.cancelled) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      cancelled = (
        (await request(`${host.url}/api/ticks/cancelled`)).json() as { cancelled: number }
      ).cancelled;
    }
    expect(cancelled).toBe(before.cancelled + 1);
  });

  it('streams a request body to the handler and its answer back while the client still sends', async () => {
    const { req, response } = open('/api/echo', { method: 'POST' });
    req.write('first part;');
    const readUntil = reader(await response);
    // The echo of the first part arrives before the second is sent: neither side waits for the whole body.
    expect(await readUntil('first part;')).toBe('first part;');
    req.end('second part');
    expect(await readUntil('second part')).toBe('second part');
  });

  it('hands a 50 MB request body to the handler as a stream', async () => {
    const { req, response } = open('/api/count', { method: 'POST' });
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    for (let i = 0; i < 50; i++) {
      if (!req.write(chunk)) await once(req, 'drain');
    }
    req.end();
    const res = await response;
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(await reader(res)('}'))).toEqual({ bytes: 50 * 1024 * 1024 });
  });

  it('gives a bodiless GET no body, with its URL, route parameter, query, headers and cookies', async () => {
    const reply = await request(`${host.url}/api/describe/ada?x=1&y=2`, {
      headers: { 'x-test': 'yes' },
    });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({
      method: 'GET',
      url: `${host.url}/api/describe/ada?x=1&y=2`,
      name: 'ada',
      query: { x: '1', y: '2' },
      header: 'yes',
      hasBody: false,
    });
    expect(reply.headers['set-cookie']).toEqual(['seen=1; Path=/']);
  });

  it('gives the handler the headers the client sent and none that the host adds to hand the request over', async () => {
    // As with Core Tools, where Azure's e2e suite expects exactly the client's headers: the
    // invocation id and x-forwarded-host/-proto pair the request with its invocation inside
    // the library and are not the client's.
    const reply = await request(`${host.url}/api/headers`, { headers: { 'x-test': 'yes' } });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({
      connection: 'close',
      host: new URL(host.url).host,
      'x-test': 'yes',
    });
  });

  it('answers 204 when the handler returns nothing, and 500 without detail when it throws', async () => {
    const nothing = await request(`${host.url}/api/nothing`);
    expect(nothing.status).toBe(204);
    const fails = await request(`${host.url}/api/fails`);
    expect(fails.status).toBe(500);
    expect(fails.text).toBe('');
  });

  it('refuses a body over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT with 413', async () => {
    const small = await startHostProcess({
      appRoot: streamApp,
      env: { LOG_LEVEL: undefined, FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '10' },
    });
    try {
      const reply = await request(`${small.url}/api/count`, {
        method: 'POST',
        body: 'x'.repeat(11),
      });
      expect(reply.status).toBe(413);
      // Without Content-Length (chunked) the body is counted as it streams in.
      const chunked = httpRequest(`${small.url}/api/count`, { method: 'POST', agent: false });
      chunked.on('error', () => undefined);
      chunked.write('x'.repeat(6));
      chunked.end('x'.repeat(6));
      const [refused] = (await once(chunked, 'response')) as [IncomingMessage];
      expect(refused.statusCode).toBe(413);
      expect(JSON.parse(await reader(refused)('}'))).toEqual({
        error: 'the request body is larger than 10 bytes',
      });
      const fits = await request(`${small.url}/api/count`, {
        method: 'POST',
        body: 'x'.repeat(10),
      });
      expect(fits.json()).toEqual({ bytes: 10 });
    } finally {
      await small.stop();
    }
  });
});
