/** Counts work under way (requests being answered, timer runs) so shutdown can wait for it. */
export class InFlightTracker {
  private running = 0;
  private readonly onIdle: (() => void)[] = [];

  get count(): number {
    return this.running;
  }

  /** Marks one piece of work as started; call the returned function once when it ends. */
  begin(): () => void {
    this.running++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.running--;
      if (this.running === 0) for (const resolve of this.onIdle.splice(0)) resolve();
    };
  }

  /** Resolves true once nothing is in flight, or false when `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timeout = setTimeout(() => resolve(false), timeoutMs);
      this.onIdle.push(() => {
        clearTimeout(timeout);
        resolve(true);
      });
    });
  }
}
