// `npm run package`: the zip that `az functionapp deployment source config-zip` deploys, laid out
// as `func pack` lays it out: the app root minus what .funcignore names, with node_modules cut
// down to the production dependencies (the working tree's node_modules is left as it is).
//
//   node scripts/package.mjs [--output <file.zip>]      default: <app root>/<package name>.zip
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { zipSync } from 'fflate';
import ignore from 'ignore';

const appRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(path.join(appRoot, 'package.json'), 'utf8'));
const { values: options } = parseArgs({ options: { output: { type: 'string' } } });
const output = path.resolve(options.output ?? path.join(appRoot, `${manifest.name}.zip`));

const funcignore = ignore().add(readFileSync(path.join(appRoot, '.funcignore'), 'utf8'));
const posix = (relative) => relative.split(path.sep).join('/');

/** Files under `dir` (relative to the app root), without .funcignore'd ones and `skip`ped names. */
function* filesUnder(dir, skip = new Set()) {
  for (const entry of readdirSync(path.join(appRoot, dir), { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const relative = posix(path.join(dir, entry.name));
    const isDirectory =
      entry.isDirectory() ||
      (entry.isSymbolicLink() && statSync(path.join(appRoot, relative)).isDirectory());
    if (funcignore.ignores(isDirectory ? `${relative}/` : relative)) continue;
    if (isDirectory) yield* filesUnder(relative);
    else yield relative;
  }
}

/**
 * Directories of the production packages, as npm resolved them (nested ones listed apart).
 * Workspace packages (the offline host) are left out: they run the app locally, not in Azure.
 */
function productionPackages() {
  let listing;
  try {
    listing = execFileSync(
      'npm',
      ['ls', '--omit=dev', '--all', '--parseable', '--workspaces=false'],
      {
        cwd: appRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  } catch (error) {
    throw new Error(
      `node_modules does not match package-lock.json; run "npm ci" first.\n${error.stderr ?? error.message}`,
    );
  }
  const packages = new Set(
    listing
      .split('\n')
      .filter(Boolean)
      .map((line) => posix(path.relative(appRoot, line))),
  );
  packages.delete('');
  return [...packages].sort();
}

const appFiles = [...filesUnder('.', new Set(['node_modules', '.git']))];
// The worker loads package.json "main" (a glob such as dist/functions/*.js): a bundle without
// a file under its fixed part would deploy an app with no functions.
const mainPrefix = (manifest.main ?? '').split('*')[0];
const entryPoints = appFiles.filter((file) => file.startsWith(mainPrefix) && file.endsWith('.js'));
if (entryPoints.length === 0) {
  throw new Error(
    `no file matches package.json "main" (${manifest.main}); run "npm run build" first`,
  );
}
const packages = productionPackages();
// Nested node_modules hold packages of their own, which npm lists (or omits) separately.
const dependencyFiles = packages.flatMap((dir) => [...filesUnder(dir, new Set(['node_modules']))]);

const entries = {};
for (const file of [...appFiles, ...dependencyFiles].sort()) {
  const absolute = path.join(appRoot, file);
  const { mode, mtime } = statSync(absolute);
  // Unix permissions in the high half of the external attributes, as `zip` on Linux stores them.
  entries[file] = [readFileSync(absolute), { os: 3, attrs: (mode & 0xffff) << 16, mtime }];
}
// Azure Functions on Linux runs x64. The lock's addon is built on Node-API, so its one prebuilt
// binary per platform loads on every Node major we claim (22, 24, 26): it must be in the zip,
// and it must take a lock here, so that a broken or missing addon fails the packing, not the app.
const azureLockBinary =
  'node_modules/fs-native-extensions/prebuilds/linux-x64/fs-native-extensions.node';
if (!(azureLockBinary in entries)) {
  throw new Error(
    `this zip would not run on Azure (Linux x64): it lacks ${azureLockBinary}; run "npm ci" first`,
  );
}
{
  const { tryLock } = createRequire(import.meta.url)('fs-native-extensions');
  const probe = path.join(mkdtempSync(path.join(tmpdir(), 'lock-probe-')), 'probe.lock');
  const fd = openSync(probe, 'w');
  try {
    if (!tryLock(fd)) throw new Error(`the lock addon could not lock a fresh file (${probe})`);
  } finally {
    closeSync(fd);
  }
}
writeFileSync(output, zipSync(entries, { level: 9 }));

const megabytes = (statSync(output).size / 1024 / 1024).toFixed(1);
console.log(`${output}: ${Object.keys(entries).length} files, ${megabytes} MiB`);
console.log(`  app: ${entryPoints.join(', ')}`);
console.log(`  production packages: ${packages.length}`);
