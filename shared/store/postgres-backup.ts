import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isCounterName } from '../counter-name';
import { parseStoredValue } from './counter-value';
import { errnoOf } from '../errno';
import type { BackupRun, CounterEntry, Warn } from './engine';
import { BACKUP_FILE, DATA_FILE, exists, fsyncDirectory, writeAtomically } from './file-counter';
import { COUNTERS_DIR } from './files';

// Different counters are different files: a few at a time keep the disk busy without
// flooding libuv's thread pool, which the request handlers share.
const PARALLELISM = 8;

/**
 * Writes the database's counters into `dataDir` in the file store's layout: `backup.bin` for
 * the default counter ('' in `rows`), `counters/<name>/backup.bin` for each named one whose
 * backup does not already hold its value. Backups of counters deleted from the database are
 * removed, as the file store removes them with the counter; a directory that holds a
 * `data.bin` belongs to the file store and is left alone.
 */
export async function writeBackups(
  dataDir: string,
  rows: readonly CounterEntry[],
  warn: Warn,
): Promise<BackupRun> {
  const defaultValue = rows.find((row) => row.name === '')?.value ?? 0n;
  await fs.mkdir(dataDir, { recursive: true });
  await writeIfChanged(path.join(dataDir, BACKUP_FILE), defaultValue);

  const named = rows.filter((row) => row.name !== '');
  const countersDir = path.join(dataDir, COUNTERS_DIR);
  if (named.length > 0) await fs.mkdir(countersDir, { recursive: true });
  let written = 0;
  const failed: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < named.length) {
      const { name, value } = named[next++];
      try {
        const dir = path.join(countersDir, name);
        if (!(await exists(dir))) {
          await fs.mkdir(dir);
          await fsyncDirectory(countersDir);
        }
        if (await writeIfChanged(path.join(dir, BACKUP_FILE), value)) written++;
      } catch (err) {
        warn(
          `backup of counter "${name}" failed (${errnoOf(err) ?? String(err)}); tried again at the next run`,
        );
        failed.push(name);
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLELISM }, worker));
  await removeDeleted(countersDir, new Set(named.map((row) => row.name)));
  return { defaultValue, named: written, failed };
}

/** True when `file` did not hold `value` and now does (durably). */
async function writeIfChanged(file: string, value: bigint): Promise<boolean> {
  const current = await fs.readFile(file, 'latin1').catch(() => undefined);
  const parsed = current === undefined ? undefined : parseStoredValue(current);
  if (parsed?.ok && parsed.value === value) return false;
  await writeAtomically(file, value);
  return true;
}

async function removeDeleted(countersDir: string, live: Set<string>): Promise<void> {
  const entries = await fs.readdir(countersDir).catch(() => [] as string[]);
  for (const name of entries.filter((entry) => isCounterName(entry) && !live.has(entry))) {
    const dir = path.join(countersDir, name);
    if (await exists(path.join(dir, DATA_FILE))) continue;
    await fs.rm(path.join(dir, BACKUP_FILE), { force: true }).catch(() => undefined);
    await fs.rmdir(dir).catch(() => undefined);
  }
}
