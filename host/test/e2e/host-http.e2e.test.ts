import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { type ReadyServer, request, startHostProcess } from '../../src';

const basicApp = path.join(__dirname, '../fixtures/basic-app');
const oneMiB = 1024 * 1024;

let host: ReadyServer;

beforeAll(async () => {
  host = await startHostProcess({
    appRoot: basicApp,
    env: {
      SHARED_SETTING: 'from the environment',
      CORS_ALLOWED_ORIGINS: undefined,
      LOG_LEVEL: undefined,
      // A small limit, so the 413 cases below need not send 100 MB.
      FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: String(oneMiB),
    },
  });
});

afterAll(async () => {
  await host?.stop();
});

describe('start-up', () => {
  it('lists the functions as Core Tools does, method and URL for HTTP, the trigger otherwise', () => {
    const logs = host.logs();
    expect(logs).toContain('\nFunctions:\n\n');
    expect(logs).toContain(`\techo: [POST] ${host.url}/api/echo\n`);
    expect(logs).toContain(`\titems: [GET,PUT] ${host.url}/api/items/{id:int}\n`);
    expect(logs).toMatch(/\tticker: timerTrigger\n/);
  });
});

describe('routing', () => {
  it('serves functions under the default "api" route prefix when host.json sets none', async () => {
    const reply = await request(`${host.url}/api/hello`);
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({ greeting: 'hello world', method: 'GET' });
    expect((await request(`${host.url}/hello`)).status).toBe(404);
  });

  it('passes an optional route parameter, matching the route case-insensitively', async () => {
    const reply = await request(`${host.url}/API/Hello/Ada%20L`);
    expect(reply.json()).toMatchObject({ greeting: 'hello Ada L' });
  });

  it('passes query parameters to the handler', async () => {
    const reply = await request(`${host.url}/api/hello?by=5&x=y`);
    expect(reply.json()).toMatchObject({ query: { by: '5', x: 'y' } });
  });

  it('matches a constrained parameter only when the value fits the constraint', async () => {
    expect((await request(`${host.url}/api/items/12`)).json()).toMatchObject({
      id: '12',
      method: 'GET',
    });
    expect((await request(`${host.url}/api/items/twelve`)).status).toBe(404);
  });

  it('limits {id:int} to the 32-bit range, as the Functions host does', async () => {
    expect((await request(`${host.url}/api/items/2147483647`)).json()).toMatchObject({
      id: '2147483647',
    });
    expect((await request(`${host.url}/api/items/2147483648`)).status).toBe(404);
  });

  it('routes the percent-decoded path, but keeps %2F inside its segment', async () => {
    expect((await request(`${host.url}/api/hell%6F/ada`)).json()).toMatchObject({
      greeting: 'hello ada',
    });
    expect((await request(`${host.url}/api/files/a%2Fb/c.txt`)).json()).toEqual({
      rest: 'a%2Fb/c.txt',
    });
    expect((await request(`${host.url}/api/files`)).json()).toEqual({ rest: null });
  });

  it('sends each method of one path to the function registered for it', async () => {
    const put = await request(`${host.url}/api/items/5`, { method: 'PUT', body: 'new' });
    expect(put.json()).toEqual({ id: '5', method: 'PUT', body: 'new' });
    const del = await request(`${host.url}/api/items/5`, { method: 'DELETE' });
    expect(del.status).toBe(202);
    expect(del.json()).toEqual({ deleted: '5' });
  });

  it('answers 404 with no body when the path exists but not for the method, as the Functions host does', async () => {
    const reply = await request(`${host.url}/api/hello`, { method: 'POST' });
    expect(reply.status).toBe(404);
    expect(reply.text).toBe('');
    expect(reply.headers['content-length']).toBe('0');
    expect(reply.headers['content-type']).toBeUndefined();
  });

  it('reads a request path that starts with // as a path, not as a host name', async () => {
    const answer = await exchange('GET // HTTP/1.1\r\nHost: x\r\n\r\n', /\r\n\r\n/);
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
  });

  it('answers 404 with no body for a path no function serves', async () => {
    const reply = await request(`${host.url}/api/nowhere`);
    expect(reply.status).toBe(404);
    expect(reply.text).toBe('');
  });

  it('answers HEAD without a body from a function that lists HEAD', async () => {
    const get = await request(`${host.url}/api/files/a.txt`);
    const head = await request(`${host.url}/api/files/a.txt`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
  });

  it('answers HEAD with 404 where only GET is registered, as the Functions host does', async () => {
    const head = await request(`${host.url}/api/logs`, { method: 'HEAD' });
    expect(head.status).toBe(404);
  });

  it('answers OPTIONS with 404 where no function accepts it and no CORS preflight asks', async () => {
    const reply = await request(`${host.url}/api/items/3`, { method: 'OPTIONS' });
    expect(reply.status).toBe(404);
    expect(reply.text).toBe('');
  });
});

describe('requests and responses', () => {
  it('passes body, headers and full URL to the handler and returns its status, headers and cookies', async () => {
    const reply = await request(`${host.url}/api/echo?q=1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello body',
    });
    expect(reply.status).toBe(201);
    expect(reply.json()).toEqual({
      length: 10,
      body: 'hello body',
      url: `${host.url}/api/echo?q=1`,
    });
    expect(reply.headers['x-echo-content-type']).toBe('text/plain');
    expect(reply.headers['set-cookie']).toEqual(['session=abc; path=/; samesite=lax; httponly']);
  });

  it('builds the request URL from the address connected to when an HTTP/1.0 client sends no Host header', async () => {
    const answer = await exchange(
      'POST /api/echo HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi',
      /\r\n\r\n\{.*\}/,
    );
    expect(answer).toContain(`"url":"http://127.0.0.1:${host.port}/api/echo"`);
  });

  it('answers 500 with no body when a handler throws, as the Functions host does, and logs the stack', async () => {
    const reply = await request(`${host.url}/api/boom`);
    expect(reply.status).toBe(500);
    expect(reply.text).toBe('');
    expect(reply.text).not.toContain('secret');
    await host.waitForLog(
      /ERROR \[boom\] Executed 'Functions\.boom' \(Failed, Id=[0-9a-f-]{36}, Duration=\d+ms\): Error: secret detail that must stay in the log/,
    );
  });

  it("prints Core Tools' Executing and Executed lines around each invocation, with one id", async () => {
    const reply = await request(`${host.url}/api/hello/ada`);
    expect(reply.status).toBe(200);
    const executed = await host.waitForLog(
      /INFO {2}\[hello\] Executed 'Functions\.hello' \(Succeeded, Id=[0-9a-f-]{36}, Duration=\d+ms\)$/,
    );
    const id = /Id=([0-9a-f-]{36})/.exec(executed)?.[1] ?? '';
    expect(host.logs()).toContain(
      `INFO  [hello] Executing 'Functions.hello' (Reason='This function was programmatically called via the host APIs.', Id=${id})`,
    );
  });

  it('answers 204 when a handler returns nothing', async () => {
    const reply = await request(`${host.url}/api/nothing`);
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
  });

  it('accepts a body of exactly 1 MiB', async () => {
    const reply = await request(`${host.url}/api/echo`, {
      method: 'POST',
      body: 'x'.repeat(oneMiB),
    });
    expect(reply.status).toBe(201);
    expect(reply.json()).toMatchObject({ length: oneMiB });
  });

  it('answers 413 to a body over 1 MiB without reading it, then closes the connection', async () => {
    // Only the headers are sent: the answer must come without waiting for the body.
    const socket = await open();
    const closed = new Promise((resolve) => socket.once('close', resolve));
    let answer = '';
    socket.on('data', (data: Buffer) => (answer += data.toString()));
    socket.write(`POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${oneMiB + 1}\r\n\r\n`);
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain(`{"error":"the request body is larger than ${oneMiB} bytes"}`);
  });

  it('answers 413 to an Expect: 100-continue request declaring too large a body, without asking for it', async () => {
    const answer = await exchange(
      `POST /api/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${2 * oneMiB}\r\n\r\n`,
      /\r\n\r\n\{.*\}/,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('answers 413 to a chunked body as soon as it passes 1 MiB, leaving the rest unread', async () => {
    const socket = await open();
    socket.write('POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `${(64 * 1024).toString(16)}\r\n${'y'.repeat(64 * 1024)}\r\n`;
    let answer = '';
    const answered = new Promise((resolve) =>
      socket.on('data', (data: Buffer) => resolve((answer += data.toString()))),
    );
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // Writing on after the host has closed fails with EPIPE or ECONNRESET, which is expected.
    socket.on('error', () => undefined);
    let sentBytes = 0;
    // The body never ends, so only a host that stops at the limit can answer; the kernel's
    // socket buffers take a few MiB more before the client sees it.
    while (answer === '' && sentBytes < 8 * oneMiB && !socket.destroyed) {
      if (!socket.write(chunk)) {
        await Promise.race([
          new Promise((resolve) => socket.once('drain', resolve)),
          answered,
          closed,
        ]);
      }
      sentBytes += 64 * 1024;
    }
    await until(() => /\r\n\r\n\{.*\}/.test(answer));
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    await closed;
  });

  it('keeps answering others while a client trickles its request headers', async () => {
    const slowClient = await open();
    slowClient.write('GET /api/hello HTTP/1.1\r\nHost: x\r\n');
    const started = Date.now();
    const reply = await request(`${host.url}/api/hello`);
    expect(reply.status).toBe(200);
    // Were it blocked, the answer would wait for the 15 s header timeout.
    expect(Date.now() - started).toBeLessThan(5000);
    slowClient.destroy();
  });
});

describe('hooks, settings and logs', () => {
  it('runs the appStart hook before it serves', () => {
    const logs = host.logs();
    expect(logs.indexOf('appStart hook ran')).toBeGreaterThanOrEqual(0);
    expect(logs.indexOf('appStart hook ran')).toBeLessThan(logs.indexOf('listening on'));
  });

  it('runs preInvocation and postInvocation hooks around each invocation, sharing their hookData', async () => {
    const reply = await request(`${host.url}/api/hello`);
    expect(reply.headers['x-hook']).toBe('preInvocation');
  });

  it('puts local.settings.json Values into the environment without overriding variables already set', async () => {
    const reply = await request(`${host.url}/api/logs`);
    expect(reply.json()).toEqual({
      setting: 'from the environment',
      greeting: 'hello from local.settings.json',
    });
  });

  it('writes one line per invocation with function, method, path, status and milliseconds', async () => {
    await request(`${host.url}/api/items/77`);
    await host.waitForLog(/ INFO {2}\[items\] GET \/api\/items\/77 -> 200 in \d+\.\d ms$/);
  });

  it('writes context.log lines with their level, dropping those below the log level', async () => {
    await request(`${host.url}/api/logs`);
    await host.waitForLog(/ERROR \[logs\] error line from the app/);
    expect(host.logs()).toMatch(/ INFO {2}\[logs\] information line from the app/);
    expect(host.logs()).toMatch(/ WARN {2}\[logs\] warning line from the app/);
    expect(host.logs()).not.toContain('debug line from the app');
  });
});

describe('CORS from Host.CORS in local.settings.json', () => {
  it('lets an allowed origin read responses, and no other', async () => {
    const allowed = await request(`${host.url}/api/hello`, {
      headers: { origin: 'https://allowed.example' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://allowed.example');
    expect(allowed.headers.vary).toBe('Origin');
    const other = await request(`${host.url}/api/hello`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(other.status).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a preflight for an allowed origin with 204 and the requested method and headers', async () => {
    const reply = await request(`${host.url}/api/items/1`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://allowed.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(reply.status).toBe(204);
    expect(reply.headers['access-control-allow-origin']).toBe('https://allowed.example');
    expect(reply.headers['access-control-allow-methods']).toBe('PUT');
    expect(reply.headers['access-control-allow-headers']).toBe('content-type');
  });
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(host.port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends raw bytes and collects the answer until it matches `complete`. */
async function exchange(raw: string, complete: RegExp): Promise<string> {
  const socket = await open();
  let answer = '';
  socket.on('data', (data: Buffer) => (answer += data.toString()));
  socket.write(raw);
  await until(() => complete.test(answer));
  socket.destroy();
  return answer;
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
