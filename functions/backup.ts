import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getConfig, getStore, warnTo } from '../shared/services';

export async function backup(timer: Timer, context: InvocationContext): Promise<void> {
  const value = await getStore().backup(warnTo(context));
  context.log(`backed up ${value} to backup.bin${timer.isPastDue ? ' (this run was late)' : ''}`);
}

// Resolved when the module loads, so an invalid schedule or config.json stops start-up.
app.timer('backup', { schedule: getConfig().backupSchedule, handler: backup });
