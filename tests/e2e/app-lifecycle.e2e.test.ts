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
    const running = host;
    // Eight clients send increments one after another until the host is gone (or 30 each).
    // SIGTERM comes once 10 are acknowledged, so it always meets changes in flight and
    // changes still to come, whatever the machine's speed.
    const outcomes: Array<number | string> = [];
    let terminated = false;
    const client = async () => {
      for (let i = 0; i < 30; i++) {
        const outcome = await request(`${running.url}/increment`, { method: 'POST' }).then(
          (reply) => reply.status,
          (err: NodeJS.ErrnoException) => err.code ?? 'error',
        );
        outcomes.push(outcome);
        // Once: an answer other than 200 after the tenth leaves the count at 10, and a second
        // SIGTERM means "exit without waiting" (exit code 1), which is not what is tested here.
        if (!terminated && outcomes.filter((o) => o === 200).length === 10) {
          terminated = running.proc.kill('SIGTERM');
        }
        if (outcome !== 200 && outcome !== 503) return;
      }
    };
    await Promise.all(Array.from({ length: 8 }, client));
    expect(terminated).toBe(true);
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
