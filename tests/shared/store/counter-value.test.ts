import { MAX_VALUE, MIN_VALUE, parseStoredValue } from '../../../shared/store/counter-value';

describe('the stored value format', () => {
  it.each([
    ['42', 42n],
    ['-7', -7n],
    ['0', 0n],
    [' \t42\r\n', 42n],
    ['9223372036854775807', MAX_VALUE],
    ['-9223372036854775808', MIN_VALUE],
  ])('accepts %j as %s', (text, value) => {
    expect(parseStoredValue(text)).toEqual({ ok: true, value });
  });

  it.each([
    ['', 'empty'],
    ['   \n', 'empty'],
    ['abc', 'not a decimal'],
    ['12abc', 'not a decimal'],
    ['1 2', 'not a decimal'],
    ['+5', 'not a decimal'],
    ['\u0000\u0000\u0000', 'not a decimal'],
    ['\u00a042', 'not a decimal'],
    ['1.5', 'not a decimal'],
    ['9223372036854775808', 'outside the signed 64-bit range'],
    ['-9223372036854775809', 'outside the signed 64-bit range'],
  ])('rejects %j because it is %s', (text, reason) => {
    const parsed = parseStoredValue(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain(reason);
  });
});
