import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

/** Kestrel's `MinRequestBodyDataRate`, which the Functions host keeps: 240 bytes/s after 5 s. */
export const MIN_REQUEST_BODY_RATE = { bytesPerSecond: 240, graceMs: 5_000 } as const;

export interface MinDataRate {
  bytesPerSecond: number;
  graceMs: number;
}

interface Watch {
  req: IncomingMessage;
  res: ServerResponse;
  /** The socket's `bytesRead` when the body began. */
  baseBytes: number;
  /** Time spent waiting for the client, not counting while the app had data it had not read. */
  waitedMs: number;
  lastCheck: number;
}

/**
 * Cuts off clients that send a request body slower than a minimum rate, as Kestrel does,
 * instead of limiting a request's total time: an upload may take as long as it needs while it
 * keeps moving. The rate is the body's average since it began, checked every second once the
 * grace period has passed. Time while the app has not read what already arrived does not
 * count: then the app is slow, not the client. One timer serves every request.
 */
export class BodyRateGuard {
  private readonly watches = new Set<Watch>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rate: MinDataRate,
    private readonly onTooSlow: (req: IncomingMessage, res: ServerResponse) => void,
    private readonly checkIntervalMs = 1_000,
  ) {}

  /** Watches the body of `req` until it has arrived, or the exchange is over. */
  watch(req: IncomingMessage, res: ServerResponse): void {
    if (req.complete || !hasBody(req)) return;
    const watch: Watch = {
      req,
      res,
      baseBytes: req.socket.bytesRead,
      waitedMs: 0,
      lastCheck: performance.now(),
    };
    this.watches.add(watch);
    const unwatch = () => this.unwatch(watch);
    req.once('end', unwatch).once('close', unwatch);
    res.once('close', unwatch);
    this.timer ??= setInterval(() => this.check(), this.checkIntervalMs).unref();
  }

  private unwatch(watch: Watch): void {
    this.watches.delete(watch);
    if (this.watches.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private check(): void {
    const now = performance.now();
    for (const watch of this.watches) {
      const { req } = watch;
      // Data the app has not taken yet: the client is not the one holding things up.
      if (req.readableLength === 0) watch.waitedMs += now - watch.lastCheck;
      watch.lastCheck = now;
      if (watch.waitedMs <= this.rate.graceMs) continue;
      const bytes = req.socket.bytesRead - watch.baseBytes;
      if (bytes / (watch.waitedMs / 1000) < this.rate.bytesPerSecond) {
        this.unwatch(watch);
        this.onTooSlow(req, watch.res);
      }
    }
  }
}

function hasBody(req: IncomingMessage): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
  );
}
