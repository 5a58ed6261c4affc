import autocannon from 'autocannon';
import { percentile } from './stats';

export type Method = 'GET' | 'POST';

/** One run of load; latencies are measured per response, in milliseconds. */
export interface LoadResult {
  connections: number;
  /** Responses received (any status). */
  responses: number;
  /** 2xx responses: the changes acknowledged, for a POST. */
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Stop by time (the last requests in flight are cut off) or after exactly `amount` answers. */
export type Limit = { seconds: number } | { amount: number };

/**
 * Drives `urls` with `connections` keep-alive connections in total, split evenly between
 * the urls, one request in flight per connection. With an `amount`, every request sent is
 * answered before this resolves, so a counter can be checked against the 2xx count exactly.
 */
export async function load(
  urls: string[],
  method: Method,
  connections: number,
  limit: Limit,
): Promise<LoadResult> {
  const share = connections / urls.length;
  const parts = await Promise.all(
    urls.map((url) =>
      loadOne(
        url,
        method,
        share,
        'amount' in limit ? { amount: Math.round(limit.amount / urls.length) } : limit,
      ),
    ),
  );
  const latencies = parts.flatMap((part) => part.latencies);
  const seconds = Math.max(...parts.map((part) => part.seconds));
  const responses = latencies.length;
  return {
    connections,
    responses,
    ok: sum(parts.map((part) => part.ok)),
    non2xx: responses - sum(parts.map((part) => part.ok)),
    errors: sum(parts.map((part) => part.errors)),
    seconds,
    requestsPerSecond: responses / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

interface PartResult {
  latencies: number[];
  ok: number;
  errors: number;
  seconds: number;
}

function loadOne(url: string, method: Method, connections: number, limit: Limit) {
  const latencies: number[] = [];
  let ok = 0;
  const started = performance.now();
  let lastAnswer = started;
  return new Promise<PartResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method,
        connections,
        pipelining: 1,
        timeout: 10,
        // The result is only reported at the next sampling tick; a short interval keeps the
        // idle tail of an `amount` run (not counted: we time the last answer) from wasting time.
        sampleInt: 100,
        ...('amount' in limit
          ? { amount: Math.max(connections, limit.amount) }
          : { duration: limit.seconds }),
      },
      (err, result) => {
        if (err) {
          reject(err);
          return;
        }
        resolve({
          latencies,
          ok,
          errors: result.errors,
          // Timed by the last answer: autocannon only notices the end at its next tick.
          seconds: 'amount' in limit ? (lastAnswer - started) / 1000 : limit.seconds,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      latencies.push(responseTimeMs);
      if (statusCode >= 200 && statusCode < 300) ok++;
      lastAnswer = performance.now();
    });
  });
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
