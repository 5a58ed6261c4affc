/**
 * The errno code of a failed system call (`ENOENT`, `EACCES`, …), or undefined. Duck-typed
 * rather than `(err as NodeJS.ErrnoException).code`: nothing guarantees what was thrown, and
 * errors from Node's core can come from another realm, so `instanceof Error` would not do.
 */
export const errnoOf = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
