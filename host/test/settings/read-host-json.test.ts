import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseHostJson, readHostJson } from '../../src/settings/read-host-json';

describe('readHostJson', () => {
  it('defaults the route prefix to "api" when there is no host.json', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'host-json-'));
    try {
      await expect(readHostJson(dir)).resolves.toEqual({ routePrefix: 'api' });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('parseHostJson', () => {
  it('reads extensions.http.routePrefix, including the empty prefix', () => {
    expect(
      parseHostJson('{"extensions":{"http":{"routePrefix":""}}}', 'host.json').routePrefix,
    ).toBe('');
    expect(
      parseHostJson('{"extensions":{"http":{"routePrefix":"/v1/"}}}', 'host.json').routePrefix,
    ).toBe('v1');
  });

  it('defaults the route prefix to "api" when host.json sets none', () => {
    expect(parseHostJson('{"version":"2.0"}', 'host.json').routePrefix).toBe('api');
  });

  it('reads logging.logLevel.default as the log level', () => {
    const json = '{"logging":{"logLevel":{"default":"Warning"}}}';
    expect(parseHostJson(json, 'host.json').defaultLogLevel).toBe('warning');
  });

  it('fails start-up on invalid JSON or an unknown log level', () => {
    expect(() => parseHostJson('{', 'host.json')).toThrow(/host\.json is not valid JSON/);
    expect(() => parseHostJson('{"logging":{"logLevel":{"default":"Loud"}}}', 'host.json')).toThrow(
      /not a log level/,
    );
  });
});
