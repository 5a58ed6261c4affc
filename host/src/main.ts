#!/usr/bin/env node
import path from 'node:path';
import { describeError } from './utils/describe-error';
import { HostStartupError } from './utils/host-startup-error';
import { startHost } from './start-host';
import { createLogger, parseLogLevel } from './utils/logger';
import { loadSettings } from './settings/load-settings';
import {
  parseWorkerCount,
  reportReady,
  runWorkerProcesses,
  WORKER_COUNT_SETTING,
  workerRole,
} from './workers/worker-processes';
import { OutputSink } from './utils/output-sink';

/**
 * `node host/dist/main.js [appRoot]` (or `functions-host [appRoot]`): serves the Functions app in appRoot (default: the
 * current directory) without Azure Functions Core Tools. Like the Node.js worker, it runs
 * with the app root as working directory, so relative paths in settings mean the same.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // `--port N`, as `func start --port N`, wins over PORT and Host.LocalHttpPort.
  const portFlag = args.indexOf('--port');
  if (portFlag >= 0) {
    const [, port] = args.splice(portFlag, 2);
    if (port === undefined) fail(new HostStartupError('--port needs a port number'));
    process.env.PORT = port;
  }
  const appRoot = path.resolve(args[0] ?? '.');
  try {
    process.chdir(appRoot);
  } catch (err) {
    fail(new HostStartupError(`cannot use ${appRoot} as the app root: ${(err as Error).message}`));
  }

  const out = new OutputSink('stdout', process.stdout);
  const errors = new OutputSink('stderr', process.stderr);
  /** Says how many log lines were lost, on whichever output still works. */
  const reportDropped = () => {
    const working = errors.failure === undefined ? errors : out;
    const logger = createLogger('warning', working, working);
    for (const sink of [out, errors]) {
      const summary = sink.summary();
      if (summary) logger.log('warning', 'host', summary);
    }
  };

  const role = workerRole();
  if (!role) {
    let workers: number;
    try {
      // local.settings.json and .env may set it, as any app setting.
      await loadSettings(appRoot, process.env);
      workers = parseWorkerCount(process.env[WORKER_COUNT_SETTING]);
    } catch (err) {
      fail(err);
    }
    if (workers > 1) {
      const level = parseLogLevel(process.env.LOG_LEVEL ?? '') ?? 'information';
      runWorkerProcesses(workers, createLogger(level, out, errors));
      return;
    }
  }

  let host: Awaited<ReturnType<typeof startHost>>;
  try {
    host = await startHost({ appRoot, env: process.env, out, errors, role });
  } catch (err) {
    fail(err);
  }
  reportReady();

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      host.logger.log('warning', 'host', `${signal} again: exiting without waiting`);
      reportDropped();
      process.exit(1);
    }
    stopping = true;
    // shutdown() stops listening before it first yields, so the line below is true when read.
    const stopped = host.shutdown();
    host.logger.log(
      'information',
      'host',
      `${signal}: stopped listening; waiting up to ${host.config.shutdownTimeoutMs} ms for invocations under way`,
    );
    void stopped.then((drained) => {
      host.logger.log(
        'information',
        'host',
        drained ? 'stopped' : 'stopped with invocations cut off',
      );
      reportDropped();
      process.exit(drained ? 0 : 1);
    });
  };
  process.on('SIGTERM', stop);
  if (role) {
    // The primary stops the workers with SIGTERM; Ctrl-C reaches every process of the group,
    // and a worker must not take the primary's forwarded SIGTERM as a second signal.
    process.on('SIGINT', () => undefined);
    // A primary that died (SIGKILL) leaves no one to stop this worker: it stops itself.
    process.on('disconnect', () => stop('SIGTERM'));
  } else {
    process.on('SIGINT', stop);
  }
}

function fail(err: unknown): never {
  const reason = err instanceof HostStartupError ? err.message : describeError(err);
  process.stderr.write(`Offline Functions host failed to start: ${reason}\n`);
  process.exit(1);
}

void main();
