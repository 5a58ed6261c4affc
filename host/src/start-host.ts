import { AppRegistry } from './app/app-registry';
import type { AppStartContext, HookContext } from './core/core-types';
import { readAppHttpProxy } from './http/app-http-proxy';
import { createCoreApi } from './core/create-core-api';
import { createHttpRequestHandler, type HttpFunction } from './http/create-http-request-handler';
import { createTimerInvoker } from './timers/create-timer-invoker';
import { describeError } from './utils/describe-error';
import { findTriggerBinding } from './app/find-trigger-binding';
import { HostStartupError } from './utils/host-startup-error';
import { InFlightTracker } from './utils/in-flight-tracker';
import { installCoreModule } from './core/install-core-module';
import { loadApp } from './app/load-app';
import { type Environment, loadSettings } from './settings/load-settings';
import { createLogger, type LineSink, type Logger } from './utils/logger';
import { readHostJson } from './settings/read-host-json';
import { type HostConfig, resolveHostConfig } from './settings/resolve-host-config';
import { hookContext, runHooks } from './invocation/run-hooks';
import { startHttpServer } from './http/start-http-server';
import { TimerRunner } from './timers/timer-runner';
import { toHttpRoute } from './http/to-http-route';
import { type TimerFunction, toTimerFunction } from './timers/to-timer-function';

export interface HostOptions {
  appRoot: string;
  /** Settings are read from, and local.settings.json / .env values added to, this environment. */
  env: Environment;
  out: LineSink;
  errors: LineSink;
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
  const config = resolveHostConfig(env, localHost, await readHostJson(appRoot));
  const logger = createLogger(config.logLevel, options.out, options.errors);

  const registry = new AppRegistry();
  installCoreModule(
    createCoreApi(registry, (level, category, message) =>
      logger.log(level, category === 'user' ? 'app' : 'worker', message),
    ),
  );
  const { programmingModel } = await loadApp(appRoot, registry);
  const appProxy = await readAppHttpProxy(
    async () => (await programmingModel.getCapabilities?.({})) ?? {},
  );
  if (appProxy) logger.log('information', 'host', 'HTTP streams are enabled');

  const httpFunctions: HttpFunction[] = [];
  const timerFunctions: TimerFunction[] = [];
  const descriptions: string[] = [];
  for (const fn of registry.functions.values()) {
    const name = fn.metadata.name;
    const trigger = findTriggerBinding(fn.metadata);
    if (trigger?.type === 'httptrigger') {
      const route = toHttpRoute(fn.metadata, trigger, config.routePrefix, env);
      httpFunctions.push({ route, fn, triggerName: trigger.name });
      const methods = route.methods.size > 0 ? [...route.methods].join(',') : 'any method';
      descriptions.push(`${name}: [${methods}] /${route.route.template}`);
    } else if (trigger?.type === 'timertrigger') {
      const timer = toTimerFunction(fn, trigger, env, config.timezone);
      timerFunctions.push(timer);
      descriptions.push(`${name}: timer, ${timer.schedule.description}`);
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
  const timerRunners = timerFunctions.map((timer) => {
    const runner = new TimerRunner(timer.schedule, (info) => runTimer(timer, info));
    runner.start(timer.runOnStartup);
    return runner;
  });

  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  for (const description of descriptions) logger.log('information', 'host', description);
  const names = [...registry.functions.keys()].join(', ');
  // Printed whatever the log level: scripts and tests wait for this line.
  options.out.write(`Offline Functions host listening on ${url} (functions: ${names})\n`);

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
      appProxy?.close();
      return drained;
    },
  };
}
