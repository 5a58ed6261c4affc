import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { debianBinDir, PostgresCluster } from '../support/postgres';
import { describeWithTool } from '../support/system-tool';
import { tempDir } from '../support/temp-dir';
import { ackedCount, CounterClient, isAcked, startLoad, valueOf } from './support/counter-client';
import { reportFigures } from './support/figures';
import { HostGroup } from './support/hosts';

const HOSTS = 2;
const binDir = debianBinDir();

jest.setTimeout(120_000);

/**
 * The database endpoint of a managed HA service: one address whose DNS name moves from the
 * primary to the promoted standby. Here a TCP forwarder plays it; `switchTo` drops every
 * connection to the old server, as its death does, and sends new ones to the new one.
 */
class Endpoint {
  private target: number;
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    initial: number,
  ) {
    this.target = initial;
  }

  static async open(target: number): Promise<Endpoint> {
    const server = net.createServer();
    const endpoint = new Endpoint(server, target);
    server.on('connection', (client) => endpoint.forward(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return endpoint;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  switchTo(target: number): void {
    this.target = target;
    for (const socket of this.sockets) socket.destroy();
  }

  close(): void {
    this.switchTo(0);
    this.server.close();
  }

  private forward(client: net.Socket): void {
    const upstream = net.connect(this.target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  }
}

describeWithTool(
  'pg_basebackup (PostgreSQL server)',
  binDir,
  'apt-get install postgresql',
)('failover to a synchronous standby behind the same address', () => {
  let primary: PostgresCluster;
  let standby: PostgresCluster;
  let endpoint: Endpoint;
  let scratch: ReturnType<typeof tempDir>;
  let group: HostGroup;
  let client: CounterClient;

  beforeAll(async () => {
    primary = await PostgresCluster.start({ binDir, settings: { wal_level: 'replica' } });
    await primary.sql('CREATE DATABASE counters');
    standby = await PostgresCluster.start({ binDir, dataDir: primary.baseBackup() });
    // Only once the standby streams: from here on a COMMIT returns when the standby has it.
    await primary.sql(`ALTER SYSTEM SET synchronous_standby_names = '*'`);
    await primary.sql('SELECT pg_reload_conf()');
    while (
      (await primary.sql(`SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'`)).length ===
      0
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    endpoint = await Endpoint.open(primary.port);
    scratch = tempDir('rusty-counter-pg-failover-');
    group = await HostGroup.start(HOSTS, {
      dataDir: scratch.dir,
      env: {
        COUNTER_DATABASE_URL: primary.url('counters', endpoint.port),
        COUNTER_LOCK_TIMEOUT_MS: '2000',
      },
    });
    client = new CounterClient();
  });
  afterAll(async () => {
    client?.close();
    await group?.stopAll();
    endpoint?.close();
    await primary?.destroy();
    await standby?.destroy();
    scratch?.remove();
  });

  it('keeps every acknowledged change when the primary dies and the standby is promoted', async () => {
    const load = startLoad({
      client,
      concurrency: 16,
      next: (i) => ({ target: i % HOSTS, kind: 'increment', by: 1n, name: 'failover' }),
      urlOf: (target) => group.urls[target],
    });
    await load.until((records) => ackedCount(records) >= 300);
    await primary.kill();
    const killedAt = performance.now();
    endpoint.switchTo(standby.port);
    await standby.promote();
    await load.until(
      (records) => records.filter((r) => isAcked(r) && r.startedAt > killedAt).length >= 100,
    );
    const records = await load.stop();

    const acked = ackedCount(records);
    const unknown = records.filter(
      (r) => r.status === 503 && /may or may not have been applied/.test(r.text ?? ''),
    ).length;
    expect(records.filter((r) => r.status !== 200 && r.status !== 503)).toEqual([]);
    const reply = await client.send(`${group.urls[0]}/get/failover`);
    const value = valueOf(reply.text)!;
    // Every acknowledged increment is on the promoted standby; only an unknown outcome may add.
    expect(value).toBeGreaterThanOrEqual(BigInt(acked));
    expect(value).toBeLessThanOrEqual(BigInt(acked + unknown));
    const servedAgain = Math.min(
      ...records.filter((r) => isAcked(r) && r.startedAt > killedAt).map((r) => r.endedAt),
    );
    reportFigures(
      `postgres failover (PostgreSQL ${(await standby.sql<{ server_version: string }>('SHOW server_version'))[0].server_version}): ${acked} acknowledged, lost ${BigInt(acked) > value ? BigInt(acked) - value : 0n}, ${unknown} answered 503 with an unknown outcome, ${records.filter((r) => r.status === 503).length - unknown} answered 503 unchanged; serving again ${(servedAgain - killedAt).toFixed(0)} ms after the primary was killed`,
    );
  });
});
