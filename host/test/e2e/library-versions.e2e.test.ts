import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ReadyServer, request, startHostProcess } from '../../src';

/**
 * The same requests through every `@azure/functions` 4.x minor an app may have locked: the
 * newest patch of each minor, 4.0 to 4.15, plus 4.16.2 (the last that fails a GET which
 * carries a body, which the host must therefore never send) and the newest, which is the
 * root's own `@azure/functions`. Each is installed at the root under an alias
 * (`azure-functions-4-0` is `npm:@azure/functions@4.0.1`) and linked into a copy of the
 * fixture app as its `@azure/functions`.
 */
// The versions are known when the cases are collected, so each library is loaded synchronously.
const load = createRequire(__filename);
const rootModules = path.resolve(__dirname, '../../../node_modules');
const fixture = path.join(__dirname, '../fixtures/versions-app');
const aliases = [
  ...Array.from({ length: 16 }, (_, minor) => `azure-functions-4-${minor}`),
  'azure-functions-4-16-2',
  '@azure/functions',
];
const versions = aliases.map((module) => {
  const library = load(path.join(rootModules, module)) as { app: { setup?: unknown } };
  const { version } = load(path.join(rootModules, module, 'package.json')) as {
    version: string;
  };
  // HTTP streams came with app.setup (4.3); older versions run without streams only.
  return { version, module, streams: typeof library.app.setup === 'function' };
});
const cases = versions.flatMap((v) => [
  { ...v, stream: false },
  ...(v.streams ? [{ ...v, stream: true }] : []),
]);

it('covers every 4.x minor up to the newest, streams from 4.3 on', () => {
  const minors = versions.map(({ version }) => version.split('.').slice(0, 2).join('.'));
  const newestMinor = Number(minors[minors.length - 1].split('.')[1]);
  expect(new Set(minors)).toEqual(
    new Set(Array.from({ length: newestMinor + 1 }, (_, minor) => `4.${minor}`)),
  );
  expect(versions.filter((v) => !v.streams).map((v) => v.version)).toEqual([
    '4.0.1',
    '4.1.0',
    '4.2.0',
  ]);
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
