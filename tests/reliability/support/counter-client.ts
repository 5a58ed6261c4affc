import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';

export type ChangeKind = 'increment' | 'decrement';

export interface PlannedChange {
  /** Index of the host that receives the change. */
  target: number;
  kind: ChangeKind;
  by: bigint;
  /** A named counter; the default counter when absent. */
  name?: string;
}

/** What one change request did, as seen by its client. */
export interface ChangeRecord extends PlannedChange {
  /** performance.now() just before the request was sent and once its answer was read. */
  startedAt: number;
  endedAt: number;
  /** Undefined when no answer came (connection refused or reset: the host died). */
  status?: number;
  /** The value in a 200 answer. */
  value?: bigint;
  headers?: IncomingHttpHeaders;
  text?: string;
}

export interface AckedChange extends ChangeRecord {
  status: 200;
  value: bigint;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

const VALUE_BODY = /^\{"value":(-?[0-9]+)\}$/;

/** The exact value of a `{"value": N}` body (never through a double), or undefined. */
export function valueOf(text: string): bigint | undefined {
  const match = VALUE_BODY.exec(text);
  return match ? BigInt(match[1]) : undefined;
}

export const isAcked = (record: ChangeRecord): record is AckedChange =>
  record.status === 200 && record.value !== undefined;

/**
 * A client that keeps connections alive, so thousands of requests do not exhaust ports.
 * Written on node:http rather than a load generator such as autocannon because every
 * single answer matters here: its value, its status and when it started and ended.
 */
export class CounterClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });

  send(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        url,
        { method: init.method ?? 'GET', headers: init.headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });
  }

  /** The current value; throws unless the answer is a 200 with a value. */
  async get(baseUrl: string): Promise<bigint> {
    const reply = await this.send(`${baseUrl}/get`);
    const value = valueOf(reply.text);
    if (reply.status !== 200 || value === undefined) {
      throw new Error(`GET ${baseUrl}/get answered ${reply.status} ${reply.text}`);
    }
    return value;
  }

  /** Sends one change and records what came back; a failed connection is a record too. */
  async change(baseUrl: string, planned: PlannedChange): Promise<ChangeRecord> {
    const startedAt = performance.now();
    try {
      const name = planned.name === undefined ? '' : `/${planned.name}`;
      const reply = await this.send(`${baseUrl}/${planned.kind}${name}?by=${planned.by}`, {
        method: 'POST',
      });
      return {
        ...planned,
        startedAt,
        endedAt: performance.now(),
        status: reply.status,
        value: reply.status === 200 ? valueOf(reply.text) : undefined,
        headers: reply.headers,
        text: reply.text,
      };
    } catch {
      return { ...planned, startedAt, endedAt: performance.now() };
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LoadOptions {
  client: CounterClient;
  /** Requests in flight at once. */
  concurrency: number;
  /** The i-th change to send, or undefined when the load is over. */
  next: (i: number) => PlannedChange | undefined;
  /** Base URL of a target, looked up at send time (a restarted host has a new port). */
  urlOf: (target: number) => string;
}

export interface RunningLoad {
  /** Every change answered so far (or failed to connect), in the order the answers came. */
  readonly records: ChangeRecord[];
  /**
   * Resolves once `condition` holds for the records, checked at each new record: the way a
   * test lines a fault up with the load at a known point (after N acknowledged changes,
   * say) rather than after a sleep. Rejects if the load ends first.
   */
  until(condition: (records: ChangeRecord[]) => boolean): Promise<ChangeRecord[]>;
  /** Sends no more changes; resolves with all records once those in flight are answered. */
  stop(): Promise<ChangeRecord[]>;
  /** Resolves with all records when `next` has run out and every answer is in. */
  done: Promise<ChangeRecord[]>;
}

/** Keeps `concurrency` changes in flight until `next` runs out or `stop()` is called. */
export function startLoad(options: LoadOptions): RunningLoad {
  const records: ChangeRecord[] = [];
  const waiters = new Set<{ condition: (r: ChangeRecord[]) => boolean; met: () => void }>();
  let sent = 0;
  let stopped = false;
  const worker = async () => {
    for (;;) {
      if (stopped) return;
      const planned = options.next(sent);
      if (planned === undefined) return;
      sent += 1;
      records.push(await options.client.change(options.urlOf(planned.target), planned));
      for (const waiter of waiters) if (waiter.condition(records)) waiter.met();
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency }, worker)).then(() => records);
  const ended = done.then(() => {
    throw new Error(`the load ended (${records.length} changes) before the awaited condition held`);
  });
  // Only a pending `until` cares that the load ended; nobody waiting is no failure.
  ended.catch(() => undefined);
  return {
    records,
    done,
    until: (condition) => {
      if (condition(records)) return Promise.resolve(records);
      let waiter!: { condition: typeof condition; met: () => void };
      const met = new Promise<ChangeRecord[]>((resolve) => {
        waiter = { condition, met: () => resolve(records) };
        waiters.add(waiter);
      });
      return Promise.race([met, ended]).finally(() => waiters.delete(waiter));
    },
    stop: () => {
      stopped = true;
      return done;
    },
  };
}

/** How many of `records` were acknowledged with a 200. */
export const ackedCount = (records: ChangeRecord[]): number => records.filter(isAcked).length;

export const sum = (values: bigint[]): bigint => values.reduce((a, b) => a + b, 0n);

/** Net effect of the acknowledged changes: + for increments, − for decrements. */
export const ackedNet = (records: ChangeRecord[]): bigint =>
  sum(records.filter(isAcked).map((r) => (r.kind === 'increment' ? r.by : -r.by)));

/** A value some request saw, and when that request was sent and answered. */
export interface TimedValue {
  startedAt: number;
  endedAt: number;
  value: bigint;
  /** A GET; otherwise an increment, which must see a value larger than anything before it. */
  read?: boolean;
}

/** Keeps `concurrency` GETs in flight over `urls` until stopped; failed GETs are left out. */
export function startReads(
  client: CounterClient,
  urls: string[],
  concurrency: number,
): { stop(): Promise<TimedValue[]> } {
  const reads: TimedValue[] = [];
  let stopped = false;
  let sent = 0;
  const worker = async () => {
    while (!stopped) {
      const url = urls[sent++ % urls.length];
      const startedAt = performance.now();
      const value = await client.get(url).catch(() => undefined);
      if (value !== undefined)
        reads.push({ startedAt, endedAt: performance.now(), value, read: true });
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, worker));
  return {
    stop: async () => {
      stopped = true;
      await done;
      return reads;
    },
  };
}

/**
 * Pairs of requests on a counter that only grows, where `earlier` was answered before
 * `later` was sent, yet `later` saw too small a value: an increment must see more than
 * anything answered before it started, a read at least as much. Sweeps the answers in end
 * order against the requests in start order, O(n log n).
 */
export function realTimeOrderViolations<T extends TimedValue>(
  seen: T[],
): Array<{ earlier: T; later: T }> {
  const byEnd = [...seen].sort((a, b) => a.endedAt - b.endedAt);
  const byStart = [...seen].sort((a, b) => a.startedAt - b.startedAt);
  const violations: Array<{ earlier: T; later: T }> = [];
  let highestFinished: T | undefined;
  let i = 0;
  for (const later of byStart) {
    while (i < byEnd.length && byEnd[i].endedAt < later.startedAt) {
      if (highestFinished === undefined || byEnd[i].value > highestFinished.value) {
        highestFinished = byEnd[i];
      }
      i += 1;
    }
    if (
      highestFinished !== undefined &&
      (later.read ? highestFinished.value > later.value : highestFinished.value >= later.value)
    ) {
      violations.push({ earlier: highestFinished, later });
    }
  }
  return violations;
}
