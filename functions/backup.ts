import { performance } from 'node:perf_hooks';
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { recordBackup } from '../shared/metrics';
import { getConfig, getCounters, warnTo } from '../shared/services';
import type { BackupRun } from '../shared/store/engine';

export async function backup(timer: Timer, context: InvocationContext): Promise<void> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  let run: BackupRun;
  try {
    run = await getCounters().backup(warnTo(context));
  } catch (error) {
    recordBackup(false, seconds());
    throw error;
  }
  recordBackup(run.failed.length === 0, seconds());
  const late = timer.isPastDue ? ' (this run was late)' : '';
  context.log(
    `backed up ${run.defaultValue} to backup.bin and ${run.named} named counter(s) changed since the last run, in ${Math.round(seconds() * 1000)} ms${late}`,
  );
  if (run.failed.length > 0) {
    context.warn(
      `could not back up ${run.failed.length} named counter(s), retried at the next run: ${run.failed.slice(0, 10).join(', ')}`,
    );
  }
}

// Resolved when the module loads, so an invalid schedule or config.json stops start-up.
app.timer('backup', { schedule: getConfig().backupSchedule, handler: backup });
