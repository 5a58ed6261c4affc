import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { findFilesByGlob } from './find-files-by-glob';
import { HostStartupError } from '../utils/host-startup-error';
import { isJsonObject } from '../utils/is-json-object';

/** The files named by package.json `main` (a path or glob), as the Node.js worker loads them. */
export async function findEntryPoints(appRoot: string): Promise<string[]> {
  const packageFile = path.join(appRoot, 'package.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(packageFile, 'utf8'));
  } catch (err) {
    throw new HostStartupError(`cannot read ${packageFile}: ${(err as Error).message}`);
  }
  const main = isJsonObject(json) ? json.main : undefined;
  if (typeof main !== 'string' || main.trim() === '') {
    throw new HostStartupError(
      `${packageFile} has no "main" field; set it to the compiled function files, e.g. "dist/functions/*.js"`,
    );
  }

  const files = await findFilesByGlob(appRoot, main.trim());
  if (files.length === 0) {
    throw new HostStartupError(
      `package.json "main" ("${main}") matches no files under ${appRoot}; build the app first (npm run build) or fix the pattern`,
    );
  }
  return files;
}
