import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Time from spawning the offline host to its first `200` on `GET /get` (build excluded),
 * on a fresh data directory each run; prints every run and the median.
 * Usage: node dist/bench/startup.js [runs=9]
 */
const appRoot = path.resolve(__dirname, '..', '..');
const hostScript = path.join(appRoot, 'dist', 'host', 'main.js');

async function timeToFirst200(port: number): Promise<number> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'counter-startup-'));
  const started = process.hrtime.bigint();
  const host = spawn(process.execPath, [hostScript, appRoot], {
    env: { ...process.env, PORT: String(port), COUNTER_DATA_DIR: dataDir, LOG_LEVEL: 'warning' },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${port}/get`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return Number(process.hrtime.bigint() - started) / 1e6;
      if (host.exitCode !== null) throw new Error(`the host exited with ${host.exitCode}`);
      await sleep(2);
    }
  } finally {
    host.kill('SIGTERM');
    await new Promise((resolve) => host.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 9);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeToFirst200(18_300 + i));
  times.sort((a, b) => a - b);
  console.log(`spawn → first 200, ms: ${times.map((t) => t.toFixed(0)).join(' ')}`);
  console.log(`median of ${runs}: ${times[Math.floor(runs / 2)].toFixed(0)} ms`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
