import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { type ReadyServer, request, startHostProcess } from '@rusty-counter/host';
import type { MetricsCost } from '../../bench/metrics-cost';
import type { Round, Summary } from '../../bench/report';
import { streamsOffAppRoot } from '../../bench/servers';
import { tempDir } from '../support/temp-dir';

// Runs the compiled bench (`npm test` builds first) exactly as `npm run bench` does, only
// shorter. Timings on a shared machine say nothing, so only completeness and counts are checked.
const appRoot = path.resolve(__dirname, '..', '..');
const runScript = path.join(appRoot, 'dist', 'bench', 'run.js');
// The SQLite baseline uses node:sqlite, which Node has from 22.5 on.
const hasSqlite = process.getBuiltinModule('node:sqlite') !== undefined;

interface Report {
  summary: Summary;
  rounds: Round[];
  metricsCost: MetricsCost;
}

describe('npm run bench --smoke', () => {
  let out: ReturnType<typeof tempDir>;
  let stdout: string;
  let report: Report;

  beforeAll(async () => {
    out = tempDir('bench-out-');
    ({ stdout } = await promisify(execFile)(
      process.execPath,
      [runScript, '--smoke', `--out=${out.dir}`],
      { cwd: appRoot, timeout: 120_000 },
    ));
    const files = readdirSync(out.dir).filter((name) => name.endsWith('.json'));
    expect(files).toHaveLength(1);
    report = JSON.parse(readFileSync(path.join(out.dir, files[0]), 'utf8')) as Report;
  }, 130_000);
  afterAll(() => out?.remove());

  it('runs every phase, the servers compared side by side taking turns at each level: bare server, GET and POST with HTTP streams on and off, two worker processes, group commit off, two hosts', () => {
    const phases = report.rounds[0].http.map((phase) => `${phase.key}@${phase.connections}`);
    expect(phases).toEqual([
      'bare@1',
      'get@1',
      'getStreamsOff@1',
      'bare@4',
      'get@4',
      'getStreamsOff@4',
      'getTwoWorkers@4',
      'post@1',
      'postStreamsOff@1',
      'post@4',
      'postStreamsOff@4',
      'postTwoWorkers@4',
      'postNoGroupCommit@1',
      'postNoGroupCommit@4',
      'postTwoHosts@4',
    ]);
    // Each server's CPU time is read for every run; the hosts' add up to more than nothing.
    const http = report.rounds[0].http;
    expect(http.filter((phase) => !(phase.cpuSeconds >= 0)).map((phase) => phase.key)).toEqual([]);
    expect(http.reduce((sum, phase) => sum + phase.cpuSeconds, 0)).toBeGreaterThan(0);
    expect(report.rounds[0].inProcess.map((result) => result.key)).toEqual([
      'store',
      'storeOneAtATime',
      'storeNoGroupCommit',
      ...(hasSqlite ? ['sqlite'] : []),
      'fsyncLoop',
      'atomicReplaceLoop',
    ]);
  });

  it('finds the counter equal to its start plus the acknowledged changes after every phase', () => {
    expect(report.summary.countersMatched).toBe(true);
    for (const phase of report.rounds[0].http) {
      if (phase.key === 'bare') continue;
      const { before, after, expected, ok } = phase.counter ?? {};
      expect({ phase: phase.key, ok, after }).toEqual({
        phase: phase.key,
        ok: true,
        after: expected,
      });
      const changed = BigInt(after ?? 0) - BigInt(before ?? 0);
      const isGet = phase.key.startsWith('get');
      expect(changed).toBe(isGet ? 0n : BigInt(phase.load.ok));
      if (!isGet) expect(phase.load.ok).toBeGreaterThan(0);
    }
    expect(report.rounds[0].inProcess.every((result) => result.counterOk)).toBe(true);
  });

  it('measures metrics off, on and scraped, and finds /metrics agreeing with its own counts', () => {
    const { requestsPerSecond, agreement } = report.metricsCost;
    for (const route of ['get', 'post'] as const) {
      expect(Object.values(requestsPerSecond[route]).every((phases) => phases.length === 1)).toBe(
        true,
      );
    }
    expect(agreement.acknowledged).toBeGreaterThan(0);
    expect(agreement).toMatchObject({
      changesCounted: agreement.acknowledged,
      requestsCounted: agreement.acknowledged,
      ok: true,
    });
    expect(stdout).toMatch(/\/metrics agreed with the bench's counts: yes/);
  });

  it('prints one markdown table with a row per phase and every target judged', () => {
    const tableLines = stdout.split('\n').filter((line) => line.startsWith('|'));
    expect(tableLines[0]).toMatch(/^\| phase \| connections \| req\/s/);
    // header + separator + 15 HTTP rows + 6 in-process rows + the RSS row
    expect(tableLines).toHaveLength(2 + 15 + 6 + 1);
    expect(stdout).toMatch(
      /\(d\) GET \/get, HTTP streams off \| 4 \|.*on ÷ off \*\*\d.*target ≥ 0\.9/,
    );
    expect(stdout).toMatch(/POST \/increment \| 4 \|.*target ≥ 0\.7.*target ≥ 5.*target < 20 ms/);
    expect(stdout).toMatch(/FUNCTIONS_WORKER_PROCESS_COUNT=2 \| 4 \|.*× one process/);
    expect(report.summary.targets.map((t) => t.name)).toEqual([
      'GET ÷ (b) @4',
      'POST ÷ GET @4',
      'POST ÷ (a) @4',
      'p99 of POST @4',
      'GET streams on ÷ off @4',
      'POST streams on ÷ off @4',
      ...(hasSqlite ? ['store ÷ SQLite'] : []),
      'peak RSS per host process',
    ]);
    if (!hasSqlite) {
      expect(stdout).toMatch(
        /SQLite .*\| unavailable: node:sqlite needs Node ≥ 22\.5 \(measured on v20\./,
      );
    }
    expect(report.summary.targets.every((t) => Number.isFinite(t.value))).toBe(true);
  });
});

describe('the app with HTTP streams off, as the bench serves it', () => {
  let work: ReturnType<typeof tempDir>;
  let on: ReadyServer;
  let off: ReadyServer;

  beforeAll(async () => {
    work = tempDir('bench-streams-off-');
    const offRoot = await streamsOffAppRoot(appRoot, path.join(work.dir, 'app'));
    const env = { COUNTER_DATA_DIR: path.join(work.dir, 'data'), LOG_LEVEL: 'information' };
    [on, off] = await Promise.all([
      startHostProcess({ appRoot, env }),
      startHostProcess({ appRoot: offRoot, env }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([on?.stop(), off?.stop()]);
    work?.remove();
  });

  it('is the same app without /watch, the one function that turns streams on', async () => {
    expect(on.logs()).toContain('HTTP streams are enabled');
    expect(off.logs()).not.toContain('HTTP streams are enabled');
    // The Functions: listing names every function the host registered.
    expect(on.logs()).toMatch(/\twatch: \[GET\]/);
    expect(off.logs()).not.toMatch(/\twatch: /);
    expect(off.logs()).toMatch(/\tincrement: \[POST\]/);
    const [fromOn, fromOff] = await Promise.all([on, off].map((h) => request(`${h.url}/get`)));
    expect(fromOff.status).toBe(200);
    expect(fromOff.text).toBe(fromOn.text);
  });
});
