import { toSetCookieHeader } from '../../src/converters/to-set-cookie-header';

// The forms below are what the Functions host sends for the cookies of Azure's e2e test app
// (mycookie=myvalue; max-age=200000; path=/ …) and what ASP.NET Core writes for the rest.
describe('toSetCookieHeader, as the Functions host writes cookies', () => {
  it('writes name, value and the default path when nothing else is set', () => {
    expect(toSetCookieHeader({ name: 'a', value: 'b', sameSite: 'none' })).toBe('a=b; path=/');
  });

  it('writes max-age before path, and samesite after it, in lower case', () => {
    expect(
      toSetCookieHeader({ name: 'mycookie', value: 'myvalue', maxAge: { value: 200000 } }),
    ).toBe('mycookie=myvalue; max-age=200000; path=/');
    expect(toSetCookieHeader({ name: 'c', value: 'v', sameSite: 'lax' })).toBe(
      'c=v; path=/; samesite=lax',
    );
  });

  it('writes every attribute in ASP.NET Core order: expires, max-age, domain, path, secure, samesite, httponly', () => {
    const header = toSetCookieHeader({
      name: 'session',
      value: 'xyz',
      domain: { value: 'example.com' },
      path: { value: '/app' },
      expires: { value: { seconds: 1735689600 } },
      maxAge: { value: 3600 },
      secure: { value: true },
      httpOnly: { value: true },
      sameSite: 'strict',
    });
    expect(header).toBe(
      'session=xyz; expires=Wed, 01 Jan 2025 00:00:00 GMT; max-age=3600; domain=example.com; path=/app; secure; samesite=strict; httponly',
    );
  });

  it('writes samesite=none only when the app chose it explicitly', () => {
    expect(toSetCookieHeader({ name: 'a', value: 'b', sameSite: 'explicitNone' })).toBe(
      'a=b; path=/; samesite=none',
    );
  });

  it('escapes the value as Uri.EscapeDataString does, so no value can add attributes or break the header', () => {
    expect(toSetCookieHeader({ name: 'a', value: "x y; Domain=evil.example (it's)" })).toBe(
      'a=x%20y%3B%20Domain%3Devil.example%20%28it%27s%29; path=/',
    );
  });

  it('refuses a name that is not a cookie name, or a path that would end the attribute', () => {
    expect(() => toSetCookieHeader({ name: 'a b', value: 'v' })).toThrow(TypeError);
    expect(() =>
      toSetCookieHeader({ name: 'a', value: 'v', path: { value: '/; secure' } }),
    ).toThrow(TypeError);
  });
});
