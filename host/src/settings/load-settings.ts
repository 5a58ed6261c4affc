import { readFile } from 'node:fs/promises';
import path from 'node:path';
import dotenv from 'dotenv';
import { HostStartupError } from '../utils/host-startup-error';
import { isJsonObject, parseJsonObject } from '../utils/is-json-object';
import { errnoOf } from '../utils/errno';

/** The `Host` section of local.settings.json that the offline host honours. */
export interface LocalHostSettings {
  localHttpPort?: number;
  cors?: string;
  corsCredentials: boolean;
}

export type Environment = Record<string, string | undefined>;

/**
 * Puts `Values` of local.settings.json and then the entries of `.env` (both in `appRoot`,
 * both optional) into `env`, never replacing a variable that is already set, as Core Tools
 * does for `Values`. Returns the `Host` section.
 */
export async function loadSettings(appRoot: string, env: Environment): Promise<LocalHostSettings> {
  const settingsFile = path.join(appRoot, 'local.settings.json');
  const settings = parseLocalSettings(await readOptional(settingsFile), settingsFile);
  assignMissing(env, settings.values);

  const dotEnvFile = path.join(appRoot, '.env');
  const dotEnvText = await readOptional(dotEnvFile);
  if (dotEnvText !== undefined) assignMissing(env, dotenv.parse(dotEnvText));

  return settings.host;
}

interface LocalSettings {
  values: Record<string, string>;
  host: LocalHostSettings;
}

export function parseLocalSettings(text: string | undefined, file: string): LocalSettings {
  const empty: LocalSettings = { values: {}, host: { corsCredentials: false } };
  if (text === undefined) return empty;
  const json = parseJsonObject(text, file);
  if (json.IsEncrypted === true) {
    throw new HostStartupError(
      `${file} is encrypted ("IsEncrypted": true); the offline host cannot decrypt it. Run "func settings decrypt" or set "IsEncrypted": false`,
    );
  }

  const values: Record<string, string> = {};
  if (json.Values !== undefined) {
    if (!isJsonObject(json.Values))
      throw new HostStartupError(`${file}: "Values" must be an object`);
    for (const [name, value] of Object.entries(json.Values)) {
      if (typeof value === 'string') values[name] = value;
      else if (typeof value === 'number' || typeof value === 'boolean')
        values[name] = String(value);
      else throw new HostStartupError(`${file}: Values.${name} must be a string`);
    }
  }

  const host = json.Host === undefined ? {} : json.Host;
  if (!isJsonObject(host)) throw new HostStartupError(`${file}: "Host" must be an object`);
  return { values, host: parseHostSection(host, file) };
}

function parseHostSection(host: Record<string, unknown>, file: string): LocalHostSettings {
  const result: LocalHostSettings = { corsCredentials: false };
  const { LocalHttpPort, CORS, CORSCredentials } = host;
  if (LocalHttpPort !== undefined) {
    const port = Number(LocalHttpPort);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new HostStartupError(
        `${file}: Host.LocalHttpPort must be a port number; got ${JSON.stringify(LocalHttpPort)}`,
      );
    }
    result.localHttpPort = port;
  }
  if (CORS !== undefined) {
    if (typeof CORS !== 'string') throw new HostStartupError(`${file}: Host.CORS must be a string`);
    result.cors = CORS;
  }
  if (CORSCredentials !== undefined) {
    if (typeof CORSCredentials !== 'boolean') {
      throw new HostStartupError(`${file}: Host.CORSCredentials must be true or false`);
    }
    result.corsCredentials = CORSCredentials;
  }
  return result;
}

function assignMissing(env: Environment, values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) {
    if (env[name] === undefined) env[name] = value;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw new HostStartupError(`cannot read ${file}: ${(err as Error).message}`);
  }
}
