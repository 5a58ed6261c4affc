import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DCLinter } from 'dclint';
import { parse } from 'yaml';
import { projectRoot } from '../support/host-process';
import { tempDir } from '../support/temp-dir';
import { envOf, execForm, readStages, stageNamed, stepsOf } from './support/dockerfile';

interface Service {
  build?: { context?: string; target?: string };
  image?: string;
  profiles?: string[];
  command?: string | string[];
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  depends_on?: string[] | Record<string, { condition?: string }>;
  networks?: string[] | Record<string, { aliases?: string[] } | null>;
}

const composeFile = path.join(projectRoot, 'docker-compose.yml');
const { services } = parse(readFileSync(composeFile, 'utf8')) as {
  services: Record<string, Service>;
};
const { backend, lb, azurite, postgres } = services;
const backendPg = services['backend-pg'];
const lbPg = services['lb-pg'];
const composeConf = readFileSync(path.join(projectRoot, 'deploy/nginx/compose.conf'), 'utf8');
const stages = readStages();
const functionsStage = stageNamed(stages, 'functions');

/** A value as compose reads it with none of the variables set: `${NAME:-default}` → default. */
const withDefaults = (value = '') => value.replace(/\$\{\w+:?-([^}]*)\}/g, '$1');

// dclint's checks that a file is a Compose file at all: YAML syntax, then the Compose
// specification's JSON schema that dclint ships. Its style rules are opinions, not validity.
const VALIDITY_RULES = new Set(['invalid-yaml', 'invalid-schema', 'unknown-error']);

/** What the Compose specification finds wrong with `file`, without Docker or docker-compose. */
function specErrors(file: string): string[] {
  const linter = new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] });
  return linter
    .lintFiles([file], false)
    .flatMap((result) => result.messages)
    .filter((message) => VALIDITY_RULES.has(message.rule))
    .map((message) => message.message);
}

describe('docker-compose.yml', () => {
  it('is valid for the Compose specification (its JSON schema, checked by dclint without Docker)', () => {
    expect(specErrors(composeFile)).toEqual([]);
  });

  it('would be refused with a key the specification does not know', () => {
    const { dir, remove } = tempDir('counter-compose-');
    try {
      const misspelt = path.join(dir, 'docker-compose.yml');
      writeFileSync(misspelt, readFileSync(composeFile, 'utf8').replace('expose:', 'exposes:'));
      expect(specErrors(misspelt)).toEqual([
        expect.stringMatching(/\/services\/backend.*must NOT have additional properties/),
      ]);
    } finally {
      remove();
    }
  });
});

describe('service "backend"', () => {
  it('builds this Dockerfile: the Functions image unless RUSTY_COUNTER_TARGET names the standalone one', () => {
    expect(backend.build?.context).toBe('.');
    expect(backend.build?.target).toContain('RUSTY_COUNTER_TARGET');
    expect(withDefaults(backend.build?.target)).toBe('functions');
    expect(stages.map((stage) => stage.name)).toEqual(
      expect.arrayContaining(['functions', 'standalone']),
    );
  });

  it('publishes no host port, so that `docker compose up --scale backend=3` can start three replicas', () => {
    expect(backend.ports).toBeUndefined();
    expect(backend.expose).toEqual(['8000']);
  });

  it('mounts ./local_dir and ./config where the image keeps the counter and looks for config.json', () => {
    const env = envOf(functionsStage);
    expect(backend.volumes).toEqual(
      expect.arrayContaining([
        `./local_dir:${env.COUNTER_DATA_DIR}`,
        `./config:${path.posix.dirname(env.COUNTER_CONFIG_FILE)}`,
      ]),
    );
    expect(env.COUNTER_DATA_DIR).toBe('/app/local_dir');
  });

  it("is health-checked with the image's own /health probe", () => {
    const [healthcheck] = stepsOf(functionsStage, 'HEALTHCHECK');
    expect(backend.healthcheck?.test).toEqual(['CMD', ...execForm(healthcheck)]);
  });

  it('gives the timer a storage account on the azurite service, and one host ID so replicas share its lease', () => {
    const storage = withDefaults(backend.environment?.AzureWebJobsStorage);
    expect(storage).toContain('AccountName=devstoreaccount1');
    expect(storage).toContain('BlobEndpoint=http://azurite:10000/devstoreaccount1');
    expect(azurite).toBeDefined();
    expect(backend.environment?.AzureFunctionsWebHost__hostid).toMatch(
      /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/,
    );
  });
});

describe('service "lb"', () => {
  it('publishes port 8000 and starts once a backend is healthy', () => {
    expect((lb.ports ?? []).map(withDefaults)).toEqual(['8000:8000']);
    expect(lb.depends_on).toEqual({ backend: { condition: 'service_healthy' } });
  });

  it('runs nginx 1.27.3 or later, which re-resolves upstream names (`server ... resolve`)', () => {
    const [, major, minor, patch = '0'] =
      /^nginx:(\d+)\.(\d+)(?:\.(\d+))?(?:-[a-z]+)?$/.exec(lb.image ?? '') ?? [];
    const version = [major, minor, patch].map(Number);
    expect(version.every(Number.isInteger)).toBe(true);
    expect(version[0] * 1e6 + version[1] * 1e3 + version[2]).toBeGreaterThanOrEqual(1_027_003);
  });

  it('mounts compose.conf as the server and the shared proxy settings where compose.conf includes them', () => {
    const mounts = Object.fromEntries(
      (lb.volumes ?? []).map((volume) => volume.replace(/:ro$/, '').split(':')),
    );
    expect(mounts['./deploy/nginx/compose.conf']).toBe('/etc/nginx/conf.d/default.conf');
    expect(composeConf).toMatch(
      new RegExp(`^\\s*include ${mounts['./deploy/nginx/proxy.conf']};`, 'm'),
    );
  });

  it('spreads requests over every address Docker DNS gives for "backend", re-resolving as replicas come and go', () => {
    expect(composeConf).toMatch(/^resolver 127\.0\.0\.11\b/m);
    const upstream = /upstream rusty_counter \{([^}]*)\}/.exec(composeConf)?.[1] ?? '';
    expect(upstream).toMatch(/^\s*zone rusty_counter \S+;/m);
    expect(upstream).toMatch(/^\s*server backend:8000 resolve\b/m);
    expect(composeConf).toMatch(/^\s*listen 8000;/m);
    expect(backend.expose).toContain('8000');
  });

  it('is health-checked through to a backend', () => {
    expect(lb.healthcheck?.test?.join(' ')).toContain('http://127.0.0.1:8000/health');
  });
});

describe('service "azurite"', () => {
  it('runs a pinned Azurite listening on all interfaces, so the backends can reach it', () => {
    expect(azurite.image).toMatch(/^mcr\.microsoft\.com\/azure-storage\/azurite:\d+\.\d+\.\d+$/);
    expect(azurite.command).toContain('--blobHost 0.0.0.0');
  });
});

/** The networks a service is on: compose puts one without `networks` on "default". */
const networksOf = (service: Service) =>
  Array.isArray(service.networks)
    ? service.networks
    : Object.keys(service.networks ?? { default: {} });
const aliasesOn = (service: Service, network: string) =>
  Array.isArray(service.networks) ? [] : (service.networks?.[network]?.aliases ?? []);
/** The services `docker compose up` starts without a profile, or with `--profile <profile>`. */
const startedWith = (profile?: string) =>
  Object.keys(services).filter((name) => {
    const profiles = services[name].profiles ?? [];
    return profiles.length === 0 || (profile !== undefined && profiles.includes(profile));
  });
/** The names nginx's `server backend:8000 resolve` finds from `lb`, by network. */
const backendsSeenBy = (balancer: Service) =>
  Object.keys(services).filter((name) =>
    networksOf(balancer).some(
      (network) =>
        networksOf(services[name]).includes(network) &&
        (name === 'backend' || aliasesOn(services[name], network).includes('backend')),
    ),
  );

describe('the "postgres" profile (`docker compose --profile postgres up --scale backend-pg=3`)', () => {
  it('changes nothing for `docker compose up`: the file-store services, and no database', () => {
    expect(startedWith().sort()).toEqual(['azurite', 'backend', 'lb']);
    expect(backend.environment?.COUNTER_DATABASE_URL).toBeUndefined();
  });

  it('adds a database, its own replicas and their own load balancer', () => {
    expect(startedWith('postgres').sort()).toEqual(
      ['azurite', 'backend', 'backend-pg', 'lb', 'lb-pg', 'postgres'].sort(),
    );
  });

  it('never lets a load balancer mix replicas on the directory with replicas on the database', () => {
    expect(backendsSeenBy(lb)).toEqual(['backend']);
    expect(backendsSeenBy(lbPg)).toEqual(['backend-pg']);
    expect((lbPg.ports ?? []).map(withDefaults)).toEqual(['8001:8000']);
    expect(lbPg.volumes).toEqual(lb.volumes);
    expect(lbPg.depends_on).toEqual({ 'backend-pg': { condition: 'service_healthy' } });
  });

  it('runs the official PostgreSQL image on a volume, health-checked, fsync and synchronous_commit on', () => {
    expect(postgres.image).toMatch(/^postgres:(1[3-9]|[2-9]\d)(-[a-z]+)?$/);
    expect(postgres.volumes).toEqual(['postgres:/var/lib/postgresql/data']);
    expect(postgres.healthcheck?.test?.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    expect(postgres.ports).toBeUndefined();
    const settings = Object.fromEntries(
      [postgres.command ?? []]
        .flat()
        .flatMap((argument, index, all) => (all[index - 1] === '-c' ? [argument.split('=')] : [])),
    );
    expect(settings).toEqual({ fsync: 'on', synchronous_commit: 'on' });
  });

  it('points every backend-pg replica at it with a postgres:// URL, and starts them once it is healthy', () => {
    const url = new URL(withDefaults(backendPg.environment?.COUNTER_DATABASE_URL));
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('postgres');
    expect(url.port).toBe('5432');
    expect(url.username).toBe(postgres.environment?.POSTGRES_USER);
    expect(url.password).toBe(withDefaults(postgres.environment?.POSTGRES_PASSWORD));
    expect(url.pathname).toBe(`/${postgres.environment?.POSTGRES_DB}`);
    expect(networksOf(postgres)).toEqual(['database']);
    expect(networksOf(backendPg)).toContain('database');
    expect(backendPg.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
  });

  it('is the same image and settings as "backend", with backups in a volume of its own and a timer lease of its own', () => {
    expect(backendPg.build).toEqual(backend.build);
    expect(backendPg.image).toBe(backend.image);
    expect(backendPg.healthcheck).toEqual(backend.healthcheck);
    const { COUNTER_DATABASE_URL, AzureFunctionsWebHost__hostid, ...shared } =
      backendPg.environment ?? {};
    expect(COUNTER_DATABASE_URL).toBeDefined();
    expect({ ...backend.environment, AzureFunctionsWebHost__hostid: undefined }).toEqual({
      ...shared,
      AzureFunctionsWebHost__hostid: undefined,
    });
    expect(AzureFunctionsWebHost__hostid).not.toBe(
      backend.environment?.AzureFunctionsWebHost__hostid,
    );
    // The file store's data.bin must never be overwritten by the database's backups.
    const dataMount = (service: Service) =>
      service.volumes?.find((volume) => volume.endsWith(':/app/local_dir'));
    expect(dataMount(backendPg)).toBe('backups:/app/local_dir');
    expect(dataMount(backendPg)).not.toBe(dataMount(backend));
  });
});
