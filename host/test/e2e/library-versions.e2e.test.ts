import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ReadyServer, request, startHostProcess } from '../../src';

/**
 * The same requests through every `@azure/functions` 4.x minor an app may have locked. The root
 * package.json installs them side by side as exact aliased dev dependencies, and this file
 * takes its list from there: `azure-functions-4-<minor>` is the newest patch of that minor
 * (4.0.1, 4.1.0, … 4.15.0), `azure-functions-4-16-2` is 4.16.2 (the last patch that fails a GET
 * which carries a body, which the host must therefore never send), and the newest is the root's
 * own `@azure/functions`. Each is linked into a copy of the fixture app as its
 * `@azure/functions`. All of them declare `engines.node` `>=18.0` or `>=20.0`.
 */
// The versions are known when the cases are collected, so each library is loaded synchronously.
const load = createRequire(__filename);
const root = path.resolve(__dirname, '../../..');
const rootModules = path.join(root, 'node_modules');
const fixture = path.join(__dirname, '../fixtures/versions-app');

/**
 * `app.setup({ enableHttpStream })`, and with it HTTP streams, first shipped in 4.3.0. A library
 * that ignored the option would fail the stream cases: with streams the library itself, not the
 * host, reads the query and writes the cookies, and both read differently.
 */
const FIRST_MINOR_WITH_STREAMS = 3;

const { dependencies, devDependencies } = load(path.join(root, 'package.json')) as Record<
  'dependencies' | 'devDependencies',
  Record<string, string>
>;
const versions = [
  ...Object.entries(devDependencies)
    .filter(([module]) => module.startsWith('azure-functions-4-'))
    .map(([module, spec]) => ({ module, spec })),
  { module: '@azure/functions', spec: dependencies['@azure/functions'] },
]
  .map(({ module, spec }) => {
    const library = load(path.join(rootModules, module)) as { app: { setup?: unknown } };
    const { version } = load(path.join(rootModules, module, 'package.json')) as {
      version: string;
    };
    const [, minor, patch] = version.split('.').map(Number);
    const hasSetup = typeof library.app.setup === 'function';
    return { module, spec, version, minor, patch, hasSetup };
  })
  .sort((a, b) => a.minor - b.minor || a.patch - b.patch);
const cases = versions.flatMap((v) => [
  { ...v, stream: false },
  ...(v.minor >= FIRST_MINOR_WITH_STREAMS ? [{ ...v, stream: true }] : []),
]);

describe('the libraries under test', () => {
  it('are each pinned to one exact version, which their alias names', () => {
    const aliased = versions.filter((v) => v.module !== '@azure/functions');
    for (const { module, spec, version, minor, patch } of aliased) {
      // azure-functions-4-7 pins the newest 4.7 patch; azure-functions-4-16-2 pins 4.16.2.
      expect([`azure-functions-4-${minor}`, `azure-functions-4-${minor}-${patch}`]).toContain(
        module,
      );
      expect({ module, spec }).toEqual({ module, spec: `npm:@azure/functions@${version}` });
    }
  });

  it('cover every 4.x minor up to the newest, and 4.16.2', () => {
    const newestMinor = versions[versions.length - 1].minor;
    expect(new Set(versions.map((v) => v.minor))).toEqual(
      new Set(Array.from({ length: newestMinor + 1 }, (_, minor) => minor)),
    );
    expect(versions.map((v) => v.version)).toContain('4.16.2');
  });

  it(`have app.setup, which enables HTTP streams, from 4.${FIRST_MINOR_WITH_STREAMS} on and not before`, () => {
    for (const { version, minor, hasSetup } of versions) {
      expect({ version, hasSetup }).toEqual({
        version,
        hasSetup: minor >= FIRST_MINOR_WITH_STREAMS,
      });
    }
  });
});

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'host-versions-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe.each(cases)(
  '@azure/functions $version, streams $stream',
  ({ version, module, stream }) => {
    let host: ReadyServer;

    beforeAll(async () => {
      const appRoot = path.join(workDir, `${version}-${stream}`);
      await cp(fixture, appRoot, { recursive: true });
      await mkdir(path.join(appRoot, 'node_modules/@azure'), { recursive: true });
      await symlink(
        path.join(rootModules, module),
        path.join(appRoot, 'node_modules/@azure/functions'),
        'dir',
      );
      host = await startHostProcess({
        appRoot,
        env: { LOG_LEVEL: 'warning', FIXTURE_HTTP_STREAM: String(stream) },
      });
    });

    afterAll(async () => {
      await host?.stop();
    });

    it('answers a GET, which has no body, with its URL, route parameters, repeated query key and headers', async () => {
      const reply = await request(`${host.url}/api/shape/ada?x=1&x=2`, {
        headers: { 'x-test': 'yes' },
      });
      expect(reply.status).toBe(200);
      expect(reply.json()).toEqual({
        method: 'GET',
        url: `${host.url}/api/shape/ada?x=1&x=2`,
        params: { name: 'ada' },
        // The Functions host joins a repeated key's values with commas into one value; with
        // streams the library reads the query from the URL instead.
        x: stream ? ['1', '2'] : ['1,2'],
        header: 'yes',
        contentType: null,
        body: '',
      });
      expect(reply.headers['x-handled-by']).toBe('shape');
      // Without streams the host writes cookies as the Functions host (ASP.NET Core) does;
      // with streams the library writes them itself.
      expect(reply.headers['set-cookie']).toEqual([
        stream ? 'seen=yes; Path=/; HttpOnly' : 'seen=yes; path=/; httponly',
      ]);
    });

    it('answers a HEAD with the status and headers and no body', async () => {
      const reply = await request(`${host.url}/api/shape/ada`, { method: 'HEAD' });
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('');
    });

    it('passes a POST body and its content type, and a DELETE without body', async () => {
      const post = await request(`${host.url}/api/shape/ada/more`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'hello',
      });
      expect(post.status).toBe(201);
      expect(post.json()).toMatchObject({
        method: 'POST',
        params: { name: 'ada', rest: 'more' },
        contentType: 'text/plain',
        body: 'hello',
      });
      const del = await request(`${host.url}/api/shape/ada`, { method: 'DELETE' });
      expect(del.json()).toMatchObject({ method: 'DELETE', body: '' });
    });
  },
);
