import type { RpcLogLevel } from '../core/core-types';

const SEVERITY: Record<RpcLogLevel, number> = {
  trace: 0,
  debug: 1,
  information: 2,
  warning: 3,
  error: 4,
  critical: 5,
  none: 6,
};

const LEVEL_LABELS: Record<RpcLogLevel, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  information: 'INFO ',
  warning: 'WARN ',
  error: 'ERROR',
  critical: 'CRIT ',
  none: '',
};

const LEVEL_ALIASES: Record<string, RpcLogLevel> = {
  info: 'information',
  warn: 'warning',
  fatal: 'critical',
};

/** Parses a `LOG_LEVEL` value (`trace` … `none`, any case, `info`/`warn` accepted). */
export function parseLogLevel(value: string): RpcLogLevel | undefined {
  const name = value.trim().toLowerCase();
  if (name in SEVERITY) return name as RpcLogLevel;
  return LEVEL_ALIASES[name];
}

export const logLevelNames = Object.keys(SEVERITY).join('|');

export interface LineSink {
  write(line: string): unknown;
}

export interface Logger {
  readonly level: RpcLogLevel;
  isEnabled(level: RpcLogLevel): boolean;
  /** Writes one line, `<ISO time> <LEVEL> [<source>] <message>`, as a single write. */
  log(level: RpcLogLevel, source: string, message: string): void;
}

/** Warnings and errors go to `errors`, everything else to `out`. */
export function createLogger(level: RpcLogLevel, out: LineSink, errors: LineSink): Logger {
  const threshold = SEVERITY[level];
  return {
    level,
    isEnabled: (candidate) => candidate !== 'none' && SEVERITY[candidate] >= threshold,
    log(candidate, source, message) {
      if (candidate === 'none' || SEVERITY[candidate] < threshold) return;
      const line = `${new Date().toISOString()} ${LEVEL_LABELS[candidate]} [${source}] ${message}\n`;
      (SEVERITY[candidate] >= SEVERITY.warning ? errors : out).write(line);
    },
  };
}
