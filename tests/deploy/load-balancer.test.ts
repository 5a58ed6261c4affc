import { readFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { type HostProcess, startHost } from '../support/host-process';
import { request } from '../support/http';
import { tempDir } from '../support/temp-dir';
import { describeWithTool } from '../support/system-tool';
import { findNginx, type Nginx, startNginx } from './support/nginx';

// The compose topology without Docker: nginx (from Debian, as in the lb service) in front of
// three offline-host processes that share one data directory, as the replicas share ./local_dir.

const nginxBinary = findNginx();
const describeWithNginx = describeWithTool(
  'nginx',
  nginxBinary,
  'apt-get install -y --no-install-recommends nginx-light',
);

const REPLICAS = 3;
const INCREMENTS = 3000;
const CLIENTS = 50;

describeWithNginx('nginx spreading requests over three replicas on one directory', () => {
  const data = tempDir('counter-lb-data-');
  const nginxDir = tempDir('counter-lb-nginx-');
  let hosts: HostProcess[] = [];
  let lb: Nginx;

  const value = async (url: string) => (await request(`${url}/get`)).json() as { value: number };
  const servedBy = (host: HostProcess, route: string) =>
    host
      .logs()
      .split('\n')
      .filter((line) => line.includes(`POST /${route} -> 200`)).length;

  beforeAll(async () => {
    hosts = await Promise.all(
      Array.from({ length: REPLICAS }, () =>
        startHost({
          dataDir: data.dir,
          env: { LOG_LEVEL: 'information', BACKUP_SCHEDULE: undefined },
        }),
      ),
    );
    lb = await startNginx(
      nginxBinary as string,
      nginxDir.dir,
      hosts.map((host) => host.port),
    );
  }, 60_000);

  afterAll(async () => {
    await lb?.stop();
    await Promise.all(hosts.map((host) => host.stop()));
    data.remove();
    nginxDir.remove();
  });

  it(`answers ${INCREMENTS} concurrent increments from ${CLIENTS} clients with distinct values and an exact final count, every replica serving a share`, async () => {
    const start = (await value(lb.url)).value;
    const values: number[] = [];
    const result = await autocannon({
      url: `${lb.url}/increment`,
      method: 'POST',
      connections: CLIENTS,
      amount: INCREMENTS,
      timeout: 20,
      setupClient: (client) => {
        client.on('body', (body: Buffer) =>
          values.push((JSON.parse(body.toString()) as { value: number }).value),
        );
      },
    });

    expect({
      ok: result['2xx'],
      other: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
    }).toEqual({
      ok: INCREMENTS,
      other: 0,
      errors: 0,
      timeouts: 0,
    });
    expect(new Set(values).size).toBe(INCREMENTS);
    expect(Math.min(...values)).toBe(start + 1);
    expect(Math.max(...values)).toBe(start + INCREMENTS);
    expect(await value(lb.url)).toEqual({ value: start + INCREMENTS });
    expect(readFileSync(path.join(data.dir, 'data.bin'), 'utf8')).toBe(String(start + INCREMENTS));
    for (const host of hosts)
      expect(servedBy(host, 'increment')).toBeGreaterThan(INCREMENTS / REPLICAS / 2);
  }, 120_000);

  it('keeps answering, and counts exactly, when a replica stops: nginx passes new requests to the others', async () => {
    const start = (await value(lb.url)).value;
    await hosts[0].stop();

    const answers = [];
    for (let i = 0; i < 60; i++)
      answers.push(await request(`${lb.url}/increment`, { method: 'POST' }));

    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(answers.map((answer) => (answer.json() as { value: number }).value)).toEqual(
      answers.map((_, i) => start + i + 1),
    );
    expect(await value(lb.url)).toEqual({ value: start + 60 });
  }, 60_000);
});
