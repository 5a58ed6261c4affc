// Measures GET /watch between two offline hosts sharing one data directory:
//   1. memory per idle watcher: the watching host's RSS with N open streams against none;
//   2. the delay from a change acknowledged by one host to its event through the other
//      (median and p99 over M changes; each change waits a random 0-250 ms first, so the
//      changes fall at every phase of the watcher's 250 ms file reads).
//
//   npm run build && node scripts/measure-watch.mjs [--watchers 1000] [--changes 1000]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startHostProcess } from '@rusty-counter/host';
import { createParser } from 'eventsource-parser';

const appRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    watchers: { type: 'string', default: '1000' },
    changes: { type: 'string', default: '1000' },
  },
});
const watcherCount = Number(values.watchers);
const changeCount = Number(values.changes);
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'measure-watch-'));
const env = { COUNTER_DATA_DIR: dataDir, BACKUP_SCHEDULE: '0 0 0 1 1 *', LOG_LEVEL: 'warning' };
const rssKiB = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

/**
 * Opens a stream; `onValue` gets each value. Resolves once the answer is 200, with a function
 * that closes it. With `reconnect`, a stream that ends (after its minute) is opened again at
 * once, as EventSource does.
 */
function watch(url, onValue = () => {}, reconnect = false) {
  return new Promise((resolve, reject) => {
    let closed = false;
    const req = request(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`${url}: ${res.statusCode}`));
      const parser = createParser({ onEvent: (event) => onValue(JSON.parse(event.data).value) });
      res.setEncoding('utf8').on('data', (chunk) => parser.feed(chunk));
      let next;
      res.on('end', () => {
        if (reconnect && !closed) next = watch(url, onValue, true);
      });
      resolve(() => {
        closed = true;
        res.destroy();
        next?.then((close) => close());
      });
    });
    req.on('error', reject).end();
  });
}

function post(url) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false }, (res) => {
      res
        .resume()
        .on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`${res.statusCode}`)),
        );
    });
    req.on('error', reject).end();
  });
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const [watching, changing] = await Promise.all([
  startHostProcess({ appRoot, env }),
  startHostProcess({ appRoot, env }),
]);
try {
  await sleep(2000);
  const before = rssKiB(watching.proc.pid);
  const closers = [];
  for (let i = 0; i < watcherCount; i += 100) {
    closers.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(100, watcherCount - i) }, () =>
          watch(`${watching.url}/watch/idle`),
        ),
      )),
    );
  }
  await sleep(5000);
  const after = rssKiB(watching.proc.pid);
  closers.forEach((close) => close());
  console.log(
    `RSS of the watching host: ${(before / 1024).toFixed(1)} MiB with no watcher, ${(after / 1024).toFixed(1)} MiB with ${watcherCount} idle watchers`,
  );
  console.log(
    `  = ${(((after - before) * 1024) / watcherCount / 1024).toFixed(1)} KiB per idle watcher`,
  );

  let waiting;
  const stop = await watch(`${watching.url}/watch/latency`, (value) => waiting?.(value), true);
  const delays = [];
  for (let i = 1; i <= changeCount; i++) {
    await sleep(Math.random() * 250);
    const seen = new Promise((resolve) => {
      waiting = (value) => value === i && resolve(performance.now());
    });
    await post(`${changing.url}/increment/latency`);
    const acknowledged = performance.now();
    delays.push((await seen) - acknowledged);
  }
  stop();
  delays.sort((a, b) => a - b);
  console.log(
    `change acknowledged by one host → event through the other, over ${changeCount} changes:`,
  );
  console.log(
    `  median ${percentile(delays, 50).toFixed(1)} ms, p99 ${percentile(delays, 99).toFixed(1)} ms, max ${delays.at(-1).toFixed(1)} ms, min ${delays[0].toFixed(1)} ms`,
  );
} finally {
  await Promise.all([watching.stop(), changing.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
}
