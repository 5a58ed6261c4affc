import http, { type Server } from 'node:http';

/**
 * In streaming mode (`app.setup({ enableHttpStream: true })`) the library opens its own HTTP
 * server while the worker asks for its capabilities and reports that server's address as
 * `HttpUri`. The Functions host then forwards each request to that address, tagged with the
 * invocation id, and the library answers it with the handler's response, streamed.
 */
export interface AppHttpProxy {
  /** The `HttpUri` capability: where requests are forwarded to. */
  readonly uri: URL;
  /** Closes the servers the library opened, once the host has stopped serving. */
  close(): void;
}

/**
 * Asks the programming model for its capabilities, as the worker does at start-up (this also
 * locks the app's `app.setup(...)`). Returns the proxy when the app enabled streaming.
 */
export async function readAppHttpProxy(
  getCapabilities: () => Promise<Record<string, string>>,
): Promise<AppHttpProxy | undefined> {
  const { result: capabilities, servers } = await capturingServers(getCapabilities);
  if (!capabilities.HttpUri) {
    for (const server of servers) server.close();
    return undefined;
  }
  return {
    uri: new URL(capabilities.HttpUri),
    close() {
      for (const server of servers) {
        server.close();
        server.closeAllConnections();
      }
    },
  };
}

/**
 * Runs `work` noting every HTTP server created meanwhile: the library creates its proxy server
 * with `http.createServer()` and keeps it to itself.
 */
async function capturingServers<T>(
  work: () => Promise<T>,
): Promise<{ result: T; servers: Server[] }> {
  const servers: Server[] = [];
  const originalCreateServer = http.createServer;
  const capture = (...args: Parameters<typeof http.createServer>): Server => {
    const server = Reflect.apply(originalCreateServer, http, args) as Server;
    servers.push(server);
    return server;
  };
  http.createServer = capture as typeof http.createServer;
  try {
    return { result: await work(), servers };
  } finally {
    http.createServer = originalCreateServer;
  }
}
