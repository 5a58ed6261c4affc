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
    'index.js',
  ]) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), '');
  }
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const find = async (pattern: string) =>
  (await findFilesByGlob(root, pattern)).map((file) => path.relative(root, file));

describe('findFilesByGlob', () => {
  it('matches dir/*.js within one directory, skipping dot files', async () => {
    expect(await find('dist/functions/*.js')).toEqual(['dist/functions/get.js']);
  });

  it('matches dir/**/*.js at any depth, the directory itself included', async () => {
    expect(await find('dist/**/*.js')).toEqual([
      'dist/functions/get.js',
      'dist/functions/nested/deep/put.js',
      'dist/shared/store.js',
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

  it('refuses glob syntax it does not implement rather than guessing', async () => {
    await expect(find('dist/{a,b}/*.js')).rejects.toThrow(HostStartupError);
    await expect(find('dist/[ab].js')).rejects.toThrow(/does not support/);
  });
});
