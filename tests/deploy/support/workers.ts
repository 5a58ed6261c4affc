/**
 * FUNCTIONS_WORKER_PROCESS_COUNT for a replica that gets `cores` CPUs: one app process per core,
 * at least one (a fraction of a core still runs one process) and at most 10, Azure's range.
 */
export function workerProcessesFor(cores: number): number {
  return Math.min(10, Math.max(1, Math.round(cores)));
}
