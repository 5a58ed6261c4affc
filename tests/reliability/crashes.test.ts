import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../support/temp-dir';
import {
  CounterClient,
  isAcked,
  startLoad,
  type AckedChange,
  type ChangeRecord,
  type RunningLoad,
} from './support/counter-client';
import { filesMovedAside, HostGroup, storedValue } from './support/hosts';
import { reportFigures } from './support/figures';
import { pauseWhileHoldingLock, resume } from './support/process-control';

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

describe('a host killed with SIGKILL under load', () => {
  const scratch = tempDir('rusty-counter-crash-');
  const dataDir = scratch.dir;
  let group: HostGroup;
  beforeAll(async () => {
    group = await HostGroup.start(HOSTS, { dataDir });
  });
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
      await sleep(100 + Math.floor(Math.random() * 300));
      alive.delete(victim);
      group.hosts[victim].proc.kill('SIGKILL');
      await sleep(100);
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
      await sleep(150);
      // Stopped mid-commit with the lock held: killing it now is a crash inside the lock.
      await expect(pauseWhileHoldingLock(group.pid(victim), lockFile)).resolves.toBe(true);
      alive.delete(victim);
      group.hosts[victim].proc.kill('SIGKILL');
      const killedAt = performance.now();
      await sleep(300);
      const records = await load.stop();
      await group.restart(victim);

      const survivors = records.filter((r) => r.target !== victim);
      // The kernel freed the lock with its holder: nobody waited out a timeout (5 s) for it.
      expect(survivors.filter((r) => r.status !== 200)).toEqual([]);
      const afterKill = survivors.filter(
        (r): r is AckedChange => isAcked(r) && r.startedAt > killedAt,
      );
      expect(afterKill.length).toBeGreaterThan(0);
      expect(Math.min(...afterKill.map((r) => r.endedAt)) - killedAt).toBeLessThan(5000);

      const after = storedValue(dataDir);
      addTo(total, expectAccountedFor(records, before, after));
    }
    expect(filesMovedAside(dataDir)).toEqual([]);
  });
});

describe('a host paused (SIGSTOP) while it holds the lock, for longer than the lock timeout', () => {
  const LOCK_TIMEOUT_MS = 1000;
  const scratch = tempDir('rusty-counter-pause-');
  const dataDir = scratch.dir;
  let group: HostGroup;
  beforeAll(async () => {
    group = await HostGroup.start(3, {
      dataDir,
      env: { COUNTER_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS) },
    });
  });
  afterAll(async () => {
    await group?.stopAll();
    scratch.remove();
  });

  it('makes the others answer 503 meanwhile, and overwrites nothing newer once resumed', async () => {
    const victim = 0;
    const before = await client.get(group.urls[0]);
    const load = incrementLoad(group, new Set(group.hosts.keys()), 24);
    await sleep(150);
    const pid = group.pid(victim);
    paused = pid;
    await expect(pauseWhileHoldingLock(pid, path.join(dataDir, LOCK_FILE))).resolves.toBe(true);
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
      await sleep(LOCK_TIMEOUT_MS);
      expect(storedValue(dataDir)).toBe(frozen);
    } finally {
      resume(pid);
      paused = undefined;
    }
    const pausedMs = Math.round(performance.now() - pausedAt);
    await sleep(300);
    const records = [...(await load.stop()), ...refused];

    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(answer.headers?.['retry-after']).toBeDefined();
      expect(JSON.parse(answer.text ?? '')).toEqual({ error: expect.stringMatching(/lock|busy/) });
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
});
