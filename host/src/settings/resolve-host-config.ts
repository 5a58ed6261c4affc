import type { RpcLogLevel } from '../core/core-types';
import { type CorsPolicy, resolveCorsPolicy } from '../http/cors-policy';
import { HostStartupError } from '../utils/host-startup-error';
import type { HostJson } from './read-host-json';
import type { Environment, LocalHostSettings } from './load-settings';
import { logLevelNames, parseLogLevel } from '../utils/logger';

export interface HostConfig {
  host: string;
  port: number;
  logLevel: RpcLogLevel;
  routePrefix: string;
  cors: CorsPolicy | undefined;
  /** How long shutdown waits for requests and timer runs under way. */
  shutdownTimeoutMs: number;
  /** IANA time zone for timer schedules (`WEBSITE_TIME_ZONE`); the local zone when unset. */
  timezone: string | undefined;
  /** Larger request bodies are refused with 413 (`FUNCTIONS_REQUEST_BODY_SIZE_LIMIT`). */
  maxRequestBodyBytes: number;
}

/** Azure's default request body limit: 100 MB (104857600 bytes). */
const DEFAULT_MAX_REQUEST_BODY_BYTES = 104_857_600;

const HOST_DEFAULTS = { host: '127.0.0.1', port: 8000, shutdownTimeoutMs: 10_000 } as const;

/**
 * The host's own settings, environment first: `HOST`, `PORT` (else local.settings.json
 * `Host.LocalHttpPort`), `LOG_LEVEL` (else host.json `logging.logLevel.default`),
 * `CORS_ALLOWED_ORIGINS` (else `Host.CORS`), `SHUTDOWN_TIMEOUT_MS`, `WEBSITE_TIME_ZONE`,
 * `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` (bytes, as on Azure).
 */
export function resolveHostConfig(
  env: Environment,
  local: LocalHostSettings,
  hostJson: HostJson,
): HostConfig {
  return {
    host: nonEmpty(env.HOST) ?? HOST_DEFAULTS.host,
    port: parsePort(env.PORT, local.localHttpPort),
    logLevel: parseLevel(env.LOG_LEVEL) ?? hostJson.defaultLogLevel ?? 'information',
    routePrefix: hostJson.routePrefix,
    cors: resolveCorsPolicy(env.CORS_ALLOWED_ORIGINS, local.cors, local.corsCredentials),
    shutdownTimeoutMs: parseShutdownTimeout(env.SHUTDOWN_TIMEOUT_MS),
    timezone: nonEmpty(env.WEBSITE_TIME_ZONE),
    maxRequestBodyBytes: parseBodyLimit(env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT),
  };
}

function parsePort(fromEnv: string | undefined, fromLocalSettings: number | undefined): number {
  const value = nonEmpty(fromEnv);
  if (value === undefined) return fromLocalSettings ?? HOST_DEFAULTS.port;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new HostStartupError(`PORT must be a port number from 0 to 65535; got "${fromEnv}"`);
  }
  return port;
}

function parseLevel(fromEnv: string | undefined): RpcLogLevel | undefined {
  const value = nonEmpty(fromEnv);
  if (value === undefined) return undefined;
  const level = parseLogLevel(value);
  if (!level)
    throw new HostStartupError(`LOG_LEVEL must be one of ${logLevelNames}; got "${fromEnv}"`);
  return level;
}

function parseShutdownTimeout(fromEnv: string | undefined): number {
  const value = nonEmpty(fromEnv);
  if (value === undefined) return HOST_DEFAULTS.shutdownTimeoutMs;
  if (!/^\d+$/.test(value)) {
    throw new HostStartupError(
      `SHUTDOWN_TIMEOUT_MS must be a whole number of milliseconds; got "${fromEnv}"`,
    );
  }
  return Number(value);
}

function parseBodyLimit(fromEnv: string | undefined): number {
  const value = nonEmpty(fromEnv);
  if (value === undefined) return DEFAULT_MAX_REQUEST_BODY_BYTES;
  if (!/^\d+$/.test(value) || Number(value) === 0) {
    throw new HostStartupError(
      `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT must be a positive whole number of bytes; got "${fromEnv}"`,
    );
  }
  return Number(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
