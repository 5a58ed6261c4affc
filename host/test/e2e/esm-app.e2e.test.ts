import path from 'node:path';
import { request, startHostProcess } from '../../src';

describe('an ES module app ("type": "module")', () => {
  it('loads with import(), top-level await included, and answers', async () => {
    const host = await startHostProcess({
      appRoot: path.join(__dirname, '../fixtures/esm-app'),
      env: { LOG_LEVEL: undefined },
    });
    try {
      const reply = await request(`${host.url}/api/greet`);
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('hello from an ES module');
    } finally {
      await host.stop();
    }
  });
});
