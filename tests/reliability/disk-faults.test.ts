import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { mountTmpfs, tempDir } from '../support/temp-dir';
import {
  ackedCount,
  CounterClient,
  isAcked,
  startLoad,
  valueOf,
  type Reply,
} from './support/counter-client';
import { buildFsyncShim, describeWithCc, type FsyncShim } from './support/fsync-shim';
import { fileText, HostGroup, storedValue } from './support/hosts';
import { pause, resume } from './support/process-control';

jest.setTimeout(60_000);

let client: CounterClient;
beforeAll(() => {
  client = new CounterClient();
});
afterAll(() => client.close());

const post = (url: string, route: 'increment' | 'decrement') =>
  client.send(`${url}/${route}`, { method: 'POST' });

/** A change that must succeed; resolves to the value it answered. */
async function change(url: string, route: 'increment' | 'decrement'): Promise<bigint> {
  const reply = await post(url, route);
  const value = valueOf(reply.text);
  if (reply.status !== 200 || value === undefined) {
    throw new Error(`POST /${route} answered ${reply.status} ${reply.text}`);
  }
  return value;
}

/** The storage-unavailable answer: 503, Retry-After, a JSON error naming the cause. */
function expectUnavailable(reply: Reply, cause: RegExp): void {
  expect(reply.status).toBe(503);
  expect(reply.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(reply.text)).toEqual({ error: expect.stringMatching(cause) });
}

const tempFiles = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('.tmp-'));

describe('a data directory on a small tmpfs', () => {
  let tmpfs: ReturnType<typeof mountTmpfs>;
  let group: HostGroup;
  let url: string;
  beforeAll(async () => {
    tmpfs = mountTmpfs(64);
    group = await HostGroup.start(1, { dataDir: tmpfs.dir });
    url = group.urls[0];
  });
  afterAll(async () => {
    await group?.stopAll();
    tmpfs?.unmount();
  });

  it('answers 503 to changes on a full disk, keeps the last value and serves reads, then recovers', async () => {
    const last = await change(url, 'increment');
    const free = tmpfs.fill();
    expectUnavailable(await post(url, 'increment'), /full/);
    expectUnavailable(await post(url, 'decrement'), /full/);
    expect(fileText(tmpfs.dir, 'data.bin')).toBe(String(last));
    await expect(client.get(url)).resolves.toBe(last);
    expect((await client.send(`${url}/health`)).status).toBe(503);
    expect(tempFiles(tmpfs.dir)).toEqual([]);

    free();
    await expect(change(url, 'increment')).resolves.toBe(last + 1n);
    expect((await client.send(`${url}/health`)).status).toBe(200);
  });

  it('answers 503 to changes on a read-only remount, keeps the last value and serves reads, then recovers', async () => {
    const last = await client.get(url);
    tmpfs.remount('ro');
    try {
      expectUnavailable(await post(url, 'increment'), /read-only/);
      expectUnavailable(await post(url, 'decrement'), /read-only/);
      await expect(client.get(url)).resolves.toBe(last);
      expect((await client.send(`${url}/health`)).status).toBe(503);
    } finally {
      tmpfs.remount('rw');
    }
    expect(storedValue(tmpfs.dir)).toBe(last);
    await expect(change(url, 'increment')).resolves.toBe(last + 1n);
  });

  it('answers a read it cannot heal on a read-only disk with 503, and heals once writable', async () => {
    writeFileSync(path.join(tmpfs.dir, 'backup.bin'), '500');
    writeFileSync(path.join(tmpfs.dir, 'data.bin'), 'garbage');
    tmpfs.remount('ro');
    try {
      expectUnavailable(await client.send(`${url}/get`), /read-only/);
      expect(fileText(tmpfs.dir, 'data.bin')).toBe('garbage');
    } finally {
      tmpfs.remount('rw');
    }
    await expect(client.get(url)).resolves.toBe(500n);
  });

  it('refuses exactly the changes that met a full disk under load, and loses none it acknowledged', async () => {
    const second = await HostGroup.start(1, { dataDir: tmpfs.dir });
    const hosts = [group.pid(0), second.pid(0)];
    try {
      const urls = [url, second.urls[0]];
      const before = await client.get(url);
      const load = startLoad({
        client,
        concurrency: 16,
        next: (i) => (i < 600 ? { target: i % 2, kind: 'increment', by: 1n } : undefined),
        urlOf: (target) => urls[target],
      });
      // The disk fills at a known point of the load, after 100 acknowledged changes, and
      // stays full for every write after it (see fill()): with both hosts stopped, so that
      // none frees a block between the fill and the links that keep it full. A fill while
      // they ran failed 2 of 12 runs under load here: when a commit had written its temp file
      // just before, each rename freed a block for the next, and nothing was refused.
      await load.until((records) => ackedCount(records) >= 100);
      let free: () => void;
      try {
        await Promise.all(hosts.map(pause));
        free = tmpfs.fill();
      } finally {
        hosts.forEach(resume);
      }
      const fullFrom = performance.now();
      // Every change sent from now on meets the full disk; wait until 50 have been answered.
      await load.until((records) => records.filter((r) => r.startedAt > fullFrom).length >= 50);
      free();
      const freedAt = performance.now();
      const records = await load.done;

      expect(records.filter((r) => r.status !== 200 && r.status !== 503)).toEqual([]);
      const refused = records.filter((r) => r.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const { status, headers, text } of refused) {
        expectUnavailable(
          { status: status ?? 0, headers: headers ?? {}, text: text ?? '' },
          /full/,
        );
      }
      // Exactly those that met it: sent while the disk was full and answered before it was
      // freed → refused; sent after it was freed → acknowledged. (Those in flight at either
      // edge may go either way.)
      const whileFull = records.filter((r) => r.startedAt > fullFrom && r.endedAt < freedAt);
      expect(whileFull.length).toBeGreaterThan(0);
      expect(whileFull.filter((r) => r.status !== 503)).toEqual([]);
      const afterFreed = records.filter((r) => r.startedAt > freedAt);
      expect(afterFreed.length).toBeGreaterThan(0);
      expect(afterFreed.filter((r) => r.status !== 200)).toEqual([]);
      // All were answered, so the books balance exactly: no 503 took effect.
      const acked = records.filter(isAcked);
      expect(storedValue(tmpfs.dir)).toBe(before + BigInt(acked.length));
      expect(new Set(acked.map((r) => r.value)).size).toBe(acked.length);
    } finally {
      hosts.forEach(resume);
      await second.stopAll();
    }
  });
});

describe('a data directory deleted while the service runs', () => {
  it('answers 503 to changes and reads, does not recreate it, and goes on once it is back', async () => {
    const scratch = tempDir('rusty-counter-deleted-');
    const dataDir = path.join(scratch.dir, 'data');
    const group = await HostGroup.start(1, { dataDir });
    const url = group.urls[0];
    try {
      await expect(change(url, 'increment')).resolves.toBe(1n);
      rmSync(dataDir, { recursive: true });

      expectUnavailable(await post(url, 'increment'), /missing/);
      expectUnavailable(await post(url, 'decrement'), /missing/);
      expectUnavailable(await client.send(`${url}/get`), /missing/);
      expect((await client.send(`${url}/health`)).status).toBe(503);
      expect(existsSync(dataDir)).toBe(false);

      // The volume comes back (restored from a snapshot): no restart needed.
      mkdirSync(dataDir);
      writeFileSync(path.join(dataDir, 'data.bin'), '1');
      await expect(change(url, 'increment')).resolves.toBe(2n);
    } finally {
      await group.stopAll();
      scratch.remove();
    }
  });
});

describeWithCc('an fsync that fails or stalls (injected into the host process)', () => {
  const scratch = tempDir('rusty-counter-fsync-');
  let dataDir: string;
  let fsync: FsyncShim;
  let group: HostGroup;
  let url: string;
  beforeAll(async () => {
    fsync = buildFsyncShim(scratch.dir);
    dataDir = path.join(scratch.dir, 'data');
    group = await HostGroup.start(1, { dataDir, env: fsync.env });
    url = group.urls[0];
    await change(url, 'increment');
  });
  afterAll(async () => {
    await group?.stopAll();
    scratch.remove();
  });
  afterEach(() => fsync.clear());

  it('fails the change when the new file cannot be synced, and never reports it later', async () => {
    const last = storedValue(dataDir);
    fsync.fail('/.tmp-data.bin');
    expectUnavailable(await post(url, 'increment'), /I\/O error/);
    expectUnavailable(await post(url, 'increment'), /I\/O error/);
    expect(storedValue(dataDir)).toBe(last);
    expect(tempFiles(dataDir)).toEqual([]);
    await expect(client.get(url)).resolves.toBe(last);

    fsync.clear();
    await expect(change(url, 'increment')).resolves.toBe(last + 1n);
  });

  it('puts the previous value back when the directory cannot be synced after the rename', async () => {
    const last = storedValue(dataDir);
    fsync.fail(`=${dataDir}`);
    expectUnavailable(await post(url, 'decrement'), /I\/O error/);
    expect(storedValue(dataDir)).toBe(last);
    await expect(client.get(url)).resolves.toBe(last);

    fsync.clear();
    await expect(change(url, 'decrement')).resolves.toBe(last - 1n);
  });

  it.each([
    ['the new file', '/.tmp-data.bin'],
    ['the directory, after the rename', '='],
  ])('answers a change only once the fsync of %s has returned', async (_what, pattern) => {
    const last = storedValue(dataDir);
    const held = fsync.hold(pattern === '=' ? `=${dataDir}` : pattern);
    let answered = false;
    const reply = post(url, 'increment').finally(() => (answered = true));
    await held;
    // Not answered while the sync is stalled: had it answered before syncing, its answer
    // would have come long before this. (Only a false pass is possible, never a false alarm.)
    await sleep(300);
    expect(answered).toBe(false);

    fsync.clear();
    const done = await reply;
    expect({ status: done.status, value: valueOf(done.text) }).toEqual({
      status: 200,
      value: last + 1n,
    });
  });
});
