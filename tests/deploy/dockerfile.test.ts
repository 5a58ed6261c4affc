import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { validate } from 'dockerfile-utils';
import { projectRoot } from '../support/host-process';
import {
  buildContextIncludes,
  dockerfilePath,
  envOf,
  execForm,
  readStages,
  type Stage,
  stageNamed,
  stepsOf,
} from './support/dockerfile';

const text = readFileSync(dockerfilePath, 'utf8');
const stages = readStages(text);
const build = stageNamed(stages, 'build');
const standalone = stageNamed(stages, 'standalone');
const functions = stageNamed(stages, 'functions');
const scripts = (
  JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

// The Debian release each base image is built on. The Functions images are published from
// github.com/Azure/azure-functions-docker: node:4-node22 comes from host/4/bookworm/node/node22,
// FROM mcr.microsoft.com/dotnet/aspnet:8.0-bookworm-slim-amd64. Node's tags name theirs.
const DEBIAN_RELEASES = ['buster', 'bullseye', 'bookworm', 'trixie'];
const FUNCTIONS_IMAGE_DEBIAN: Record<string, string> = {
  'mcr.microsoft.com/azure-functions/node:4-node22': 'bookworm',
};
const debianOf = (image: string) =>
  FUNCTIONS_IMAGE_DEBIAN[image] ?? DEBIAN_RELEASES.find((release) => image.includes(`-${release}`));

/** Where a stage's COPY put `source` (a path in the build context), if it did. */
function copyDestination(stage: Stage, source: string): string | undefined {
  const copy = stepsOf(stage, 'COPY').find(
    (step) => !step.flags.from && step.args.slice(0, -1).includes(source),
  );
  return copy?.args.at(-1);
}

describe('the Dockerfile', () => {
  it('passes the Dockerfile linter (dockerfile-utils) without a diagnostic', () => {
    const diagnostics = validate(text).map(
      (diagnostic) => `line ${diagnostic.range.start.line + 1}: ${diagnostic.message}`,
    );
    expect(diagnostics).toEqual([]);
  });

  it('pins every base image to a tag, never an implicit :latest', () => {
    for (const stage of stages)
      expect(stage.image).toMatch(/^[^:@]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/);
    for (const stage of stages) expect(stage.image).not.toMatch(/:latest$/);
  });

  it('has CMD and HEALTHCHECK in exec form, so signals reach the process and no shell is needed', () => {
    for (const step of stages.flatMap((stage) => [
      ...stepsOf(stage, 'CMD'),
      ...stepsOf(stage, 'HEALTHCHECK'),
    ])) {
      expect(() => execForm(step)).not.toThrow();
    }
  });

  it('declares no VOLUME: each replica would get an anonymous volume of its own instead of the shared directory', () => {
    expect(stages.flatMap((stage) => stepsOf(stage, 'VOLUME'))).toEqual([]);
  });

  it('uses COPY rather than ADD, and WORKDIR rather than cd', () => {
    expect(stages.flatMap((stage) => stepsOf(stage, 'ADD'))).toEqual([]);
    for (const run of stages.flatMap((stage) => stepsOf(stage, 'RUN')))
      expect(run.content).not.toMatch(/(^|[;&|]\s*)cd\s/);
  });

  it('copies from the build context only files that exist and that .dockerignore lets through', () => {
    const included = buildContextIncludes();
    const sources = stages.flatMap((stage) =>
      stepsOf(stage, 'COPY')
        .filter((step) => !step.flags.from)
        .flatMap((step) => step.args.slice(0, -1)),
    );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({
        source,
        exists: existsSync(path.join(projectRoot, source)),
        included: included(source),
      }).toEqual({
        source,
        exists: true,
        included: true,
      });
    }
  });

  it('copies between stages only from the build stage', () => {
    const froms = stages
      .flatMap((stage) => stepsOf(stage, 'COPY'))
      .flatMap((step) => step.flags.from ?? []);
    expect(new Set(froms)).toEqual(new Set(['build']));
  });
});

describe('.dockerignore', () => {
  const included = buildContextIncludes();

  it.each([
    'local.settings.json',
    '.env',
    'node_modules/@azure/functions/package.json',
    'dist/functions/get.js',
    'tests/shared/store.test.ts',
    'local_dir/data.bin',
    'config/config.json',
    '.git/HEAD',
    'bench/run.ts',
    'host/test/e2e/host-http.e2e.test.ts',
    'rusty-counter.zip',
  ])('keeps %s out of the build context', (file) => {
    expect(included(file)).toBe(false);
  });

  it.each([
    'package.json',
    'package-lock.json',
    'host.json',
    'functions/get.ts',
    'shared/store.ts',
    'public/index.html',
    'host/src/main.ts',
  ])('sends %s to the build', (file) => {
    expect(included(file)).toBe(true);
  });
});

describe('build stage', () => {
  it('runs npm ci, the build and a prune to production dependencies, in that order, on Node 22', () => {
    expect(build.image).toMatch(/^node:22-/);
    const commands = stepsOf(build, 'RUN')
      .map((step) => step.content)
      .join(' && ');
    const order = ['npm ci', 'npm run build', 'npm prune --omit=dev'].map((command) =>
      commands.indexOf(command),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("installs node_modules on the Functions image's Debian release, so what npm ci put there runs in every target", () => {
    const buildRelease = DEBIAN_RELEASES.indexOf(debianOf(build.image) ?? '');
    expect(buildRelease).toBeGreaterThanOrEqual(0);
    for (const target of [functions, standalone]) {
      expect({ target: target.name, release: debianOf(target.image) }).toEqual({
        target: target.name,
        release: expect.any(String),
      });
      expect(DEBIAN_RELEASES.indexOf(debianOf(target.image) ?? '')).toBeGreaterThanOrEqual(
        buildRelease,
      );
    }
    expect(debianOf(build.image)).toBe(debianOf(functions.image));
  });
});

describe('functions stage (the default target)', () => {
  it('is the last stage, so that a plain `docker build -t rusty-counter .` builds it', () => {
    expect(stages.at(-1)?.name).toBe('functions');
  });

  it('starts from the official Azure Functions Node 22 image and keeps its start command', () => {
    expect(functions.image).toBe('mcr.microsoft.com/azure-functions/node:4-node22');
    expect(stepsOf(functions, 'CMD')).toEqual([]);
    expect(stepsOf(functions, 'ENTRYPOINT')).toEqual([]);
  });

  it('sets the script root, console logging, port 8000 and the mounted data and config paths', () => {
    expect(envOf(functions)).toMatchObject({
      AzureWebJobsScriptRoot: '/home/site/wwwroot',
      AzureFunctionsJobHost__Logging__Console__IsEnabled: 'true',
      ASPNETCORE_URLS: 'http://+:8000',
      COUNTER_DATA_DIR: '/app/local_dir',
      COUNTER_CONFIG_FILE: '/app/config/config.json',
    });
  });

  it('puts into wwwroot what `npm run package` puts into the zip', () => {
    const copied = stepsOf(functions, 'COPY')
      .filter((step) => step.flags.from === 'build')
      .flatMap((step) => {
        const destination = step.args.at(-1) ?? '';
        const sources = step.args.slice(0, -1);
        return destination.endsWith('/')
          ? sources.map((source) => destination + path.basename(source))
          : [destination];
      });
    expect(copied.sort()).toEqual(
      ['package.json', 'host.json', 'node_modules', 'dist/functions', 'dist/shared', 'public']
        .map((entry) => `/home/site/wwwroot/${entry}`)
        .sort(),
    );
  });
});

describe('standalone stage', () => {
  it('runs the offline host on slim Node 22 with the command of `npm run start:prod`, without npm in between', () => {
    expect(standalone.image).toMatch(/^node:22-[a-z]+-slim$/);
    const [cmd] = stepsOf(standalone, 'CMD');
    expect(execForm(cmd)).toEqual(scripts['start:prod'].split(/\s+/));
  });

  it('listens on all interfaces on port 8000 and keeps the counter in the mounted /app/local_dir', () => {
    expect(envOf(standalone)).toMatchObject({
      HOST: '0.0.0.0',
      PORT: '8000',
      COUNTER_DATA_DIR: '/app/local_dir',
      COUNTER_CONFIG_FILE: '/app/config/config.json',
    });
  });

  it('runs one app process (FUNCTIONS_WORKER_PROCESS_COUNT=1, as Azure does) unless a manifest that knows its cores says more', () => {
    expect(envOf(standalone).FUNCTIONS_WORKER_PROCESS_COUNT).toBe('1');
  });

  it('runs as the unprivileged node user, who owns the data directory and nothing else', () => {
    expect(stepsOf(standalone, 'USER').map((step) => step.args)).toEqual([['node']]);
    const setup = stepsOf(standalone, 'RUN')
      .map((step) => step.content)
      .join(' && ');
    expect(setup).toContain('chown node:node /app/local_dir');
    for (const copy of stepsOf(standalone, 'COPY')) expect(copy.flags.chown).toBeUndefined();
  });

  it('copies the compiled host and app with production node_modules from the build stage', () => {
    const sources = stepsOf(standalone, 'COPY')
      .filter((step) => step.flags.from === 'build')
      .flatMap((step) => step.args.slice(0, -1));
    expect(sources.sort()).toEqual([
      '/app/dist',
      '/app/host.json',
      '/app/host/dist',
      '/app/host/package.json',
      '/app/node_modules',
      '/app/package.json',
      '/app/public',
    ]);
  });
});

describe.each([
  ['functions', functions],
  ['standalone', standalone],
])('%s stage health', (_name, stage) => {
  it('exposes port 8000', () => {
    expect(stepsOf(stage, 'EXPOSE').map((step) => step.args)).toEqual([['8000']]);
  });

  it('probes GET /health with the Node script it copies in (no curl needed)', () => {
    const [healthcheck] = stepsOf(stage, 'HEALTHCHECK');
    const [program, script] = execForm(healthcheck);
    expect(program).toBe('node');
    expect(script).toBe(copyDestination(stage, 'scripts/healthcheck.mjs'));
    expect(healthcheck.flags).toMatchObject({
      interval: expect.any(String),
      'start-period': expect.any(String),
    });
  });
});
