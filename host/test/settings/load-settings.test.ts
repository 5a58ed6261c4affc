import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostStartupError } from '../../src/utils/host-startup-error';
import {
  type Environment,
  loadSettings,
  parseLocalSettings,
} from '../../src/settings/load-settings';

let appRoot: string;

beforeEach(() => {
  appRoot = mkdtempSync(path.join(os.tmpdir(), 'host-settings-'));
});

afterEach(() => rmSync(appRoot, { recursive: true, force: true }));

const write = (name: string, text: string) => writeFileSync(path.join(appRoot, name), text);

describe('loadSettings', () => {
  it('adds local.settings.json Values, then .env entries, never replacing a variable already set', async () => {
    write(
      'local.settings.json',
      JSON.stringify({ Values: { A: 'settings', B: 'settings', C: 'settings' } }),
    );
    write('.env', 'A=dotenv\nD=dotenv\nE="quoted # not a comment"\n');
    const env: Environment = { C: 'environment' };
    await loadSettings(appRoot, env);
    expect(env).toEqual({
      A: 'settings',
      B: 'settings',
      C: 'environment',
      D: 'dotenv',
      E: 'quoted # not a comment',
    });
  });

  it('does without either file', async () => {
    const env: Environment = {};
    await expect(loadSettings(appRoot, env)).resolves.toEqual({ corsCredentials: false });
    expect(env).toEqual({});
  });

  it('returns the Host section: port, CORS origins and credentials', async () => {
    write(
      'local.settings.json',
      JSON.stringify({ Host: { LocalHttpPort: 7071, CORS: '*', CORSCredentials: true } }),
    );
    await expect(loadSettings(appRoot, {})).resolves.toEqual({
      localHttpPort: 7071,
      cors: '*',
      corsCredentials: true,
    });
  });

  it('fails start-up on invalid JSON, naming the file', async () => {
    write('local.settings.json', '{ "Values": ');
    await expect(loadSettings(appRoot, {})).rejects.toThrow(
      /local\.settings\.json is not valid JSON/,
    );
  });
});

describe('parseLocalSettings', () => {
  it.each([
    ['encrypted settings', { IsEncrypted: true }, /encrypted/],
    ['Values that are not an object', { Values: [] }, /"Values" must be an object/],
    ['a value that is an object', { Values: { A: {} } }, /Values\.A must be a string/],
    [
      'a port that is not a number',
      { Host: { LocalHttpPort: 'x' } },
      /LocalHttpPort must be a port number/,
    ],
  ])('refuses %s', (_case, json, message) => {
    expect(() => parseLocalSettings(JSON.stringify(json), 'local.settings.json')).toThrow(
      HostStartupError,
    );
    expect(() => parseLocalSettings(JSON.stringify(json), 'local.settings.json')).toThrow(message);
  });

  it('turns number and boolean values into strings, as Core Tools does', () => {
    const { values } = parseLocalSettings(JSON.stringify({ Values: { N: 5, B: true } }), 'f');
    expect(values).toEqual({ N: '5', B: 'true' });
  });
});
