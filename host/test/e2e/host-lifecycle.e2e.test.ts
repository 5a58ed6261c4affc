import { createServer, type Server } from 'node:net';
import path from 'node:path';
import {
  type HostProcessOptions,
  type ReadyServer,
  type ServerExit,
  request,
  spawnHostProcess,
  startHostProcess,
} from '../../src';

const fixture = (name: string) => path.join(__dirname, '../fixtures', name);

describe('start-up failures exit non-zero with a clear message', () => {
  it('when package.json main matches no files', async () => {
    const { exit, logs } = await startExpectingFailure({ appRoot: fixture('bad-glob') });
    expect(exit).toEqual({ code: 1, signal: null });
    expect(logs).toContain('package.json "main" ("dist/not-built/*.js") matches no files');
    expect(logs).not.toMatch(/\n\s+at /);
  });

  it('when a module throws while loading', async () => {
    const { exit, logs } = await startExpectingFailure({ appRoot: fixture('throws-at-load') });
    expect(exit).toEqual({ code: 1, signal: null });
    expect(logs).toMatch(
      /loading functions\/broken\.js failed: Error: broken\.js cannot load: SOME_REQUIRED_SETTING is not set/,
    );
  });

  it('when the port is already taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const { exit, logs } = await startExpectingFailure({ appRoot: fixture('basic-app'), port });
      expect(exit).toEqual({ code: 1, signal: null });
      expect(logs).toContain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('when a timer schedule is invalid', async () => {
    const { exit, logs } = await startExpectingFailure({
      appRoot: fixture('basic-app'),
      env: { TICK_SCHEDULE: 'every minute' },
    });
    expect(exit).toEqual({ code: 1, signal: null });
    expect(logs).toContain(
      'the schedule of timer function "ticker": the schedule "every minute" is neither',
    );
  });

  it('when a host setting is invalid', async () => {
    const { exit, logs } = await startExpectingFailure({
      appRoot: fixture('basic-app'),
      env: { LOG_LEVEL: 'loud' },
    });
    expect(exit).toEqual({ code: 1, signal: null });
    expect(logs).toContain(
      'LOG_LEVEL must be one of trace|debug|information|warning|error|critical|none; got "loud"',
    );
  });
});

describe('shutdown', () => {
  let host: ReadyServer;

  afterEach(async () => {
    await host?.stop('SIGKILL');
  });

  it('on SIGTERM stops accepting, answers every request in flight, runs appTerminate hooks and exits 0', async () => {
    host = await startHostProcess({
      appRoot: fixture('basic-app'),
      env: { LOG_LEVEL: 'information' },
    });
    const inFlight = Array.from({ length: 8 }, () => request(`${host.url}/api/slow?ms=800`));
    await until(() => (host.logs().match(/\[slow\] sleeping 800 ms/g) ?? []).length === 8);
    host.proc.kill('SIGTERM');
    await host.waitForLog(/SIGTERM: stopped listening/);
    await expect(request(`${host.url}/api/hello`)).rejects.toThrow(/ECONNREFUSED/);

    const replies = await Promise.all(inFlight);
    expect(replies.map((reply) => reply.status)).toEqual(Array(8).fill(200));
    expect(await host.exited).toEqual({ code: 0, signal: null });
    const logs = host.logs();
    expect(logs.lastIndexOf('[slow] GET /api/slow -> 200')).toBeLessThan(
      logs.indexOf('appTerminate hook ran'),
    );
  });

  it('on SIGINT does the same', async () => {
    host = await startHostProcess({
      appRoot: fixture('basic-app'),
      env: { LOG_LEVEL: 'information' },
    });
    const reply = request(`${host.url}/api/slow?ms=300`);
    await host.waitForLog(/\[slow\] sleeping 300 ms/);
    host.proc.kill('SIGINT');
    expect((await reply).status).toBe(200);
    expect(await host.exited).toEqual({ code: 0, signal: null });
  });

  it('cuts off invocations that outlast SHUTDOWN_TIMEOUT_MS and exits 1', async () => {
    host = await startHostProcess({
      appRoot: fixture('basic-app'),
      env: { SHUTDOWN_TIMEOUT_MS: '300', LOG_LEVEL: 'information' },
    });
    const reply = request(`${host.url}/api/slow?ms=20000`).then(
      (answer) => answer.status,
      (err: NodeJS.ErrnoException) => err.message,
    );
    await host.waitForLog(/\[slow\] sleeping 20000 ms/);
    const stopped = Date.now();
    host.proc.kill('SIGTERM');
    expect(await host.exited).toEqual({ code: 1, signal: null });
    expect(Date.now() - stopped).toBeLessThan(5000);
    expect(await reply).toBe('socket hang up');
    expect(host.logs()).toContain('1 invocation(s) still running after 300 ms; stopping anyway');
  });
});

describe('LOG_LEVEL', () => {
  it('drops lines below the chosen level, invocation lines included', async () => {
    const host = await startHostProcess({
      appRoot: fixture('basic-app'),
      env: { LOG_LEVEL: 'warning' },
    });
    try {
      await request(`${host.url}/api/logs`);
      await host.waitForLog(/WARN {2}\[logs\] warning line from the app/);
      expect(host.logs()).not.toMatch(/ INFO /);
      expect(host.logs()).toContain('listening on');
    } finally {
      await host.stop();
    }
  });
});

/** Spawns a host that is expected to stop by itself; cleans up after it. */
async function startExpectingFailure(
  options: HostProcessOptions,
): Promise<{ exit: ServerExit; logs: string }> {
  const host = spawnHostProcess(options);
  const exit = await host.exited;
  await host.stop();
  return { exit, logs: host.logs() };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
