// The part of GET /watch below HTTP, measured without a host: two Node processes share one data
// directory, as two replicas would. This one watches through the app's WatchHub; a child
// process changes the counter through the app's Counters when asked, and says when the change
// is durable. Prints the delay from that acknowledgement to the watcher's value (median, p99;
// each change waits a random 0-250 ms first, so changes fall at every phase of the 250 ms
// file reads), and the memory of N idle watchers with their event streams waiting.
//
//   npm run build && node --expose-gc scripts/measure-watch-hub.mjs [--watchers 1000] [--changes 1000]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'shared');
const { Counters } = require(path.join(dist, 'counters.js'));
const { WatchHub } = require(path.join(dist, 'watch-hub.js'));
const { eventStream, WATCH_TIMING } = require(path.join(dist, 'event-stream.js'));

const quiet = { warn: () => undefined };

if (process.argv[2] === 'changer') {
  const counters = new Counters({ dataDir: process.argv[3], maxNamed: 10, ...quiet });
  process.on('message', async () => {
    const value = await counters.add('latency', 1n);
    process.send(value.toString());
  });
} else {
  const { values } = parseArgs({
    options: {
      watchers: { type: 'string', default: '1000' },
      changes: { type: 'string', default: '1000' },
    },
  });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'measure-watch-hub-'));
  const counters = new Counters({ dataDir, maxNamed: 10, ...quiet });
  const hub = new WatchHub({ read: (name) => counters.read(name), maxWatchers: 100_000 });
  const child = fork(fileURLToPath(import.meta.url), ['changer', dataDir]);
  try {
    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        globalThis.gc?.();
        await sleep(200);
      }
      return process.memoryUsage();
    };
    const before = await settle();
    const readers = [];
    for (let i = 0; i < Number(values.watchers); i++) {
      const reader = eventStream(await hub.watch('idle'), WATCH_TIMING).getReader();
      await reader.read();
      // A pending read: the stream waits for the next value, as under a connected client.
      reader.read().catch(() => undefined);
      readers.push(reader);
    }
    const after = await settle();
    const perWatcher = (key) => ((after[key] - before[key]) / readers.length / 1024).toFixed(2);
    console.log(
      `${readers.length} idle watchers (hub + event stream, no HTTP): ${perWatcher('rss')} KiB RSS, ${perWatcher('heapUsed')} KiB heap each${globalThis.gc ? '' : ' (run with --expose-gc for steadier figures)'}`,
    );
    await Promise.all(readers.map((reader) => reader.cancel()));

    const watcher = await hub.watch('latency');
    await watcher.next(0);
    const delays = [];
    for (let i = 0; i < Number(values.changes); i++) {
      await sleep(Math.random() * 250);
      const acknowledged = new Promise((resolve) =>
        child.once('message', (value) => resolve({ value, at: performance.now() })),
      );
      child.send('change');
      const { value, at } = await acknowledged;
      let seen;
      while ((seen = await watcher.next(5_000)) !== undefined && seen.toString() !== value);
      if (seen === undefined) throw new Error(`value ${value} never arrived`);
      delays.push(performance.now() - at);
    }
    delays.sort((a, b) => a - b);
    const at = (p) => delays[Math.min(delays.length - 1, Math.ceil(p * delays.length) - 1)];
    console.log(
      `change durable in one process → value at a watcher of the other, over ${delays.length} changes: median ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${delays.at(-1).toFixed(1)} ms`,
    );
  } finally {
    hub.closeAll();
    child.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
