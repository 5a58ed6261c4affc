import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InvocationContext, type Timer } from '@azure/functions';
import { backup } from '../../functions/backup';
import { metrics } from '../../functions/metrics';
import { resetServices } from '../../shared/services';
import { callHandler } from '../support/call-handler';
import { Scrape } from '../../bench/scrape';
import { tempDir } from '../support/temp-dir';

let scratch: ReturnType<typeof tempDir>;
beforeEach(() => {
  scratch = tempDir('rusty-counter-metrics-fn-');
  process.env.COUNTER_DATA_DIR = scratch.dir;
  process.env.COUNTER_CONFIG_FILE = path.join(scratch.dir, 'no-config.json');
  delete process.env.COUNTER_METRICS_KEY;
  delete process.env.COUNTER_METRICS;
  resetServices();
});
afterEach(() => {
  delete process.env.COUNTER_METRICS_KEY;
  delete process.env.COUNTER_METRICS;
  scratch.remove();
});

const scrape = async () => {
  const reply = await callHandler(metrics);
  expect(reply.status).toBe(200);
  return new Scrape(reply.text);
};

const TIMER: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: '', next: '', lastUpdated: '' },
};
const runBackup = () => backup(TIMER, new InvocationContext({ logHandler: () => undefined }));

describe('GET /metrics', () => {
  it("answers Prometheus' text format without a key when COUNTER_METRICS_KEY is not set", async () => {
    const reply = await callHandler(metrics);
    expect(reply.status).toBe(200);
    expect(reply.header('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(new Scrape(reply.text).value('rusty_counter_watchers')).toBe(0);
  });

  it('answers 401 without the key, and 200 with it, when COUNTER_METRICS_KEY is set', async () => {
    process.env.COUNTER_METRICS_KEY = 'scrape-key';
    resetServices();
    const refused = await callHandler(metrics);
    expect(refused.status).toBe(401);
    expect(refused.header('www-authenticate')).toMatch(/^Bearer/);
    expect(JSON.parse(refused.text)).toEqual({ error: expect.stringMatching(/metrics/) });
    const wrong = await callHandler(metrics, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const allowed = await callHandler(metrics, {
      headers: { authorization: 'Bearer scrape-key' },
    });
    expect(allowed.status).toBe(200);
  });

  it('answers 404 when COUNTER_METRICS=false', async () => {
    process.env.COUNTER_METRICS = 'false';
    resetServices();
    const reply = await callHandler(metrics);
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.text)).toEqual({ error: expect.stringMatching(/COUNTER_METRICS/) });
  });

  it('reads the named counters that exist at the time of the scrape', async () => {
    for (const name of ['a', 'b', 'c'])
      mkdirSync(path.join(scratch.dir, 'counters', name), { recursive: true });
    expect((await scrape()).value('rusty_counter_named_counters')).toBe(3);
  });
});

describe('the backup timer', () => {
  it('counts a run, and a failed run as a failure too', async () => {
    const before = await scrape();
    await runBackup();
    const afterRun = await scrape();
    expect(afterRun.value('rusty_counter_backup_runs_total')).toBe(
      before.value('rusty_counter_backup_runs_total') + 1,
    );
    expect(afterRun.count('rusty_counter_backup_duration_seconds')).toBe(
      before.count('rusty_counter_backup_duration_seconds') + 1,
    );
    expect(afterRun.value('rusty_counter_backup_last_success_timestamp_seconds')).toBeGreaterThan(
      0,
    );

    // The data directory's path is taken by a file: nothing can be backed up.
    const blocked = path.join(scratch.dir, 'blocked');
    writeFileSync(blocked, '');
    process.env.COUNTER_DATA_DIR = path.join(blocked, 'data');
    resetServices();
    await expect(runBackup()).rejects.toThrow();
    const afterFailure = await scrape();
    expect(afterFailure.value('rusty_counter_backup_runs_total')).toBe(
      afterRun.value('rusty_counter_backup_runs_total') + 1,
    );
    expect(afterFailure.value('rusty_counter_backup_failures_total')).toBe(
      afterRun.value('rusty_counter_backup_failures_total') + 1,
    );
  });
});
