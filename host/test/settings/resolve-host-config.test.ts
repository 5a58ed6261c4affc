import { resolveHostConfig } from '../../src/settings/resolve-host-config';

const noLocal = { corsCredentials: false };
const hostJson = { routePrefix: '' };

describe('resolveHostConfig', () => {
  it('defaults to 127.0.0.1:8000, information logs, a 10 s shutdown wait and a 100 MB body limit', () => {
    expect(resolveHostConfig({}, noLocal, hostJson)).toEqual({
      host: '127.0.0.1',
      port: 8000,
      logLevel: 'information',
      routePrefix: '',
      cors: undefined,
      shutdownTimeoutMs: 10_000,
      timezone: undefined,
      maxRequestBodyBytes: 104_857_600,
    });
  });

  it('takes the request body limit in bytes from FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, as Azure does', () => {
    const env = { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '2048' };
    expect(resolveHostConfig(env, noLocal, hostJson).maxRequestBodyBytes).toBe(2048);
    for (const bad of ['0', '-1', '1MB', '1.5']) {
      expect(() =>
        resolveHostConfig({ FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: bad }, noLocal, hostJson),
      ).toThrow(/FUNCTIONS_REQUEST_BODY_SIZE_LIMIT must be a positive whole number of bytes/);
    }
  });

  it('takes HOST, PORT, LOG_LEVEL, SHUTDOWN_TIMEOUT_MS and WEBSITE_TIME_ZONE from the environment', () => {
    const env = {
      HOST: '0.0.0.0',
      PORT: '9000',
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '2500',
      WEBSITE_TIME_ZONE: 'Europe/Paris',
    };
    expect(resolveHostConfig(env, noLocal, hostJson)).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      logLevel: 'warning',
      shutdownTimeoutMs: 2500,
      timezone: 'Europe/Paris',
    });
  });

  it('falls back to Host.LocalHttpPort and the log level of host.json', () => {
    const config = resolveHostConfig(
      {},
      { corsCredentials: false, localHttpPort: 7071 },
      {
        routePrefix: 'api',
        defaultLogLevel: 'debug',
      },
    );
    expect(config).toMatchObject({ port: 7071, logLevel: 'debug', routePrefix: 'api' });
  });

  it('lets PORT win over Host.LocalHttpPort', () => {
    expect(
      resolveHostConfig({ PORT: '0' }, { corsCredentials: false, localHttpPort: 7071 }, hostJson)
        .port,
    ).toBe(0);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be a port number/],
    [{ PORT: '70000' }, /PORT must be a port number/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ SHUTDOWN_TIMEOUT_MS: '5s' }, /SHUTDOWN_TIMEOUT_MS must be a whole number/],
  ])('fails start-up on %p', (env, message) => {
    expect(() => resolveHostConfig(env, noLocal, hostJson)).toThrow(message);
  });
});
