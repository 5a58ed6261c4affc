import path from 'node:path';
import { request, startHostProcess } from '../../src';

describe("an app shaped like Microsoft's TypeScript quickstart", () => {
  it('loads "main": "lib/src/{index.js,functions/*.js}" with streams enabled, and answers', async () => {
    const host = await startHostProcess({
      appRoot: path.join(__dirname, '../fixtures/template-app'),
      env: { LOG_LEVEL: undefined },
    });
    try {
      const reply = await request(`${host.url}/api/hello?name=Ada`);
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('Hello, Ada!');
      expect(host.logs()).toContain('HTTP streams are enabled');
    } finally {
      await host.stop();
    }
  });
});
