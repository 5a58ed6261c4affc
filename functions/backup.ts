import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getConfig, getCounters, warnTo } from '../shared/services';

export async function backup(timer: Timer, context: InvocationContext): Promise<void> {
  const started = Date.now();
  const run = await getCounters().backup(warnTo(context));
  const late = timer.isPastDue ? ' (this run was late)' : '';
  context.log(
    `backed up ${run.defaultValue} to backup.bin and ${run.named} named counter(s) changed since the last run, in ${Date.now() - started} ms${late}`,
  );
  if (run.failed.length > 0) {
    context.warn(
      `could not back up ${run.failed.length} named counter(s), retried at the next run: ${run.failed.slice(0, 10).join(', ')}`,
    );
  }
}

// Resolved when the module loads, so an invalid schedule or config.json stops start-up.
app.timer('backup', { schedule: getConfig().backupSchedule, handler: backup });
