import { toSetCookieHeader } from '../../src/converters/to-set-cookie-header';

describe('toSetCookieHeader', () => {
  it('writes name and value alone when nothing else is set', () => {
    expect(toSetCookieHeader({ name: 'a', value: 'b', sameSite: 'none' })).toBe('a=b');
  });

  it('writes every attribute the library sends', () => {
    const header = toSetCookieHeader({
      name: 'session',
      value: 'xyz',
      domain: { value: 'example.com' },
      path: { value: '/' },
      expires: { value: { seconds: 1735689600 } },
      maxAge: { value: 3600 },
      secure: { value: true },
      httpOnly: { value: true },
      sameSite: 'strict',
    });
    expect(header).toBe(
      'session=xyz; Max-Age=3600; Domain=example.com; Path=/; Expires=Wed, 01 Jan 2025 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict',
    );
  });

  it('writes SameSite=None only when the app chose it explicitly', () => {
    expect(toSetCookieHeader({ name: 'a', value: 'b', sameSite: 'explicitNone' })).toBe(
      'a=b; SameSite=None',
    );
  });

  it('percent-encodes the value, so that no value can add attributes or break the header', () => {
    expect(toSetCookieHeader({ name: 'a', value: 'x y; Domain=evil.example' })).toBe(
      'a=x%20y%3B%20Domain%3Devil.example',
    );
  });
});
