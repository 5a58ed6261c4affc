import type { LoadResult } from './http';
import type { InProcessKey, InProcessResult } from './in-process';
import { median } from './stats';

export type HttpKey =
  | 'bare'
  | 'get'
  | 'post'
  | 'getStreamsOff'
  | 'postStreamsOff'
  | 'getTwoWorkers'
  | 'postTwoWorkers'
  | 'postNoGroupCommit'
  | 'postTwoHosts';

export interface HttpPhase {
  key: HttpKey;
  connections: number;
  load: LoadResult;
  warmup: LoadResult;
  /** Peak resident set of any one server process (worker processes included) during the run. */
  peakRssMB: number;
  /** CPU time of the server's processes together during the run (0 where it was not sampled). */
  cpuSeconds: number;
  /** Absent for the bare server, which has no counter. */
  counter?: { before: string; after: string; expected: string; ok: boolean };
}

export interface Round {
  inProcess: InProcessResult[];
  http: HttpPhase[];
}

export interface Target {
  name: string;
  value: number;
  comparison: '≥' | '<';
  limit: number;
  met: boolean;
}

export interface Row {
  phase: string;
  connections: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMB?: number;
  /** The server's CPU time per answer, in microseconds. */
  cpuUsPerRequest?: number;
  counter: 'ok' | 'MISMATCH' | '–';
  comparedWith: string[];
}

export interface Summary {
  rows: Row[];
  targets: Target[];
  countersMatched: boolean;
}

const HTTP_LABELS: Record<HttpKey, string> = {
  bare: '(b) bare node:http, constant answer',
  get: 'GET /get',
  post: 'POST /increment',
  getStreamsOff: '(d) GET /get, HTTP streams off',
  postStreamsOff: '(d) POST /increment, HTTP streams off',
  getTwoWorkers: 'GET /get, FUNCTIONS_WORKER_PROCESS_COUNT=2',
  postTwoWorkers: 'POST /increment, FUNCTIONS_WORKER_PROCESS_COUNT=2',
  postNoGroupCommit: '(a) POST /increment, group commit off',
  postTwoHosts: 'POST /increment, two hosts sharing one directory',
};

const IN_PROCESS_LABELS: Record<InProcessKey, string> = {
  store: '(c) store.add, group commit',
  storeOneAtATime: '(c) store.add, group commit, one caller',
  storeNoGroupCommit: '(c) store.add, group commit off',
  sqlite: '(c) SQLite WAL, synchronous=FULL, UPDATE … RETURNING',
  fsyncLoop: "(c) write + fsync loop (the disk's limit)",
  atomicReplaceLoop: '(c) temp + write + fsync + rename + dir fsync loop',
};

const HOST_KEYS: HttpKey[] = [
  'get',
  'post',
  'getStreamsOff',
  'postStreamsOff',
  'getTwoWorkers',
  'postTwoWorkers',
  'postNoGroupCommit',
  'postTwoHosts',
];

/**
 * Medians over rounds. A ratio is taken within each round (both sides measured minutes
 * apart on the same machine state) and then the median of those ratios is reported.
 */
export function summarize(rounds: Round[], connections: number[]): Summary {
  const top = connections[connections.length - 1];
  const http = (round: Round, key: HttpKey, c: number) => {
    const phase = round.http.find((p) => p.key === key && p.connections === c);
    if (!phase) throw new Error(`no ${key} @${c} in a round`);
    return phase;
  };
  const local = (round: Round, key: InProcessKey) => {
    const found = round.inProcess.find((r) => r.key === key);
    if (!found) throw new Error(`no in-process ${key} in a round`);
    return found;
  };
  const httpRatio = (a: HttpKey, ca: number, b: HttpKey, cb: number) =>
    median(
      rounds.map(
        (r) => http(r, a, ca).load.requestsPerSecond / http(r, b, cb).load.requestsPerSecond,
      ),
    );
  /** CPU per answer of `b` ÷ that of `a`: above 1 when `a` costs less CPU per answer. */
  const cpuRatio = (a: HttpKey, b: HttpKey, c: number) =>
    median(rounds.map((r) => cpuPerRequest(http(r, b, c)) / cpuPerRequest(http(r, a, c))));
  const localRatio = (a: InProcessKey, b: InProcessKey) =>
    median(rounds.map((r) => local(r, a).changesPerSecond / local(r, b).changesPerSecond));

  const targets: Target[] = [];
  const target = (
    name: string,
    value: number,
    comparison: Target['comparison'],
    limit: number,
    unit = '',
  ) => {
    const met = comparison === '≥' ? value >= limit : value < limit;
    targets.push({ name, value, comparison, limit, met });
    return `(target ${comparison} ${limit}${unit}: ${met ? 'met' : 'MISSED'})`;
  };

  const rows: Row[] = [];
  const httpRow = (key: HttpKey, c: number, comparedWith: string[]): void => {
    const phases = rounds.map((r) => http(r, key, c));
    rows.push({
      phase: HTTP_LABELS[key],
      connections: key === 'postTwoHosts' ? `${c} (${c / 2} + ${c / 2})` : String(c),
      perSecond: median(phases.map((p) => p.load.requestsPerSecond)),
      p50Ms: median(phases.map((p) => p.load.p50Ms)),
      p99Ms: median(phases.map((p) => p.load.p99Ms)),
      peakRssMB: Math.max(...phases.map((p) => p.peakRssMB)),
      cpuUsPerRequest: median(phases.map(cpuPerRequest)) * 1e6,
      counter: counterOf(phases.map((p) => p.counter?.ok)),
      comparedWith,
    });
  };

  for (const c of connections) httpRow('bare', c, []);
  for (const c of connections) {
    const vsBare = httpRatio('get', c, 'bare', c);
    // The app as shipped against the machine's HTTP ceiling.
    httpRow('get', c, [
      c === top
        ? `**${x(vsBare)}** (b) ${target(`GET ÷ (b) @${c}`, vsBare, '≥', 0.1)}; by CPU per answer ${x(cpuRatio('get', 'bare', c))}`
        : `${x(vsBare)} (b)`,
    ]);
  }
  for (const c of connections) {
    const notes = [`${x(httpRatio('post', c, 'get', c))} GET`];
    if (c === top) {
      const p99 = median(rounds.map((r) => http(r, 'post', c).load.p99Ms));
      const vsGet = httpRatio('post', c, 'get', c);
      const vsA = httpRatio('post', c, 'postNoGroupCommit', c);
      notes[0] = `**${x(vsGet)}** GET ${target(`POST ÷ GET @${c}`, vsGet, '≥', 0.7)}`;
      notes.push(`**${x(vsA)}** (a) ${target(`POST ÷ (a) @${c}`, vsA, '≥', 5)}`);
      notes.push(`p99 ${fmtMs(p99)} ms ${target(`p99 of POST @${c}`, p99, '<', 20, ' ms')}`);
    } else {
      notes.push(`${x(httpRatio('post', c, 'postNoGroupCommit', c))} (a)`);
    }
    httpRow('post', c, notes);
  }
  // The app as shipped runs with HTTP streams on (for /watch); (d) is the same app without
  // them, so "on ÷ off" is what streaming costs every other request on this host.
  // Judged wherever requests overlap (above one connection).
  const onOff = (on: HttpKey, off: HttpKey, method: string, c: number) => {
    const ratio = httpRatio(on, c, off, c);
    // Throughput a CPU-bound host would have from CPU per answer alone: off's ÷ on's.
    const byCpu = `by CPU per answer ${x(cpuRatio(on, off, c))}`;
    return c > 1
      ? `on ÷ off **${x(ratio)}** ${target(`${method} streams on ÷ off @${c}`, ratio, '≥', 0.9)}; ${byCpu}`
      : `on ÷ off ${x(ratio)}; ${byCpu}`;
  };
  for (const c of connections)
    httpRow('getStreamsOff', c, [onOff('get', 'getStreamsOff', 'GET', c)]);
  for (const c of connections) {
    httpRow('postStreamsOff', c, [onOff('post', 'postStreamsOff', 'POST', c)]);
  }
  // Two app processes against one, on however many cores this machine has.
  httpRow('getTwoWorkers', top, [`${x(httpRatio('getTwoWorkers', top, 'get', top))} one process`]);
  httpRow('postTwoWorkers', top, [
    `${x(httpRatio('postTwoWorkers', top, 'post', top))} one process`,
  ]);
  for (const c of connections) httpRow('postNoGroupCommit', c, []);
  httpRow('postTwoHosts', top, [`${x(httpRatio('postTwoHosts', top, 'post', top))} one host`]);

  const localRow = (key: InProcessKey, comparedWith: string[]) => {
    const results = rounds.map((r) => local(r, key));
    rows.push({
      phase: IN_PROCESS_LABELS[key],
      connections: `${results[0].concurrency} caller${results[0].concurrency === 1 ? '' : 's'}`,
      perSecond: median(results.map((r) => r.changesPerSecond)),
      p50Ms: median(results.map((r) => r.p50Ms)),
      p99Ms: median(results.map((r) => r.p99Ms)),
      counter: counterOf(results.map((r) => r.counterOk)),
      comparedWith,
    });
  };
  // node:sqlite came with Node 22.5: on an older Node the SQLite baseline was not measured.
  const hasSqlite = rounds.every((r) => r.inProcess.some((result) => result.key === 'sqlite'));
  if (hasSqlite) {
    const storeVsSqlite = localRatio('store', 'sqlite');
    localRow('store', [
      `**${x(storeVsSqlite)}** SQLite ${target('store ÷ SQLite', storeVsSqlite, '≥', 1)}`,
    ]);
    localRow('storeOneAtATime', [`${x(localRatio('storeOneAtATime', 'sqlite'))} SQLite`]);
  } else {
    localRow('store', []);
    localRow('storeOneAtATime', []);
  }
  localRow('storeNoGroupCommit', [
    `${x(localRatio('storeNoGroupCommit', 'atomicReplaceLoop'))} replace loop`,
  ]);
  if (hasSqlite) {
    localRow('sqlite', [`${x(localRatio('sqlite', 'fsyncLoop'))} fsync loop`]);
  } else {
    rows.push({
      phase: IN_PROCESS_LABELS.sqlite,
      connections: '1 caller',
      perSecond: Number.NaN,
      p50Ms: Number.NaN,
      p99Ms: Number.NaN,
      counter: '–',
      comparedWith: [`unavailable: node:sqlite needs Node ≥ 22.5 (measured on ${process.version})`],
    });
  }
  localRow('fsyncLoop', []);
  localRow('atomicReplaceLoop', [`${x(localRatio('atomicReplaceLoop', 'fsyncLoop'))} fsync loop`]);

  const peakRss = Math.max(
    ...rounds.flatMap((r) =>
      r.http.filter((p) => HOST_KEYS.includes(p.key)).map((p) => p.peakRssMB),
    ),
  );
  rows.push({
    phase: 'host RSS, peak of any one host process in any host phase',
    connections: '',
    perSecond: Number.NaN,
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    peakRssMB: peakRss,
    counter: '–',
    comparedWith: [
      `${peakRss.toFixed(0)} MB ${target('peak RSS per host process', peakRss, '<', 100, ' MB')}`,
    ],
  });

  const countersMatched = rows.every((row) => row.counter !== 'MISMATCH');
  return { rows, targets, countersMatched };
}

export function renderTable(summary: Summary): string {
  const header = [
    'phase',
    'connections',
    'req/s · changes/s',
    'p50 ms',
    'p99 ms',
    'peak RSS MB',
    'CPU µs/answer',
    'counter',
    'compared with',
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i >= 2 && i <= 6 ? '---:' : '---')).join(' | ')} |`,
  ];
  for (const row of summary.rows) {
    const cells = [
      row.phase,
      row.connections,
      fmtRate(row.perSecond),
      fmtMs(row.p50Ms),
      fmtMs(row.p99Ms),
      row.peakRssMB === undefined ? '' : row.peakRssMB.toFixed(0),
      row.cpuUsPerRequest === undefined || !(row.cpuUsPerRequest > 0)
        ? ''
        : row.cpuUsPerRequest.toFixed(0),
      row.counter,
      row.comparedWith.join('; '),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** CPU seconds per answer of a phase (NaN where none was sampled or nothing answered). */
function cpuPerRequest(phase: HttpPhase): number {
  return phase.cpuSeconds > 0 && phase.load.responses > 0
    ? phase.cpuSeconds / phase.load.responses
    : Number.NaN;
}

function counterOf(checks: Array<boolean | undefined>): Row['counter'] {
  if (checks.every((ok) => ok === undefined)) return '–';
  return checks.every((ok) => ok !== false) ? 'ok' : 'MISMATCH';
}

const x = (ratio: number) => `${ratio.toFixed(2)} ×`;
const fmtRate = (value: number) => (Number.isNaN(value) ? '' : Math.round(value).toString());
const fmtMs = (value: number) =>
  Number.isNaN(value) ? '' : value < 10 ? value.toFixed(2) : value.toFixed(1);
