import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findEntryPoints } from '../../src/app/find-entry-points';

let appRoot: string;

beforeEach(() => {
  appRoot = mkdtempSync(path.join(os.tmpdir(), 'host-entry-'));
});

afterEach(() => rmSync(appRoot, { recursive: true, force: true }));

const writePackage = (json: object) =>
  writeFileSync(path.join(appRoot, 'package.json'), JSON.stringify(json));

describe('findEntryPoints', () => {
  it('returns the files matched by package.json main', async () => {
    writePackage({ main: 'dist/functions/*.js' });
    mkdirSync(path.join(appRoot, 'dist/functions'), { recursive: true });
    writeFileSync(path.join(appRoot, 'dist/functions/b.js'), '');
    writeFileSync(path.join(appRoot, 'dist/functions/a.js'), '');
    expect(await findEntryPoints(appRoot)).toEqual([
      path.join(appRoot, 'dist/functions/a.js'),
      path.join(appRoot, 'dist/functions/b.js'),
    ]);
  });

  it('fails start-up, suggesting a build, when main matches nothing', async () => {
    writePackage({ main: 'dist/functions/*.js' });
    await expect(findEntryPoints(appRoot)).rejects.toThrow(/matches no files .*npm run build/);
  });

  it('fails start-up when package.json is missing or has no main', async () => {
    await expect(findEntryPoints(appRoot)).rejects.toThrow(/cannot read .*package\.json/);
    writePackage({ name: 'x' });
    await expect(findEntryPoints(appRoot)).rejects.toThrow(/has no "main" field/);
  });
});
