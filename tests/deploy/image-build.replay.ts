import { type ChildProcess, execFileSync, execSync, spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import path from 'node:path';
import { type HostProcess, projectRoot, startHost } from '../support/host-process';
import { request } from '../support/http';
import { tempDir } from '../support/temp-dir';
import { buildContextIncludes, readStages, type Stage, stageNamed } from './support/dockerfile';

// `docker build` without Docker: the Dockerfile's instructions replayed in temporary directories.
// The build context is a copy of the project filtered by .dockerignore, each stage gets a root
// directory of its own standing in for its filesystem, the build stage's RUN commands run for
// real (npm ci, the build, the prune), and the final stages are assembled by their COPY steps.
// Then the assembled files are started the way each image starts them. Heavy (a whole npm ci
// and build), so it runs in `npm run test:image`, not in `npm test`.

const stages = readStages();
const work = tempDir('counter-image-');
const contextDir = path.join(work.dir, 'context');
const stageRoot = (name: string) => path.join(work.dir, 'stages', name);
const inStage = (name: string, absolute: string) => path.join(stageRoot(name), absolute);
const logFile = path.join(work.dir, 'build.log');

/** The project as `docker build .` sends it: only what .dockerignore lets through. */
function copyBuildContext(): void {
  const includes = buildContextIncludes();
  const exceptions = readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('!'))
    .map((line) => line.slice(1).replace(/\/$/, ''));
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(projectRoot, relative), { withFileTypes: true })) {
      const name = path.posix.join(relative, entry.name);
      if (entry.isDirectory()) {
        // An ignored directory is skipped whole unless an exception re-includes something in it.
        if (includes(name) || exceptions.some((exception) => exception.startsWith(`${name}/`)))
          walk(name);
      } else if (includes(name)) {
        mkdirSync(path.dirname(path.join(contextDir, name)), { recursive: true });
        cpSync(path.join(projectRoot, name), path.join(contextDir, name));
      }
    }
  };
  walk('');
}

/** The environment of a RUN step: this machine's, without what npm and jest add for their children. */
function buildEnv(stageEnv: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(npm_|NODE_ENV$|INIT_CWD$|JEST_WORKER_ID$)/i.test(name)) env[name] = value;
  }
  env.PATH = (env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => !dir.includes(`${path.sep}node_modules${path.sep}.bin`))
    .join(path.delimiter);
  return { ...env, ...stageEnv };
}

interface Replayed {
  workdir: string;
  env: Record<string, string>;
}

/** Replays one stage; RUN steps only when `runCommands` (the final stages' RUNs set up users and dirs). */
function replay(stage: Stage, runCommands: boolean): Replayed {
  let workdir = '/';
  const env: Record<string, string> = {};
  mkdirSync(stageRoot(stage.name), { recursive: true });
  for (const step of stage.steps) {
    switch (step.keyword) {
      case 'WORKDIR':
        workdir = path.posix.resolve(workdir, step.args[0]);
        mkdirSync(inStage(stage.name, workdir), { recursive: true });
        break;
      case 'ENV':
        Object.assign(env, step.env);
        break;
      case 'COPY': {
        const destination = path.posix.resolve(workdir, step.args.at(-1) ?? '');
        const sources = step.args.slice(0, -1);
        const intoDirectory = (step.args.at(-1) ?? '').endsWith('/') || sources.length > 1;
        for (const source of sources) {
          const from = step.flags.from
            ? inStage(step.flags.from, source)
            : path.join(contextDir, source);
          if (!existsSync(from))
            throw new Error(`line ${step.line}: COPY source ${source} does not exist`);
          const to = inStage(
            stage.name,
            intoDirectory ? path.posix.join(destination, path.basename(source)) : destination,
          );
          mkdirSync(path.dirname(to), { recursive: true });
          // Like Docker: a directory's contents are copied, symlinks (node_modules/.bin) as they are.
          cpSync(from, to, { recursive: true, verbatimSymlinks: true });
        }
        break;
      }
      case 'RUN':
        if (runCommands) {
          const log = openSync(logFile, 'a');
          try {
            execSync(step.content, {
              cwd: inStage(stage.name, workdir),
              env: buildEnv(env),
              shell: '/bin/sh',
              stdio: ['ignore', log, log],
            });
          } catch {
            throw new Error(
              `line ${step.line}: RUN ${step.content} failed:\n${readFileSync(logFile, 'utf8').slice(-4000)}`,
            );
          } finally {
            closeSync(log);
          }
        }
        break;
      case 'USER':
      case 'EXPOSE':
      case 'HEALTHCHECK':
      case 'CMD':
        break; // image metadata: nothing on disk
      default:
        throw new Error(
          `line ${step.line}: this replay does not know ${step.keyword} yet; teach it`,
        );
    }
  }
  return { workdir, env };
}

/** A stage's ENV with its absolute paths moved into the stage's root, listening on a free local port. */
function localEnv(stageName: string, env: Record<string, string>): Record<string, string> {
  const moved = Object.fromEntries(
    Object.entries(env).map(([name, value]) => [
      name,
      value.startsWith('/app/') ? inStage(stageName, value) : value,
    ]),
  );
  return { ...moved, HOST: '127.0.0.1', PORT: '0' };
}

/** SIGTERM to a process group; SIGKILL if it is still there after 15 s. */
async function stopGroup(proc: ChildProcess, pid: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const closed = new Promise((resolve) => proc.once('close', resolve));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // the group is gone already
    }
  };
  signal('SIGTERM');
  const killer = setTimeout(() => signal('SIGKILL'), 15_000);
  await closed;
  clearTimeout(killer);
}

let standalone: Replayed;
let functions: Replayed;

beforeAll(() => {
  copyBuildContext();
  replay(stageNamed(stages, 'build'), true);
  standalone = replay(stageNamed(stages, 'standalone'), false);
  functions = replay(stageNamed(stages, 'functions'), false);
}, 20 * 60_000);

afterAll(() => work.remove());

describe('the build stage, replayed in a clean copy of the build context', () => {
  const app = () => inStage('build', '/app');

  it('compiles the functions, the shared code and the offline host', () => {
    for (const file of [
      'dist/functions/get.js',
      'dist/shared/store/counters.js',
      'host/dist/main.js',
    ]) {
      expect(existsSync(path.join(app(), file))).toBe(true);
    }
  });

  it('prunes node_modules to exactly the production packages of package-lock.json', () => {
    const lock = JSON.parse(readFileSync(path.join(app(), 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const entries = Object.entries(lock.packages).filter(([location]) =>
      location.startsWith('node_modules/'),
    );
    const present = (location: string) => existsSync(path.join(app(), location, 'package.json'));
    expect(
      entries
        .filter(([location, entry]) => entry.dev && present(location))
        .map(([location]) => location),
    ).toEqual([]);
    expect(
      entries
        .filter(([location, entry]) => !entry.dev && !entry.optional && !present(location))
        .map(([location]) => location),
    ).toEqual([]);
  });

  it("leaves a working lock addon: fs-native-extensions' binary loads and takes a lock", () => {
    const lockFile = path.join(work.dir, 'probe.lock');
    const output = execFileSync(
      process.execPath,
      [
        '-e',
        `const { tryLock } = require(${JSON.stringify(path.join(app(), 'node_modules/fs-native-extensions'))});
         const fd = require('node:fs').openSync(${JSON.stringify(lockFile)}, 'w');
         console.log(tryLock(fd) ? 'locked' : 'failed: busy');`,
      ],
      { encoding: 'utf8' },
    );
    expect(output.trim()).toBe('locked');
  });
});

describe('the standalone image, assembled from its COPY steps', () => {
  let proc: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    if (proc?.pid) await stopGroup(proc, proc.pid);
  });

  it('serves the API and passes its HEALTHCHECK when started with `npm run start:prod`', async () => {
    const env = localEnv('standalone', standalone.env);
    proc = spawn('npm', ['run', 'start:prod'], {
      cwd: inStage('standalone', standalone.workdir),
      env: { ...buildEnv({}), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that a stop reaches npm, its shell and the host alike.
      detached: true,
    });
    const url = await new Promise<string>((resolve, reject) => {
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+?:\d+)/.exec(output);
        if (match) resolve(match[1]);
      };
      proc?.stdout?.on('data', collect);
      proc?.stderr?.on('data', collect);
      proc?.once('close', () => reject(new Error(`npm run start:prod exited:\n${output}`)));
    });

    expect((await request(`${url}/get`)).json()).toEqual({ value: 0 });
    expect((await request(`${url}/increment`, { method: 'POST' })).json()).toEqual({ value: 1 });
    expect(readFileSync(path.join(env.COUNTER_DATA_DIR, 'data.bin'), 'utf8')).toBe('1');

    const probe = inStage('standalone', '/usr/local/lib/rusty-counter/healthcheck.mjs');
    const port = new URL(url).port;
    expect(
      execFileSync(process.execPath, [probe], { env: { PORT: port }, encoding: 'utf8' }),
    ).toContain('healthy');

    // What `docker stop` does: SIGTERM, and the host drains and stops by itself.
    await stopGroup(proc, proc.pid ?? 0);
    expect(output).toMatch(/SIGTERM: stopped listening[\s\S]*\bstopped\b/);
  }, 60_000);
});

describe('the Functions image, assembled from its COPY steps', () => {
  let host: HostProcess | undefined;
  afterAll(async () => host?.stop());

  it('has an app in wwwroot that a Functions host loads and serves', async () => {
    const wwwroot = inStage('functions', functions.env.AzureWebJobsScriptRoot);
    host = await startHost({ appRoot: wwwroot });
    expect((await request(`${host.url}/get`)).json()).toEqual({ value: 0 });
    expect((await request(`${host.url}/health`)).status).toBe(200);
    expect(existsSync(path.join(wwwroot, 'dist/host'))).toBe(false);
    expect(existsSync(path.join(wwwroot, 'host'))).toBe(false);
  }, 60_000);
});
