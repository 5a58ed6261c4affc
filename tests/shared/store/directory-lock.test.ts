import { closeSync, openSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryLock } from 'fs-native-extensions';
import { DirectoryLock, LockTimeoutError } from '../../../shared/store/directory-lock';
import { tempDir } from '../../support/temp-dir';

let dir: string;
let remove: () => void;
beforeEach(() => ({ dir, remove } = tempDir()));
afterEach(() => {
  jest.restoreAllMocks();
  remove();
});

describe('the directory lock', () => {
  it('excludes a second holder until the first releases', async () => {
    const lockFile = path.join(dir, '.counter.lock');
    const [a, b] = [new DirectoryLock(lockFile), new DirectoryLock(lockFile)];
    // Timeouts around a lock that is free are bounds only; a short one races a busy machine.
    const release = await a.acquire(10_000);
    await expect(b.acquire(100)).rejects.toBeInstanceOf(LockTimeoutError);
    await release();
    const releaseB = await b.acquire(10_000);
    await releaseB();
  });

  // A machine far busier than its cores runs each process's event loop late: every step of
  // taking a free lock (open the lock file, lock it, check it) then waits its turn. Only
  // waiting in the lock call for a lock someone else holds may count against the timeout.
  it('takes a free lock however long opening and checking the lock file take, and times out only while another holds it', async () => {
    const lockFile = path.join(dir, '.counter.lock');
    const realOpen = fsp.open;
    jest.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      await sleep(300);
      const handle = await realOpen(...args);
      const realStat = handle.stat.bind(handle);
      handle.stat = (async (...statArgs: Parameters<typeof handle.stat>) => {
        await sleep(300);
        return realStat(...statArgs);
      }) as typeof handle.stat;
      return handle;
    });
    const lock = new DirectoryLock(lockFile);
    const release = await lock.acquire(100);
    await release();

    const holder = openSync(lockFile, 'a+');
    expect(tryLock(holder)).toBe(true);
    try {
      await expect(lock.acquire(100)).rejects.toBeInstanceOf(LockTimeoutError);
    } finally {
      closeSync(holder);
    }
  });

  // Some NFS servers map every lock of a client to one owner: closing any descriptor of
  // the file may then drop the process's lock, even one taken through another descriptor. A lock obtained after its caller timed out is closed at once; the next
  // attempt must not lock through a new descriptor until that close is done, or the close
  // would silently free the lock the new attempt believes it holds.
  it('starts a new attempt only once a lock nobody waited for any more is closed', async () => {
    const lockFile = path.join(dir, '.counter.lock');
    const events: string[] = [];
    const realOpen = fsp.open;
    jest.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      events.push('open');
      const realClose = handle.close.bind(handle);
      handle.close = async () => {
        events.push('close started');
        await sleep(100);
        await realClose();
        events.push('close done');
      };
      return handle;
    });
    const lock = new DirectoryLock(lockFile);
    const holder = openSync(lockFile, 'a+');
    expect(tryLock(holder)).toBe(true);
    await expect(lock.acquire(50)).rejects.toBeInstanceOf(LockTimeoutError);
    closeSync(holder);
    // The abandoned attempt now gets the lock and closes it, nobody waiting for it.
    while (!events.includes('close started')) await sleep(1);

    const release = await lock.acquire(10_000);
    await release();
    expect(events).toEqual([
      'open',
      'close started',
      'close done',
      'open',
      'close started',
      'close done',
    ]);
  });
});
