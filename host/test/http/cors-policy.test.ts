import {
  corsPreflightHeaders,
  corsResponseHeaders,
  resolveCorsPolicy,
} from '../../src/http/cors-policy';

describe('resolveCorsPolicy', () => {
  it('has no policy when neither the environment nor local.settings.json lists an origin', () => {
    expect(resolveCorsPolicy(undefined, undefined, false)).toBeUndefined();
    expect(resolveCorsPolicy(' ', '', false)).toBeUndefined();
  });

  it('prefers CORS_ALLOWED_ORIGINS over Host.CORS', () => {
    const policy = resolveCorsPolicy('https://a.example', 'https://b.example', false);
    expect(policy?.origins).toEqual(new Set(['https://a.example']));
  });

  it('reads a comma-separated list, ignoring case and trailing slashes', () => {
    const policy = resolveCorsPolicy(
      undefined,
      ' https://A.example/ , http://localhost:3000',
      false,
    );
    expect(policy?.origins).toEqual(new Set(['https://a.example', 'http://localhost:3000']));
    expect(policy?.anyOrigin).toBe(false);
  });
});

describe('corsResponseHeaders', () => {
  it('echoes a listed origin and varies by Origin', () => {
    const policy = resolveCorsPolicy('https://a.example', undefined, false);
    expect(policy && corsResponseHeaders(policy, 'https://A.example')).toEqual({
      'access-control-allow-origin': 'https://A.example',
      vary: 'Origin',
    });
  });

  it('gives nothing to an origin that is not listed', () => {
    const policy = resolveCorsPolicy('https://a.example', undefined, false);
    expect(policy && corsResponseHeaders(policy, 'https://b.example')).toBeUndefined();
  });

  it('allows any origin with *', () => {
    const policy = resolveCorsPolicy('*', undefined, false);
    expect(policy && corsResponseHeaders(policy, 'https://b.example')).toEqual({
      'access-control-allow-origin': '*',
    });
  });

  it('echoes the origin instead of * when credentials are allowed, as browsers require', () => {
    const policy = resolveCorsPolicy('*', undefined, true);
    expect(policy && corsResponseHeaders(policy, 'https://b.example')).toEqual({
      'access-control-allow-origin': 'https://b.example',
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
  });
});

describe('corsPreflightHeaders', () => {
  it('allows the requested method and headers for ten minutes', () => {
    const policy = resolveCorsPolicy('*', undefined, false);
    expect(
      policy && corsPreflightHeaders(policy, 'https://b.example', 'POST', 'content-type'),
    ).toEqual({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '600',
    });
  });
});
