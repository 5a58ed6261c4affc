// The package ships no types; these are the two calls the directory lock makes.
declare module 'fs-native-extensions' {
  /** Takes an exclusive lock at once or answers false; throws on any other failure. */
  export function tryLock(fd: number): boolean;
  /** Resolves once an exclusive lock is held; waits on a libuv worker thread. */
  export function waitForLock(fd: number): Promise<void>;
}
