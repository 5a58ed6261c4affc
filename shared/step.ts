import type { HttpRequest } from '@azure/functions';
import { isLosslessNumber, parse } from 'lossless-json';
import { badRequest, CounterError } from './errors';
import { isInRange, MAX_VALUE } from './store/counter-value';
import { isJsonObject } from './json-object';

/** A step body is a few bytes; anything this large is a mistake or an attack. */
export const MAX_BODY_BYTES = 8 * 1024;

/**
 * The step of an increment or decrement: `?by=K`, a JSON body `{"by": K}`, both (they must
 * agree), or neither (1). K is read as text and converted with BigInt, so it is exact
 * beyond 2^53.
 */
export async function readStep(request: HttpRequest): Promise<bigint> {
  return (await readIntegerInput(request, STEP_INPUT)) ?? 1n;
}

/** The value of `PUT /set`: `?value=V` or `{"value": V}`, any signed 64-bit integer; required. */
export async function readSetValue(request: HttpRequest): Promise<bigint> {
  const value = await readIntegerInput(request, SET_INPUT);
  if (value === undefined) {
    throw badRequest(`give the new value as ?value=V or a JSON body {"value": V}, V ${VALUE_HINT}`);
  }
  return value;
}

interface IntegerInput {
  /** The query parameter and the body's only field. */
  field: string;
  hint: string;
  example: string;
  pattern: RegExp;
  inRange: (value: bigint) => boolean;
}

const STEP_HINT = 'a positive whole number up to 9223372036854775807, e.g. 5';
const VALUE_HINT = 'a whole number from -9223372036854775808 to 9223372036854775807, e.g. 42';
const STEP_INPUT: IntegerInput = {
  field: 'by',
  hint: STEP_HINT,
  example: '{"by": 5}',
  pattern: /^[0-9]+$/,
  inRange: (step) => step >= 1n && step <= MAX_VALUE,
};
const SET_INPUT: IntegerInput = {
  field: 'value',
  hint: VALUE_HINT,
  example: '{"value": 42}',
  pattern: /^-?[0-9]+$/,
  inRange: isInRange,
};

async function readIntegerInput(
  request: HttpRequest,
  input: IntegerInput,
): Promise<bigint | undefined> {
  const fromQuery = integerFromQuery(request.query, input);
  const fromBody = await integerFromBody(request, input);
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw badRequest(
      `the ${input.field === 'by' ? 'step' : 'value'} is given twice and differs: ?${input.field}=${fromQuery} and {"${input.field}": ${fromBody}}`,
    );
  }
  return fromQuery ?? fromBody;
}

function integerFromQuery(query: URLSearchParams, input: IntegerInput): bigint | undefined {
  const values = query.getAll(input.field);
  if (values.length > 1) throw badRequest(`give ?${input.field}= at most once`);
  return values.length === 1 ? parseInteger(values[0], `?${input.field}=`, input) : undefined;
}

async function integerFromBody(
  request: HttpRequest,
  input: IntegerInput,
): Promise<bigint | undefined> {
  const { field, example } = input;
  const declaredLength = Number(request.headers.get('content-length') ?? 0);
  if (declaredLength > MAX_BODY_BYTES) throw tooLarge(example);
  const body = await request.text();
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) throw tooLarge(example);
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
    throw badRequest(
      `the body is not valid JSON (${(err as Error).message}); send e.g. ${example}`,
    );
  }
  // lossless-json parses a bare number into an object of its own (LosslessNumber), which
  // would otherwise pass for a JSON object and leak its internal field names.
  if (!isJsonObject(json) || isLosslessNumber(json)) {
    throw badRequest(
      `the body must be a JSON object such as ${example}, not ${describeJson(json)}`,
    );
  }
  const extra = Object.keys(json).filter((key) => key !== field);
  if (extra.length > 0) {
    throw badRequest(
      `unknown field(s) ${extra.slice(0, 5).join(', ')}; the body takes only "${field}"`,
    );
  }
  if (!(field in json)) return undefined;
  const given = (json as Record<string, unknown>)[field];
  if (isLosslessNumber(given)) return parseInteger(given.value, `"${field}"`, input);
  if (typeof given === 'string') return parseInteger(given, `"${field}"`, input);
  throw badRequest(`"${field}" must be ${input.hint}`);
}

function parseInteger(text: string, where: string, input: IntegerInput): bigint {
  if (!input.pattern.test(text)) {
    throw badRequest(`${where} must be ${input.hint}; got ${JSON.stringify(text.slice(0, 40))}`);
  }
  // Leading zeros are allowed however many there are; more significant digits than the
  // 64-bit range has are out of range without converting them.
  const digits = text.replace(/^(-?)0+(?=[0-9])/, '$1');
  const value = digits.replace('-', '').length <= 19 ? BigInt(digits) : undefined;
  if (value === undefined || !input.inRange(value)) {
    throw badRequest(`${where} must be ${input.hint}; got ${text.slice(0, 40)}`);
  }
  return value;
}

const describeJson = (json: unknown): string => {
  if (isLosslessNumber(json)) return 'a bare number';
  if (Array.isArray(json)) return 'an array';
  if (json === null) return 'null';
  return `a bare ${typeof json}`;
};

const isJson = (contentType: string) => {
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(type);
};

const tooLarge = (example: string) =>
  new CounterError(
    'payloadTooLarge',
    `the body is larger than ${MAX_BODY_BYTES} bytes; send e.g. ${example}`,
  );
