import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnHostProcess, whenReady } from '@rusty-counter/host';

/**
 * Time from spawning the offline host to its first `200` on `GET /get` (build excluded),
 * on a fresh data directory and a port the OS picks, each run; prints every run and the median.
 * Usage: node dist/bench/startup.js [runs=9]
 */
const appRoot = path.resolve(__dirname, '..', '..');

async function timeToFirst200(): Promise<number> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'counter-startup-'));
  const started = process.hrtime.bigint();
  const host = spawnHostProcess({
    appRoot,
    env: { COUNTER_DATA_DIR: dataDir, LOG_LEVEL: 'warning' },
  });
  try {
    const { url } = await whenReady(host);
    for (;;) {
      const status = await fetch(`${url}/get`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return Number(process.hrtime.bigint() - started) / 1e6;
      await sleep(2);
    }
  } finally {
    await host.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 9);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeToFirst200());
  times.sort((a, b) => a - b);
  console.log(`spawn → first 200, ms: ${times.map((t) => t.toFixed(0)).join(' ')}`);
  console.log(`median of ${runs}: ${times[Math.floor(runs / 2)].toFixed(0)} ms`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
