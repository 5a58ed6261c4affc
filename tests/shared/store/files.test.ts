import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { tryLock } from 'fs-native-extensions';
import { COUNTERS_DIR } from '../../../shared/store/files';
import { fileCounters } from '../../support/file-counters';
import { CounterError } from '../../../shared/errors';
import { LOCK_FILE } from '../../../shared/store/file-counter';
import { tempDir } from '../../support/temp-dir';

let dir: string;
let remove: () => void;
let warnings: string[];

beforeEach(() => {
  ({ dir, remove } = tempDir());
  warnings = [];
});
afterEach(() => remove());

const countersIn = (maxNamed = 10_000, lockTimeoutMs = 5000) =>
  fileCounters({ dataDir: dir, maxNamed, lockTimeoutMs, warn: (m) => warnings.push(m) });
const named = (name: string, file = '') => path.join(dir, COUNTERS_DIR, name, file);
const contentOf = (file: string) => readFileSync(file, 'latin1');
const existingNames = () =>
  existsSync(path.join(dir, COUNTERS_DIR))
    ? readdirSync(path.join(dir, COUNTERS_DIR)).filter((n) => !n.startsWith('.'))
    : [];
const kindOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof CounterError ? err.kind : String(err)),
  );

describe('named counters', () => {
  it('reads a never-changed name as 0 and creates nothing', async () => {
    const counters = countersIn();
    await expect(counters.read('visits')).resolves.toBe(0n);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('creates counters/<name>/data.bin at the first change, in the default format', async () => {
    const counters = countersIn();
    await expect(counters.add('visits', 5n)).resolves.toBe(5n);
    await expect(counters.add('visits', -2n)).resolves.toBe(3n);
    expect(contentOf(named('visits', 'data.bin'))).toBe('3');
    await expect(countersIn().read('visits')).resolves.toBe(3n);
  });

  it('keeps the default counter at the root of the data directory, apart from the named ones', async () => {
    const counters = countersIn();
    await counters.add(undefined, 7n);
    await counters.add('visits', 1n);
    expect(contentOf(path.join(dir, 'data.bin'))).toBe('7');
    expect(contentOf(named('visits', 'data.bin'))).toBe('1');
    await expect(counters.read(undefined)).resolves.toBe(7n);
  });

  it('gives each counter its own value however the changes interleave', async () => {
    const counters = countersIn();
    const names = ['a', 'b', 'c'];
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => counters.add(names[i % 3], 1n)),
    );
    for (const name of names) await expect(counters.read(name)).resolves.toBe(20n);
    // Per counter the answers are distinct: 1..20 each.
    for (let k = 0; k < 3; k++) {
      const mine = answers.filter((_, i) => i % 3 === k).map(Number);
      expect(mine.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
  });

  it('changes one counter while another counter is locked by someone else', async () => {
    const counters = countersIn(10_000, 300);
    await counters.add('held', 1n);
    const fd = openSync(named('held', LOCK_FILE), 'r+');
    expect(tryLock(fd)).toBe(true);
    try {
      await expect(counters.add('free', 1n)).resolves.toBe(1n);
      await expect(counters.add(undefined, 1n)).resolves.toBe(1n);
      await expect(kindOf(counters.add('held', 1n))).resolves.toBe('storageUnavailable');
    } finally {
      closeSync(fd);
    }
    await expect(counters.add('held', 1n)).resolves.toBe(2n);
  });

  it('changes a free counter while this process waits on more busy locks than it has worker threads', async () => {
    // libuv has four worker threads. If each wait on a busy lock slept in one, eight waits
    // would take them all and no file operation, not even for a free counter, could run.
    const counters = countersIn(10_000, 2000);
    const busy = Array.from({ length: 8 }, (_, i) => `busy-${i}`);
    for (const name of [...busy, 'free']) await counters.add(name, 1n);
    const held = busy.map((name) => {
      const fd = openSync(named(name, LOCK_FILE), 'r+');
      expect(tryLock(fd)).toBe(true);
      return fd;
    });
    const waiting = busy.map((name) => kindOf(counters.add(name, 1n)));
    try {
      await expect(counters.add('free', 1n)).resolves.toBe(2n);
    } finally {
      held.forEach((fd) => closeSync(fd));
    }
    for (const outcome of await Promise.all(waiting)) {
      expect(['resolved', 'storageUnavailable']).toContain(outcome);
    }
  });

  it('heals a named counter from its own backup.bin when its data.bin is corrupt', async () => {
    const counters = countersIn();
    await counters.add('page', 9n);
    await counters.backup();
    writeFileSync(named('page', 'data.bin'), 'garbage');
    await expect(countersIn().read('page')).resolves.toBe(9n);
    expect(readdirSync(named('page')).some((n) => n.startsWith('data.bin.corrupt-'))).toBe(true);
    expect(warnings.join('\n')).toMatch(/data\.bin was corrupt .*restored 9 from backup\.bin/);
  });
});

describe('the cap on named counters (COUNTER_MAX_NAMED)', () => {
  it('refuses to create one more with tooManyCounters, and creates nothing', async () => {
    const counters = countersIn(2);
    await counters.add('one', 1n);
    await counters.add('two', 1n);
    await expect(kindOf(counters.add('three', 1n))).resolves.toBe('tooManyCounters');
    await expect(kindOf(counters.set('three', 5n))).resolves.toBe('tooManyCounters');
    expect(existingNames().sort()).toEqual(['one', 'two']);
    // Counters that exist keep working, and so does the default one.
    await expect(counters.add('one', 1n)).resolves.toBe(2n);
    await expect(counters.add(undefined, 1n)).resolves.toBe(1n);
  });

  it('lets concurrent creations from several processes together pass the cap by none', async () => {
    // Two Counters objects take the creation lock as two processes would: the kernel locks
    // of separate open files exclude each other even within one process.
    const replicas = [countersIn(5), countersIn(5)];
    const names = Array.from({ length: 12 }, (_, i) => `n${i}`);
    const outcomes = await Promise.all(
      names.map((name, i) => kindOf(replicas[i % 2].add(name, 1n))),
    );
    expect(outcomes.filter((o) => o === 'resolved')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'tooManyCounters')).toHaveLength(7);
    expect(existingNames()).toHaveLength(5);
  });

  it('turns named counters off with 0 and leaves the default counter alone', async () => {
    const counters = countersIn(0);
    await expect(kindOf(counters.add('any', 1n))).resolves.toBe('tooManyCounters');
    await expect(counters.add(undefined, 1n)).resolves.toBe(1n);
  });
});

describe('set', () => {
  it('replaces the value in the order of the changes around it', async () => {
    const counters = countersIn();
    const answers = await Promise.all([
      counters.add('x', 5n),
      counters.set('x', 100n),
      counters.add('x', 1n),
    ]);
    expect(answers).toEqual([5n, 100n, 101n]);
    expect(contentOf(named('x', 'data.bin'))).toBe('101');
  });

  it('sets the default counter in data.bin at the root', async () => {
    await countersIn().set(undefined, -9223372036854775808n);
    expect(contentOf(path.join(dir, 'data.bin'))).toBe('-9223372036854775808');
  });
});

describe('backups of named counters', () => {
  it('backs up every counter changed since its last backup, and only those', async () => {
    const counters = countersIn();
    await counters.add('a', 1n);
    await counters.add('b', 2n);
    const first = await counters.backup();
    expect(first).toEqual({ defaultValue: 0n, named: 2, failed: [] });
    expect(contentOf(named('a', 'backup.bin'))).toBe('1');
    expect(contentOf(named('b', 'backup.bin'))).toBe('2');

    await counters.add('a', 10n);
    const second = await counters.backup();
    expect(second.named).toBe(1);
    expect(contentOf(named('a', 'backup.bin'))).toBe('11');
  });

  it("skips a counter whose backup holds its value, whatever the files' modification times", async () => {
    const counters = countersIn();
    await counters.add('a', 5n);
    await counters.backup();
    const later = new Date(Date.now() + 60_000);
    utimesSync(named('a', 'data.bin'), later, later);
    expect((await counters.backup()).named).toBe(0);
  });

  it('backs up a counter whose backup.bin is damaged', async () => {
    const counters = countersIn();
    await counters.add('a', 5n);
    await counters.backup();
    writeFileSync(named('a', 'backup.bin'), 'garbage');
    expect((await counters.backup()).named).toBe(1);
    expect(contentOf(named('a', 'backup.bin'))).toBe('5');
  });

  it('sees changes made by other processes, through the files themselves', async () => {
    const counters = countersIn();
    await counters.add('shared', 1n);
    await counters.backup();
    // Another replica changed it later: its data.bin is newer than its backup.bin.
    writeFileSync(named('shared', 'data.bin'), '42');
    const later = new Date(Date.now() + 5000);
    utimesSync(named('shared', 'data.bin'), later, later);
    await expect(counters.backup()).resolves.toMatchObject({ named: 1 });
    expect(contentOf(named('shared', 'backup.bin'))).toBe('42');
  });

  it('skips directories under counters/ that are not counter names', async () => {
    mkdirSync(path.join(dir, COUNTERS_DIR, 'Not.A.Name'), { recursive: true });
    writeFileSync(path.join(dir, COUNTERS_DIR, 'Not.A.Name', 'data.bin'), '5');
    await expect(countersIn().backup()).resolves.toMatchObject({ named: 0 });
    expect(existsSync(path.join(dir, COUNTERS_DIR, 'Not.A.Name', 'backup.bin'))).toBe(false);
  });
});

describe('a data directory that vanishes', () => {
  it('answers storageUnavailable rather than recreate it for a new named counter', async () => {
    const counters = countersIn();
    await counters.add('first', 1n);
    remove();
    await expect(kindOf(counters.add('second', 1n))).resolves.toBe('storageUnavailable');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('creating a named counter', () => {
  it('logs no healing warning: a new counter has lost nothing', async () => {
    const counters = countersIn();
    for (let i = 0; i < 5; i++) await counters.add(`new-${i}`, 1n);
    expect(warnings).toEqual([]);
  });

  it('names the counter in a healing warning', async () => {
    const counters = countersIn();
    await counters.add('page', 4n);
    writeFileSync(named('page', 'data.bin'), 'garbage');
    await expect(countersIn().read('page')).resolves.toBe(0n);
    expect(warnings.join('\n')).toMatch(/^counter "page": data\.bin was corrupt/m);
  });
});

describe('existence: an empty counter directory is no counter', () => {
  // Left by a host killed between mkdir and its first write, or made by another host whose
  // first change has not yet written under its lock.
  const emptyCounter = (name: string) => mkdirSync(named(name), { recursive: true });

  it('reads 0, writes nothing and logs no healing warning', async () => {
    emptyCounter('x');
    await expect(countersIn().read('x')).resolves.toBe(0n);
    expect(readdirSync(named('x'))).not.toContain('data.bin');
    expect(warnings).toEqual([]);
  });

  it('is not listed', async () => {
    emptyCounter('x');
    await countersIn().add('y', 2n);
    await expect(countersIn().list({ limit: 1000 })).resolves.toEqual([{ name: 'y', value: 2n }]);
    expect(readdirSync(named('x'))).not.toContain('data.bin');
    expect(warnings).toEqual([]);
  });

  it('answers notFound to a delete, even after a read and a list', async () => {
    emptyCounter('x');
    const counters = countersIn();
    await counters.read('x');
    await counters.list({ limit: 1000 });
    await expect(kindOf(counters.delete('x'))).resolves.toBe('notFound');
  });

  it('comes to exist at its first change, with no healing warning', async () => {
    emptyCounter('x');
    await expect(countersIn().add('x', 3n)).resolves.toBe(3n);
    await expect(countersIn().list({ limit: 1000 })).resolves.toEqual([{ name: 'x', value: 3n }]);
    expect(warnings).toEqual([]);
  });
});

describe('delete', () => {
  it('removes the counter with its backup, answers the value it held, and then reads 0', async () => {
    const counters = countersIn();
    await counters.add('gone', 7n);
    await counters.backup();
    expect(existsSync(named('gone', 'backup.bin'))).toBe(true);
    await expect(counters.delete('gone')).resolves.toBe(7n);
    expect(existsSync(named('gone'))).toBe(false);
    await expect(counters.read('gone')).resolves.toBe(0n);
    await expect(countersIn().read('gone')).resolves.toBe(0n);
    expect(readdirSync(path.join(dir, COUNTERS_DIR)).filter((n) => n !== '.create.lock')).toEqual(
      [],
    );
  });

  it('answers notFound for a counter that does not exist, and creates nothing', async () => {
    const counters = countersIn();
    await expect(kindOf(counters.delete('never'))).resolves.toBe('notFound');
    expect(existingNames()).toEqual([]);
  });

  it('answers notFound for a counter whose directory another process made but has not yet written', async () => {
    mkdirSync(named('young'), { recursive: true });
    const counters = countersIn();
    await expect(kindOf(counters.delete('young'))).resolves.toBe('notFound');
    expect(existsSync(named('young'))).toBe(true);
    await expect(counters.add('young', 1n)).resolves.toBe(1n);
  });

  it('frees its place under the cap', async () => {
    const counters = countersIn(1);
    await counters.add('one', 1n);
    await expect(kindOf(counters.add('two', 1n))).resolves.toBe('tooManyCounters');
    await counters.delete('one');
    await expect(counters.add('two', 1n)).resolves.toBe(1n);
  });

  it('orders a delete among the changes around it: later changes start again from 0', async () => {
    const counters = countersIn();
    const answers = await Promise.all([
      counters.add('x', 5n),
      counters.delete('x'),
      counters.add('x', 1n),
      counters.add('x', 1n),
    ]);
    expect(answers).toEqual([5n, 5n, 1n, 2n]);
    await expect(countersIn().read('x')).resolves.toBe(2n);
  });

  it('is seen by another process that still knows the counter: its next change starts from 0', async () => {
    const [first, second] = [countersIn(), countersIn()];
    await first.add('shared', 3n);
    await expect(second.add('shared', 1n)).resolves.toBe(4n);
    await expect(first.delete('shared')).resolves.toBe(4n);
    await expect(second.read('shared')).resolves.toBe(0n);
    await expect(second.add('shared', 1n)).resolves.toBe(1n);
    await expect(first.read('shared')).resolves.toBe(1n);
  });

  it('never brings an old value back from a backup of the deleted counter', async () => {
    const counters = countersIn();
    await counters.add('old', 40n);
    await counters.backup();
    await counters.delete('old');
    await counters.add('old', 2n);
    writeFileSync(named('old', 'data.bin'), 'garbage');
    await expect(countersIn().read('old')).resolves.toBe(0n);
  });

  it('refuses the default counter and says how to reset it', async () => {
    const counters = countersIn();
    await counters.add(undefined, 3n);
    await expect(counters.delete(undefined as unknown as string)).rejects.toThrow(/PUT \/set/);
    await expect(counters.read(undefined)).resolves.toBe(3n);
  });
});

describe('list', () => {
  it('gives existing named counters with their values, sorted, paged by after and limit', async () => {
    const counters = countersIn();
    for (const [name, by] of [
      ['b', 2n],
      ['a', 1n],
      ['c-1', 3n],
      ['c-2', 4n],
    ] as const) {
      await counters.add(name, by);
    }
    await counters.read('never-changed');
    expect(await counters.list({ limit: 100 })).toEqual([
      { name: 'a', value: 1n },
      { name: 'b', value: 2n },
      { name: 'c-1', value: 3n },
      { name: 'c-2', value: 4n },
    ]);
    expect(await counters.list({ limit: 2, after: 'a' })).toEqual([
      { name: 'b', value: 2n },
      { name: 'c-1', value: 3n },
    ]);
    expect((await counters.list({ limit: 10, prefix: 'c-' })).map((e) => e.name)).toEqual([
      'c-1',
      'c-2',
    ]);
    expect(await counters.countNamed()).toBe(4);
  });

  it('leaves out a deleted counter', async () => {
    const counters = countersIn();
    await counters.add('keep', 1n);
    await counters.add('drop', 1n);
    await counters.delete('drop');
    expect((await counters.list({ limit: 10 })).map((e) => e.name)).toEqual(['keep']);
  });
});
