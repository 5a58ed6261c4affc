import { mkdirSync } from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { type HostProcess, projectRoot, startHost } from '../support/host-process';
import { request } from '../support/http';
import { describeWithTool, findTool } from '../support/system-tool';
import { tempDir } from '../support/temp-dir';

// The page at / in a real headless Chromium (Debian's, driven by puppeteer-core: nothing is
// downloaded), against the offline host.

const chromium = findTool('chromium') ?? findTool('chromium-browser');
const SCREENSHOT = path.join(projectRoot, 'docs', 'page.png');
// The page's open stream would hold each host's shutdown for the default 10 s.
const env = { BACKUP_SCHEDULE: '0 0 0 1 1 *', LOG_LEVEL: 'warning', SHUTDOWN_TIMEOUT_MS: '1000' };

describeWithTool(
  'Chromium',
  chromium,
  'apt-get install -y chromium',
)('the page at /', () => {
  const profile = tempDir('counter-chromium-');
  let host: HostProcess;
  let keyed: HostProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [host, keyed] = await Promise.all([
      startHost({ env }),
      startHost({ env: { ...env, COUNTER_READ_KEY: 'reader', COUNTER_WRITE_KEY: 'writer' } }),
    ]);
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      userDataDir: profile.dir,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);
  beforeEach(async () => {
    page = await browser.newPage();
    await page.setViewport({ width: 560, height: 680 });
  });
  afterEach(() => page?.close());
  afterAll(async () => {
    await browser?.close();
    await Promise.all([host?.stop(), keyed?.stop()]);
    profile.remove();
  });

  // Page functions are given as text: they run in the browser, not under Node's types.
  const shown = (expected: string) =>
    page.waitForFunction(
      `document.getElementById('value').textContent === ${JSON.stringify(expected)}`,
      { timeout: 5_000 },
    );
  const listed = (name: string, value: string) =>
    page.waitForFunction(
      `[...document.querySelectorAll('#counters button')].some((b) => b.dataset.name === ${JSON.stringify(name)} && b.lastChild.textContent === ${JSON.stringify(value)})`,
      { timeout: 10_000 },
    );

  const status = () => page.$eval('#status', (element) => element.textContent ?? '');

  it('shows the value, changes it with the buttons, and shows a change made over HTTP', async () => {
    await request(`${host.url}/increment/demo?by=41`, { method: 'POST' });
    await page.goto(`${host.url}/#demo`);
    await shown('41');
    expect(await page.$eval('#name', (input) => (input as { value?: string }).value)).toBe('demo');

    await page.click('#increment');
    await shown('42');
    expect((await request(`${host.url}/get/demo`)).json()).toEqual({ value: 42 });

    await request(`${host.url}/decrement/demo?by=2`, { method: 'POST' });
    await shown('40');

    await page.click('#increment');
    await shown('41');
    await request(`${host.url}/increment/demo`, { method: 'POST' });
    await shown('42');
    expect(await status()).toBe('live');
    await listed('demo', '42');
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
  });

  it('follows another counter when the name changes', async () => {
    await request(`${host.url}/increment/other?by=7`, { method: 'POST' });
    await page.goto(`${host.url}/`);
    await page.type('#name', 'other');
    await page.keyboard.press('Enter');
    await page.$eval('#name', (input) => input.dispatchEvent(new Event('change')));
    await shown('7');
  });

  it('lists the counters with their values, exact beyond 2^53, and shows the one picked', async () => {
    await request(`${host.url}/increment/apple?by=5`, { method: 'POST' });
    await request(`${host.url}/increment/banana?by=9007199254740993`, { method: 'POST' });
    await page.goto(`${host.url}/`);
    await listed('apple', '5');
    await listed('banana', '9007199254740993');
    await page.click('#counters button[data-name="banana"]');
    await shown('9007199254740993');
    expect(await page.$eval('#name', (input) => (input as { value?: string }).value)).toBe(
      'banana',
    );
    expect(await page.evaluate('location.hash')).toBe('#banana');
  });

  it("keeps the shown counter's entry in the list live", async () => {
    await request(`${host.url}/increment/cherry?by=2`, { method: 'POST' });
    await page.goto(`${host.url}/#cherry`);
    await listed('cherry', '2');
    await request(`${host.url}/increment/cherry`, { method: 'POST' });
    await shown('3');
    await listed('cherry', '3');
  });

  it('lists a counter the page creates at once', async () => {
    await page.goto(`${host.url}/#fresh-from-page`);
    await shown('0');
    await page.click('#increment');
    await listed('fresh-from-page', '1');
  });

  it('lists the counters only once the key is typed, when the API asks for one', async () => {
    await request(`${keyed.url}/increment/listed-private?by=8`, {
      method: 'POST',
      headers: { authorization: 'Bearer writer' },
    });
    await page.goto(`${keyed.url}/`);
    await page.waitForFunction(
      `/needs a key/.test(document.getElementById('counters-note').textContent)`,
      { timeout: 5_000 },
    );
    await page.type('#key', 'reader');
    await page.$eval('#key', (input) => input.dispatchEvent(new Event('change')));
    await listed('listed-private', '8');
  });

  it('says a key is needed when the API asks for one, and works once it is typed', async () => {
    await request(`${keyed.url}/increment/private?by=3`, {
      method: 'POST',
      headers: { authorization: 'Bearer writer' },
    });
    await page.goto(`${keyed.url}/#private`);
    await page.waitForFunction(
      `/needs a key/.test(document.getElementById('status').textContent)`,
      { timeout: 5_000 },
    );
    await page.type('#key', 'writer');
    await page.$eval('#key', (input) => input.dispatchEvent(new Event('change')));
    await shown('3');
    await page.click('#increment');
    await shown('4');
  });
});
