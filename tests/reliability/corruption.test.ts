import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type HostProcess } from '../support/host-process';
import { tempDir } from '../support/temp-dir';
import { CounterClient, valueOf } from './support/counter-client';
import { reportFigures } from './support/figures';
import { fileText, filesMovedAside, HostGroup } from './support/hosts';

jest.setTimeout(60_000);

const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);

/** Contents the SPEC calls corrupt: anything but ASCII decimal with ASCII whitespace around. */
const CORRUPT: Array<[string, string | Buffer]> = [
  ['empty', ''],
  ['only whitespace', ' \n\t\r '],
  ['letters', 'hello world'],
  ['digits then garbage', '123abc'],
  ['two numbers', '12 34'],
  ['a plus sign', '+5'],
  ['a lone minus', '-'],
  ['a fraction', '1.5'],
  ['an exponent', '1e3'],
  ['hexadecimal', '0x1F'],
  ['NUL bytes', Buffer.alloc(8)],
  ['digits and a NUL', Buffer.from('42\0')],
  ['a UTF-8 byte-order mark', Buffer.from([0xef, 0xbb, 0xbf, 0x34, 0x32])],
  ['non-ASCII whitespace (no-break space)', Buffer.from('\u00a042', 'utf8')],
  ['a value above the 64-bit range', '9223372036854775808'],
  ['a value below the 64-bit range', '-9223372036854775809'],
  ['far longer than any value', '7'.repeat(100_000)],
  ['binary noise', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 151 + 7) % 256))],
];

const VALID: Array<[string, string, bigint]> = [
  ['a plain value', '42', 42n],
  ['a negative value', '-7', -7n],
  ['a value in ASCII whitespace', ' \t\r\n42\n', 42n],
  ['the 64-bit maximum', MAX.toString(), MAX],
  ['the 64-bit minimum', MIN.toString(), MIN],
];

type Call = 'GET /get' | 'POST /increment' | 'POST /decrement';
const CALLS: Call[] = ['GET /get', 'POST /increment', 'POST /decrement'];
/** What a call answers when the value it finds (after healing) is `found`. */
const answerFor = (call: Call, found: bigint) =>
  call === 'POST /increment' ? found + 1n : call === 'POST /decrement' ? found - 1n : found;

let scratch: ReturnType<typeof tempDir>;
let dataDir: string;
let group: HostGroup;
let host: HostProcess;
let client: CounterClient;
let healed = 0;

beforeAll(async () => {
  scratch = tempDir('rusty-counter-corrupt-');
  dataDir = scratch.dir;
  group = await HostGroup.start(1, { dataDir });
  host = group.hosts[0];
  client = new CounterClient();
});
afterAll(async () => {
  client?.close();
  await group?.stopAll();
  scratch?.remove();
  reportFigures(
    `corruption: ${healed} healings through HTTP (${CORRUPT.length} corrupt patterns of data.bin and backup.bin, alone and together), ${VALID.length} valid forms read as they are, none answered 5xx`,
  );
});

/** Leaves the data directory with exactly the given files (the lock file stays). */
function setFiles(files: Record<string, string | Buffer | undefined>): void {
  for (const name of readdirSync(dataDir)) {
    if (name !== '.counter.lock') rmSync(path.join(dataDir, name), { force: true });
  }
  for (const [name, content] of Object.entries(files)) {
    if (content !== undefined) writeFileSync(path.join(dataDir, name), content);
  }
}

async function call(which: Call) {
  const [method, route] = which.split(' ');
  return client.send(`${host.url}${route}`, { method });
}

/** The log lines printed since `offset`, once one matches `pattern` (logs arrive through a pipe). */
async function logSince(offset: number, pattern: RegExp): Promise<string[]> {
  for (let i = 0; i < 1000; i++) {
    const lines = host.logs().slice(offset).split('\n').filter(Boolean);
    if (lines.some((line) => pattern.test(line))) return lines;
    await sleep(10);
  }
  throw new Error(
    `no log line matching ${pattern}; the host printed:\n${host.logs().slice(offset)}`,
  );
}

const asideOf = (name: string) => filesMovedAside(dataDir).filter((n) => n.startsWith(`${name}.`));
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Checks one healing through HTTP: the answer, data.bin afterwards, the damaged files kept
 * aside byte for byte, and one warning that names the cause, the aside file and the value.
 */
async function expectHealed(
  which: Call,
  found: bigint,
  damaged: { 'data.bin'?: string | Buffer; 'backup.bin'?: string | Buffer },
  cause: RegExp,
): Promise<void> {
  const offset = host.logs().length;
  const reply = await call(which);
  expect({ status: reply.status, value: valueOf(reply.text) }).toEqual({
    status: 200,
    value: answerFor(which, found),
  });
  healed += 1;
  expect(fileText(dataDir, 'data.bin')).toBe(answerFor(which, found).toString());

  const asides: string[] = [];
  for (const [name, content] of Object.entries(damaged)) {
    const [aside, ...more] = asideOf(name);
    expect(more).toEqual([]);
    expect(aside).toMatch(
      new RegExp(`^${escape(name)}\\.corrupt-\\d{4}-\\d\\d-\\d\\dT[\\d-]+\\.\\d{3}Z`),
    );
    expect(readFileSync(path.join(dataDir, aside))).toEqual(Buffer.from(content));
    asides.push(aside);
  }
  const lines = await logSince(offset, cause);
  const warnings = lines.filter((line) => /WARN/.test(line));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(cause);
  for (const aside of asides) expect(warnings[0]).toContain(aside);
  expect(warnings[0]).toMatch(new RegExp(`(^|[^0-9-])${found}([^0-9]|$)`));
}

describe('a damaged data.bin or backup.bin, met through HTTP', () => {
  describe.each(CORRUPT.map(([name, content], i) => [name, content, CALLS[i % 3]] as const))(
    'data.bin %s',
    (_name, content, which) => {
      it(`is kept aside and data.bin restored from a valid backup.bin (${which})`, async () => {
        setFiles({ 'data.bin': content, 'backup.bin': '99' });
        await expectHealed(
          which,
          99n,
          { 'data.bin': content },
          /corrupt.*restored 99 from backup\.bin/,
        );
      });

      it(`is kept aside and the counter starts at 0 without a backup (${which})`, async () => {
        setFiles({ 'data.bin': content });
        await expectHealed(
          which,
          0n,
          { 'data.bin': content },
          /corrupt.*backup\.bin was missing.*0/,
        );
      });
    },
  );

  it.each(
    CORRUPT.map(
      ([name, content], i) => [name, content, CORRUPT[(i + 5) % CORRUPT.length]] as const,
    ),
  )(
    'keeps both aside and starts at 0 when data.bin (%s) and backup.bin are both corrupt',
    async (_name, dataContent, [, backupContent]) => {
      setFiles({ 'data.bin': dataContent, 'backup.bin': backupContent });
      await expectHealed(
        'GET /get',
        0n,
        { 'data.bin': dataContent, 'backup.bin': backupContent },
        /data\.bin was corrupt.*backup\.bin was corrupt too.*0/,
      );
    },
  );

  it.each(CORRUPT.map(([name, content], i) => [name, content, CALLS[i % 3]] as const))(
    'keeps a backup.bin (%s) aside and starts at 0 when data.bin is missing (%s)',
    async (_name, content, which) => {
      setFiles({ 'backup.bin': content });
      await expectHealed(
        which,
        0n,
        { 'backup.bin': content },
        /missing.*backup\.bin was corrupt.*0/,
      );
    },
  );

  it.each(CALLS)('restores a missing data.bin from backup.bin (%s)', async (which) => {
    setFiles({ 'backup.bin': '-12' });
    await expectHealed(which, -12n, {}, /data\.bin was missing; restored -12 from backup\.bin/);
  });

  it.each(CALLS)('starts a missing data.bin at 0 when there is no backup (%s)', async (which) => {
    setFiles({});
    await expectHealed(which, 0n, {}, /data\.bin was missing and backup\.bin was missing.*0/);
  });

  it.each(VALID)('reads %s as it is, moving nothing', async (_name, content, value) => {
    setFiles({ 'data.bin': content, 'backup.bin': 'corrupt but unused' });
    const offset = host.logs().length;
    const reply = await call('GET /get');
    expect({ status: reply.status, value: valueOf(reply.text) }).toEqual({ status: 200, value });
    expect(fileText(dataDir, 'data.bin')).toBe(content);
    expect(filesMovedAside(dataDir)).toEqual([]);
    expect(host.logs().slice(offset)).not.toMatch(/WARN/);
  });

  it('heals again each time data.bin is damaged, keeping every damaged copy', async () => {
    setFiles({ 'data.bin': '5', 'backup.bin': '3' });
    for (const [round, content] of ['x1', 'x2', 'x3'].entries()) {
      writeFileSync(path.join(dataDir, 'data.bin'), content);
      const reply = await call('POST /increment');
      expect(valueOf(reply.text)).toBe(4n + BigInt(round));
      writeFileSync(path.join(dataDir, 'backup.bin'), String(4 + round));
    }
    const kept = asideOf('data.bin').map((name) =>
      readFileSync(path.join(dataDir, name), 'latin1'),
    );
    expect(kept.sort()).toEqual(['x1', 'x2', 'x3']);
  });
});

describe('a corrupt backup.bin met by the backup timer', () => {
  it('is kept aside and replaced by a backup of the current value', async () => {
    const { dir: backupDir, remove } = tempDir('rusty-counter-corrupt-backup-');
    writeFileSync(path.join(backupDir, 'data.bin'), '77');
    writeFileSync(path.join(backupDir, 'backup.bin'), '77 and garbage');
    const timerHost = await HostGroup.start(1, {
      dataDir: backupDir,
      env: { BACKUP_SCHEDULE: '* * * * * *' },
    });
    try {
      await timerHost.hosts[0].waitForLog(/backup\.bin was corrupt/, 30_000);
      const [aside] = filesMovedAside(backupDir);
      expect(aside).toMatch(/^backup\.bin\.corrupt-/);
      expect(readFileSync(path.join(backupDir, aside), 'latin1')).toBe('77 and garbage');
      // The warning comes before the new backup is written, and that write syncs, which
      // on a busy disk can take seconds: the bound is generous, only to fail before the
      // test timeout does.
      for (let i = 0; i < 1000 && fileText(backupDir, 'backup.bin') === undefined; i++) {
        await sleep(20);
      }
      expect(fileText(backupDir, 'backup.bin')).toBe('77');
      expect(fileText(backupDir, 'data.bin')).toBe('77');
    } finally {
      await timerHost.stopAll();
      remove();
    }
  });
});
