import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type HostProcess, projectRoot, startHost } from '../support/host-process';
import { tempDir } from '../support/temp-dir';
import { freePort } from './support/nginx';

// The container probe of the Dockerfile's HEALTHCHECK and docker-compose.yml.
const script = path.join(projectRoot, 'scripts/healthcheck.mjs');

function probe(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [script],
      { env: { PATH: process.env.PATH, ...env } },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, output: stdout + stderr }),
    );
  });
}

describe('scripts/healthcheck.mjs', () => {
  const dirs = tempDir('counter-health-');
  let healthy: HostProcess;
  let broken: HostProcess;

  beforeAll(async () => {
    // A data directory path running through a regular file can never be created: /health says 503.
    writeFileSync(path.join(dirs.dir, 'a-file'), '');
    [healthy, broken] = await Promise.all([
      startHost({ dataDir: path.join(dirs.dir, 'data') }),
      startHost({ dataDir: path.join(dirs.dir, 'a-file', 'data') }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([healthy?.stop(), broken?.stop()]);
    dirs.remove();
  });

  it('exits 0 when GET /health on 127.0.0.1:$PORT answers 200', async () => {
    const result = await probe({ PORT: String(healthy.port) });
    expect(result).toEqual({ code: 0, output: expect.stringContaining('healthy: {"status":"ok"') });
  });

  it('exits 1 and prints the reason when /health answers 503', async () => {
    const result = await probe({ PORT: String(broken.port) });
    expect(result).toEqual({
      code: 1,
      output: expect.stringMatching(/unhealthy: .* answered 503 .*not a directory/),
    });
  });

  it('exits 1 when nothing listens', async () => {
    const result = await probe({ PORT: String(await freePort()) });
    expect(result).toEqual({ code: 1, output: expect.stringContaining('ECONNREFUSED') });
  });

  it('probes the URL in HEALTHCHECK_URL when it is set', async () => {
    const result = await probe({ PORT: '1', HEALTHCHECK_URL: `${healthy.url}/health` });
    expect(result.code).toBe(0);
  });
});
