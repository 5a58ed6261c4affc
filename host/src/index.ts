// The host's public API: run it in-process, or as a child process (tests, benchmarks).
export { startHost, type HostOptions, type RunningHost } from './start-host';
export { HostStartupError } from './utils/host-startup-error';
export { resolveHostConfig } from './settings/resolve-host-config';
export {
  hostMain,
  READY_LINE,
  spawnHostProcess,
  spawnServer,
  startHostProcess,
  whenReady,
  type HostProcessOptions,
  type ReadyServer,
  type ServerExit,
  type SpawnedServer,
  type SpawnOptions,
} from './testing/host-process';
export { request, type HttpReply, type RequestOptions } from './testing/request';
