import { spawnHost, startHost } from '../support/host-process';
import { PostgresCluster } from '../support/postgres';
import { tempDir } from '../support/temp-dir';
import { CounterClient } from './support/counter-client';

jest.setTimeout(60_000);

let scratch: ReturnType<typeof tempDir>;
let client: CounterClient;
beforeAll(() => {
  scratch = tempDir('rusty-counter-pg-startup-');
  client = new CounterClient();
});
afterAll(() => {
  client?.close();
  scratch?.remove();
});

describe('a host started on a database', () => {
  it('stops start-up when the server runs with fsync=off, naming the setting', async () => {
    const unsafe = await PostgresCluster.start({ settings: { fsync: 'off' } });
    try {
      const host = spawnHost({ env: { COUNTER_DATABASE_URL: unsafe.url(), LOG_LEVEL: 'warning' } });
      const exit = await host.exited;
      await host.stop();
      expect(exit).toEqual({ code: 1, signal: null });
      expect(host.logs()).toMatch(/failed to start: .*fsync=off/);
    } finally {
      await unsafe.destroy();
    }
  });

  it('starts while the database is away, says so in /health, and serves once it is there', async () => {
    const later = await PostgresCluster.start();
    const url = await later.freshDatabase();
    await later.stopServer('fast');
    const host = await startHost({
      dataDir: scratch.dir,
      env: { COUNTER_DATABASE_URL: url, COUNTER_LOCK_TIMEOUT_MS: '1000', LOG_LEVEL: 'warning' },
    });
    try {
      const health = await client.send(`${host.url}/health`);
      expect(health.status).toBe(503);
      expect(JSON.parse(health.text)).toMatchObject({
        status: 'unavailable',
        error: expect.stringMatching(/cannot reach the database/),
      });
      await later.startServer();
      await expect(client.get(host.url)).resolves.toBe(0n);
      const reply = await client.send(`${host.url}/increment`, { method: 'POST' });
      expect(reply).toMatchObject({ status: 200, text: '{"value":1}' });
    } finally {
      await host.stop('SIGKILL');
      await later.destroy();
    }
  });
});
