import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ReadableStream } from 'node:stream/web';
import { HttpResponse } from '@azure/functions';
import { increment } from '../../functions/increment';
import { setValue } from '../../functions/set';
import { watch } from '../../functions/watch';
import { resetServices } from '../../shared/services';
import { callHandler, type CallInit } from '../support/call-handler';
import { SseReader } from '../support/sse';
import { tempDir } from '../support/temp-dir';

let dir: string;
let remove: () => void;
const open: SseReader[] = [];

beforeEach(() => {
  ({ dir, remove } = tempDir());
  process.env.COUNTER_DATA_DIR = dir;
  process.env.COUNTER_CONFIG_FILE = path.join(dir, 'no-config.json');
  delete process.env.COUNTER_READ_KEY;
  delete process.env.COUNTER_WRITE_KEY;
  delete process.env.COUNTER_MAX_WATCHERS;
  // A default counter that exists, so its first read has nothing to heal (and warn about).
  writeFileSync(path.join(dir, 'data.bin'), '0');
  resetServices();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((sse) => sse.close()));
  delete process.env.COUNTER_MAX_WATCHERS;
  delete process.env.COUNTER_READ_KEY;
  delete process.env.COUNTER_ADMIN_KEY;
  resetServices();
  remove();
});

/**
 * Opens a watch as the library sends it in stream mode: the handler's answer becomes the
 * library's HttpResponse (a fetch Response), whose body the library iterates chunk by chunk.
 */
async function startWatching(init: CallInit = {}) {
  const reply = await callHandler(watch, init);
  const body = new HttpResponse(reply.response).body as ReadableStream<Uint8Array> | null;
  const sse = body ? SseReader.of(body) : undefined;
  if (sse) open.push(sse);
  return { ...reply, sse };
}

describe('GET /watch/{name?}', () => {
  it('answers text/event-stream that no cache or proxy may hold, starting with the current value', async () => {
    await callHandler(increment, { method: 'POST', name: 'visits', query: '?by=3' });
    const { status, header, sse } = await startWatching({ name: 'Visits' });
    expect(status).toBe(200);
    expect(header('content-type')).toMatch(/^text\/event-stream/);
    expect(header('cache-control')).toBe('no-store');
    expect(header('x-accel-buffering')).toBe('no');
    expect(await sse?.nextValue()).toBe('3');
  });

  it('sends each change made through this process at once, in order, each once', async () => {
    const { sse } = await startWatching();
    expect(await sse?.nextValue()).toBe('0');
    for (let i = 1; i <= 10; i++) {
      await callHandler(increment, { method: 'POST' });
      expect(await sse?.nextValue(1_000)).toBe(String(i));
    }
    process.env.COUNTER_ADMIN_KEY = 'admin';
    resetServices();
    // A new process-wide hub: its watchers start from the value now.
    const { sse: after } = await startWatching();
    expect(await after?.nextValue()).toBe('10');
    await callHandler(setValue, {
      method: 'PUT',
      query: '?value=-5',
      headers: { authorization: 'Bearer admin' },
    });
    expect(await after?.nextValue(1_000)).toBe('-5');
  });

  it('starts again from the current value when a client reconnects', async () => {
    const first = await startWatching({ name: 'a' });
    expect(await first.sse?.nextValue()).toBe('0');
    await first.sse?.close();
    await callHandler(increment, { method: 'POST', name: 'a', query: '?by=2' });
    const again = await startWatching({ name: 'a' });
    expect(await again.sse?.nextValue()).toBe('2');
  });

  it('answers 503 with Retry-After to the watcher beyond COUNTER_MAX_WATCHERS, and serves again when one leaves', async () => {
    process.env.COUNTER_MAX_WATCHERS = '2';
    resetServices();
    const first = await startWatching();
    await startWatching({ name: 'b' });
    const third = await startWatching();
    expect(third.status).toBe(503);
    expect(third.header('retry-after')).toBe('1');
    expect(JSON.parse(third.text).error).toMatch(/COUNTER_MAX_WATCHERS/);
    await first.sse?.close();
    expect((await startWatching()).status).toBe(200);
  });

  it('needs the read key (or the write key) when one is configured', async () => {
    process.env.COUNTER_READ_KEY = 'reader';
    resetServices();
    const refused = await startWatching();
    expect(refused.status).toBe(401);
    expect(refused.header('www-authenticate')).toMatch(/^Bearer/);
    const allowed = await startWatching({ headers: { authorization: 'Bearer reader' } });
    expect(allowed.status).toBe(200);
  });

  it('answers 400 for a bad name', async () => {
    const reply = await startWatching({ name: 'con' });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error).toMatch(/reserved/);
  });
});
