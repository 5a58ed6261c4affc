import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PostgresCluster } from '../support/postgres';
import { tempDir } from '../support/temp-dir';

// The compiled script, exactly as `npm run counters --` runs it (`npm test` builds first).
const script = path.resolve(__dirname, '../../dist/scripts/counters.js');
const BIG = 2n ** 62n + 3n;

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let scratch: ReturnType<typeof tempDir>;
beforeAll(async () => {
  cluster = await PostgresCluster.start();
  scratch = tempDir('rusty-counter-cli-');
});
afterAll(async () => {
  await cluster?.destroy();
  scratch?.remove();
});

async function counters(databaseUrl: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, ...args], {
      env: { ...process.env, COUNTER_DATABASE_URL: databaseUrl, COUNTER_DATA_DIR: scratch.dir },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

function writeStore(dir: string, values: Record<string, bigint>) {
  for (const [name, value] of Object.entries(values)) {
    const counterDir = name === '' ? dir : path.join(dir, 'counters', name);
    mkdirSync(counterDir, { recursive: true });
    writeFileSync(path.join(counterDir, 'data.bin'), String(value));
  }
}

const read = (dir: string, name: string) =>
  readFileSync(path.join(dir, ...(name === '' ? [] : ['counters', name]), 'data.bin'), 'latin1');

describe('npm run counters -- import / export', () => {
  it('carries a file-store directory into the database and back out unchanged', async () => {
    const source = path.join(scratch.dir, 'source');
    const values = { '': BIG, alpha: -(2n ** 63n), 'b-2': 7n, zeta_9: 2n ** 63n - 1n };
    writeStore(source, values);
    const db = await cluster.freshDatabase();

    const imported = await counters(db, 'import', '--from', source);
    expect(imported).toMatchObject({ code: 0, stdout: /imported 4 counter\(s\)/ });
    const exportDir = path.join(scratch.dir, 'exported');
    const exported = await counters(db, 'export', '--to', exportDir);
    expect(exported).toMatchObject({ code: 0, stdout: /exported 4 counter\(s\)/ });
    for (const [name, value] of Object.entries(values)) {
      expect(read(exportDir, name)).toBe(String(value));
    }
  });

  it('refuses to overwrite a database or a directory that holds counters, unless --force', async () => {
    const source = path.join(scratch.dir, 'again');
    writeStore(source, { '': 5n, one: 1n });
    const db = await cluster.freshDatabase();
    await counters(db, 'import', '--from', source);

    writeStore(source, { one: 10n });
    const refused = await counters(db, 'import', '--from', source);
    expect(refused).toMatchObject({ code: 2, stderr: /already holds counters; add --force/ });
    const forced = await counters(db, 'import', '--from', source, '--force');
    expect(forced.code).toBe(0);

    writeStore(source, { one: 99n });
    const refusedExport = await counters(db, 'export', '--to', source);
    expect(refusedExport).toMatchObject({ code: 2, stderr: /already holds counters; add --force/ });
    expect(read(source, 'one')).toBe('99');
    await expect(counters(db, 'export', '--to', source, '--force')).resolves.toMatchObject({
      code: 0,
    });
    expect(read(source, 'one')).toBe('10');
    expect(read(source, '')).toBe('5');
  });

  it('says how to use it when the command is incomplete', async () => {
    const db = await cluster.freshDatabase();
    await expect(counters(db, 'import')).resolves.toMatchObject({
      code: 2,
      stderr: /npm run counters -- import --from <dir>/,
    });
  });
});
