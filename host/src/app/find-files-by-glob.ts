import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { HostStartupError } from '../utils/host-startup-error';

type Segment = { kind: 'anyDepth' } | { kind: 'name'; matches: (name: string) => boolean };

/**
 * Files under `root` matching `pattern`, sorted. Covers the globs a `main` field uses:
 * literal paths, `*` and `?` within a segment, and `**` as a whole segment for any depth.
 * Like common glob libraries, wildcards skip names starting with a dot. Node 20 has no
 * `fs.glob`, and a full glob library would be a dependency for these three forms.
 */
export async function findFilesByGlob(root: string, pattern: string): Promise<string[]> {
  const segments = compileGlob(pattern);
  const found: string[] = [];
  await walk(root, segments, found);
  return [...new Set(found)].sort();
}

function compileGlob(pattern: string): Segment[] {
  const unsupported = /[{}[\]!()+@]/.exec(pattern);
  if (unsupported) {
    throw new HostStartupError(
      `the glob "${pattern}" uses "${unsupported[0]}", which the offline host does not support; use literal paths, "*", "?" and "**"`,
    );
  }
  if (path.isAbsolute(pattern)) {
    throw new HostStartupError(`the glob "${pattern}" must be relative to the app root`);
  }
  return pattern
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .map((part): Segment => {
      if (part === '**') return { kind: 'anyDepth' };
      if (!/[*?]/.test(part)) return { kind: 'name', matches: (name) => name === part };
      const source = part
        .replace(/[.^$|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]');
      const regex = new RegExp(`^${source}$`);
      return { kind: 'name', matches: (name) => !name.startsWith('.') && regex.test(name) };
    });
}

async function walk(dir: string, segments: Segment[], found: string[]): Promise<void> {
  const [segment, ...rest] = segments;
  if (!segment) return;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);

  if (segment.kind === 'anyDepth') {
    // `**` matches no directory at all, or descends one level and stays in effect.
    await walk(dir, rest, found);
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith('.')) {
        await walk(path.join(dir, entry.name), segments, found);
      }
    }
    return;
  }

  for (const entry of entries) {
    if (!segment.matches(entry.name)) continue;
    const entryPath = path.join(dir, entry.name);
    if (rest.length === 0) {
      if (entry.isFile()) found.push(entryPath);
    } else if (entry.isDirectory()) {
      await walk(entryPath, rest, found);
    }
  }
}
