import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type HostProcess, startHost } from '../../support/host-process';

/** A schedule that never fires during a test run, so no backup races the test's own writes. */
export const NO_BACKUPS = '0 0 0 1 1 *';

export interface HostGroupOptions {
  dataDir: string;
  env?: Record<string, string | undefined>;
}

/**
 * Offline hosts sharing one data directory, as replicas on a shared volume do. Each is its
 * own process on its own port; `restart(i)` replaces a dead one (it gets a new port).
 */
export class HostGroup {
  private constructor(
    private readonly options: HostGroupOptions,
    readonly hosts: HostProcess[],
  ) {}

  static async start(count: number, options: HostGroupOptions): Promise<HostGroup> {
    const hosts = await Promise.all(Array.from({ length: count }, () => HostGroup.spawn(options)));
    return new HostGroup(options, hosts);
  }

  private static spawn(options: HostGroupOptions): Promise<HostProcess> {
    return startHost({
      dataDir: options.dataDir,
      env: { LOG_LEVEL: 'warning', BACKUP_SCHEDULE: NO_BACKUPS, ...options.env },
      readyTimeoutMs: 30_000,
    });
  }

  get urls(): string[] {
    return this.hosts.map((host) => host.url);
  }

  pid(i: number): number {
    const pid = this.hosts[i].proc.pid;
    if (pid === undefined) throw new Error(`host ${i} has no pid`);
    return pid;
  }

  async restart(i: number): Promise<void> {
    await this.hosts[i].stop('SIGKILL');
    this.hosts[i] = await HostGroup.spawn(this.options);
  }

  /** Everything the hosts printed, for failure messages and log assertions. */
  logs(): string {
    return this.hosts.map((host, i) => `--- host ${i}\n${host.logs()}`).join('\n');
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.hosts.map((host) => host.stop('SIGKILL')));
  }
}

/** The exact text of a file in the data directory, or undefined when it is missing. */
export function fileText(dataDir: string, name: string): string | undefined {
  const file = path.join(dataDir, name);
  return existsSync(file) ? readFileSync(file, 'latin1') : undefined;
}

/** data.bin as the SPEC writes it: exactly the ASCII decimal digits, nothing around them. */
export function storedValue(dataDir: string, name = 'data.bin'): bigint {
  const text = fileText(dataDir, name);
  if (text === undefined || !/^-?[0-9]+$/.test(text)) {
    throw new Error(`${name} does not hold a plain decimal value: ${JSON.stringify(text)}`);
  }
  return BigInt(text);
}

/** Files that self-healing moved aside (`data.bin.corrupt-…`, `backup.bin.corrupt-…`). */
export const filesMovedAside = (dataDir: string): string[] =>
  readdirSync(dataDir).filter((name) => name.includes('.corrupt-'));
