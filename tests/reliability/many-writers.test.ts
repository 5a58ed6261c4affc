import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/temp-dir';
import {
  ackedNet,
  CounterClient,
  isAcked,
  realTimeOrderViolations,
  startLoad,
  startReads,
  type PlannedChange,
} from './support/counter-client';
import { reportFigures } from './support/figures';
import { filesMovedAside, HostGroup, storedValue } from './support/hosts';

// Four replicas on one directory, as `docker compose up --scale backend=4` with a shared volume.
const HOSTS = 4;
const CHANGES_PER_HOST = 500;
const CONCURRENCY = 64;
// Beyond 2^53, so a value that passed through a double anywhere would come out wrong.
const START = 2n ** 60n + 12_345n;

jest.setTimeout(120_000);

let scratch: ReturnType<typeof tempDir>;
let dataDir: string;
let group: HostGroup;
let client: CounterClient;

beforeAll(async () => {
  scratch = tempDir('rusty-counter-writers-');
  dataDir = scratch.dir;
  writeFileSync(path.join(dataDir, 'data.bin'), String(START));
  // Backups every second on every host: they take the same lock and must not disturb anything.
  group = await HostGroup.start(HOSTS, { dataDir, env: { BACKUP_SCHEDULE: '* * * * * *' } });
  client = new CounterClient();
});
afterAll(async () => {
  client?.close();
  await group?.stopAll();
  scratch?.remove();
});

const failureReport = (records: { status?: number; text?: string }[]) =>
  records
    .filter((r) => r.status !== 200)
    .slice(0, 5)
    .map((r) => `${r.status ?? 'no answer'} ${r.text ?? ''}`)
    .join('\n');

describe(`${HOSTS} host processes changing one counter at once`, () => {
  it('ends at the start plus the acknowledged increments minus the acknowledged decrements', async () => {
    const before = await client.get(group.urls[0]);
    const total = HOSTS * CHANGES_PER_HOST;
    // Every host gets increments and decrements of assorted steps.
    const plan = (i: number): PlannedChange | undefined =>
      i < total
        ? {
            target: i % HOSTS,
            kind: i % 3 === 0 ? 'decrement' : 'increment',
            by: BigInt(1 + (i % 7)),
          }
        : undefined;
    const records = await startLoad({
      client,
      concurrency: CONCURRENCY,
      next: plan,
      urlOf: (i) => group.urls[i],
    }).done;

    expect(records).toHaveLength(total);
    expect(failureReport(records)).toBe('');
    const after = before + ackedNet(records);
    expect(storedValue(dataDir)).toBe(after);
    for (const url of group.urls) await expect(client.get(url)).resolves.toBe(after);
    expect(filesMovedAside(dataDir)).toEqual([]);
    const decrements = records.filter((r) => r.kind === 'decrement').length;
    reportFigures(
      `many writers, mixed: ${HOSTS} hosts, ${records.length} changes (${records.length - decrements} increments, ${decrements} decrements), all acknowledged, final = start + net exactly`,
    );
  });

  it('gives every acknowledged increment its own value, in real-time order with reads', async () => {
    const before = await client.get(group.urls[0]);
    const total = HOSTS * CHANGES_PER_HOST;
    const reads = startReads(client, group.urls, 2);
    const records = await startLoad({
      client,
      concurrency: CONCURRENCY,
      next: (i) => (i < total ? { target: i % HOSTS, kind: 'increment', by: 1n } : undefined),
      urlOf: (i) => group.urls[i],
    }).done;
    const seen = await reads.stop();

    expect(failureReport(records)).toBe('');
    const acked = records.filter(isAcked);
    const values = acked.map((r) => r.value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    // Distinct and gapless: exactly before+1 … before+n, one per acknowledged increment.
    expect(values).toEqual(acked.map((_, i) => before + BigInt(i + 1)));
    // An increment answered before another (or a read) started has the smaller value; a
    // read sees every increment answered before it started and none started after it ended.
    expect(seen.length).toBeGreaterThan(0);
    expect(realTimeOrderViolations([...acked, ...seen])).toEqual([]);
    expect(storedValue(dataDir)).toBe(before + BigInt(acked.length));
    // Every host really took part.
    for (let target = 0; target < HOSTS; target++) {
      expect(acked.filter((r) => r.target === target).length).toBe(CHANGES_PER_HOST);
    }
    reportFigures(
      `many writers, increments: ${HOSTS} hosts, ${acked.length} acknowledged increments with distinct gapless values, ${seen.length} concurrent reads, real-time order violations: 0`,
    );
  });

  it('keeps backup.bin a valid value no larger than the counter while backups run alongside', async () => {
    // The backups ran every second during the loads above, each under the same lock.
    const backedUp = storedValue(dataDir, 'backup.bin');
    expect(backedUp).toBeGreaterThan(START - 1000n);
    expect(backedUp).toBeLessThanOrEqual(storedValue(dataDir));
    expect(group.logs()).not.toMatch(/ERROR|corrupt/);
  });
});
