import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Under CI (`CI=true`, as .ci/run runs) every test must run: nothing may be skipped. */
const underCi = () => !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());

/** The executable `name` on PATH or in one of `extraDirs`, if any. */
export function findTool(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `describe` when the system tool a group of tests needs is installed. Otherwise, on a
 * developer's machine, `describe.skip` and one line naming the tool and its install command, so
 * that `npm test` stays green with Node alone; under CI, which installs every such tool, a
 * missing one fails the run instead of hiding the tests.
 */
export function describeWithTool(tool: string, found: unknown, install: string): jest.Describe {
  if (found) return describe;
  const missing = `${tool} is not installed; install it with: ${install}`;
  if (underCi()) throw new Error(`CI runs every test, but ${missing}`);
  process.stderr.write(`skipped: the tests that need ${tool}, because ${missing}\n`);
  return describe.skip;
}
