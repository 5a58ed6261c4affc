import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Counters } from '../shared/store/counters';
import { FilesEngine } from '../shared/store/files';
import { killAll, startHost } from './servers';
import { median } from './stats';

/**
 * Named counters: one hot counter against changes spread over 100 counters (autocannon, 64
 * connections, POST), and the backup run over 10,000 named counters. Usage:
 *   npm run build && node dist/bench/named.js [seconds per phase, default 10] [rounds, default 3]
 */

const CONNECTIONS = 64;
const SPREAD = 100;
const BACKUP_COUNTERS = 10_000;

async function post(url: string): Promise<void> {
  const reply = await fetch(url, { method: 'POST' });
  if (reply.status !== 200) throw new Error(`POST ${url} answered ${reply.status}`);
}

async function phase(url: string, paths: string[], seconds: number) {
  let next = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        // Each request takes the next counter in turn, so every counter gets the same share.
        setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] }),
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

async function throughput(seconds: number, rounds: number): Promise<void> {
  const appRoot = path.resolve(__dirname, '../..');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-named-'));
  const host = await startHost({ appRoot, dataDir, groupCommit: true });
  try {
    const spread = Array.from({ length: SPREAD }, (_, i) => `/increment/c${i}`);
    // Created before measuring: the first change of a name also takes the creation lock.
    for (const route of ['/increment/hot', ...spread]) await post(`${host.url}${route}`);
    await phase(host.url, ['/increment/hot'], 2);
    const hot: number[] = [];
    const wide: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const h = await phase(host.url, ['/increment/hot'], seconds);
      const w = await phase(host.url, spread, seconds);
      console.log(
        `round ${round}: one hot counter ${h.rps.toFixed(0)} req/s (p50 ${h.p50} ms, p99 ${h.p99} ms); ` +
          `${SPREAD} counters ${w.rps.toFixed(0)} req/s (p50 ${w.p50} ms, p99 ${w.p99} ms)`,
      );
      hot.push(h.rps);
      wide.push(w.rps);
    }
    console.log(
      `median of ${rounds} rounds at ${CONNECTIONS} connections: one hot counter ${median(hot).toFixed(0)} req/s, spread over ${SPREAD} counters ${median(wide).toFixed(0)} req/s`,
    );
  } finally {
    await host.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function backupRun(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-backup-'));
  try {
    // Written directly: creating 10,000 counters over HTTP would measure creation, not backup.
    for (let i = 0; i < BACKUP_COUNTERS; i++) {
      const dir = path.join(dataDir, 'counters', `n${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'data.bin'), String(i));
    }
    const counters = new Counters(
      new FilesEngine({ dataDir, maxNamed: BACKUP_COUNTERS, warn: () => undefined }),
    );
    const timed = async (label: string) => {
      const started = performance.now();
      const run = await counters.backup();
      const ms = performance.now() - started;
      console.log(`backup run, ${label}: ${run.named} backed up in ${ms.toFixed(0)} ms`);
    };
    await timed(`all ${BACKUP_COUNTERS} changed`);
    await timed('none changed');
    for (let i = 0; i < BACKUP_COUNTERS; i += 100) await counters.add(`n${i}`, 1n);
    await timed(`${BACKUP_COUNTERS / 100} changed`);

    // Creating a counter counts the existing ones under the creation lock.
    const creator = new Counters(
      new FilesEngine({ dataDir, maxNamed: BACKUP_COUNTERS + 10, warn: () => undefined }),
    );
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      await creator.add(`new${i}`, 1n);
      times.push(performance.now() - started);
    }
    console.log(
      `creating one more counter beside ${BACKUP_COUNTERS}: median ${median(times).toFixed(1)} ms of 10`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const rounds = Number(process.argv[3] ?? 3);
  await backupRun();
  await throughput(seconds, rounds);
}

main().catch((err: unknown) => {
  killAll();
  console.error(err);
  process.exitCode = 1;
});
