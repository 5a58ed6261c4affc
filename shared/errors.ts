/**
 * Every failure the app reports is a CounterError with a kind; `http-response.ts` maps
 * kinds to statuses in one place, so handlers never pick status codes themselves.
 */
export type CounterErrorKind =
  | 'badRequest'
  | 'unauthorized'
  | 'forbidden'
  | 'notFound'
  | 'methodNotAllowed'
  | 'payloadTooLarge'
  | 'unsupportedMediaType'
  | 'overflow'
  | 'tooManyCounters'
  | 'tooManyWatchers'
  | 'storageUnavailable';

export class CounterError extends Error {
  constructor(
    readonly kind: CounterErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CounterError';
  }
}

export const badRequest = (message: string) => new CounterError('badRequest', message);
/** `cause`: the failure underneath (an errno, a lock timeout), for metrics and logs. */
export const storageUnavailable = (message: string, cause?: unknown) =>
  new CounterError('storageUnavailable', message, { cause });
