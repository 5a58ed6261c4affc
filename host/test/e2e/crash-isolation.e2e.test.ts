import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ReadyServer, request, startHostProcess } from '../../src';

const crashApp = path.join(__dirname, '../fixtures/crash-app');

let host: ReadyServer;

beforeAll(async () => {
  host = await startHostProcess({ appRoot: crashApp, env: { THROW_AFTER_LOAD_MS: '300' } });
});

afterAll(async () => {
  await host?.stop();
});

describe('an error thrown where no handler can catch it', () => {
  it.each([
    ['throwInTimer', 'thrown from a timer callback'],
    ['throwInTick', 'thrown from a nextTick callback'],
    ['floatingRejection', 'a promise nobody awaited'],
  ])(
    '%s fails only its own invocation with 500, while another in flight is answered',
    async (name, message) => {
      const slow = request(`${host.url}/api/slow`);
      const crashed = await request(`${host.url}/api/${name}`);
      expect(crashed.status).toBe(500);
      expect(crashed.text).not.toContain(message);
      expect((await slow).status).toBe(200);
      expect((await slow).text).toBe('slow and fine');
      expect(host.logs()).toContain(message);
    },
  );

  it('leaves the host serving at once, as Core Tools serves again after restarting its worker', async () => {
    await request(`${host.url}/api/throwInTimer`);
    const next = await request(`${host.url}/api/fine`);
    expect(next.status).toBe(200);
    expect(next.text).toBe('fine');
  });

  it('is logged, naming the function, and the host exits with it only when stopped', async () => {
    await request(`${host.url}/api/throwInTick`);
    expect(host.logs()).toMatch(
      /throwInTick.*uncaught exception in code this invocation started; the invocation fails/,
    );
  });

  it('outside any invocation is logged and the host keeps serving', async () => {
    while (!host.logs().includes('thrown by a timer the app started at load time')) {
      await sleep(20);
    }
    expect(host.logs()).toMatch(
      /uncaught exception outside any invocation; the host keeps serving/,
    );
    expect((await request(`${host.url}/api/fine`)).status).toBe(200);
  });
});
