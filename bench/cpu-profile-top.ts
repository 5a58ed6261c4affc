import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * `node dist/bench/cpu-profile-top.js DIR [N]`: the top N (default 15) functions by self time
 * in each V8 CPU profile (`*.cpuprofile`) in DIR, as `npm run bench -- --cpu-prof=DIR` writes
 * them: where a host spends its time, without opening a profiler.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

async function main(): Promise<void> {
  const [dir, count = '15'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: node dist/bench/cpu-profile-top.js DIR [N]');
  const files = (await fs.readdir(dir)).filter((name) => name.endsWith('.cpuprofile')).sort();
  for (const file of files) {
    const profile = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as CpuProfile;
    process.stdout.write(`\n${file}\n${topEntries(profile, Number(count))}\n`);
  }
}

/**
 * A markdown table of the functions with the most self time, summed over their call sites,
 * as shares of the time the process was busy (a host idles between the bench's phases).
 */
function topEntries(profile: CpuProfile, count: number): string {
  const allHits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const busy = profile.nodes.filter((node) => node.callFrame.functionName !== '(idle)');
  const totalHits = busy.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const totalMs = ((profile.endTime - profile.startTime) / 1000) * (totalHits / (allHits || 1));
  const byFunction = new Map<string, number>();
  for (const node of busy) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  const rows = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);
  const lines = [
    `busy ${totalMs.toFixed(0)} ms`,
    '| self % of busy | self ms | function |',
    '| ---: | ---: | --- |',
  ];
  for (const [key, hits] of rows) {
    const share = totalHits === 0 ? 0 : hits / totalHits;
    lines.push(`| ${(share * 100).toFixed(1)} | ${(share * totalMs).toFixed(0)} | ${key} |`);
  }
  return lines.join('\n');
}

/** A path from node_modules on, or the file's last three parts. */
function shorten(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  return url.split('/').slice(-3).join('/');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
