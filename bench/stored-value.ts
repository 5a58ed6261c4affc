import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseStoredValue } from '../shared/store/counter-value';
import { DATA_FILE } from '../shared/store/file-counter';

/** The values in `data.bin` of each directory, summed. */
export async function storedTotal(dirs: string[]): Promise<bigint> {
  const values = await Promise.all(dirs.map(readValue));
  return values.reduce((sum, value) => sum + value, 0n);
}

/**
 * `storedTotal` once it has not changed for `settleMs`: the commits of a load that just ended
 * (a warm-up's last ones) have landed, so a measured run can start from a fixed value.
 */
export async function settledTotal(dirs: string[], settleMs: number): Promise<bigint> {
  let previous = await storedTotal(dirs);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const current = await storedTotal(dirs);
    if (current === previous) return current;
    previous = current;
  }
}

async function readValue(dataDir: string): Promise<bigint> {
  const parsed = parseStoredValue(await fs.readFile(path.join(dataDir, DATA_FILE), 'latin1'));
  if (!parsed.ok) throw new Error(`${DATA_FILE} in ${dataDir} is corrupt: ${parsed.reason}`);
  return parsed.value;
}
