import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import dotenv from 'dotenv';
import { errnoOf } from './errno';
import { isJsonObject } from './json-object';

export interface CounterConfig {
  dataDir: string;
  configFile: string;
  /** NCRONTAB (six fields) or, for intervals cron cannot express, a TimeSpan `hh:mm:ss`. */
  backupSchedule: string;
  groupCommit: boolean;
  lockTimeoutMs: number;
  writeKey?: string;
  readKey?: string;
  /** Without it `PUT /set` is disabled (403), never open. */
  adminKey?: string;
  /** How many named counters may exist; 0 turns named counters off. */
  maxNamed: number;
  /** How many `GET /watch` streams this process serves at once; beyond it, 503. */
  maxWatchers: number;
  /** Whether `GET /badge?hit=1` may count a hit (a GET that changes state, so opt-in). */
  publicHits: boolean;
  /** Off: nothing is recorded and `GET /metrics` answers 404. */
  metrics: boolean;
  /** With it, `GET /metrics` needs this key; without it, /metrics is open like /health. */
  metricsKey?: string;
  /** With it, every counter lives in this PostgreSQL database and dataDir only gets backups. */
  databaseUrl?: string;
  /**
   * FUNCTIONS_WORKER_PROCESS_COUNT, the host's setting: how many app processes it runs side
   * by side. Above 1, `GET /metrics` sums their figures.
   */
  workerProcesses: number;
}

/** Raised for a setting that cannot be used; the message names the setting and the fix. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export const DEFAULT_BACKUP_SCHEDULE = '0 * * * * *';
const CONFIG_JSON_KEYS = ['backupSchedule', 'backupIntervalSeconds'];

/** The directory holding package.json: relative paths in settings are resolved against it. */
export function findAppRoot(start = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

/**
 * Settings, first found wins: the environment (app settings, or `Values` of
 * local.settings.json under `func start`), then `.env` in the app root, then `config.json`,
 * then the defaults. Throws ConfigError for anything invalid, which stops start-up.
 */
export function loadConfig(env: Env = process.env, appRoot = findAppRoot()): CounterConfig {
  const dotEnv = readDotEnv(path.join(appRoot, '.env'));
  const setting = (name: string): string | undefined => {
    const value = env[name] ?? dotEnv[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const fromRoot = (p: string) => path.resolve(appRoot, p);

  const configFile = fromRoot(setting('COUNTER_CONFIG_FILE') ?? './config/config.json');
  const json = readConfigJson(configFile);
  return {
    dataDir: fromRoot(setting('COUNTER_DATA_DIR') ?? './local_dir'),
    configFile,
    backupSchedule: backupScheduleFrom(setting('BACKUP_SCHEDULE'), json, configFile),
    groupCommit: parseBoolean('COUNTER_GROUP_COMMIT', setting('COUNTER_GROUP_COMMIT') ?? 'true'),
    lockTimeoutMs: parseWholeNumber(
      'COUNTER_LOCK_TIMEOUT_MS',
      setting('COUNTER_LOCK_TIMEOUT_MS') ?? '5000',
      { min: 1, unit: 'milliseconds' },
    ),
    writeKey: setting('COUNTER_WRITE_KEY'),
    readKey: setting('COUNTER_READ_KEY'),
    adminKey: setting('COUNTER_ADMIN_KEY'),
    maxNamed: parseWholeNumber('COUNTER_MAX_NAMED', setting('COUNTER_MAX_NAMED') ?? '10000', {
      min: 0,
      unit: 'counters',
    }),
    maxWatchers: parseWholeNumber(
      'COUNTER_MAX_WATCHERS',
      setting('COUNTER_MAX_WATCHERS') ?? '1000',
      { min: 0, unit: 'watchers' },
    ),
    publicHits: parseBoolean('COUNTER_PUBLIC_HITS', setting('COUNTER_PUBLIC_HITS') ?? 'false'),
    metrics: parseBoolean('COUNTER_METRICS', setting('COUNTER_METRICS') ?? 'true'),
    metricsKey: setting('COUNTER_METRICS_KEY'),
    databaseUrl: databaseUrlFrom(setting('COUNTER_DATABASE_URL')),
    workerProcesses: parseWholeNumber(
      'FUNCTIONS_WORKER_PROCESS_COUNT',
      setting('FUNCTIONS_WORKER_PROCESS_COUNT') ?? '1',
      { min: 1, unit: 'processes' },
    ),
  };
}

/**
 * A libpq-style URL; node-postgres reads its user, password, host, port, database and
 * `sslmode`. It holds a password, so it comes only from the environment or `.env`, and an
 * error never repeats it.
 */
function databaseUrlFrom(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const example = 'postgres://user:password@host:5432/database?sslmode=require';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`COUNTER_DATABASE_URL must be a URL such as ${example}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(
      `COUNTER_DATABASE_URL must start with postgres:// or postgresql:// (e.g. ${example}); got ${url.protocol}//...`,
    );
  }
  if (url.hostname === '') {
    throw new ConfigError(`COUNTER_DATABASE_URL names no host; e.g. ${example}`);
  }
  return value;
}

function readDotEnv(file: string): Env {
  try {
    return dotenv.parse(readFileSync(file));
  } catch {
    return {};
  }
}

function readConfigJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return {};
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(json)) {
    throw new ConfigError(`${file} must hold a JSON object such as {"backupIntervalSeconds": 60}`);
  }
  if ('databaseUrl' in json || 'COUNTER_DATABASE_URL' in json) {
    throw new ConfigError(
      `${file} must not hold the database URL: it is a secret, so set COUNTER_DATABASE_URL in the environment, the app settings or .env`,
    );
  }
  const unknown = Object.keys(json).filter((key) => !CONFIG_JSON_KEYS.includes(key));
  if (unknown.length > 0) {
    throw new ConfigError(
      `${file} has unknown key(s) ${unknown.join(', ')}; allowed: ${CONFIG_JSON_KEYS.join(', ')}`,
    );
  }
  return json;
}

function backupScheduleFrom(
  fromEnv: string | undefined,
  json: Record<string, unknown>,
  configFile: string,
): string {
  if (fromEnv !== undefined) return validNcrontab('BACKUP_SCHEDULE', fromEnv);
  const { backupSchedule, backupIntervalSeconds } = json;
  if (backupSchedule !== undefined && backupIntervalSeconds !== undefined) {
    throw new ConfigError(`${configFile}: give backupSchedule or backupIntervalSeconds, not both`);
  }
  if (backupSchedule !== undefined) {
    if (typeof backupSchedule !== 'string') {
      throw new ConfigError(`${configFile}: backupSchedule must be an NCRONTAB string`);
    }
    return validNcrontab(`backupSchedule in ${configFile}`, backupSchedule);
  }
  if (backupIntervalSeconds !== undefined) {
    return scheduleForInterval(`backupIntervalSeconds in ${configFile}`, backupIntervalSeconds);
  }
  return DEFAULT_BACKUP_SCHEDULE;
}

function validNcrontab(name: string, expression: string): string {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ConfigError(
      `${name} must be an NCRONTAB expression with six fields (second minute hour day month weekday), e.g. "0 */5 * * * *"; got "${expression}"`,
    );
  }
  try {
    new Cron(expression, { paused: true });
  } catch (err) {
    throw new ConfigError(`${name} is not a valid NCRONTAB expression: ${(err as Error).message}`);
  }
  return fields.join(' ');
}

const DAY = 86_400;

/**
 * An interval in seconds as the schedule the Functions host understands: NCRONTAB when the
 * interval divides a minute, an hour or a day evenly (so runs fall on the same marks on
 * every replica), otherwise a TimeSpan `hh:mm:ss`, which the host runs as a plain interval.
 */
export function scheduleForInterval(name: string, seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > DAY) {
    throw new ConfigError(
      `${name} must be a whole number of seconds from 1 to ${DAY}; got ${JSON.stringify(seconds)}`,
    );
  }
  if (seconds < 60 && 60 % seconds === 0) return `*/${seconds} * * * * *`;
  if (seconds === 60) return DEFAULT_BACKUP_SCHEDULE;
  const minutes = seconds / 60;
  if (Number.isInteger(minutes) && minutes < 60 && 60 % minutes === 0)
    return `0 */${minutes} * * * *`;
  if (minutes === 60) return '0 0 * * * *';
  const hours = seconds / 3600;
  if (Number.isInteger(hours) && hours < 24 && 24 % hours === 0) return `0 0 */${hours} * * *`;
  if (seconds === DAY) return '0 0 0 * * *';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

function parseBoolean(name: string, value: string): boolean {
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false; got "${value}"`);
}

function parseWholeNumber(
  name: string,
  value: string,
  { min, unit }: { min: number; unit: string },
): number {
  if (!/^[0-9]{1,15}$/.test(value) || Number(value) < min) {
    throw new ConfigError(`${name} must be a whole number of ${unit} from ${min}; got "${value}"`);
  }
  return Number(value);
}
