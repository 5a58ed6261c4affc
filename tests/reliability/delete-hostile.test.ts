import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { isCounterName } from '../../shared/counter-name';
import { tempDir } from '../support/temp-dir';
import { reportFigures } from './support/figures';
import { hostileName, snapshot } from './support/hostile-names';
import { HostGroup } from './support/hosts';
import { rawExchange } from './support/raw-http';

// DELETE /counters/{name} with the names an attacker would send: nothing outside counters/
// may be touched, and inside it only the counter the name folds to.

jest.setTimeout(120_000);

const ADMIN_KEY = 'delete-hostile-admin';
const RUNS = 600;

let sandbox: ReturnType<typeof tempDir>;
beforeEach(() => {
  sandbox = tempDir('delete-hostile-');
});
afterEach(() => {
  sandbox.remove();
});

const send = (port: number, method: string, target: string) =>
  rawExchange(port, [
    Buffer.from(
      `${method} ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      'latin1',
    ),
  ]);

describe('hostile names on DELETE /counters/{name}', () => {
  it(`never touches anything outside counters/ (${RUNS} generated names)`, async () => {
    const dataDir = path.join(sandbox.dir, 'app', 'data');
    mkdirSync(dataDir, { recursive: true });
    // Bait a traversal could reach: beside the data directory, above it, and the default
    // counter and its backup inside it.
    writeFileSync(path.join(sandbox.dir, 'app', 'outside'), 'keep');
    writeFileSync(path.join(sandbox.dir, 'outside'), 'keep');
    mkdirSync(path.join(sandbox.dir, 'app', 'counters', 'outside'), { recursive: true });
    writeFileSync(path.join(sandbox.dir, 'app', 'counters', 'outside', 'data.bin'), '7');
    writeFileSync(path.join(dataDir, 'data.bin'), '1000');
    writeFileSync(path.join(dataDir, 'backup.bin'), '999');
    const outsideBefore = snapshot(sandbox.dir).filter((p) => !p.startsWith('app/data/'));
    const group = await HostGroup.start(1, { dataDir, env: { COUNTER_ADMIN_KEY: ADMIN_KEY } });
    const { port } = group.hosts[0];
    // A counter no generated name can fold to, which must outlive the run.
    expect((await send(port, 'POST', '/increment/bystander?by=42')).status).toBe(200);
    const statuses = new Map<number, number>();
    let deleted = 0;
    try {
      await fc.assert(
        fc.asyncProperty(hostileName, fc.boolean(), async (name, createFirst) => {
          // Half the names are first offered to increment, so that a name that is a counter
          // exists when its delete comes.
          if (createFirst) await send(port, 'POST', `/increment/${name}`);
          // Increments may reach the default counter (an empty name); a delete never may.
          const defaultBefore = readFileSync(path.join(dataDir, 'data.bin'), 'latin1');
          const reply = await send(port, 'DELETE', `/counters/${name}`);
          expect({ name, default: readFileSync(path.join(dataDir, 'data.bin'), 'latin1') }).toEqual(
            { name, default: defaultBefore },
          );
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          expect({ name, status: reply.status, serverError: reply.status >= 500 }).toEqual({
            name,
            status: reply.status,
            serverError: false,
          });
          expect(JSON.parse(reply.body)).toEqual(
            reply.status === 200
              ? { name: expect.any(String), value: expect.any(Number) }
              : { error: expect.stringMatching(/\w/) },
          );
          if (reply.status === 200) {
            deleted++;
            const { name: folded } = JSON.parse(reply.body) as { name: string };
            expect(existsSync(path.join(dataDir, 'counters', folded))).toBe(false);
          }
        }),
        { numRuns: RUNS },
      );

      expect(snapshot(sandbox.dir).filter((p) => !p.startsWith('app/data/'))).toEqual(
        outsideBefore,
      );
      expect(readFileSync(path.join(dataDir, 'backup.bin'), 'latin1')).toBe('999');
      expect(readFileSync(path.join(dataDir, 'counters', 'bystander', 'data.bin'), 'latin1')).toBe(
        '42',
      );
      const left = readdirSync(path.join(dataDir, 'counters')).filter((n) => !n.startsWith('.'));
      for (const name of left)
        expect({ name, valid: isCounterName(name) }).toEqual({ name, valid: true });
      const atRoot = readdirSync(dataDir).filter(
        (n) => !['counters', 'data.bin', 'backup.bin', '.counter.lock'].includes(n),
      );
      expect(atRoot).toEqual([]);
      reportFigures(
        `hostile deletes: ${RUNS} generated names, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${deleted} counters deleted, nothing outside counters/ touched`,
      );
    } finally {
      await group.stopAll();
    }
  });
});
