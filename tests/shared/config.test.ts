import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  DEFAULT_BACKUP_SCHEDULE,
  loadConfig,
  scheduleForInterval,
} from '../../shared/config';
import { tempDir } from '../support/temp-dir';

let root: string;
let remove: () => void;
beforeEach(() => ({ dir: root, remove } = tempDir('counter-config-')));
afterEach(() => remove());

const writeConfigJson = (content: unknown) => {
  mkdirSync(path.join(root, 'config'), { recursive: true });
  writeFileSync(
    path.join(root, 'config', 'config.json'),
    typeof content === 'string' ? content : JSON.stringify(content),
  );
};
const writeDotEnv = (text: string) => writeFileSync(path.join(root, '.env'), text);

describe('configuration', () => {
  it('uses the defaults when nothing is set', () => {
    expect(loadConfig({}, root)).toEqual({
      dataDir: path.join(root, 'local_dir'),
      configFile: path.join(root, 'config', 'config.json'),
      backupSchedule: DEFAULT_BACKUP_SCHEDULE,
      groupCommit: true,
      lockTimeoutMs: 5000,
      writeKey: undefined,
      readKey: undefined,
      adminKey: undefined,
      maxNamed: 10000,
      maxWatchers: 1000,
      publicHits: false,
      metrics: true,
      metricsKey: undefined,
      databaseUrl: undefined,
      workerProcesses: 1,
    });
  });

  it("reads the host's FUNCTIONS_WORKER_PROCESS_COUNT, for /metrics to sum the app processes", () => {
    expect(loadConfig({ FUNCTIONS_WORKER_PROCESS_COUNT: '4' }, root).workerProcesses).toBe(4);
    writeDotEnv('FUNCTIONS_WORKER_PROCESS_COUNT=2\n');
    expect(loadConfig({}, root).workerProcesses).toBe(2);
    expect(() => loadConfig({ FUNCTIONS_WORKER_PROCESS_COUNT: 'two' }, root)).toThrow(
      /FUNCTIONS_WORKER_PROCESS_COUNT must be a whole number/,
    );
  });

  it('reads COUNTER_METRICS and COUNTER_METRICS_KEY', () => {
    const config = loadConfig({ COUNTER_METRICS: 'false', COUNTER_METRICS_KEY: ' scrape ' }, root);
    expect(config.metrics).toBe(false);
    expect(config.metricsKey).toBe('scrape');
    expect(() => loadConfig({ COUNTER_METRICS: 'maybe' }, root)).toThrow(/COUNTER_METRICS/);
  });

  it('reads COUNTER_DATABASE_URL from the environment or .env, as postgres:// or postgresql://', () => {
    const url = 'postgresql://counter:pw@db.example:5432/counters?sslmode=require';
    expect(loadConfig({ COUNTER_DATABASE_URL: url }, root).databaseUrl).toBe(url);
    writeDotEnv('COUNTER_DATABASE_URL=postgres://counter@localhost/counters\n');
    expect(loadConfig({}, root).databaseUrl).toBe('postgres://counter@localhost/counters');
  });

  it('refuses a COUNTER_DATABASE_URL that is not a PostgreSQL URL, without repeating it', () => {
    const load = (value: string) => () => loadConfig({ COUNTER_DATABASE_URL: value }, root);
    expect(load('mysql://root:hunter2@db/counters')).toThrow(
      new ConfigError(
        'COUNTER_DATABASE_URL must start with postgres:// or postgresql:// (e.g. postgres://user:password@host:5432/database?sslmode=require); got mysql://...',
      ),
    );
    expect(load('hunter2@db')).toThrow(/^COUNTER_DATABASE_URL must be a URL such as/);
    expect(load('postgres:///counters')).toThrow(/names no host/);
  });

  it('refuses the database URL in config.json, because it is a secret', () => {
    writeConfigJson({ databaseUrl: 'postgres://counter:pw@db/counters' });
    expect(() => loadConfig({}, root)).toThrow(/must not hold the database URL: it is a secret/);
  });

  it('reads COUNTER_MAX_WATCHERS and COUNTER_PUBLIC_HITS', () => {
    const config = loadConfig({ COUNTER_MAX_WATCHERS: '5', COUNTER_PUBLIC_HITS: 'true' }, root);
    expect(config.maxWatchers).toBe(5);
    expect(config.publicHits).toBe(true);
  });

  it('reads COUNTER_ADMIN_KEY and COUNTER_MAX_NAMED, where 0 turns named counters off', () => {
    const config = loadConfig({ COUNTER_ADMIN_KEY: ' s3cret ', COUNTER_MAX_NAMED: '0' }, root);
    expect(config.adminKey).toBe('s3cret');
    expect(config.maxNamed).toBe(0);
  });

  it('resolves relative paths against the app root and keeps absolute ones', () => {
    expect(loadConfig({ COUNTER_DATA_DIR: 'data' }, root).dataDir).toBe(path.join(root, 'data'));
    expect(loadConfig({ COUNTER_DATA_DIR: '/srv/counter' }, root).dataDir).toBe('/srv/counter');
  });

  it('prefers the environment to .env, .env to config.json, config.json to the default', () => {
    writeConfigJson({ backupIntervalSeconds: 30 });
    expect(loadConfig({}, root).backupSchedule).toBe('*/30 * * * * *');
    writeDotEnv('BACKUP_SCHEDULE="*/10 * * * * *"\nCOUNTER_DATA_DIR=from-dotenv\n');
    expect(loadConfig({}, root).backupSchedule).toBe('*/10 * * * * *');
    expect(loadConfig({}, root).dataDir).toBe(path.join(root, 'from-dotenv'));
    const fromEnv = loadConfig({ BACKUP_SCHEDULE: '*/5 * * * * *', COUNTER_DATA_DIR: 'env' }, root);
    expect(fromEnv.backupSchedule).toBe('*/5 * * * * *');
    expect(fromEnv.dataDir).toBe(path.join(root, 'env'));
  });

  it('treats an empty variable as unset', () => {
    writeConfigJson({ backupSchedule: '0 0 * * * *' });
    expect(loadConfig({ BACKUP_SCHEDULE: '' }, root).backupSchedule).toBe('0 0 * * * *');
  });

  it('reads config.json from COUNTER_CONFIG_FILE', () => {
    const other = path.join(root, 'elsewhere.json');
    writeFileSync(other, JSON.stringify({ backupSchedule: '0 */2 * * * *' }));
    expect(loadConfig({ COUNTER_CONFIG_FILE: other }, root).backupSchedule).toBe('0 */2 * * * *');
  });

  it('reads the keys, the lock timeout and the group-commit switch', () => {
    const config = loadConfig(
      {
        COUNTER_WRITE_KEY: 'w',
        COUNTER_READ_KEY: 'r',
        COUNTER_LOCK_TIMEOUT_MS: '250',
        COUNTER_GROUP_COMMIT: 'false',
      },
      root,
    );
    expect(config).toMatchObject({
      writeKey: 'w',
      readKey: 'r',
      lockTimeoutMs: 250,
      groupCommit: false,
    });
  });

  it.each([
    ['not JSON', '{backupSchedule:', /not valid JSON/],
    ['an array', '[]', /must hold a JSON object/],
    ['an unknown key', { backupInterval: 5 }, /unknown key\(s\) backupInterval/],
    ['both schedule keys', { backupSchedule: '0 * * * * *', backupIntervalSeconds: 5 }, /not both/],
    ['a five-field schedule', { backupSchedule: '* * * * *' }, /six fields/],
    ['an invalid schedule', { backupSchedule: '99 * * * * *' }, /not a valid NCRONTAB/],
    ['a schedule that is not a string', { backupSchedule: 5 }, /must be an NCRONTAB string/],
    ['a fractional interval', { backupIntervalSeconds: 1.5 }, /whole number of seconds/],
    ['a zero interval', { backupIntervalSeconds: 0 }, /whole number of seconds/],
    ['an interval as text', { backupIntervalSeconds: '60' }, /whole number of seconds/],
  ])('stops start-up with a clear message for a config.json with %s', (_case, content, message) => {
    writeConfigJson(content);
    expect(() => loadConfig({}, root)).toThrow(ConfigError);
    expect(() => loadConfig({}, root)).toThrow(message);
  });

  it.each([
    ['BACKUP_SCHEDULE', 'every minute', /six fields/],
    ['COUNTER_GROUP_COMMIT', 'maybe', /true or false/],
    ['COUNTER_LOCK_TIMEOUT_MS', '-1', /whole number of milliseconds/],
    ['COUNTER_LOCK_TIMEOUT_MS', '0', /whole number of milliseconds from 1/],
    ['COUNTER_MAX_NAMED', '-5', /COUNTER_MAX_NAMED must be a whole number of counters/],
    ['COUNTER_MAX_NAMED', '1e4', /COUNTER_MAX_NAMED must be a whole number of counters/],
    ['COUNTER_MAX_WATCHERS', 'many', /COUNTER_MAX_WATCHERS must be a whole number of watchers/],
    ['COUNTER_PUBLIC_HITS', 'sometimes', /COUNTER_PUBLIC_HITS must be true or false/],
  ])('stops start-up with a clear message for an invalid %s', (name, value, message) => {
    expect(() => loadConfig({ [name]: value }, root)).toThrow(message);
  });
});

describe('backup intervals as schedules', () => {
  it.each([
    [1, '*/1 * * * * *'],
    [15, '*/15 * * * * *'],
    [60, '0 * * * * *'],
    [300, '0 */5 * * * *'],
    [3600, '0 0 * * * *'],
    [21600, '0 0 */6 * * *'],
    [86400, '0 0 0 * * *'],
    [90, '00:01:30'],
    [7, '00:00:07'],
    [5400, '01:30:00'],
  ])('%i seconds → %s', (seconds, schedule) => {
    expect(scheduleForInterval('interval', seconds)).toBe(schedule);
  });
});
