import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

// `npm run lint` fails on an import across the app/host boundary (eslint.config.mjs). Each case
// lints one line as if it were a file at `file`, the way ESLint lints the real tree.
const projectRoot = path.resolve(__dirname, '../..');
const eslint = path.join(projectRoot, 'node_modules/eslint/bin/eslint.js');

interface LintMessage {
  ruleId: string | null;
  message: string;
}

/** What ESLint reports for `source` as the file `file`, as `rule: message` lines. */
async function lint(file: string, source: string): Promise<string[]> {
  const child = promisify(execFile)(
    process.execPath,
    [eslint, '--format', 'json', '--stdin', '--stdin-filename', file],
    { cwd: projectRoot },
  );
  child.child.stdin?.end(`${source}\n`);
  // ESLint exits 1 when it reports an error; the report on stdout is what counts here.
  const { stdout } = await child.catch((err: { stdout: string }) => err);
  const [result] = JSON.parse(stdout) as Array<{ messages: LintMessage[] }>;
  return result.messages.map((message) => `${message.ruleId}: ${message.message}`);
}

async function restrictedImports(file: string, source: string): Promise<string[]> {
  return (await lint(file, source))
    .filter((line) => line.startsWith('no-restricted-imports: '))
    .map((line) => line.slice('no-restricted-imports: '.length));
}

describe('the app/host import boundary', () => {
  it.each([
    ['functions/probe.ts', "export { startHost } from '../host/src/start-host';"],
    ['shared/probe.ts', "export { request } from '@rusty-counter/host';"],
  ])('refuses the host in app code (%s)', async (file, source) => {
    expect(await restrictedImports(file, source)).toEqual([
      expect.stringContaining('The app does not import the offline host'),
    ]);
  });

  it.each([
    ['host/src/probe.ts', "export { DATA_FILE } from '../../shared/store/file-counter';"],
    ['host/src/http/probe.ts', "export { handler } from '../../../functions/get';"],
    ['host/test/probe.test.ts', "export { startHost } from '../../tests/support/host-process';"],
  ])('refuses the app and its tests in the host (%s)', async (file, source) => {
    expect(await restrictedImports(file, source)).toEqual([
      expect.stringContaining('The host does not import the app'),
    ]);
  });

  it.each([
    ['functions/probe.ts', "export { DATA_FILE } from '../shared/store/file-counter';"],
    ['host/src/http/probe.ts', "export { createLogger } from '../utils/logger';"],
    ['tests/probe.test.ts', "export { startHostProcess } from '@rusty-counter/host';"],
  ])('lets imports on one side through (%s)', async (file, source) => {
    expect(await restrictedImports(file, source)).toEqual([]);
  });
});

describe('the conventions of CONTRIBUTING.md', () => {
  it('refuses a file name that is not kebab-case', async () => {
    expect(await lint('shared/counterValue.ts', 'export const one = 1;')).toEqual([
      expect.stringMatching(/^unicorn\/filename-case: .*counter-value\.ts/),
    ]);
  });

  it('refuses #fields, default exports, errno casts and UPPER_SNAKE_CASE variables', async () => {
    const source = [
      'export default class Store {',
      '  #queue: number[] = [];',
      '  size(): number {',
      '    return this.#queue.length;',
      '  }',
      '}',
      'export function missing(err: unknown): boolean {',
      '  let RETRIES = 0;',
      '  RETRIES += 1;',
      "  return (err as NodeJS.ErrnoException).code === 'ENOENT' && RETRIES > 0;",
      '}',
    ].join('\n');
    expect(await lint('shared/probe.ts', source)).toEqual([
      expect.stringContaining('no-restricted-syntax: Use named exports'),
      expect.stringContaining('no-restricted-syntax: Mark private state `private`'),
      expect.stringContaining('no-restricted-syntax: Mark private state `private`'),
      expect.stringMatching(/^@typescript-eslint\/naming-convention: Variable name `RETRIES`/),
      expect.stringContaining('no-restricted-syntax: Read an errno code with errnoOf(err)'),
    ]);
  });

  it('lets the conventions through', async () => {
    const source = [
      "import { errnoOf } from './errno';",
      'const MAX_RETRIES = 3;',
      'export class Store {',
      '  private readonly queue: number[] = [];',
      '  retriesLeft(err: unknown): number {',
      "    return errnoOf(err) === 'ENOENT' ? MAX_RETRIES - this.queue.length : 0;",
      '  }',
      '}',
    ].join('\n');
    expect(await lint('shared/probe.ts', source)).toEqual([]);
  });
});
