import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTempDir, type HostProcess, startHost } from '../support/host-process';
import { request } from '../support/http';

// Restarts of the real app under the offline host on one data directory.

const NO_BACKUPS = '0 0 0 1 1 *';

let dataDir: string;
let host: HostProcess | undefined;

beforeEach(() => {
  dataDir = createTempDir();
});

afterEach(async () => {
  await host?.stop();
  host = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

const start = async (env: Record<string, string> = {}) =>
  (host = await startHost({
    dataDir,
    env: { BACKUP_SCHEDULE: NO_BACKUPS, LOG_LEVEL: 'information', ...env },
  }));
const restart = async () => {
  expect(await host?.stop()).toEqual({ code: 0, signal: null });
  return start();
};
const file = (name: string) => path.join(dataDir, name);
const valueOf = async (running: HostProcess) => (await request(`${running.url}/get`)).json();

it('keeps the value across a restart', async () => {
  const first = await start();
  await request(`${first.url}/increment?by=41`, { method: 'POST' });
  await request(`${first.url}/increment`, { method: 'POST' });
  const second = await restart();
  expect(await valueOf(second)).toEqual({ value: 42 });
});

describe('self-healing across a restart', () => {
  it('restores a missing data.bin from backup.bin', async () => {
    writeFileSync(file('backup.bin'), '17');
    const healed = await start();
    expect(await valueOf(healed)).toEqual({ value: 17 });
    expect(readFileSync(file('data.bin'), 'latin1')).toBe('17');
    await healed.waitForLog(/WARN .*data\.bin.*missing.*17/);
  });

  it('moves a corrupt data.bin aside and restores it from backup.bin', async () => {
    writeFileSync(file('data.bin'), 'twelve');
    writeFileSync(file('backup.bin'), '12');
    const healed = await start();
    expect(await valueOf(healed)).toEqual({ value: 12 });
    expect(readFileSync(file('data.bin'), 'latin1')).toBe('12');
    const movedAside = readdirSync(dataDir).filter((name) => name.startsWith('data.bin.corrupt-'));
    expect(movedAside).toHaveLength(1);
    expect(readFileSync(file(movedAside[0]), 'latin1')).toBe('twelve');
    await healed.waitForLog(/WARN .*data\.bin.*corrupt/);
  });

  it('starts again at 0 when data.bin and backup.bin are both unusable', async () => {
    writeFileSync(file('data.bin'), '1.5');
    writeFileSync(file('backup.bin'), '');
    const healed = await start();
    expect(await valueOf(healed)).toEqual({ value: 0 });
    expect(readFileSync(file('data.bin'), 'latin1')).toBe('0');
    await healed.waitForLog(/WARN .*0/);
  });

  it('starts at 0 when both files are missing', async () => {
    const fresh = await start();
    expect(existsSync(file('data.bin'))).toBe(false);
    expect(await valueOf(fresh)).toEqual({ value: 0 });
    expect(readFileSync(file('data.bin'), 'latin1')).toBe('0');
  });
});

describe('the backup timer', () => {
  it('copies the value to backup.bin on a one-second schedule', async () => {
    const running = await start({ BACKUP_SCHEDULE: '* * * * * *' });
    await request(`${running.url}/increment?by=5`, { method: 'POST' });
    // Bounds, not expectations: each backup syncs, which a busy disk can stretch to seconds.
    await running.waitForLog(/INFO {2}\[backup\] timer -> succeeded in \d+\.\d ms/, 20_000);
    await until(
      () => existsSync(file('backup.bin')) && readFileSync(file('backup.bin'), 'latin1') === '5',
    );
    await request(`${running.url}/increment?by=2`, { method: 'POST' });
    await until(() => readFileSync(file('backup.bin'), 'latin1') === '7');
  }, 90_000);

  it('runs a TimeSpan schedule from config.json backupIntervalSeconds', async () => {
    const configFile = path.join(dataDir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ backupIntervalSeconds: 61 }));
    const running = await start({ BACKUP_SCHEDULE: '', COUNTER_CONFIG_FILE: configFile });
    expect(running.logs()).toContain('backup: timer, every 00:01:01');
  });
});

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
