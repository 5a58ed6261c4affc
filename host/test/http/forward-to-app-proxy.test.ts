import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { proxyAgent } from '../../src/http/forward-to-app-proxy';

let server: Server;
beforeAll(async () => {
  // The library's proxy is a plain Node server: it announces `Keep-Alive: timeout=5`.
  server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => {
  proxyAgent.destroy();
  server.close();
});

describe('the connections to the library proxy', () => {
  it('are retired before the proxy closes them for idleness, so no request is sent on a closing one', async () => {
    const { port } = server.address() as AddressInfo;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, agent: proxyAgent }, (res) => {
        res.resume();
        res.on('end', () => setImmediate(() => resolve(req.socket as Socket)));
      });
      req.on('error', reject);
      req.end();
    });
    const idle = Object.values(proxyAgent.freeSockets).flat();
    expect(idle).toContain(socket);
    expect(socket.timeout).toBeGreaterThan(0);
    expect(socket.timeout).toBeLessThan(server.keepAliveTimeout);
  });
});
