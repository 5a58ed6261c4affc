import { AsyncLocalStorage } from 'node:async_hooks';
import { describeError } from '../utils/describe-error';
import type { Logger } from '../utils/logger';

interface Running {
  functionName: string;
  fail(err: unknown): void;
}

// Node runs a callback, and the process's error handlers it triggers, in the async context
// of the code that scheduled it; so this tells which invocation a stray error came from.
const running = new AsyncLocalStorage<Running>();

/**
 * Runs one handler so that an error thrown by code it started outside its own promise chain
 * (a timer or I/O callback, a floating rejected promise) fails this handler's invocation,
 * as a crashed worker fails what it was running, instead of leaving it unanswered.
 */
export function guardInvocation<T>(functionName: string, handler: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    running.run({ functionName, fail: reject }, () => {
      handler().then(resolve, reject);
    });
  });
}

/**
 * Keeps the host serving when the app throws where no handler's promise can catch it. Core
 * Tools answers such a crash by restarting its worker, which fails what was in flight and
 * serves again within seconds; here only the invocation whose code threw fails (500), and
 * the others go on. Unlike a restart, the app's module state is kept. Returns the uninstaller.
 */
export function installCrashGuard(logger: Logger): () => void {
  const onError = (what: string) => (err: unknown) => {
    const invocation = running.getStore();
    if (invocation) {
      logger.log(
        'error',
        invocation.functionName,
        `${what} in code this invocation started; the invocation fails: ${describeError(err)}`,
      );
      invocation.fail(err);
    } else {
      logger.log(
        'error',
        'host',
        `${what} outside any invocation; the host keeps serving: ${describeError(err)}`,
      );
    }
  };
  const onException = onError('uncaught exception');
  const onRejection = onError('unhandled promise rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
