import cluster, { type Worker } from 'node:cluster';
import { HostStartupError } from '../utils/host-startup-error';
import type { Logger } from '../utils/logger';

/** The app setting Azure reads for how many language worker processes a host runs. */
export const WORKER_COUNT_SETTING = 'FUNCTIONS_WORKER_PROCESS_COUNT';
const MAX_WORKERS = 10;
/** How the primary tells a worker its part, in the worker's environment. */
const ROLE_VARIABLE = 'OFFLINE_HOST_WORKER_ROLE';

/**
 * What one worker process does besides serving HTTP: the first one prints the listing and
 * the ready line; exactly one runs the timers (`resume` for the replacement of a crashed
 * one, which skips `runOnStartup`: the host did not start again).
 */
export interface WorkerRole {
  announce: boolean;
  timers: 'run' | 'resume' | 'off';
}

/** `FUNCTIONS_WORKER_PROCESS_COUNT`: 1 to 10, default 1, as on Azure. */
export function parseWorkerCount(value: string | undefined): number {
  const text = value?.trim() ?? '';
  if (text === '') return 1;
  const count = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(count >= 1 && count <= MAX_WORKERS)) {
    throw new HostStartupError(
      `${WORKER_COUNT_SETTING} must be a whole number from 1 to ${MAX_WORKERS}; got "${value}"`,
    );
  }
  return count;
}

/** This process's role when it is a worker the primary started, else undefined. */
export function workerRole(): WorkerRole | undefined {
  const role = cluster.isWorker ? process.env[ROLE_VARIABLE] : undefined;
  return role === undefined ? undefined : (JSON.parse(role) as WorkerRole);
}

/** Tells the primary this worker serves, so a later exit is a crash to replace. */
export function reportReady(): void {
  process.send?.('ready');
}

/**
 * Runs `count` host processes behind the one port with node:cluster, as the Functions host
 * runs FUNCTIONS_WORKER_PROCESS_COUNT language workers: they share one listening socket and
 * the kernel gives each new connection to one of them. A worker that crashes after it started serving is
 * replaced while the others serve; one that fails to start stops the whole host, as a
 * start-up error does. SIGTERM or SIGINT to the primary drains every worker; the primary
 * exits when they all have, with 0 only if they all drained.
 */
export function runWorkerProcesses(count: number, logger: Logger): void {
  // The workers accept connections on the shared socket themselves. With round-robin, the
  // primary hands each connection to a worker over IPC, and a connection handed to a worker
  // that has just crashed (before the primary saw it exit) is never answered; here a crash
  // loses only the connections that worker had accepted, and the others take the next ones.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const roles = new Map<Worker, WorkerRole>();
  const ready = new Set<Worker>();
  let stopping = false;
  let exitCode = 0;

  const start = (role: WorkerRole): void => {
    const worker = cluster.fork({ [ROLE_VARIABLE]: JSON.stringify(role) });
    roles.set(worker, role);
    worker.on('message', (message) => {
      if (message === 'ready') ready.add(worker);
    });
  };

  const stopAll = (signal: NodeJS.Signals): void => {
    for (const worker of roles.keys()) worker.process.kill(signal);
  };

  cluster.on('exit', (worker, code, signal) => {
    const role = roles.get(worker);
    roles.delete(worker);
    const how = signal ? `on ${signal}` : `with code ${code}`;
    if (stopping || !ready.has(worker)) {
      if (code !== 0) exitCode = 1;
      if (!stopping) {
        // It printed why; the others would fail alike or serve a partial host.
        stopping = true;
        logger.log('error', 'host', `a worker process exited ${how} before it served; stopping`);
        stopAll('SIGTERM');
      }
      if (roles.size === 0) process.exit(exitCode);
      return;
    }
    ready.delete(worker);
    logger.log(
      'warning',
      'host',
      `worker process ${worker.process.pid} exited ${how}; starting another while the others serve`,
    );
    start({ announce: false, timers: role?.timers === 'off' ? 'off' : 'resume' });
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.log('warning', 'host', `${signal} again: stopping the worker processes at once`);
      stopAll('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    logger.log('information', 'host', `${signal}: draining ${roles.size} worker processes`);
    stopAll('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  logger.log('information', 'host', `starting ${count} worker processes (${WORKER_COUNT_SETTING})`);
  for (let i = 0; i < count; i++) {
    start({ announce: i === 0, timers: i === 0 ? 'run' : 'off' });
  }
}
