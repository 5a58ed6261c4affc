import fastGlob from 'fast-glob';
import path from 'node:path';
import { HostStartupError } from '../utils/host-startup-error';

/**
 * Files under `root` matching `pattern`, as the Node.js worker finds the files of package.json
 * `main`: it uses globby, which is fast-glob with the same defaults, so braces
 * (`dist/src/{index.js,functions/*.js}`), `**`, classes and extglobs behave the same, names
 * starting with a dot are skipped, and files come in the order the worker loads them.
 */
export async function findFilesByGlob(root: string, pattern: string): Promise<string[]> {
  if (path.isAbsolute(pattern)) {
    throw new HostStartupError(`the glob "${pattern}" must be relative to the app root`);
  }
  const files = await fastGlob(pattern, { cwd: root, onlyFiles: true });
  return [...new Set(files)].map((file) => path.join(root, file));
}
