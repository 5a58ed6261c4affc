/**
 * A reason the host cannot start that the user can fix; its message says what and how.
 * main.ts prints it without a stack trace and exits non-zero.
 */
export class HostStartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HostStartupError';
  }
}
