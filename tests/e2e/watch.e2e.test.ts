import { rmSync } from 'node:fs';
import { EventSource } from 'eventsource';
import { WATCH_TIMING } from '../../shared/event-stream';
import { expectConformant, conformantRequest as request } from '../openapi-conformance';
import { createTempDir, type HostProcess, startHost } from '../support/host-process';
import { type OpenedStream, openEventStream, type SseReader } from '../support/sse';

// GET /watch through two offline hosts sharing one data directory, as two replicas would:
// changes made through one reach the watchers of the other.

const NO_BACKUPS = '0 0 0 1 1 *';
// The host waits for requests in flight before it stops, and a stream is one until it ends.
const env = { BACKUP_SCHEDULE: NO_BACKUPS, LOG_LEVEL: 'warning', SHUTDOWN_TIMEOUT_MS: '1000' };
let dataDir: string;
let watching: HostProcess;
let changing: HostProcess;
const streams: OpenedStream[] = [];

beforeAll(async () => {
  dataDir = createTempDir();
  [watching, changing] = await Promise.all([
    startHost({ dataDir, env }),
    startHost({ dataDir, env }),
  ]);
});
afterAll(async () => {
  streams.splice(0).forEach((stream) => stream.close());
  await Promise.all([watching?.stop(), changing?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});
afterEach(() => streams.splice(0).forEach((stream) => stream.close()));

async function watch(host: HostProcess, route = '/watch'): Promise<OpenedStream> {
  const stream = await openEventStream(`${host.url}${route}`);
  streams.push(stream);
  return stream;
}

const increment = (host: HostProcess, name: string) =>
  request(`${host.url}/increment/${name}`, { method: 'POST' });

/** Fails if a value event comes within `ms` (comments may come). */
async function expectNoValueWithin(sse: SseReader, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (let left = ms; left > 0; left = deadline - Date.now()) {
    const item = await sse.next(left).catch(() => undefined);
    if (item?.kind === 'value') throw new Error(`an unexpected event: ${item.value}`);
    if (item === undefined) return;
  }
}

describe('GET /watch/{name?} across two hosts on one directory', () => {
  it('answers text/event-stream, as openapi.json says, starting with the reconnection delay and the value', async () => {
    await increment(changing, 'framing');
    const stream = await watch(watching, '/watch/framing');
    expectConformant('GET', `${watching.url}/watch/framing`, { ...stream, text: '' });
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(await stream.sse.next()).toEqual({ kind: 'retry', ms: WATCH_TIMING.retryMs });
    expect(await stream.sse.next()).toEqual({ kind: 'value', value: '1' });
  });

  it('shows every value of increments through the other host, in order, each once', async () => {
    const { sse } = await watch(watching, '/watch/relay');
    expect(await sse.nextValue()).toBe('0');
    for (let i = 1; i <= 20; i++) {
      expect((await increment(changing, 'relay')).json()).toEqual({ value: i });
      // How soon is measured by scripts/measure-watch.mjs; a test only waits.
      expect(await sse.nextValue()).toBe(String(i));
    }
    await expectNoValueWithin(sse, 700);
  });

  it('shows changes through its own host at once', async () => {
    const { sse } = await watch(watching, '/watch/local');
    expect(await sse.nextValue()).toBe('0');
    await increment(watching, 'local');
    expect(await sse.nextValue()).toBe('1');
  });

  it('ends a burst of changes faster than it reads the file with the latest value, in order', async () => {
    const { sse } = await watch(watching, '/watch/burst');
    expect(await sse.nextValue()).toBe('0');
    for (let i = 0; i < 30; i++) await increment(changing, 'burst');
    const seen: number[] = [];
    while (seen.at(-1) !== 30) seen.push(Number(await sse.nextValue()));
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
    await expectNoValueWithin(sse, 700);
  });

  it('answers 400 for a bad name and 405 for another method', async () => {
    const bad = await watch(watching, '/watch/no%2Fslash');
    expect(bad.status).toBe(400);
    expectConformant('GET', `${watching.url}/watch/x`, bad);
    expect((await request(`${watching.url}/watch`, { method: 'POST' })).status).toBe(405);
  });

  it('serves 1,000 watchers, answers the 1,001st 503 with Retry-After, and takes one again when one leaves', async () => {
    const opened = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => watch(watching, `/watch/cap-${i % 10}`)),
    );
    expect(opened.map((stream) => stream.status)).toEqual(opened.map(() => 200));
    const refused = await watch(watching, '/watch/cap-0');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expectConformant('GET', `${watching.url}/watch/cap-0`, refused);
    // The other host has its own allowance.
    expect((await watch(changing, '/watch/cap-0')).status).toBe(200);
    // The offline host cancels the stream of a client that leaves, which frees its watcher
    // (the library alone never would: there the stream's one-minute lifetime does).
    opened[0].close();
    let again: OpenedStream | undefined;
    for (let tries = 0; tries < 50 && again?.status !== 200; tries++) {
      if (again !== undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      again = await watch(watching, '/watch/cap-0');
    }
    expect(again?.status).toBe(200);
  }, 120_000);
});

describe('an EventSource client', () => {
  it('reconnects by itself when the host restarts, and gets the value changed meanwhile', async () => {
    const events: string[] = [];
    const source = new EventSource(`${changing.url}/watch/restart`);
    const nextEvent = (count: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`events so far: ${events}`)), 10_000);
        const check = () => {
          if (events.length >= count) {
            clearTimeout(timer);
            resolve();
          } else setTimeout(check, 20);
        };
        check();
      });
    source.onmessage = (event) => events.push(event.data);
    try {
      await nextEvent(1);
      expect(events).toEqual(['{"value":0}']);
      const port = changing.port;
      await changing.stop();
      await increment(watching, 'restart');
      changing = await startHost({ dataDir, env, port });
      await nextEvent(2);
      expect(events).toEqual(['{"value":0}', '{"value":1}']);
    } finally {
      source.close();
    }
  }, 30_000);
});
