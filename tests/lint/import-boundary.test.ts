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

async function restrictedImports(file: string, source: string): Promise<string[]> {
  const child = promisify(execFile)(
    process.execPath,
    [eslint, '--format', 'json', '--stdin', '--stdin-filename', file],
    { cwd: projectRoot },
  );
  child.child.stdin?.end(`${source}\n`);
  // ESLint exits 1 when it reports an error; the report on stdout is what counts here.
  const { stdout } = await child.catch((err: { stdout: string }) => err);
  const [result] = JSON.parse(stdout) as Array<{ messages: LintMessage[] }>;
  return result.messages
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message);
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
    ['host/src/probe.ts', "export { DATA_FILE } from '../../shared/store';"],
    ['host/src/http/probe.ts', "export { handler } from '../../../functions/get';"],
    ['host/test/probe.test.ts', "export { startHost } from '../../tests/support/host-process';"],
  ])('refuses the app and its tests in the host (%s)', async (file, source) => {
    expect(await restrictedImports(file, source)).toEqual([
      expect.stringContaining('The host does not import the app'),
    ]);
  });

  it.each([
    ['functions/probe.ts', "export { DATA_FILE } from '../shared/store';"],
    ['host/src/http/probe.ts', "export { createLogger } from '../utils/logger';"],
    ['tests/probe.test.ts', "export { startHostProcess } from '@rusty-counter/host';"],
  ])('lets imports on one side through (%s)', async (file, source) => {
    expect(await restrictedImports(file, source)).toEqual([]);
  });
});
