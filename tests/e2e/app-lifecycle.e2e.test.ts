import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type HostProcess, spawnHost, startHost } from '../support/host-process';
import { request } from '../support/http';

// The real app's start-up and shutdown under the offline host (the host's own lifecycle, on a
// fixture app, is tested in host/test/e2e/host-lifecycle.e2e.test.ts).

describe('start-up', () => {
  it('when the app itself rejects its settings at load time', async () => {
    const host = spawnHost({ env: { BACKUP_SCHEDULE: '61 * * * * *' } });
    const exit = await host.exited;
    await host.stop();
    const logs = host.logs();
    expect(exit).toEqual({ code: 1, signal: null });
    expect(logs).toMatch(
      /failed to start: loading dist\/functions\/backup\.js failed: .*BACKUP_SCHEDULE/,
    );
  });
});

describe('shutdown', () => {
  let host: HostProcess;

  afterEach(async () => {
    await host?.stop('SIGKILL');
  });

  it('loses no acknowledged change of the real app and applies no unacknowledged one', async () => {
    host = await startHost({ env: { BACKUP_SCHEDULE: '0 0 0 1 1 *', LOG_LEVEL: 'warning' } });
    const increments = Array.from({ length: 60 }, (_, i) =>
      delay(i * 3).then(() =>
        request(`${host.url}/increment`, { method: 'POST' }).then(
          (reply) => reply.status,
          (err: NodeJS.ErrnoException) => err.code ?? 'error',
        ),
      ),
    );
    await delay(60);
    host.proc.kill('SIGTERM');
    const outcomes = await Promise.all(increments);
    expect(await host.exited).toEqual({ code: 0, signal: null });

    const acknowledged = outcomes.filter((outcome) => outcome === 200).length;
    expect(acknowledged).toBeGreaterThan(0);
    // The rest were answered 503 (sent on a connection the host had already accepted), found
    // the port closed, or were reset while still queued for accept(), before the host saw
    // them; the stored value proves that none of them was applied.
    const expectedOthers = [503, 'ECONNREFUSED', 'ECONNRESET'];
    expect(
      outcomes.filter((outcome) => outcome !== 200 && !expectedOthers.includes(outcome)),
    ).toEqual([]);
    expect(readFileSync(path.join(host.dataDir, 'data.bin'), 'latin1')).toBe(String(acknowledged));
  });
});

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
