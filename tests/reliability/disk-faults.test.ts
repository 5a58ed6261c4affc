import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mountTmpfs, tempDir } from '../support/temp-dir';
import { describeWithTool, findTool } from '../support/system-tool';
import { CounterClient, isAcked, startLoad, valueOf, type Reply } from './support/counter-client';
import { fileText, HostGroup, storedValue } from './support/hosts';

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

/** Writes zeros into `dir` until the filesystem is full. */
function fill(dir: string): string {
  const filler = path.join(dir, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(1024 * 1024));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  return filler;
}

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
    const filler = fill(tmpfs.dir);
    expectUnavailable(await post(url, 'increment'), /full/);
    expectUnavailable(await post(url, 'decrement'), /full/);
    expect(fileText(tmpfs.dir, 'data.bin')).toBe(String(last));
    await expect(client.get(url)).resolves.toBe(last);
    expect((await client.send(`${url}/health`)).status).toBe(503);
    expect(tempFiles(tmpfs.dir)).toEqual([]);

    rmSync(filler);
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
    try {
      const urls = [url, second.urls[0]];
      const before = await client.get(url);
      const load = startLoad({
        client,
        concurrency: 16,
        next: (i) => (i < 600 ? { target: i % 2, kind: 'increment', by: 1n } : undefined),
        urlOf: (target) => urls[target],
      });
      while (load.records.length < 100) await sleep(5);
      const filler = fill(tmpfs.dir);
      const refusedAt = load.records.length;
      while (load.records.length < refusedAt + 100) await sleep(5);
      rmSync(filler);
      const records = await load.done;

      expect(records.filter((r) => r.status !== 200 && r.status !== 503)).toEqual([]);
      expect(records.filter((r) => r.status === 503).length).toBeGreaterThan(0);
      expect(records.slice(-50).filter((r) => r.status !== 200)).toEqual([]);
      // All were answered, so the books balance exactly: no 503 took effect.
      const acked = records.filter(isAcked);
      expect(storedValue(tmpfs.dir)).toBe(before + BigInt(acked.length));
      expect(new Set(acked.map((r) => r.value)).size).toBe(acked.length);
    } finally {
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

// The fault is injected by a small C shim that LD_PRELOAD puts in front of libc's fsync.
const describeWithCc = describeWithTool(
  'a C compiler (cc)',
  findTool('cc'),
  'apt-get install -y --no-install-recommends gcc libc6-dev',
);

describeWithCc('an fsync that fails or stalls (injected into the host process)', () => {
  const scratch = tempDir('rusty-counter-fsync-');
  let dataDir: string;
  let control: string;
  let group: HostGroup;
  let url: string;
  beforeAll(async () => {
    const build = scratch.dir;
    const shim = path.join(build, 'fail-fsync.so');
    execFileSync('cc', [
      '-shared',
      '-fPIC',
      '-O2',
      '-o',
      shim,
      path.join(__dirname, 'support/fail-fsync.c'),
      '-ldl',
    ]);
    control = path.join(build, 'fail-when');
    dataDir = path.join(build, 'data');
    group = await HostGroup.start(1, {
      dataDir,
      // libuv must run fsync through libc (a thread-pool call) for the shim to see it.
      env: { LD_PRELOAD: shim, FAIL_FSYNC_WHEN: control, UV_USE_IO_URING: '0' },
    });
    url = group.urls[0];
    await change(url, 'increment');
  });
  afterAll(async () => {
    await group?.stopAll();
    scratch.remove();
  });
  afterEach(() => {
    rmSync(control, { force: true });
    rmSync(`${control}.reached`, { force: true });
  });

  it('fails the change when the new file cannot be synced, and never reports it later', async () => {
    const last = storedValue(dataDir);
    writeFileSync(control, 'fail:/.tmp-data.bin');
    expectUnavailable(await post(url, 'increment'), /I\/O error/);
    expectUnavailable(await post(url, 'increment'), /I\/O error/);
    expect(storedValue(dataDir)).toBe(last);
    expect(tempFiles(dataDir)).toEqual([]);
    await expect(client.get(url)).resolves.toBe(last);

    rmSync(control);
    await expect(change(url, 'increment')).resolves.toBe(last + 1n);
  });

  it('puts the previous value back when the directory cannot be synced after the rename', async () => {
    const last = storedValue(dataDir);
    writeFileSync(control, `fail:=${dataDir}`);
    expectUnavailable(await post(url, 'decrement'), /I\/O error/);
    expect(storedValue(dataDir)).toBe(last);
    await expect(client.get(url)).resolves.toBe(last);

    rmSync(control);
    await expect(change(url, 'decrement')).resolves.toBe(last - 1n);
  });

  it.each([
    ['the new file', '/.tmp-data.bin'],
    ['the directory, after the rename', '='],
  ])('answers a change only once the fsync of %s has returned', async (_what, pattern) => {
    const last = storedValue(dataDir);
    writeFileSync(control, `block:${pattern === '=' ? `=${dataDir}` : pattern}`);
    let answered = false;
    const reply = post(url, 'increment').finally(() => (answered = true));
    for (let i = 0; i < 1000 && !existsSync(`${control}.reached`); i++) await sleep(5);
    expect({ syncStarted: existsSync(`${control}.reached`) }).toEqual({ syncStarted: true });
    // Not answered while the sync is stalled: had it answered before syncing, its answer
    // would have come long before this. (Only a false pass is possible, never a false alarm.)
    await sleep(300);
    expect(answered).toBe(false);

    rmSync(control);
    const done = await reply;
    expect({ status: done.status, value: valueOf(done.text) }).toEqual({
      status: 200,
      value: last + 1n,
    });
  });
});
