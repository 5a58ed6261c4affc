#!/usr/bin/env node
import path from 'node:path';
import { describeError } from './utils/describe-error';
import { HostStartupError } from './utils/host-startup-error';
import { startHost } from './start-host';

/**
 * `node host/dist/main.js [appRoot]` (or `functions-host [appRoot]`): serves the Functions app in appRoot (default: the
 * current directory) without Azure Functions Core Tools. Like the Node.js worker, it runs
 * with the app root as working directory, so relative paths in settings mean the same.
 */
async function main(): Promise<void> {
  const appRoot = path.resolve(process.argv[2] ?? '.');
  try {
    process.chdir(appRoot);
  } catch (err) {
    fail(new HostStartupError(`cannot use ${appRoot} as the app root: ${(err as Error).message}`));
  }

  let host: Awaited<ReturnType<typeof startHost>>;
  try {
    host = await startHost({
      appRoot,
      env: process.env,
      out: process.stdout,
      errors: process.stderr,
    });
  } catch (err) {
    fail(err);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      host.logger.log('warning', 'host', `${signal} again: exiting without waiting`);
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
      process.exit(drained ? 0 : 1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function fail(err: unknown): never {
  const reason = err instanceof HostStartupError ? err.message : describeError(err);
  process.stderr.write(`Offline Functions host failed to start: ${reason}\n`);
  process.exit(1);
}

void main();
