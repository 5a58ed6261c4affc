/** An error for the log: its stack where there is one (never sent to clients). */
export function describeError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
