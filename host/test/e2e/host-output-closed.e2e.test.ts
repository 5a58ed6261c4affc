import path from 'node:path';
import { request, startHostProcess } from '../../src';

const basicApp = path.join(__dirname, '../fixtures/basic-app');

// Every request writes an invocation line to stdout, every failing one an error line to stderr.
describe.each([
  ['stdout', 'stderr'],
  ['stderr', 'stdout'],
] as const)('with %s closed by its reader', (closed, open) => {
  it(`keeps answering, stops on SIGTERM, and says on ${open} how many lines it dropped`, async () => {
    const host = await startHostProcess({ appRoot: basicApp, env: { LOG_LEVEL: 'information' } });
    try {
      // As `node host/dist/main.js | head -c 100` once head has exited: the pipe has no reader.
      host.proc[closed]?.destroy();
      for (let i = 0; i < 50; i++) {
        const hello = await request(`${host.url}/api/hello/ada`);
        expect(hello.status).toBe(200);
        const boom = await request(`${host.url}/api/boom`);
        expect(boom.status).toBe(500);
      }
      const exit = await host.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(host.logs()).toMatch(
        new RegExp(
          `WARN {2}\\[host\\] \\d+ log line\\(s\\) dropped: writing to ${closed} failed \\(EPIPE\\)`,
        ),
      );
    } finally {
      await host.stop('SIGKILL');
    }
  });
});
