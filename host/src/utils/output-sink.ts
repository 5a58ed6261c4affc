import { describeError } from './describe-error';
import { errnoOf } from './errno';
import type { LineSink } from './logger';

/** A stream the host writes its log lines to: process.stdout or process.stderr. */
export interface OutputStream {
  write(chunk: string, callback: (err?: Error | null) => void): boolean;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * A log output that can fail without taking the host with it. When the reader of stdout or
 * stderr goes away (`| head`, a closed terminal, a collector that died), writing fails with
 * EPIPE, or EBADF on a closed descriptor; unhandled, that error is an uncaught exception,
 * whose report is written to the same failing stream, and the host spins logging its own
 * failure. Here the first failure marks the output failed, and every line from then on
 * (and any in flight when it failed) is dropped and counted, so serving goes on.
 */
export class OutputSink implements LineSink {
  /** Lines that never reached the output. */
  dropped = 0;
  /** Why the output failed (its error code), once it has. */
  failure: string | undefined;

  constructor(
    readonly name: string,
    private readonly stream: OutputStream,
  ) {
    stream.on('error', (err) => this.fail(err));
  }

  write(line: string): boolean {
    if (this.failure !== undefined) {
      this.dropped += 1;
      return false;
    }
    try {
      return this.stream.write(line, (err) => {
        if (err) {
          this.dropped += 1;
          this.fail(err);
        }
      });
    } catch (err) {
      // A descriptor closed before the stream first used it throws at once.
      this.dropped += 1;
      this.fail(err);
      return false;
    }
  }

  /** One line on what was dropped, or undefined if nothing was. */
  summary(): string | undefined {
    if (this.dropped === 0) return undefined;
    return `${this.dropped} log line(s) dropped: writing to ${this.name} failed (${this.failure ?? 'unknown error'})`;
  }

  private fail(err: unknown): void {
    this.failure ??= errnoOf(err) ?? describeError(err);
  }
}
