import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Counters } from '../shared/store/counters';
import { FilesEngine } from '../shared/store/files';
import { killAll, startHost } from './servers';
import { median } from './stats';

/**
 * `GET /counters` at the cap: 10,000 named counters, each page timed through the offline
 * host (what a client sees) and in-process (the file engine alone). Usage:
 *   npm run build && node dist/bench/list.js [repetitions per case, default 20]
 */

const COUNTERS = 10_000;

interface Case {
  label: string;
  query: string;
}

const CASES: Case[] = [
  { label: 'first page, default limit (100)', query: '' },
  { label: 'first page, limit=1000', query: '?limit=1000' },
  { label: 'a page deep in the list (after=n9000), limit=100', query: '?after=n9000&limit=100' },
  { label: 'prefix=n99 (111 counters), limit=1000', query: '?prefix=n99&limit=1000' },
];

async function timeHttp(url: string, repetitions: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const started = performance.now();
    const reply = await fetch(url);
    await reply.text();
    if (reply.status !== 200) throw new Error(`GET ${url} answered ${reply.status}`);
    times.push(performance.now() - started);
  }
  return median(times);
}

/** Every counter, page by page with `next`, as an operator's script would. */
async function walkAll(baseUrl: string, limit: number): Promise<{ ms: number; pages: number }> {
  const started = performance.now();
  let after: string | null = '';
  let pages = 0;
  let seen = 0;
  while (after !== null) {
    const query: string = `?limit=${limit}${after ? `&after=${after}` : ''}`;
    const page = (await (await fetch(`${baseUrl}/counters${query}`)).json()) as {
      counters: unknown[];
      next: string | null;
    };
    seen += page.counters.length;
    after = page.next;
    pages++;
  }
  if (seen !== COUNTERS) throw new Error(`the walk saw ${seen} counters, not ${COUNTERS}`);
  return { ms: performance.now() - started, pages };
}

async function main(): Promise<void> {
  const repetitions = Number(process.argv[2] ?? 20);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-list-'));
  try {
    // Written directly: creating 10,000 counters over HTTP would measure creation, not listing.
    for (let i = 0; i < COUNTERS; i++) {
      const dir = path.join(dataDir, 'counters', `n${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'data.bin'), String(i));
    }
    const counters = new Counters(
      new FilesEngine({ dataDir, maxNamed: COUNTERS, warn: () => undefined }),
    );
    for (const { label, query } of CASES) {
      const params = new URLSearchParams(query);
      const times: number[] = [];
      for (let i = 0; i < repetitions; i++) {
        const started = performance.now();
        await counters.list({
          limit: Number(params.get('limit') ?? 100) + 1,
          after: params.get('after') ?? undefined,
          prefix: params.get('prefix') ?? undefined,
        });
        times.push(performance.now() - started);
      }
      console.log(`in-process, ${label}: median ${median(times).toFixed(1)} ms of ${repetitions}`);
    }

    const appRoot = path.resolve(__dirname, '../..');
    const host = await startHost({ appRoot, dataDir, groupCommit: true });
    try {
      // The first answers warm the JIT and the directory cache; they are not measured.
      await timeHttp(`${host.url}/counters?limit=1000`, 5);
      for (const { label, query } of CASES) {
        const ms = await timeHttp(`${host.url}/counters${query}`, repetitions);
        console.log(`HTTP, ${label}: median ${ms.toFixed(1)} ms of ${repetitions}`);
      }
      for (const limit of [100, 1000]) {
        const walks: number[] = [];
        let pages = 0;
        for (let i = 0; i < 3; i++) {
          const walk = await walkAll(host.url, limit);
          walks.push(walk.ms);
          pages = walk.pages;
        }
        console.log(
          `HTTP, all ${COUNTERS} counters in ${pages} pages of ${limit}: median ${median(walks).toFixed(0)} ms of 3`,
        );
      }
    } finally {
      await host.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  killAll();
  console.error(err);
  process.exitCode = 1;
});
