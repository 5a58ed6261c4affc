import { AppRegistry } from './app/app-registry';
import type { AppStartContext, HookContext } from './core/core-types';
import { readAppHttpProxy } from './http/app-http-proxy';
import { createCoreApi } from './core/create-core-api';
import { createHttpRequestHandler, type HttpFunction } from './http/create-http-request-handler';
import { createTimerInvoker } from './timers/create-timer-invoker';
import { describeError } from './utils/describe-error';
import { findTriggerBinding } from './app/find-trigger-binding';
import { findUnsupportedBindings } from './app/find-unsupported-bindings';
import { HostStartupError } from './utils/host-startup-error';
import { InFlightTracker } from './utils/in-flight-tracker';
import { installCoreModule } from './core/install-core-module';
import { loadApp } from './app/load-app';
import { type Environment, loadSettings } from './settings/load-settings';
import { installCrashGuard } from './invocation/crash-guard';
import { createLogger, type LineSink, type Logger } from './utils/logger';
import { readHostJson } from './settings/read-host-json';
import { type HostConfig, resolveHostConfig } from './settings/resolve-host-config';
import { hookContext, runHooks } from './invocation/run-hooks';
import { startHttpServer } from './http/start-http-server';
import { TimerRunner } from './timers/timer-runner';
import { toHttpRoute } from './http/to-http-route';
import { type TimerFunction, toTimerFunction } from './timers/to-timer-function';
import type { WorkerRole } from './workers/worker-processes';

/** What Core Tools lists for a function that accepts every method. */
const ANY_METHOD = ['GET', 'POST', 'DELETE', 'HEAD', 'PATCH', 'PUT', 'OPTIONS', 'TRACE'];

export interface HostOptions {
  appRoot: string;
  /** Settings are read from, and local.settings.json / .env values added to, this environment. */
  env: Environment;
  out: LineSink;
  errors: LineSink;
  /**
   * When this is one of several worker processes: whether it prints the listing and the ready
   * line, and whether it runs the timers (one process does, so each runs once per schedule).
   */
  role?: WorkerRole;
}

export interface RunningHost {
  readonly url: string;
  readonly config: HostConfig;
  readonly logger: Logger;
  /**
   * Stops accepting requests, waits (up to the shutdown timeout) for requests and timer runs
   * under way, then runs the appTerminate hooks. Resolves false if work was cut off.
   */
  shutdown(): Promise<boolean>;
}

/** Loads the app in `appRoot` and serves it: HTTP functions on HOST:PORT, timer functions on schedule. */
export async function startHost(options: HostOptions): Promise<RunningHost> {
  const { appRoot, env } = options;
  const localHost = await loadSettings(appRoot, env);
  const runtime = env.FUNCTIONS_WORKER_RUNTIME?.trim();
  if (runtime && runtime.toLowerCase() !== 'node') {
    // Core Tools refuses to start a Node.js app under another runtime's worker.
    throw new HostStartupError(
      `FUNCTIONS_WORKER_RUNTIME is "${runtime}"; this host runs Node.js apps only, so set it to "node" or leave it unset`,
    );
  }
  const config = resolveHostConfig(env, localHost, await readHostJson(appRoot));
  const logger = createLogger(config.logLevel, options.out, options.errors);

  const registry = new AppRegistry();
  installCoreModule(
    createCoreApi(registry, (level, category, message) =>
      logger.log(level, category === 'user' ? 'app' : 'worker', message),
    ),
  );
  const { programmingModel } = await loadApp(appRoot, registry);
  const removeCrashGuard = installCrashGuard(logger);
  const appProxy = await readAppHttpProxy(
    async () => (await programmingModel.getCapabilities?.({})) ?? {},
  );
  if (appProxy) logger.log('information', 'host', 'HTTP streams are enabled');

  const httpFunctions: HttpFunction[] = [];
  const timerFunctions: TimerFunction[] = [];
  const descriptions: string[] = [];
  // The Core Tools-like listing; Azure's end-to-end tests wait for its "Functions:" line.
  const listing: ((url: string) => string)[] = [];
  for (const fn of registry.functions.values()) {
    const name = fn.metadata.name;
    const trigger = findTriggerBinding(fn.metadata);
    if (isDisabled(env, name)) {
      logger.log(
        'information',
        'host',
        `function "${name}" is disabled (AzureWebJobs.${name}.Disabled)`,
      );
      continue;
    }
    const unsupported =
      trigger?.type === 'httptrigger' || trigger?.type === 'timertrigger'
        ? findUnsupportedBindings(fn.metadata)
        : [];
    if (unsupported.length > 0) {
      logger.log(
        'warning',
        'host',
        `function "${name}" has ${unsupported.join(', ')}, which the offline host does not provide; the function runs without them`,
      );
    }
    if (trigger?.type === 'httptrigger') {
      const route = toHttpRoute(fn.metadata, trigger, config.routePrefix, env);
      httpFunctions.push({ route, fn, triggerName: trigger.name });
      const methods = route.methods === 'any' ? 'any method' : [...route.methods].join(',');
      descriptions.push(`${name}: [${methods}] /${route.route.template}`);
      const listed = route.methods === 'any' ? ANY_METHOD : [...route.methods];
      listing.push((url) => `${name}: [${listed.join(',')}] ${url}/${route.route.template}`);
      if (route.methods !== 'any' && route.methods.size === 0) {
        logger.log(
          'warning',
          'host',
          `function "${name}" lists no HTTP methods, so no request reaches it (as on the Functions host); leave "methods" out to take every method`,
        );
      }
    } else if (trigger?.type === 'timertrigger') {
      const timer = toTimerFunction(fn, trigger, env, config.timezone);
      timerFunctions.push(timer);
      descriptions.push(`${name}: timer, ${timer.schedule.description}`);
      listing.push(() => `${name}: timerTrigger`);
    } else {
      logger.log(
        'warning',
        'host',
        `function "${name}" has a ${trigger?.binding.type ?? 'missing'} trigger, which the offline host does not run`,
      );
    }
  }

  const appLevelHookData = {};
  const appHookContext = (): HookContext => hookContext(registry, appLevelHookData, {});
  const appStartContext: AppStartContext = hookContext(registry, appLevelHookData, {
    functionAppDirectory: appRoot,
  });
  try {
    await runHooks(registry, 'appStart', appStartContext);
  } catch (err) {
    throw new HostStartupError(`an appStart hook failed: ${describeError(err)}`, { cause: err });
  }

  const inFlight = new InFlightTracker();
  let draining = false;
  const { server, port } = await startHttpServer(
    config.host,
    config.port,
    createHttpRequestHandler({
      registry,
      programmingModel,
      functions: httpFunctions,
      cors: config.cors,
      logger,
      inFlight,
      maxBodyBytes: config.maxRequestBodyBytes,
      appProxy,
      isDraining: () => draining,
    }),
  );

  const runTimer = createTimerInvoker({ registry, programmingModel, logger, inFlight });
  const timers = options.role?.timers ?? 'run';
  const timerRunners = (timers === 'off' ? [] : timerFunctions).map((timer) => {
    const runner = new TimerRunner(timer.schedule, (info) => runTimer(timer, info));
    runner.start(timer.runOnStartup && timers === 'run');
    return runner;
  });

  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  if (options.role?.announce ?? true) {
    for (const description of descriptions) logger.log('information', 'host', description);
    options.out.write(`\nFunctions:\n\n${listing.map((line) => `\t${line(url)}\n\n`).join('')}`);
    const names = [...registry.functions.keys()].join(', ');
    // Printed whatever the log level: scripts and tests wait for this line.
    options.out.write(`Offline Functions host listening on ${url} (functions: ${names})\n`);
  }

  return {
    url,
    config,
    logger,
    async shutdown() {
      draining = true;
      server.close();
      server.closeIdleConnections();
      for (const runner of timerRunners) runner.stop();
      const drained = await inFlight.whenIdle(config.shutdownTimeoutMs);
      if (!drained) {
        logger.log(
          'warning',
          'host',
          `${inFlight.count} invocation(s) still running after ${config.shutdownTimeoutMs} ms; stopping anyway`,
        );
      }
      try {
        await runHooks(registry, 'appTerminate', appHookContext());
      } catch (err) {
        logger.log('error', 'host', `an appTerminate hook failed: ${describeError(err)}`);
      }
      server.closeAllConnections();
      removeCrashGuard();
      return drained;
    },
  };
}

/** `AzureWebJobs.<name>.Disabled` set to true (or 1) turns a function off, as on Azure. */
function isDisabled(env: Environment, functionName: string): boolean {
  const value = env[`AzureWebJobs.${functionName}.Disabled`]?.trim().toLowerCase();
  return value === 'true' || value === '1';
}
