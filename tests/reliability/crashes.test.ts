import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { tempDir } from '../support/temp-dir';
import {
  ackedCount,
  CounterClient,
  isAcked,
  startLoad,
  type AckedChange,
  type ChangeRecord,
  type RunningLoad,
} from './support/counter-client';
import { buildFsyncShim, describeWithCc, type FsyncShim } from './support/fsync-shim';
import { filesMovedAside, HostGroup, storedValue } from './support/hosts';
import { reportFigures } from './support/figures';
import { locksOn, pause, resume } from './support/process-control';

const HOSTS = 4;
const RANDOM_KILL_ROUNDS = 4;
const KILL_WHILE_LOCKED_ROUNDS = 2;
const LOCK_FILE = '.counter.lock';

jest.setTimeout(120_000);

let client: CounterClient;
// A failed expectation must not leave a load hammering dead hosts or a host stopped.
let running: RunningLoad | undefined;
let paused: number | undefined;
beforeAll(() => {
  client = new CounterClient();
});
afterEach(async () => {
  if (paused !== undefined) resume(paused);
  paused = undefined;
  await running?.stop();
  running = undefined;
});
afterAll(() => client.close());

/** Increments by 1, spread over the hosts still alive, until stopped. */
function incrementLoad(group: HostGroup, alive: Set<number>, concurrency = 32): RunningLoad {
  return (running = startLoad({
    client,
    concurrency,
    next: (i) => {
      const targets = [...alive];
      return targets.length === 0
        ? undefined
        : { target: targets[i % targets.length], kind: 'increment', by: 1n };
    },
    urlOf: (target) => group.urls[target],
  }));
}

/** Acknowledged changes among `records` that were sent after `moment` (performance.now()). */
const ackedSince = (records: ChangeRecord[], moment: number): AckedChange[] =>
  records.filter((r): r is AckedChange => isAcked(r) && r.startedAt > moment);

/** The temp files of one host's commits: `.tmp-data.bin-<pid>-<random>` (see the store). */
const commitsOf = (pid: number) => `/.tmp-data.bin-${pid}-`;

/**
 * What a round of increments may have done: every acknowledged one took effect, each with
 * its own value; of the rest only those that never got an answer (their host died) may
 * have; none that was refused did.
 */
function expectAccountedFor(records: ChangeRecord[], before: bigint, after: bigint): Tally {
  const acked = records.filter(isAcked);
  const unanswered = records.filter((r) => r.status === undefined).length;
  const growth = after - before;
  const tally = {
    rounds: 1,
    acked: acked.length,
    unanswered,
    lost: Math.max(0, acked.length - Number(growth)),
  };
  expect(growth).toBeGreaterThanOrEqual(BigInt(acked.length));
  expect(growth).toBeLessThanOrEqual(BigInt(acked.length + unanswered));
  expect(new Set(acked.map((r) => r.value)).size).toBe(acked.length);
  const outside = acked.filter((r) => r.value <= before || r.value > after);
  expect(outside).toEqual([]);
  return tally;
}

interface Tally {
  rounds: number;
  acked: number;
  unanswered: number;
  lost: number;
}
const addTo = (total: Tally, round: Tally) =>
  (Object.keys(total) as Array<keyof Tally>).forEach((key) => (total[key] += round[key]));

describeWithCc('a host killed with SIGKILL under load', () => {
  const scratch = tempDir('rusty-counter-crash-');
  const dataDir = scratch.dir;
  let fsync: FsyncShim;
  let group: HostGroup;
  beforeAll(async () => {
    fsync = buildFsyncShim(scratch.dir);
    group = await HostGroup.start(HOSTS, { dataDir, env: fsync.env });
  });
  afterEach(() => fsync.clear());
  const total: Tally = { rounds: 0, acked: 0, unanswered: 0, lost: 0 };
  afterAll(async () => {
    await group?.stopAll();
    scratch.remove();
    reportFigures(
      `SIGKILL under load: ${HOSTS} hosts, ${total.rounds} rounds (${RANDOM_KILL_ROUNDS} at random moments, ${KILL_WHILE_LOCKED_ROUNDS} while holding the lock), ${total.acked} increments acknowledged, ${total.unanswered} unanswered, acknowledged lost: ${total.lost}`,
    );
  });

  it('loses no acknowledged increment when a host is killed at a random moment', async () => {
    for (let round = 0; round < RANDOM_KILL_ROUNDS; round++) {
      const victim = round % HOSTS;
      const alive = new Set(group.hosts.keys());
      const before = await client.get(group.urls[0]);
      const load = incrementLoad(group, alive);
      // A random moment, counted in changes rather than milliseconds, so that it falls
      // inside the load whatever the machine's speed.
      const killAfter = 20 + Math.floor(Math.random() * 200);
      await load.until((records) => ackedCount(records) >= killAfter);
      alive.delete(victim);
      group.hosts[victim].proc.kill('SIGKILL');
      const killedAt = performance.now();
      await load.until((records) => ackedSince(records, killedAt).length >= 50);
      const records = await load.stop();
      await group.restart(victim);

      // data.bin parses (no torn or half-written file), and every host agrees on it.
      const after = storedValue(dataDir);
      for (const url of group.urls) await expect(client.get(url)).resolves.toBe(after);
      addTo(total, expectAccountedFor(records, before, after));
      expect(records.filter((r) => r.status === undefined && r.target !== victim)).toEqual([]);
    }
    expect(filesMovedAside(dataDir)).toEqual([]);
  });

  it('lets the others go on at once when the killed host held the cross-process lock', async () => {
    const lockFile = path.join(dataDir, LOCK_FILE);
    for (let round = 0; round < KILL_WHILE_LOCKED_ROUNDS; round++) {
      const victim = (round + 1) % HOSTS;
      const alive = new Set(group.hosts.keys());
      const before = await client.get(group.urls[0]);
      const load = incrementLoad(group, alive);
      await load.until((records) => ackedCount(records) >= 50);
      // Held inside a commit (its temp file written, not yet synced or renamed), so with
      // the lock held: killing it now is a crash inside the lock.
      const pid = group.pid(victim);
      await fsync.hold(commitsOf(pid));
      expect(locksOn(lockFile).holders).toContain(pid);
      alive.delete(victim);
      group.hosts[victim].proc.kill('SIGKILL');
      const killedAt = performance.now();
      await load.until(
        (records) =>
          ackedSince(
            records.filter((r) => r.target !== victim),
            killedAt,
          ).length >= 50,
      );
      const records = await load.stop();
      fsync.clear();
      await group.restart(victim);

      // The kernel freed the lock with its holder: nobody waited out the lock timeout (5 s)
      // for it, which would have answered 503.
      const survivors = records.filter((r) => r.target !== victim);
      expect(survivors.filter((r) => r.status !== 200)).toEqual([]);

      const after = storedValue(dataDir);
      addTo(total, expectAccountedFor(records, before, after));
    }
    expect(filesMovedAside(dataDir)).toEqual([]);
  });
});

describeWithCc(
  'a host paused (SIGSTOP) while it holds the lock, for longer than the lock timeout',
  () => {
    const LOCK_TIMEOUT_MS = 1000;
    const scratch = tempDir('rusty-counter-pause-');
    const dataDir = path.join(scratch.dir, 'data');
    let fsync: FsyncShim;
    let group: HostGroup;
    beforeAll(async () => {
      fsync = buildFsyncShim(scratch.dir);
      group = await HostGroup.start(3, {
        dataDir,
        env: { COUNTER_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS), ...fsync.env },
      });
    });
    afterAll(async () => {
      fsync?.clear();
      await group?.stopAll();
      scratch.remove();
    });

    it('makes the others answer 503 meanwhile, and overwrites nothing newer once resumed', async () => {
      const victim = 0;
      const before = await client.get(group.urls[0]);
      const load = incrementLoad(group, new Set(group.hosts.keys()), 24);
      await load.until((records) => ackedCount(records) >= 50);
      const pid = group.pid(victim);
      // Held inside a commit, so with the lock held, then stopped there; the hold is let go
      // at once, so that the commit goes on as soon as the process runs again.
      await fsync.hold(commitsOf(pid));
      paused = pid;
      await pause(pid);
      fsync.clear();
      expect(locksOn(path.join(dataDir, LOCK_FILE)).holders).toContain(pid);
      const pausedAt = performance.now();
      const frozen = storedValue(dataDir);
      let refused: ChangeRecord[] = [];
      try {
        // Changes elsewhere wait the lock timeout and are refused; reads need no lock.
        refused = await Promise.all(
          [1, 2].map((target) =>
            client.change(group.urls[target], { target, kind: 'increment', by: 1n }),
          ),
        );
        await expect(client.get(group.urls[1])).resolves.toBe(frozen);
        expect(storedValue(dataDir)).toBe(frozen);
      } finally {
        resume(pid);
        paused = undefined;
      }
      const pausedMs = Math.round(performance.now() - pausedAt);
      // The held commit completes once resumed, with values above the frozen one.
      await load.until((records) =>
        records.some((r) => r.target === victim && isAcked(r) && r.value > frozen),
      );
      const records = [...(await load.stop()), ...refused];

      for (const answer of refused) {
        expect(answer.status).toBe(503);
        expect(answer.headers?.['retry-after']).toBeDefined();
        expect(JSON.parse(answer.text ?? '')).toEqual({
          error: expect.stringMatching(/lock|busy/),
        });
      }
      // Every change got an answer, so the books must balance exactly: each 200 took effect
      // once, no 503 did, and the resumed host's write came after, not over, the others'.
      expect(records.filter((r) => r.status === undefined)).toEqual([]);
      const acked = records.filter(isAcked);
      const after = storedValue(dataDir);
      expect(after).toBe(before + BigInt(acked.length));
      expect(acked.map((r) => r.value).sort((a, b) => (a < b ? -1 : 1))).toEqual(
        acked.map((_, i) => before + BigInt(i + 1)),
      );
      expect(acked.some((r) => r.target === victim && r.value > frozen)).toBe(true);
      for (const url of group.urls) await expect(client.get(url)).resolves.toBe(after);
      reportFigures(
        `SIGSTOP holding the lock: paused ${pausedMs} ms (lock timeout ${LOCK_TIMEOUT_MS} ms), ${records.filter((r) => r.status === 503).length} changes refused with 503, ${acked.length} acknowledged, lost or doubled: 0`,
      );
    });
  },
);
