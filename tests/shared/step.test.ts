import { HttpRequest } from '@azure/functions';
import { CounterError } from '../../shared/errors';
import { readSetValue, readStep } from '../../shared/step';

const request = (query: string, body?: string, contentType?: string) =>
  new HttpRequest({
    method: 'POST',
    url: `http://localhost/increment${query}`,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : { string: body },
  });

const kindOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (err: unknown) => (err instanceof CounterError ? err.kind : String(err)),
  );

describe('the step of a change', () => {
  it.each([
    ['a body of JSON whitespace', ' \r\n\t '],
    ['an empty body', ''],
  ])('is 1 for %s', async (_case, body) => {
    await expect(readStep(request('', body, 'application/json'))).resolves.toBe(1n);
  });

  // Found by the hostile-input property test: String#trim took these for an empty body.
  it.each([
    ['a no-break space', '\u00a0'],
    ['a line separator', '\u2028'],
    ['a vertical tab', '\u000b'],
    ['an ideographic space', '\u3000'],
  ])('refuses a body of %s, which is not JSON', async (_case, body) => {
    await expect(kindOf(readStep(request('', body, 'application/json')))).resolves.toBe(
      'badRequest',
    );
    await expect(kindOf(readStep(request('', body, 'text/plain')))).resolves.toBe(
      'unsupportedMediaType',
    );
  });

  // Found by the hostile-input property test: more than 25 characters were refused outright.
  it('accepts a step with any number of leading zeros', async () => {
    await expect(readStep(request(`?by=${'0'.repeat(40)}7`))).resolves.toBe(7n);
    await expect(
      readStep(request('', `{"by": "${'0'.repeat(40)}9223372036854775807"}`, 'application/json')),
    ).resolves.toBe(9223372036854775807n);
  });

  it('refuses a step with more significant digits than the 64-bit range holds', async () => {
    await expect(kindOf(readStep(request(`?by=1${'0'.repeat(19)}`)))).resolves.toBe('badRequest');
    await expect(kindOf(readStep(request(`?by=${'9'.repeat(5000)}`)))).resolves.toBe('badRequest');
  });

  // Reported in issue 20: lossless-json parses a bare number into an object, whose internal
  // fields ("value, isLosslessNumber") were named back as unknown fields of the body.
  it.each([
    ['a bare number', '5', 'a bare number'],
    ['a bare string', '"5"', 'a bare string'],
    ['a boolean', 'true', 'a bare boolean'],
    ['null', 'null', 'null'],
    ['an array', '[5]', 'an array'],
  ])('refuses %s as the body, saying it must be a JSON object', async (_case, body, what) => {
    await expect(readStep(request('', body, 'application/json'))).rejects.toThrow(
      new CounterError(
        'badRequest',
        `the body must be a JSON object such as {"by": 5}, not ${what}`,
      ),
    );
  });
});

describe('the value of PUT /set', () => {
  it('refuses a bare number as the body, saying it must be a JSON object', async () => {
    const set = new HttpRequest({
      method: 'PUT',
      url: 'http://localhost/set',
      headers: { 'content-type': 'application/json' },
      body: { string: '17472' },
    });
    await expect(readSetValue(set)).rejects.toThrow(
      'the body must be a JSON object such as {"value": 42}, not a bare number',
    );
  });
});
