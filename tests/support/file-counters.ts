import { Counters, type CountersOptions } from '../../shared/store/counters';
import type { Warn } from '../../shared/store/engine';
import { FilesEngine, type FilesEngineOptions } from '../../shared/store/files';

/** Counters on the file engine, as the app builds them when no database is set. */
export const fileCounters = (
  options: Partial<FilesEngineOptions> & { dataDir: string } & CountersOptions,
): Counters =>
  new Counters(
    new FilesEngine({ maxNamed: 10_000, ...options, warn: options.warn ?? (() => undefined) }),
    options,
  );

/** The default counter alone, through the same Counters as the app: queue, engine, files. */
export function defaultCounterIn(
  options: Partial<FilesEngineOptions> & { dataDir: string } & CountersOptions,
) {
  const counters = fileCounters(options);
  const engine = counters.engine as FilesEngine;
  return {
    read: (warn?: Warn) => counters.read(undefined, warn),
    add: (delta: bigint, warn?: Warn) => counters.add(undefined, delta, warn),
    set: (value: bigint, warn?: Warn) => counters.set(undefined, value, warn),
    backup: (warn?: Warn) => counters.backup(warn).then((run) => run.defaultValue),
    probeWritable: () => counters.probe(),
    dataDir: engine.dataDir,
  };
}
