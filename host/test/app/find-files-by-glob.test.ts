import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFilesByGlob } from '../../src/app/find-files-by-glob';
import { HostStartupError } from '../../src/utils/host-startup-error';

let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'host-glob-'));
  for (const file of [
    'dist/functions/get.js',
    'dist/functions/get.js.map',
    'dist/functions/.hidden.js',
    'dist/functions/nested/deep/put.js',
    'dist/shared/store.js',
    'dist/src/index.js',
    'dist/src/functions/a.js',
    'dist/src/functions/b.js',
    'dist/src/other.js',
    'src/index.js',
    'index.js',
  ]) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), '');
  }
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const find = async (pattern: string) =>
  (await findFilesByGlob(root, pattern)).map((file) => path.relative(root, file)).sort();

describe('findFilesByGlob', () => {
  it('matches dir/*.js within one directory, skipping dot files', async () => {
    expect(await find('dist/functions/*.js')).toEqual(['dist/functions/get.js']);
  });

  it('matches dir/**/*.js at any depth, the directory itself included', async () => {
    expect(await find('dist/**/*.js')).toEqual([
      'dist/functions/get.js',
      'dist/functions/nested/deep/put.js',
      'dist/shared/store.js',
      'dist/src/functions/a.js',
      'dist/src/functions/b.js',
      'dist/src/index.js',
      'dist/src/other.js',
    ]);
  });

  it('matches a literal path, with or without a leading ./', async () => {
    expect(await find('./index.js')).toEqual(['index.js']);
    expect(await find('index.js')).toEqual(['index.js']);
  });

  it('matches ? as one character', async () => {
    expect(await find('dist/functions/ge?.js')).toEqual(['dist/functions/get.js']);
  });

  it('finds nothing in a directory that does not exist', async () => {
    expect(await find('build/*.js')).toEqual([]);
  });

  it("expands braces, as in the main of Microsoft's TypeScript template", async () => {
    expect(await find('dist/src/{index.js,functions/*.js}')).toEqual([
      'dist/src/functions/a.js',
      'dist/src/functions/b.js',
      'dist/src/index.js',
    ]);
  });

  it("matches the other main forms of Microsoft's docs", async () => {
    expect(await find('dist/src/functions/*.js')).toEqual([
      'dist/src/functions/a.js',
      'dist/src/functions/b.js',
    ]);
    expect(await find('src/index.js')).toEqual(['src/index.js']);
  });

  it('refuses an absolute pattern', async () => {
    await expect(find(path.join(root, 'index.js'))).rejects.toThrow(HostStartupError);
  });
});
