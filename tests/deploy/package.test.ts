import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { type HostProcess, projectRoot, startHost } from '../support/host-process';
import { request } from '../support/http';
import { tempDir } from '../support/temp-dir';

// `npm test` builds first, so dist/ is current; the script packs it as `npm run package` does.
const work = tempDir('counter-package-');
const zipPath = path.join(work.dir, 'rusty-counter.zip');
let printed: string;
let files: Record<string, Uint8Array>;
let names: string[];

beforeAll(() => {
  printed = execFileSync(
    process.execPath,
    [path.join(projectRoot, 'scripts/package.mjs'), '--output', zipPath],
    {
      cwd: projectRoot,
      encoding: 'utf8',
    },
  );
  files = unzipSync(readFileSync(zipPath));
  names = Object.keys(files);
}, 60_000);

afterAll(() => work.remove());

const under = (prefix: string) => names.filter((name) => name.startsWith(prefix));

describe('npm run package', () => {
  it('reports the zip it wrote, with the entry points it found', () => {
    expect(printed).toContain(zipPath);
    expect(printed).toContain('dist/functions/get.js');
  });

  it('holds package.json, host.json, dist and node_modules at the top, as the Functions host expects', () => {
    expect(new Set(names.map((name) => name.split('/')[0]))).toEqual(
      new Set(['package.json', 'host.json', 'dist', 'node_modules', 'public']),
    );
    expect(new Set(under('dist/').map((name) => name.split('/')[1]))).toEqual(
      new Set(['functions', 'shared']),
    );
  });

  it('has the compiled functions that package.json "main" loads, without sources or source maps', () => {
    const functions = under('dist/functions/').map((name) => path.basename(name));
    expect(functions.sort()).toEqual([
      'app-start.js',
      'backup.js',
      'badge.js',
      'decrement.js',
      'delete-counter.js',
      'get.js',
      'health.js',
      'increment.js',
      'list-counters.js',
      'metrics.js',
      'not-found.js',
      'openapi.js',
      'page.js',
      'set.js',
      'watch.js',
    ]);
    const main = (JSON.parse(Buffer.from(files['package.json']).toString()) as { main: string })
      .main;
    expect(main).toBe('dist/functions/*.js');
    expect(names.filter((name) => /^(dist|functions|shared)\/.*\.(ts|map)$/.test(name))).toEqual(
      [],
    );
  });

  it('carries the production dependencies and no development ones', () => {
    for (const file of [
      'node_modules/@azure/functions/package.json',
      'node_modules/croner/package.json',
      'node_modules/dotenv/package.json',
      'node_modules/lossless-json/package.json',
      'node_modules/fs-native-extensions/package.json',
      'node_modules/badge-maker/package.json',
      'node_modules/eventsource-encoder/package.json',
      'public/index.html',
    ]) {
      expect(names).toContain(file);
    }
    for (const devDependency of [
      'typescript',
      'jest',
      'eslint',
      'fflate',
      'autocannon',
      '@types',
      'dclint',
    ]) {
      expect(under(`node_modules/${devDependency}/`)).toEqual([]);
    }
  });

  // Packed on macOS or Windows, node_modules holds what npm installed there; Azure runs Linux x64.
  // The addon is built on Node-API, so this one binary serves every Node major.
  it("holds the lock's Node-API binary for Linux x64, whatever OS packed it", () => {
    const binary =
      files['node_modules/fs-native-extensions/prebuilds/linux-x64/fs-native-extensions.node'];
    expect(binary).toBeDefined();
    const elf = Buffer.from(binary);
    // ELF magic, 64-bit (class 2), little-endian (data 1), machine 0x3e = x86-64.
    expect([elf.subarray(0, 4).toString('latin1'), elf[4], elf[5], elf.readUInt16LE(18)]).toEqual([
      '\x7fELF',
      2,
      1,
      0x3e,
    ]);
    // Node-API's registration entry point, which any Node major can load.
    expect(elf.includes(Buffer.from('napi_register_module_v1'))).toBe(true);
  });

  it('leaves out local settings, secrets, tests, sources, the offline host and the deployment files', () => {
    const leftOut = [
      /^local\.settings\.json$/,
      /^\.env/,
      /^\.funcignore$/,
      /^tests\//,
      /^(functions|shared|host|scripts|deploy|bench)\//,
      /^dist\/host\//,
      /^node_modules\/@rusty-counter\//,
      /^Dockerfile$/,
      /^docker-compose\.yml$/,
      /^package-lock\.json$/,
      /\.zip$/,
    ];
    expect(names.filter((name) => leftOut.some((pattern) => pattern.test(name)))).toEqual([]);
  });

  it('serves the API from the unpacked zip under a Functions host', async () => {
    const appRoot = path.join(work.dir, 'wwwroot');
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(appRoot, name)), { recursive: true });
      writeFileSync(path.join(appRoot, name), content);
    }
    let host: HostProcess | undefined;
    try {
      host = await startHost({ appRoot });
      expect((await request(`${host.url}/get`)).json()).toEqual({ value: 0 });
      expect((await request(`${host.url}/increment`, { method: 'POST' })).json()).toEqual({
        value: 1,
      });
      const health = await request(`${host.url}/health`);
      expect({ status: health.status, body: health.json() }).toMatchObject({
        status: 200,
        body: { status: 'ok' },
      });
    } finally {
      await host?.stop();
    }
  }, 30_000);
});

describe('.funcignore', () => {
  const patterns = readFileSync(path.join(projectRoot, '.funcignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('anchors every pattern at the app root and negates none, so Core Tools (which anchors all) reads it as git does', () => {
    expect(patterns.filter((pattern) => !pattern.startsWith('/'))).toEqual([]);
  });
});
