import type { HttpRequest } from '@azure/functions';
import { isLosslessNumber, parse } from 'lossless-json';
import { badRequest, CounterError } from './errors';
import { MAX_VALUE } from './counter-value';
import { isJsonObject } from './json-object';

/** A step body is a few bytes; anything this large is a mistake or an attack. */
export const MAX_BODY_BYTES = 8 * 1024;

const STEP_HINT = 'a positive whole number up to 9223372036854775807, e.g. 5';

/**
 * The step of an increment or decrement: `?by=K`, a JSON body `{"by": K}`, both (they must
 * agree), or neither (1). K is read as text and converted with BigInt, so it is exact
 * beyond 2^53.
 */
export async function readStep(request: HttpRequest): Promise<bigint> {
  const fromQuery = stepFromQuery(request.query);
  const fromBody = await stepFromBody(request);
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw badRequest(
      `the step is given twice and differs: ?by=${fromQuery} and {"by": ${fromBody}}`,
    );
  }
  return fromQuery ?? fromBody ?? 1n;
}

function stepFromQuery(query: URLSearchParams): bigint | undefined {
  const values = query.getAll('by');
  if (values.length > 1) throw badRequest('give ?by= at most once');
  return values.length === 1 ? parseStep(values[0], '?by=') : undefined;
}

async function stepFromBody(request: HttpRequest): Promise<bigint | undefined> {
  const declaredLength = Number(request.headers.get('content-length') ?? 0);
  if (declaredLength > MAX_BODY_BYTES) throw tooLarge();
  const body = await request.text();
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) throw tooLarge();
  // Only JSON's own whitespace makes an empty body: String#trim would also drop Unicode
  // spaces (U+00A0, U+2028, ...) and so accept a body that is not JSON at all.
  if (/^[ \t\n\r]*$/.test(body)) return undefined;

  const contentType = request.headers.get('content-type');
  if (contentType !== null && !isJson(contentType)) {
    throw new CounterError(
      'unsupportedMediaType',
      `send the body as application/json (got ${contentType.slice(0, 100)})`,
    );
  }
  let json: unknown;
  try {
    json = parse(body);
  } catch (err) {
    throw badRequest(`the body is not valid JSON (${(err as Error).message}); send e.g. {"by": 5}`);
  }
  if (!isJsonObject(json)) {
    throw badRequest('the body must be a JSON object such as {"by": 5}');
  }
  const extra = Object.keys(json).filter((key) => key !== 'by');
  if (extra.length > 0) {
    throw badRequest(`unknown field(s) ${extra.slice(0, 5).join(', ')}; the body takes only "by"`);
  }
  if (!('by' in json)) return undefined;
  const by = json.by;
  if (isLosslessNumber(by)) return parseStep(by.value, '"by"');
  if (typeof by === 'string') return parseStep(by, '"by"');
  throw badRequest(`"by" must be ${STEP_HINT}`);
}

function parseStep(text: string, where: string): bigint {
  if (!/^[0-9]+$/.test(text)) {
    throw badRequest(`${where} must be ${STEP_HINT}; got ${JSON.stringify(text.slice(0, 40))}`);
  }
  // Leading zeros are allowed however many there are; more significant digits than the
  // 64-bit range has are out of range without converting them.
  const digits = text.replace(/^0+(?=[0-9])/, '');
  const step = digits.length <= 19 ? BigInt(digits) : undefined;
  if (step === undefined || step < 1n || step > MAX_VALUE) {
    throw badRequest(`${where} must be ${STEP_HINT}; got ${text.slice(0, 40)}`);
  }
  return step;
}

const isJson = (contentType: string) => {
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(type);
};

const tooLarge = () =>
  new CounterError(
    'payloadTooLarge',
    `the body is larger than ${MAX_BODY_BYTES} bytes; send e.g. {"by": 5}`,
  );
