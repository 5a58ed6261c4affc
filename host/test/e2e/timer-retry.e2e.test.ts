import path from 'node:path';
import { startHostProcess } from '../../src';

describe('a timer with a retry policy', () => {
  it('is run again after a failure, told which retry it is, until it passes', async () => {
    const host = await startHostProcess({
      appRoot: path.join(__dirname, '../fixtures/retry-app'),
      env: { LOG_LEVEL: undefined },
    });
    try {
      await host.waitForLog(/flaky passes on attempt 2 of 3/);
      await host.waitForLog(/timer -> succeeded on retry 2/);
      // The failed attempts are named on the error level, which is stderr: a pipe of its own,
      // read in its own time, so they are waited for rather than expected already there.
      await host.waitForLog(/Executed 'Functions\.flaky' \(Failed, .*flaky fails on attempt 0/);
      await host.waitForLog(/Executed 'Functions\.flaky' \(Failed, .*flaky fails on attempt 1/);
    } finally {
      await host.stop();
    }
  });
});
