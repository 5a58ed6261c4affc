import { spawn } from 'node:child_process';
import {
  promises as fsp,
  readdirSync,
  readFileSync,
  writeFileSync,
  existsSync,
  openSync,
  closeSync,
  utimesSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryLock } from 'fs-native-extensions';
import { CounterError } from '../../../shared/errors';
import { MAX_VALUE, MIN_VALUE } from '../../../shared/store/counter-value';
import { LOCK_FILE } from '../../../shared/store/file-counter';
import { defaultCounterIn } from '../../support/file-counters';
import { locksOn } from '../../reliability/support/process-control';
import { mountTmpfs, tempDir } from '../../support/temp-dir';

let dir: string;
let remove: () => void;
let warnings: string[];

beforeEach(() => {
  ({ dir, remove } = tempDir());
  warnings = [];
});
afterEach(() => {
  jest.restoreAllMocks();
  remove();
});

const storeIn = (dataDir = dir, extra: Partial<Parameters<typeof defaultCounterIn>[0]> = {}) =>
  defaultCounterIn({ dataDir, warn: (m) => warnings.push(m), ...extra });
const file = (name: string) => path.join(dir, name);
const write = (name: string, content: string | Buffer) => writeFileSync(file(name), content);
const contentOf = (name: string) => readFileSync(file(name), 'latin1');
const asideFiles = (name: string) =>
  readdirSync(dir).filter((n) => n.startsWith(`${name}.corrupt-`));
const kindOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof CounterError ? err.kind : String(err)),
  );

describe('reading the counter', () => {
  it('returns the value of data.bin, surrounding ASCII whitespace allowed', async () => {
    write('data.bin', ' 42\n');
    await expect(storeIn().read()).resolves.toBe(42n);
    expect(warnings).toEqual([]);
  });

  it('creates the data directory and starts at 0 when nothing exists, without a warning', async () => {
    const nested = path.join(dir, 'a', 'b');
    await expect(storeIn(nested).read()).resolves.toBe(0n);
    expect(readFileSync(path.join(nested, 'data.bin'), 'latin1')).toBe('0');
    // A directory this process made holds no files yet: a first start, nothing was lost.
    expect(warnings).toEqual([]);
  });

  it('warns, naming the counter, when data.bin and backup.bin are gone from an existing directory', async () => {
    await expect(storeIn().read()).resolves.toBe(0n);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^the default counter: data\.bin was missing and backup\.bin was missing; starting again at 0$/,
      ),
    ]);
  });

  it('restores data.bin from backup.bin when data.bin is missing', async () => {
    write('backup.bin', '17');
    await expect(storeIn().read()).resolves.toBe(17n);
    expect(contentOf('data.bin')).toBe('17');
    expect(warnings).toEqual([
      expect.stringMatching(/data\.bin was missing; restored 17 from backup\.bin/),
    ]);
  });

  const corruptPatterns: Array<[string, string | Buffer]> = [
    ['empty', ''],
    ['garbage', 'hello world'],
    ['digits then garbage', '123abc'],
    ['NUL bytes', Buffer.from([0, 0, 0, 0])],
    ['a value above the 64-bit range', '9223372036854775808'],
    ['a value below the 64-bit range', '-9223372036854775809'],
    ['non-ASCII whitespace', '\u00a05'],
    ['a file far longer than any value', '1'.repeat(10_000)],
  ];

  it.each(corruptPatterns)(
    'restores data.bin from backup.bin when data.bin is corrupt: %s',
    async (_pattern, content) => {
      write('data.bin', content);
      write('backup.bin', '99');
      await expect(storeIn().read()).resolves.toBe(99n);
      expect(contentOf('data.bin')).toBe('99');
      const [aside] = asideFiles('data.bin');
      expect(aside).toMatch(/^data\.bin\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/);
      expect(readFileSync(file(aside))).toEqual(Buffer.from(content));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/data\.bin was corrupt .*restored 99 from backup\.bin/);
    },
  );

  it('starts at 0 and keeps both files aside when data.bin and backup.bin are both corrupt', async () => {
    write('data.bin', 'xx');
    write('backup.bin', '12yy');
    await expect(storeIn().read()).resolves.toBe(0n);
    expect(contentOf('data.bin')).toBe('0');
    expect(asideFiles('data.bin')).toHaveLength(1);
    expect(asideFiles('backup.bin')).toHaveLength(1);
    expect(warnings).toEqual([
      expect.stringMatching(/data\.bin was corrupt.*backup\.bin was corrupt too.*0/),
    ]);
  });

  it('starts at 0 when data.bin is corrupt and there is no backup', async () => {
    write('data.bin', '--1');
    await expect(storeIn().read()).resolves.toBe(0n);
    expect(asideFiles('data.bin')).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(/corrupt.*backup\.bin was missing.*0/)]);
  });

  // Found by review of the corruption tests: the second rename replaced the first copy.
  it('keeps every damaged copy, even two found within the same millisecond', async () => {
    jest.spyOn(Date.prototype, 'toISOString').mockReturnValue('2026-01-01T00:00:00.000Z');
    const store = storeIn();
    write('backup.bin', '1');
    for (const damaged of ['first', 'second', 'third']) {
      write('data.bin', damaged);
      await expect(store.read()).resolves.toBe(1n);
    }
    const kept = asideFiles('data.bin').sort();
    expect(kept).toEqual([
      'data.bin.corrupt-2026-01-01T00-00-00.000Z',
      'data.bin.corrupt-2026-01-01T00-00-00.000Z-1',
      'data.bin.corrupt-2026-01-01T00-00-00.000Z-2',
    ]);
    expect(kept.map((name) => contentOf(name))).toEqual(['first', 'second', 'third']);
  });

  it('heals at every read, not only the first one', async () => {
    const store = storeIn();
    write('data.bin', '5');
    await expect(store.read()).resolves.toBe(5n);
    write('data.bin', 'garbage');
    write('backup.bin', '4');
    await expect(store.read()).resolves.toBe(4n);
    expect(warnings).toHaveLength(1);
  });
});

describe('changing the counter', () => {
  it('adds and subtracts, writing exactly the ASCII digits', async () => {
    const store = storeIn();
    await expect(store.add(5n)).resolves.toBe(5n);
    await expect(store.add(-8n)).resolves.toBe(-3n);
    expect(contentOf('data.bin')).toBe('-3');
  });

  it('stays exact beyond 2^53', async () => {
    write('data.bin', '9007199254740993');
    await expect(storeIn().add(2n)).resolves.toBe(9007199254740995n);
    expect(contentOf('data.bin')).toBe('9007199254740995');
  });

  it('refuses to go above the 64-bit maximum and leaves the value unchanged', async () => {
    write('data.bin', String(MAX_VALUE - 1n));
    const store = storeIn();
    await expect(store.add(1n)).resolves.toBe(MAX_VALUE);
    await expect(kindOf(store.add(1n))).resolves.toBe('overflow');
    expect(contentOf('data.bin')).toBe(String(MAX_VALUE));
  });

  it('refuses to go below the 64-bit minimum and leaves the value unchanged', async () => {
    write('data.bin', String(MIN_VALUE + 3n));
    const store = storeIn();
    await expect(kindOf(store.add(-4n))).resolves.toBe('overflow');
    await expect(store.add(-3n)).resolves.toBe(MIN_VALUE);
    expect(contentOf('data.bin')).toBe(String(MIN_VALUE));
  });

  it('fails only the overflowing change of a group, not its neighbours', async () => {
    write('data.bin', String(MAX_VALUE - 1n));
    const store = storeIn();
    const outcomes = await Promise.all([
      kindOf(store.add(1n)),
      kindOf(store.add(1n)),
      kindOf(store.add(-5n)),
    ]);
    expect(outcomes).toEqual(['resolved', 'overflow', 'resolved']);
    expect(contentOf('data.bin')).toBe(String(MAX_VALUE - 5n));
  });

  it('gives 1,000 concurrent increments distinct values, in arrival order, and an exact total', async () => {
    const store = storeIn();
    const values = await Promise.all(Array.from({ length: 1000 }, () => store.add(1n)));
    expect(values).toEqual(Array.from({ length: 1000 }, (_, i) => BigInt(i + 1)));
    expect(contentOf('data.bin')).toBe('1000');
  });

  it('mixes concurrent increments and decrements without losing any', async () => {
    const store = storeIn();
    const changes = Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? -2n : 1n));
    await Promise.all(changes.map((delta) => store.add(delta)));
    expect(await store.read()).toBe(changes.reduce((a, b) => a + b, 0n));
  });

  it('shares one write among changes that arrive while a commit is in flight', async () => {
    const store = storeIn();
    await store.read();
    const renames = jest.spyOn(fsp, 'rename');
    await Promise.all(Array.from({ length: 100 }, () => store.add(1n)));
    expect(renames.mock.calls.length).toBeLessThanOrEqual(2);
  });

  it('writes once per change when group commit is off', async () => {
    const store = storeIn(dir, { groupCommit: false });
    await store.read();
    const renames = jest.spyOn(fsp, 'rename');
    await Promise.all(Array.from({ length: 20 }, () => store.add(1n)));
    expect(renames).toHaveBeenCalledTimes(20);
    expect(contentOf('data.bin')).toBe('20');
  });

  it('keeps two stores on one directory (separate lock descriptors) exact', async () => {
    const [a, b] = [storeIn(), storeIn()];
    const values = await Promise.all(
      Array.from({ length: 400 }, (_, i) => (i % 2 ? a : b).add(1n)),
    );
    expect(new Set(values).size).toBe(400);
    expect(contentOf('data.bin')).toBe('400');
  });
});

describe('the cross-process lock', () => {
  it('answers storage-unavailable, unchanged, while another holder keeps the lock past the timeout', async () => {
    const store = storeIn(dir, { lockTimeoutMs: 1000 });
    await store.add(3n);
    const fd = openSync(file(LOCK_FILE), 'r+');
    expect(tryLock(fd)).toBe(true);
    try {
      await expect(kindOf(store.add(1n))).resolves.toBe('storageUnavailable');
      expect(contentOf('data.bin')).toBe('3');
    } finally {
      closeSync(fd);
    }
    // The refused change's attempt still takes the lock, and lets it go as nobody waits for
    // it any more; the next change is timed from when that is done, not raced against it.
    await until(() => {
      const { holders, waiters } = locksOn(file(LOCK_FILE));
      return holders.length === 0 && waiters === 0;
    });
    await expect(store.add(1n)).resolves.toBe(4n);
  });

  it('is free again the moment a holder is killed, with no stale timeout', async () => {
    const store = storeIn(dir, { lockTimeoutMs: 3000 });
    await store.read();
    const holder = spawn(process.execPath, [
      '-e',
      `const fs=require('fs'),{tryLock}=require('fs-native-extensions');const fd=fs.openSync(${JSON.stringify(file(LOCK_FILE))},'r+');if(!tryLock(fd))process.exit(1);console.log('locked');setInterval(()=>{},1000)`,
    ]);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    const change = store.add(1n);
    // Killed once the change provably waits for the lock: the kernel lists it as a waiter.
    // This test is the only one waiting, so the waiter is this process.
    await until(() => locksOn(file(LOCK_FILE)).waiters === 1);
    holder.kill('SIGKILL');
    // Granted within the lock timeout, or the change would be refused: a lock that comes
    // free only after a stale period (seconds, in lock-file schemes) fails here. The time
    // the change then takes to sync is the disk's, and is not measured.
    await expect(change).resolves.toBe(1n);
  });
});

describe('storage faults', () => {
  it('fails a change whose fsync fails, leaves data.bin intact and no temp file behind', async () => {
    const store = storeIn();
    await store.add(7n);
    const realOpen = fsp.open;
    jest.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      if (String(args[0]).includes('.tmp-data.bin')) {
        handle.sync = () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' }));
      }
      return handle;
    });
    await expect(kindOf(store.add(1n))).resolves.toBe('storageUnavailable');
    expect(contentOf('data.bin')).toBe('7');
    expect(readdirSync(dir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    jest.restoreAllMocks();
    await expect(store.add(1n)).resolves.toBe(8n);
  });

  it('puts the previous value back when the directory fsync fails after the rename', async () => {
    const store = storeIn();
    await store.add(7n);
    const realOpen = fsp.open;
    let failures = 0;
    jest.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      if (args[0] === dir && failures++ === 0) {
        handle.sync = () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' }));
      }
      return handle;
    });
    await expect(kindOf(store.add(1n))).resolves.toBe('storageUnavailable');
    expect(contentOf('data.bin')).toBe('7');
  });

  it('answers storage-unavailable when the data directory vanished, and does not recreate it', async () => {
    await fsp.mkdir(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data', 'data.bin'), '2');
    const store = storeIn(path.join(dir, 'data'));
    await expect(store.read()).resolves.toBe(2n);
    await fsp.rm(path.join(dir, 'data'), { recursive: true });
    await expect(kindOf(store.add(1n))).resolves.toBe('storageUnavailable');
    await expect(kindOf(store.read())).resolves.toBe('storageUnavailable');
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('answers storage-unavailable when the data directory cannot be created', async () => {
    write('a-file', '');
    const store = storeIn(path.join(dir, 'a-file', 'data'));
    await expect(kindOf(store.read())).resolves.toBe('storageUnavailable');
    await expect(kindOf(store.probeWritable())).resolves.toBe('storageUnavailable');
  });

  it('keeps data.bin on a read-only filesystem and recovers once it is writable again', async () => {
    const tmpfs = mountTmpfs();
    try {
      const store = storeIn(tmpfs.dir);
      await store.add(5n);
      tmpfs.remount('ro');
      await expect(kindOf(store.add(1n))).resolves.toBe('storageUnavailable');
      await expect(store.read()).resolves.toBe(5n);
      tmpfs.remount('rw');
      await expect(store.add(1n)).resolves.toBe(6n);
    } finally {
      tmpfs.unmount();
    }
  });

  it('keeps data.bin on a full disk and recovers once space is freed', async () => {
    const tmpfs = mountTmpfs(64);
    try {
      const store = storeIn(tmpfs.dir);
      await store.add(5n);
      const filler = path.join(tmpfs.dir, 'filler');
      await fsp.writeFile(filler, Buffer.alloc(256 * 1024)).catch(() => undefined);
      await expect(kindOf(store.add(1n))).resolves.toBe('storageUnavailable');
      expect(readFileSync(path.join(tmpfs.dir, 'data.bin'), 'latin1')).toBe('5');
      await fsp.rm(filler);
      await expect(store.add(1n)).resolves.toBe(6n);
    } finally {
      tmpfs.unmount();
    }
  });
});

describe('backups', () => {
  it('copies the current value to backup.bin', async () => {
    const store = storeIn();
    await store.add(41n);
    await expect(store.backup()).resolves.toBe(41n);
    expect(contentOf('backup.bin')).toBe('41');
  });

  it('keeps a corrupt backup.bin aside instead of overwriting it', async () => {
    write('data.bin', '3');
    write('backup.bin', 'not a number');
    await storeIn().backup();
    expect(contentOf('backup.bin')).toBe('3');
    const [aside] = asideFiles('backup.bin');
    expect(readFileSync(file(aside), 'latin1')).toBe('not a number');
    expect(warnings).toEqual([expect.stringMatching(/backup\.bin was corrupt/)]);
  });
});

describe('temp files left by a killed writer', () => {
  it('removes old ones at first use and keeps young ones, which may belong to a live writer', async () => {
    write('.tmp-data.bin-1-old', '1');
    write('.tmp-data.bin-2-young', '2');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(file('.tmp-data.bin-1-old'), hourAgo, hourAgo);
    await storeIn().read();
    expect(existsSync(file('.tmp-data.bin-1-old'))).toBe(false);
    expect(existsSync(file('.tmp-data.bin-2-young'))).toBe(true);
  });
});

/** Waits for `condition`; the bound only turns a hang into a failure with a message. */
async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); await sleep(2)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
  }
}
