import fc from 'fast-check';
import { tempDir } from '../support/temp-dir';
import { setTimeout as sleep } from 'node:timers/promises';
import { CounterClient, startLoad, valueOf, type ChangeRecord } from './support/counter-client';
import { reportFigures } from './support/figures';
import { HostGroup } from './support/hosts';
import { bytewise, rawExchange, type RawReply } from './support/raw-http';

jest.setTimeout(90_000);

const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);
const STEP_RUNS = 300;
const ROUTING_RUNS = 150;

let dir: ReturnType<typeof tempDir>;
let group: HostGroup;
let url: string;
let port: number;
let client: CounterClient;
// Requests the properties sent, shrinking included.
const sent = { steps: 0, routing: 0 };

beforeAll(async () => {
  dir = tempDir('rusty-counter-hostile-');
  // The host's own limit on request bodies (Azure's default is 100 MB) lowered to 1 MiB, so
  // that an oversized declared or endless body is refused before it is read, quickly.
  group = await HostGroup.start(1, {
    dataDir: dir.dir,
    env: { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: String(1024 * 1024) },
  });
  [url] = group.urls;
  port = group.hosts[0].port;
  client = new CounterClient();
});
afterAll(async () => {
  client?.close();
  await group?.stopAll();
  dir?.remove();
  reportFigures(
    `hostile input: ${sent.steps} generated step/body/content-type requests, ${sent.routing} generated method/path requests, none answered 5xx`,
  );
});

/** An error answer as the SPEC has it: a 4xx, JSON `{"error": "<words>"}`. */
function expectClientError(reply: { status: number; text: string } | RawReply, label = ''): void {
  const text = 'text' in reply ? reply.text : reply.body;
  const clientError = reply.status >= 400 && reply.status < 500;
  expect({ label, status: reply.status, clientError }).toEqual({
    label,
    status: reply.status,
    clientError: true,
  });
  expect(JSON.parse(text)).toEqual({ error: expect.stringMatching(/\w/) });
}

// ---- The step, by the SPEC: a positive whole number in the 64-bit range, as digits.

/** undefined: no step given; 'bad': the request must be refused; 'either': no exact oracle. */
type StepOutcome = bigint | undefined | 'bad' | 'either';

const stepOfText = (text: string): bigint | 'bad' =>
  /^[0-9]+$/.test(text) && BigInt(text) >= 1n && BigInt(text) <= MAX ? BigInt(text) : 'bad';

const HOSTILE_STEPS = [
  '',
  ' ',
  '0',
  '-1',
  '-0',
  '+5',
  '1.0',
  '1e3',
  '0x10',
  '1_000',
  '1,5',
  ' 5',
  '5 ',
  '5\n',
  '٥',
  '５',
  'NaN',
  'Infinity',
  'null',
  'true',
  '[5]',
  '{"by":5}',
  '9223372036854775808',
  '99999999999999999999999999',
  '0'.repeat(30) + '5',
  '1'.repeat(2000),
  '%',
  '%00',
  '\u0000',
  '5\u0000',
  'ｂｙ',
  '\u202e5',
];

const stepText = fc.oneof(
  fc.bigInt({ min: 1n, max: MAX }).map(String),
  fc.integer({ min: 1, max: 1000 }).map(String),
  fc.constantFrom(...HOSTILE_STEPS),
  fc.string({ unit: 'grapheme', maxLength: 24 }),
);

/** The query part of the URL (without `?`), with what it asks for by the SPEC. */
const queryArb: fc.Arbitrary<{ query: string; step: StepOutcome }> = fc
  .oneof(
    fc.constant(''),
    stepText.map((s) => `by=${encodeURIComponent(s)}`),
    // Raw bytes, invalid UTF-8 included, percent-encoded.
    fc
      .uint8Array({ maxLength: 12 })
      .map(
        (bytes) => `by=${[...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`,
      ),
    fc
      .tuple(stepText, stepText)
      .map(([a, b]) => `by=${encodeURIComponent(a)}&by=${encodeURIComponent(b)}`),
    fc.constantFrom(
      'by',
      'by=',
      'BY=5',
      'by[]=5',
      'x=1',
      'by=5&x=%zz',
      'by=5#frag',
      'by=%2B5',
      'by=5+',
    ),
  )
  .map((query) => {
    const values = new URLSearchParams(query.split('#')[0]).getAll('by');
    const step: StepOutcome =
      values.length === 0 ? undefined : values.length > 1 ? 'bad' : stepOfText(values[0]);
    return { query, step };
  });

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON'];
const OTHER_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'json',
  '',
  ';;;',
  'application/json, text/plain',
  'text/json; x=application/json',
];

interface BodyCase {
  contentType?: string;
  body?: Buffer;
  step: StepOutcome;
}

const JSON_WHITESPACE = /^[ \t\r\n]*$/;

/** The step a JSON value asks for, by the SPEC; numbers as JSON.stringify wrote them. */
function stepOfJson(value: unknown): StepOutcome {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'bad';
  const keys = Object.keys(value);
  if (keys.some((key) => key !== 'by')) return 'bad';
  if (keys.length === 0) return undefined;
  const by = (value as { by: unknown }).by;
  if (typeof by === 'number') return stepOfText(JSON.stringify(by));
  if (typeof by === 'string') return stepOfText(by);
  return 'bad';
}

/** What a body of unknown shape asks for, sent as JSON: exact when JSON.parse refuses it. */
function stepOfBodyText(text: string): StepOutcome {
  if (JSON_WHITESPACE.test(text)) return undefined;
  try {
    JSON.parse(text);
  } catch {
    return 'bad';
  }
  return 'either';
}

const HOSTILE_BODIES: Array<[string, StepOutcome]> = [
  ['{"by": 1, "by": 2}', 'bad'],
  // Names SHOULD be unique (RFC 8259); a repeat with the same value is not ambiguous.
  ['{"by": 1, "by": 1}', 'either'],
  ['{"by": 5.0}', 'bad'],
  ['{"by": 1e3}', 'bad'],
  ['{"by": -5}', 'bad'],
  ['{"by": 0}', 'bad'],
  ['{"by": null}', 'bad'],
  ['{"by": true}', 'bad'],
  ['{"by": [5]}', 'bad'],
  ['{"by": {"by": 5}}', 'bad'],
  ['[{"by": 5}]', 'bad'],
  ['"5"', 'bad'],
  ['5', 'bad'],
  ['null', 'bad'],
  ['{"__proto__": {"by": 5}}', 'bad'],
  ['{"constructor": {"prototype": {"by": 5}}}', 'bad'],
  ['{"by": 5}garbage', 'bad'],
  ['{"by": 5', 'bad'],
  ['{by: 5}', 'bad'],
  ["{'by': 5}", 'bad'],
  ['{"by": 9223372036854775808}', 'bad'],
  ['{"by": 99999999999999999999999999999}', 'bad'],
  ['{"by": "0x10"}', 'bad'],
  ['{"by": " 5"}', 'bad'],
  ['{"by": "٥"}', 'bad'],
  ['{"by": 9007199254740993}', 9007199254740993n],
  ['{"by": "9223372036854775807"}', MAX],
  ['{}', undefined],
  [' \r\n\t ', undefined],
  ['\u00a0', 'bad'],
  // A byte-order mark MAY be ignored (RFC 8259), as the fetch API's text() does.
  ['\ufeff{"by": 5}', 'either'],
  ['\u2028', 'bad'],
  ['\u000b', 'bad'],
  ['['.repeat(4000), 'bad'],
  ['{"a":'.repeat(1000) + '1' + '}'.repeat(1000), 'bad'],
  [`{"by": 1, "x": "${'y'.repeat(8000)}"}`, 'bad'],
];

const bodyArb: fc.Arbitrary<BodyCase> = fc.oneof(
  fc.constant<BodyCase>({ step: undefined }),
  // Well-formed steps, as number or string, with assorted spacing.
  fc
    .tuple(
      fc.bigInt({ min: 1n, max: MAX }),
      fc.boolean(),
      fc.constantFrom('', ' ', '\n\t'),
      fc.constantFrom(...JSON_TYPES),
    )
    .map(([k, quoted, space, contentType]) => ({
      contentType,
      body: Buffer.from(
        `${space}{${space}"by"${space}:${space}${quoted ? `"${k}"` : k}${space}}${space}`,
      ),
      step: k,
    })),
  fc.tuple(fc.jsonValue(), fc.constantFrom(...JSON_TYPES)).map(([value, contentType]) => ({
    contentType,
    body: Buffer.from(JSON.stringify(value) ?? 'null'),
    step: stepOfJson(value),
  })),
  fc
    .tuple(
      fc.constantFrom(...HOSTILE_BODIES),
      fc.option(fc.constantFrom(...JSON_TYPES), { nil: undefined }),
    )
    .map(([[text, step], contentType]) => ({ contentType, body: Buffer.from(text), step })),
  fc
    .tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom(...JSON_TYPES))
    .map(([text, contentType]) => ({
      contentType,
      body: Buffer.from(text),
      step: stepOfBodyText(text),
    })),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => {
    const body = Buffer.from(bytes);
    return {
      contentType: 'application/json',
      body,
      step: stepOfBodyText(new TextDecoder().decode(body)),
    };
  }),
  // A body that is there but is not declared JSON.
  fc
    .tuple(fc.constantFrom(...OTHER_TYPES), fc.constantFrom('{"by": 5}', 'by=5', '5', 'x'))
    .map(([contentType, text]) => ({ contentType, body: Buffer.from(text), step: 'bad' as const })),
);

function combine(query: StepOutcome, body: StepOutcome): StepOutcome {
  if (query === 'bad' || body === 'bad') return 'bad';
  if (body === 'either') return 'either';
  if (query !== undefined && body !== undefined && query !== body) return 'bad';
  return query ?? body ?? 1n;
}

describe('hostile input over HTTP', () => {
  it(`answers every step, body and content type (${STEP_RUNS} generated requests) with the exact change or a 4xx JSON error that changes nothing`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('increment', 'decrement'),
        queryArb,
        bodyArb,
        async (route, { query, step: queryStep }, body) => {
          // Read afresh: a failed run (and fast-check's shrinking replays) may have changed it.
          let current = await client.get(url);
          sent.steps += 1;
          const headers: Record<string, string> = {};
          if (body.contentType !== undefined) headers['content-type'] = body.contentType;
          const reply = await client.send(`${url}/${route}${query ? `?${query}` : ''}`, {
            method: 'POST',
            headers,
            body: body.body,
          });
          const expected = combine(queryStep, body.step);
          const sign = route === 'increment' ? 1n : -1n;
          if (typeof expected === 'bigint') {
            const next = current + sign * expected;
            if (next >= MIN && next <= MAX) {
              expect({ status: reply.status, value: valueOf(reply.text) }).toEqual({
                status: 200,
                value: next,
              });
              current = next;
            } else {
              expect(reply.status).toBe(409);
              expectClientError(reply);
            }
          } else if (expected === 'either' && reply.status === 200) {
            const value = valueOf(reply.text);
            expect(value !== undefined && (value - current) * sign > 0n).toBe(true);
            current = value ?? current;
          } else {
            expectClientError(
              reply,
              `${route}?${query} ${body.contentType} ${body.body?.toString('latin1').slice(0, 80)}`,
            );
          }
          expect(await client.get(url)).toBe(current);
        },
      ),
      { numRuns: STEP_RUNS },
    );
  });
});

// ---- Methods and paths: only the four routes answer, nothing else changes anything.

const METHODS = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'HEAD',
  'TRACE',
  'PROPFIND',
  'MKCOL',
  'PURGE',
  'LOCK',
  'SEARCH',
  'REPORT',
];
// The methods the app's functions take (functions/not-found.ts takes all of them).
const APP_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
const ODD_PATHS = [
  '/',
  '/api/get',
  '/api/increment',
  '/get/',
  '/GET',
  '/Increment',
  '/increment/1',
  '//increment',
  '/increment;by=5',
  '/incr%65ment',
  '/%2e%2e/get',
  '/../get',
  '/get/..',
  '/increment%00',
  '/increment%2F',
  '/.env',
  '/data.bin',
  '/local_dir/data.bin',
  '/host.json',
  '/admin/functions/backup',
  '/backup',
  '/health/',
  `/${'x'.repeat(9000)}`,
  '/get?by=5',
  '/%',
  '/%zz',
];

const routingArb = fc.record({
  method: fc.constantFrom(...METHODS),
  path: fc.oneof(
    fc.constantFrom('/get', '/increment', '/decrement', '/health'),
    fc.constantFrom(...ODD_PATHS),
    // A live /watch stream stays open; its own tests are in tests/e2e/watch.e2e.test.ts.
    fc.webPath().filter((path) => !/^\/+watch/i.test(path)),
  ),
});

describe('unknown methods and paths over HTTP', () => {
  it(`answers every method on every path (${ROUTING_RUNS} generated requests) without a 5xx, with JSON, changing the counter only through the two change routes`, async () => {
    await fc.assert(
      fc.asyncProperty(routingArb, async ({ method, path }) => {
        const before = await client.get(url);
        sent.routing += 1;
        const reply = await client.send(`${url}${path.startsWith('/') ? path : `/${path}`}`, {
          method,
        });
        const label = `${method} ${path.slice(0, 80)}`;
        expect({ label, status: reply.status, serverError: reply.status >= 500 }).toEqual({
          label,
          status: reply.status,
          serverError: false,
        });
        // A method no function can register (TRACE, which HTTP streams cannot carry, and
        // WebDAV's) gets the Functions host's own 404 with no body, as on Azure.
        if (!APP_METHODS.has(method)) {
          expect({ label, status: reply.status, text: reply.text }).toEqual({
            label,
            status: 404,
            text: '',
          });
        }
        // HEAD answers carry no body, 204 neither. Every error is JSON; so is every success
        // but the page (HTML) and a badge (SVG), both answers to GET.
        else if (method !== 'HEAD' && reply.status !== 204) {
          const type = reply.headers['content-type'] ?? '';
          if (reply.status >= 400 || !/^(text\/html|image\/svg\+xml)/.test(type)) {
            expect({ label, type }).toEqual({
              label,
              type: expect.stringMatching(/^application\/json/),
            });
            const json: unknown = JSON.parse(reply.text);
            if (reply.status >= 400) expect(json).toEqual({ error: expect.any(String) });
          } else {
            expect({ label, method }).toEqual({ label, method: 'GET' });
          }
        }
        const after = await client.get(url);
        const changed = after - before;
        if (changed !== 0n) {
          // Only a 200 from a change route, answering exactly the new value, may change it.
          expect({ label, method, status: reply.status, value: valueOf(reply.text) }).toEqual({
            label,
            method: 'POST',
            status: 200,
            value: after,
          });
          expect(changed === 1n || changed === -1n).toBe(true);
        }
      }),
      { numRuns: ROUTING_RUNS },
    );
  });
});

// ---- Sizes: bodies, URLs and headers far beyond what a client needs.

const jsonPost = (route: string, body: string | Buffer) =>
  client.send(`${url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

describe('oversized requests', () => {
  it.each([
    ['just over 8 KiB', 8 * 1024 + 1],
    ['512 KiB', 512 * 1024],
  ])('answers a body of %s with 413 JSON and changes nothing', async (_size, bytes) => {
    const before = await client.get(url);
    const body = `{"by": 1, "pad": "${'x'.repeat(bytes)}"}`;
    const reply = await jsonPost('/increment', body);
    expect(reply.status).toBe(413);
    expectClientError(reply);
    await expect(client.get(url)).resolves.toBe(before);
  });

  it('answers a declared 10 MiB body with 413 JSON before reading it', async () => {
    const before = await client.get(url);
    const head =
      'POST /increment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n';
    const reply = await rawExchange(port, [Buffer.from(head)]);
    expect(reply.status).toBe(413);
    expectClientError(reply);
    await expect(client.get(url)).resolves.toBe(before);
  });

  it('answers an endless chunked body with 413 JSON once it passes the limit', async () => {
    const before = await client.get(url);
    const head =
      'POST /increment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = Buffer.from(`10000\r\n${' '.repeat(0x10000)}\r\n`);
    const reply = await rawExchange(port, [
      Buffer.from(head),
      ...Array.from({ length: 64 }, () => chunk),
    ]);
    expect(reply.status).toBe(413);
    expectClientError(reply);
    await expect(client.get(url)).resolves.toBe(before);
  });

  it('answers a 10 KiB step and a 10 KiB path with a 4xx JSON error', async () => {
    const before = await client.get(url);
    const longStep = await client.send(`${url}/increment?by=${'7'.repeat(10 * 1024)}`, {
      method: 'POST',
    });
    expect(longStep.status).toBe(400);
    expectClientError(longStep);
    const longPath = await client.send(`${url}/increment/${'x'.repeat(10 * 1024)}`, {
      method: 'POST',
    });
    expectClientError(longPath);
    await expect(client.get(url)).resolves.toBe(before);
  });
});

// ---- Requests the HTTP parser itself refuses, before any route or function sees them.

const MALFORMED: Array<[string, string]> = [
  ['an unknown method token', 'FROB /increment HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['a NUL in the request line', 'POST /increment\0 HTTP/1.1\r\nHost: x\r\n\r\n'],
  [
    'a non-numeric Content-Length',
    'POST /increment HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
  ],
  [
    'both Content-Length and chunked (smuggling)',
    'POST /increment HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nPOST /increment HTTP/1.1\r\nHost: x\r\n\r\n',
  ],
  ['a header line without a colon', 'POST /increment HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n'],
  ['an unsupported HTTP version', 'POST /increment HTTP/9.9\r\nHost: x\r\n\r\n'],
  [
    'a URL beyond the header limit (20 KiB)',
    `POST /increment?by=${'1'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  ],
  [
    'a header beyond the header limit (20 KiB)',
    `POST /increment HTTP/1.1\r\nHost: x\r\nX-Pad: ${'y'.repeat(20 * 1024)}\r\n\r\n`,
  ],
  ['binary noise', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'],
  ['CONNECT (this is no proxy)', 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n'],
];

describe('requests the HTTP parser refuses', () => {
  // Found by these tests: Node's own answer to these is a bare status line without JSON, and
  // CONNECT got no answer at all (fixed in host/refuseOnSocket.ts).
  it.each(MALFORMED)(
    'refuses %s with a 4xx JSON error, changes nothing and goes on serving',
    async (_case, text) => {
      const before = await client.get(url);
      const reply = await rawExchange(port, [Buffer.from(text, 'latin1')]);
      expectClientError(reply);
      await expect(client.get(url)).resolves.toBe(before);
    },
  );
});

// ---- Slow clients.

describe('clients that trickle their requests byte by byte', () => {
  it('do not stop others being served, and are served themselves once complete', async () => {
    const before = await client.get(url);
    const head =
      'POST /increment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
      'Content-Length: 9\r\nConnection: close\r\n\r\n';
    // Byte by byte up to the last byte of the headers, which is held back with the body. A
    // client holding back part of its body would be cut off (408) once its body came slower
    // than 240 bytes/s after a 5 s grace, as Kestrel does (tested in host-timeouts): on a
    // busy machine the others take longer than that. Headers may take 30 s.
    const pieces = [...bytewise(head.slice(0, -1)), Buffer.from(`${head.slice(-1)}{"by": 2}`)];
    let othersServed!: () => void;
    const othersDone = new Promise<void>((resolve) => (othersServed = resolve));
    // Each holds back its last piece until everyone else has been served.
    const holding: Array<Promise<void>> = [];
    const tricklers = Array.from({ length: 8 }, () => {
      let holds!: () => void;
      holding.push(new Promise<void>((resolve) => (holds = resolve)));
      return rawExchange(port, pieces, {
        gapMs: 5,
        holdLastPieceUntil: othersDone,
        onHoldingLastPiece: () => holds(),
        timeoutMs: 30_000,
      });
    });
    // The others start only once every trickler has sent all but its last byte, so they
    // are served while eight incomplete requests sit on the server, however fast or slow
    // the tricklers were.
    // (One the server cut off early ends instead, and fails the checks below.)
    await Promise.all(tricklers.map((trickler, i) => Promise.race([holding[i], trickler])));

    const load = startLoad({
      client,
      concurrency: 8,
      next: (i) => (i < 100 ? { target: 0, kind: 'increment', by: 1n } : undefined),
      urlOf: () => url,
    });
    // A generous bound, only so that a server blocked by the tricklers fails here rather
    // than at the test timeout.
    const bound = new AbortController();
    const others = await Promise.race([
      load.done,
      sleep(20_000, undefined, { signal: bound.signal }).then(
        () => load.stop().then((): ChangeRecord[] => []),
        () => [],
      ),
    ]);
    bound.abort();
    othersServed();
    expect(others).toHaveLength(100);
    expect(others.filter((r) => r.status !== 200)).toEqual([]);

    const slow = await Promise.all(tricklers);
    expect(slow.map((r) => r.status)).toEqual(slow.map(() => 200));
    const values = slow.map((r) => valueOf(r.body));
    expect(new Set(values).size).toBe(slow.length);
    await expect(client.get(url)).resolves.toBe(before + 100n + 2n * BigInt(slow.length));
  });
});
