import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RpcLogLevel } from '../core/core-types';
import { HostStartupError } from '../utils/host-startup-error';
import { isJsonObject, parseJsonObject } from '../utils/is-json-object';
import { parseLogLevel } from '../utils/logger';
import { errnoOf } from '../utils/errno';

/** The parts of host.json the offline host honours. */
export interface HostJson {
  /** `extensions.http.routePrefix`; the Functions host defaults it to `api`. */
  routePrefix: string;
  /** `logging.logLevel.default`, when set. */
  defaultLogLevel?: RpcLogLevel;
}

export async function readHostJson(appRoot: string): Promise<HostJson> {
  const file = path.join(appRoot, 'host.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return { routePrefix: 'api' };
    throw new HostStartupError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseHostJson(text, file);
}

export function parseHostJson(text: string, file: string): HostJson {
  const json = parseJsonObject(text, file);

  const http = objectAt(json, ['extensions', 'http']);
  const prefix = http?.routePrefix ?? 'api';
  if (typeof prefix !== 'string') {
    throw new HostStartupError(`${file}: extensions.http.routePrefix must be a string`);
  }

  const result: HostJson = { routePrefix: prefix.replace(/^\/+|\/+$/g, '') };
  const level = objectAt(json, ['logging', 'logLevel'])?.default;
  if (typeof level === 'string') {
    const parsed = parseLogLevel(level);
    if (!parsed)
      throw new HostStartupError(`${file}: logging.logLevel.default "${level}" is not a log level`);
    result.defaultLogLevel = parsed;
  }
  return result;
}

function objectAt(
  json: Record<string, unknown>,
  keys: string[],
): Record<string, unknown> | undefined {
  let current: unknown = json;
  for (const key of keys) {
    if (!isJsonObject(current)) return undefined;
    current = current[key];
  }
  return isJsonObject(current) ? current : undefined;
}
