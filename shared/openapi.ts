import {
  BADGE_COLOR_NAMES,
  BADGE_HEX_COLOR_PATTERN,
  BADGE_LABEL_MAX_LENGTH,
  BADGE_STYLES,
} from './badge';
import { NAME_MAX_LENGTH, NAME_PATTERN, NAME_RULE, RESERVED_NAMES } from './counter-name';
import { RETRY_AFTER_SECONDS } from './http-response';
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, PREFIX_PATTERN } from './list-query';
import { MAX_BODY_BYTES } from './step';

/**
 * The OpenAPI 3.1 document of the whole service, served at `GET /openapi.json`. It is the one
 * description of the API: the e2e tests check every answer they receive against it, and the
 * name rules come from the parser itself, so neither can drift from the code.
 */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const ref = (
  kind: 'schemas' | 'responses' | 'parameters' | 'headers',
  name: string,
): JsonObject => ({
  $ref: `#/components/${kind}/${name}`,
});

const error = (description: string): JsonObject => ({
  description,
  content: { 'application/json': { schema: ref('schemas', 'Error') } },
});

const INT64: JsonObject = {
  type: 'integer',
  format: 'int64',
  description:
    'A signed 64-bit integer, -9223372036854775808 to 9223372036854775807, written exactly (also beyond 2^53).',
};

/** Optional route parameters (`{name?}`) become two paths: OpenAPI path parameters are required. */
function withAndWithoutName(
  route: string,
  method: string,
  operation: (named: boolean) => JsonObject,
): Record<string, JsonObject> {
  return {
    [`/${route}`]: { [method]: operation(false) },
    [`/${route}/{name}`]: {
      parameters: [ref('parameters', 'Name')],
      [method]: operation(true),
    },
  };
}

// Security requirements; `{}` means the route also works with no key configured.
const NO_KEY: JsonObject = {};
const key = (scheme: string): JsonObject => ({ [scheme]: [] });

const counterNoun = (named: boolean) => (named ? 'the named counter' : 'the default counter');

const stepOperation =
  (verb: 'increment' | 'decrement') =>
  (named: boolean): JsonObject => ({
    operationId: named ? `${verb}Named` : verb,
    summary: `${verb === 'increment' ? 'Adds the step to' : 'Subtracts the step from'} ${counterNoun(named)}`,
    description:
      'Answers the value right after this change, once it is durable. Concurrent changes take effect in one order consistent with real time, so concurrent increments answer distinct values.' +
      (named ? ' The first change of a name creates the counter.' : ''),
    tags: ['counters'],
    security: [NO_KEY, key('writeKey')],
    parameters: [ref('parameters', 'By')],
    requestBody: {
      required: false,
      content: {
        'application/json': {
          schema: ref('schemas', 'StepBody'),
          example: { by: 5 },
        },
      },
    },
    responses: {
      '200': ref('responses', 'Value'),
      '400': error('Bad step, body or name; nothing changed.'),
      '401': ref('responses', 'Unauthorized'),
      '409': error('The change would leave the signed 64-bit range; nothing changed.'),
      '413': error(`The body is larger than ${MAX_BODY_BYTES} bytes; nothing changed.`),
      '415': error('The body is not application/json; nothing changed.'),
      '503': ref('responses', 'StorageUnavailable'),
      ...(named ? { '507': ref('responses', 'TooManyCounters') } : {}),
    },
  });

const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'head', 'patch'];
// Sent with a 204 to OPTIONS only when the offline host's CORS_ALLOWED_ORIGINS (or Azure's
// CORS setting) allows the request's Origin.
const CORS_HEADERS = [
  'Access-Control-Allow-Origin',
  'Access-Control-Allow-Methods',
  'Access-Control-Allow-Headers',
  'Access-Control-Allow-Credentials',
  'Access-Control-Max-Age',
  'Vary',
];

/**
 * Adds to every path the OPTIONS operation the catch-all function answers there, so that
 * each path states the methods it takes in the same words as its Allow header.
 */
function withOptions(paths: Record<string, JsonObject>): Record<string, JsonObject> {
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => {
      const methods = OPERATION_METHODS.filter((method) => method in item);
      const first = item[methods[0]] as JsonObject;
      const operationId = String(first.operationId);
      const options: JsonObject = {
        operationId: `options${operationId[0].toUpperCase()}${operationId.slice(1)}`,
        summary: `The methods ${path} takes`,
        description:
          'Answered 204 with Allow; no key is needed. With CORS configured, a browser preflight from an allowed origin also gets the Access-Control-* headers. Any other method on this path answers 405 with the same Allow header.',
        tags: first.tags ?? [],
        security: [NO_KEY],
        responses: {
          '204': {
            description: `The methods, in Allow: ${[...methods.map((m) => m.toUpperCase()).sort(), 'OPTIONS'].join(', ')}.`,
            headers: {
              Allow: ref('headers', 'Allow'),
              ...Object.fromEntries(
                CORS_HEADERS.map((name) => [name, { schema: { type: 'string' } }]),
              ),
            },
          },
          '413': ref('responses', 'RequestTooLarge'),
        },
      };
      return [path, { ...item, options }];
    }),
  );
}

export const openApiDocument: JsonObject = {
  openapi: '3.1.0',
  info: {
    title: 'Rusty-Counter',
    version: '1.0.0',
    summary: 'Durable signed 64-bit counters in a mounted directory.',
    description:
      'A default counter and up to COUNTER_MAX_NAMED named ones. Every change is durable before it is answered; errors are JSON {"error": "..."}, and no answer is half-written.',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  // Relative, so a client generated from this document calls whatever address served it.
  servers: [{ url: '/', description: 'the address this document was served from' }],
  tags: [
    {
      name: 'counters',
      description: 'Read, change, set, list, delete and watch the default and named counters.',
    },
    {
      name: 'operations',
      description: 'The page, readiness for probes, and this document.',
    },
  ],
  paths: withOptions({
    ...withAndWithoutName('get', 'get', (named) => ({
      operationId: named ? 'getNamed' : 'get',
      summary: `Reads ${counterNoun(named)}`,
      description: named
        ? 'A name never changed reads 0; reading creates nothing.'
        : 'Heals data.bin from backup.bin first when it is missing or corrupt.',
      tags: ['counters'],
      security: [NO_KEY, key('readKey'), key('writeKey')],
      responses: {
        '200': ref('responses', 'Value'),
        ...(named ? { '400': error('The name breaks the naming rule.') } : {}),
        '401': ref('responses', 'Unauthorized'),
        '503': ref('responses', 'StorageUnavailable'),
      },
    })),
    ...withAndWithoutName('increment', 'post', stepOperation('increment')),
    ...withAndWithoutName('decrement', 'post', stepOperation('decrement')),
    ...withAndWithoutName('set', 'put', (named) => ({
      operationId: named ? 'setNamed' : 'set',
      summary: `Sets ${counterNoun(named)} to a value (admin)`,
      description:
        'For migrations and resets. Durable before the answer and ordered in real time with the changes. Disabled (403) unless COUNTER_ADMIN_KEY is configured.' +
        (named ? ' Setting a name that does not exist creates it.' : ''),
      tags: ['counters'],
      security: [key('adminKey')],
      parameters: [
        {
          name: 'value',
          in: 'query',
          required: false,
          description: 'The new value; give it here or in the body (both: they must agree).',
          schema: INT64,
        },
      ],
      requestBody: {
        required: false,
        content: {
          'application/json': { schema: ref('schemas', 'SetBody'), example: { value: 0 } },
        },
      },
      responses: {
        '200': ref('responses', 'Value'),
        '400': error('Missing or bad value, body or name; nothing changed.'),
        '401': ref('responses', 'Unauthorized'),
        '403': error('PUT /set is disabled: COUNTER_ADMIN_KEY is not configured.'),
        '413': error(`The body is larger than ${MAX_BODY_BYTES} bytes; nothing changed.`),
        '415': error('The body is not application/json; nothing changed.'),
        '503': ref('responses', 'StorageUnavailable'),
        ...(named ? { '507': ref('responses', 'TooManyCounters') } : {}),
      },
    })),
    ...withAndWithoutName('watch', 'get', (named) => ({
      operationId: named ? 'watchNamed' : 'watch',
      summary: `Streams ${counterNoun(named)} live (Server-Sent Events)`,
      description:
        'The first event holds the current value; then one event follows each change, made by this process at once and by other processes or replicas sharing the data directory within a second. Each event\'s data is {"value": N}. A slow client may miss intermediate values, never the latest. A ": heartbeat" comment comes every 15 seconds of quiet; the stream ends after a minute (EventSource reconnects by itself and gets the current value first). At most COUNTER_MAX_WATCHERS streams per process.',
      tags: ['counters'],
      security: [NO_KEY, key('readKey'), key('writeKey')],
      responses: {
        '200': {
          description: 'An endless text/event-stream of values.',
          content: {
            'text/event-stream': {
              schema: { type: 'string' },
              example: 'retry: 500\ndata: {"value":42}\n\ndata: {"value":43}\n\n: heartbeat\n\n',
            },
          },
        },
        ...(named ? { '400': error('The name breaks the naming rule.') } : {}),
        '401': ref('responses', 'Unauthorized'),
        '503': {
          description:
            'COUNTER_MAX_WATCHERS streams are open in this process already, or storage is unavailable.',
          headers: { 'Retry-After': ref('headers', 'RetryAfter') },
          content: { 'application/json': { schema: ref('schemas', 'Error') } },
        },
      },
    })),
    ...withAndWithoutName('badge', 'get', (named) => ({
      operationId: named ? 'badgeNamed' : 'badge',
      summary: `Draws ${counterNoun(named)} as a shields-style SVG badge`,
      description:
        'Drawn by badge-maker, the library of shields.io. With COUNTER_PUBLIC_HITS=true, ?hit=1 adds 1 first and needs no key (a visitor counter for a README); otherwise ?hit answers 403.',
      tags: ['counters'],
      security: [NO_KEY, key('readKey'), key('writeKey')],
      parameters: ['BadgeLabel', 'BadgeColor', 'BadgeStyle', 'Hit'].map((name) =>
        ref('parameters', name),
      ),
      responses: {
        '200': {
          description: 'The badge; Cache-Control: no-cache, so every view shows the current value.',
          content: { 'image/svg+xml': { schema: { type: 'string' } } },
        },
        '400': error('A bad label, color, style, hit or name; nothing counted.'),
        '401': ref('responses', 'Unauthorized'),
        '403': error('?hit was given but COUNTER_PUBLIC_HITS is not true; nothing counted.'),
        '409': error('A hit would leave the signed 64-bit range; nothing counted.'),
        '503': ref('responses', 'StorageUnavailable'),
        ...(named ? { '507': ref('responses', 'TooManyCounters') } : {}),
      },
    })),
    '/counters': {
      get: {
        operationId: 'listCounters',
        summary: 'Lists the named counters that exist, with their values, sorted by name',
        description: `One page of at most ?limit= counters (default ${LIST_LIMIT_DEFAULT}), in byte order of their names. When more follow, "next" is the name to give as ?after= for the next page; on the last page it is null. A counter changed while you page through shows its value at the moment its page was read.`,
        tags: ['counters'],
        security: [NO_KEY, key('readKey'), key('writeKey')],
        parameters: [
          {
            name: 'limit',
            in: 'query',
            required: false,
            description: `The most counters in this page, 1 to ${LIST_LIMIT_MAX}.`,
            schema: {
              type: 'integer',
              minimum: 1,
              maximum: LIST_LIMIT_MAX,
              default: LIST_LIMIT_DEFAULT,
            },
          },
          {
            name: 'after',
            in: 'query',
            required: false,
            description: 'Only names after this one: the "next" of the previous page.',
            schema: ref('schemas', 'CounterName'),
          },
          {
            name: 'prefix',
            in: 'query',
            required: false,
            description:
              'Only names that start with this (case-insensitive, like names), e.g. "page-".',
            schema: {
              type: 'string',
              minLength: 1,
              maxLength: NAME_MAX_LENGTH,
              pattern: PREFIX_PATTERN.replace(/a-z/g, 'a-zA-Z'),
            },
          },
        ],
        responses: {
          '200': {
            description: 'One page of counters.',
            content: {
              'application/json': {
                schema: ref('schemas', 'CounterList'),
                example: { counters: [{ name: 'visits', value: 1041 }], next: 'visits' },
              },
            },
          },
          '400': error('A bad limit, after or prefix.'),
          '401': ref('responses', 'Unauthorized'),
          '503': ref('responses', 'StorageUnavailable'),
        },
      },
    },
    '/counters/{name}': {
      parameters: [ref('parameters', 'Name')],
      delete: {
        operationId: 'deleteCounter',
        summary: 'Deletes a named counter (admin)',
        description:
          'Removes the counter with its backup and frees its place under COUNTER_MAX_NAMED. Ordered with the changes around it: a change answered before the delete goes with it, one after it starts again from 0; watchers see 0. The default counter has no name and cannot be deleted: reset it with PUT /set. Disabled (403) unless COUNTER_ADMIN_KEY is configured.',
        tags: ['counters'],
        security: [key('adminKey')],
        responses: {
          '200': {
            description: 'Deleted; the answer holds the value the counter had.',
            content: {
              'application/json': {
                schema: ref('schemas', 'CounterEntry'),
                example: { name: 'visits', value: 1041 },
              },
            },
          },
          '400': error('The name breaks the naming rule; nothing was deleted.'),
          '401': ref('responses', 'Unauthorized'),
          '403': error('Deleting is disabled: COUNTER_ADMIN_KEY is not configured.'),
          '404': ref('responses', 'NotFound'),
          '503': ref('responses', 'StorageUnavailable'),
        },
      },
    },
    '/': {
      get: {
        operationId: 'page',
        summary: 'A page that shows a counter live, with buttons to change it',
        description:
          'Plain HTML with a few lines of script: it watches /watch/{name} and calls /increment and /decrement; it asks for a key when the API needs one.',
        tags: ['operations'],
        security: [NO_KEY],
        responses: {
          '200': {
            description: 'The page.',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          '413': ref('responses', 'RequestTooLarge'),
        },
      },
    },
    '/health': {
      get: {
        operationId: 'health',
        summary: 'Readiness: the data directory takes writes and the default counter is valid',
        tags: ['operations'],
        security: [NO_KEY],
        responses: {
          '200': {
            description: 'Ready.',
            content: { 'application/json': { schema: ref('schemas', 'Health') } },
          },
          '413': ref('responses', 'RequestTooLarge'),
          '503': {
            description: 'Not ready; the error says why.',
            headers: { 'Retry-After': ref('headers', 'RetryAfter') },
            content: { 'application/json': { schema: ref('schemas', 'HealthUnavailable') } },
          },
        },
      },
      head: {
        operationId: 'healthHead',
        summary:
          'Readiness as GET /health answers it, without the body (monitors that probe with HEAD)',
        tags: ['operations'],
        security: [NO_KEY],
        responses: {
          '200': { description: 'Ready.' },
          '413': { description: 'The request body is over the Functions host limit.' },
          '503': {
            description: 'Not ready.',
            headers: { 'Retry-After': ref('headers', 'RetryAfter') },
          },
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openApi',
        summary: 'This document',
        tags: ['operations'],
        security: [NO_KEY],
        responses: {
          '200': {
            description: 'The OpenAPI 3.1 document of the service.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['openapi'],
                  properties: { openapi: { type: 'string', const: '3.1.0' } },
                },
              },
            },
          },
          '413': ref('responses', 'RequestTooLarge'),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: "This replica's metrics in Prometheus' text format (docs/metrics.md)",
        tags: ['operations'],
        security: [NO_KEY, key('metricsKey')],
        responses: {
          '200': {
            description:
              'Prometheus text exposition format 0.0.4: requests, latencies, changes, commit times, refusals, healings, backups, watchers, named counters, Node process metrics. Never a label per counter name.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          '401': ref('responses', 'Unauthorized'),
          '404': {
            description: 'Metrics are turned off (COUNTER_METRICS=false).',
            content: { 'application/json': { schema: ref('schemas', 'Error') } },
          },
          '413': ref('responses', 'RequestTooLarge'),
        },
      },
    },
  }),
  // OpenAPI has no place for answers outside every operation; these are the catch-all
  // function's (functions/not-found.ts), the same on every path.
  'x-unrouted-responses': {
    '404': ref('responses', 'NotFound'),
    '405': {
      description:
        'The path takes other methods, listed in Allow (its OPTIONS operation lists them too).',
      headers: { Allow: ref('headers', 'Allow') },
      content: { 'application/json': { schema: ref('schemas', 'Error') } },
    },
  },
  components: {
    securitySchemes: {
      writeKey: {
        type: 'http',
        scheme: 'bearer',
        description: 'COUNTER_WRITE_KEY: when configured, changes need it; it can read too.',
      },
      readKey: {
        type: 'http',
        scheme: 'bearer',
        description: 'COUNTER_READ_KEY: when configured, reads need it (or the write key).',
      },
      metricsKey: {
        type: 'http',
        scheme: 'bearer',
        description:
          'COUNTER_METRICS_KEY: when configured, GET /metrics needs it; otherwise it is open.',
      },
      adminKey: {
        type: 'http',
        scheme: 'bearer',
        description:
          'COUNTER_ADMIN_KEY: PUT /set and DELETE /counters/{name} need it; with none configured both are disabled.',
      },
    },
    parameters: {
      Name: {
        name: 'name',
        in: 'path',
        required: true,
        description: `The counter's name, case-insensitive (folded to lower case): ${NAME_RULE}; the device names ${RESERVED_NAMES.join(', ')} are refused.`,
        schema: ref('schemas', 'CounterName'),
      },
      BadgeLabel: {
        name: 'label',
        in: 'query',
        required: false,
        description: `The left-hand text; default: the counter's name, or "counter". At most ${BADGE_LABEL_MAX_LENGTH} characters.`,
        schema: { type: 'string', maxLength: BADGE_LABEL_MAX_LENGTH },
      },
      BadgeColor: {
        name: 'color',
        in: 'query',
        required: false,
        description: 'The colour of the value: a badge-maker name or a hex colour; default blue.',
        schema: {
          anyOf: [
            { enum: [...BADGE_COLOR_NAMES] },
            { type: 'string', pattern: BADGE_HEX_COLOR_PATTERN },
          ],
        },
      },
      BadgeStyle: {
        name: 'style',
        in: 'query',
        required: false,
        description: 'The badge style; default flat.',
        schema: { enum: [...BADGE_STYLES] },
      },
      Hit: {
        name: 'hit',
        in: 'query',
        required: false,
        description: 'Count a visit (add 1) before drawing; only with COUNTER_PUBLIC_HITS=true.',
        schema: { const: '1' },
      },
      By: {
        name: 'by',
        in: 'query',
        required: false,
        description: 'The step, 1 by default; give it here or in the body (both: they must agree).',
        schema: { ...INT64, minimum: 1 },
      },
    },
    schemas: {
      CounterName: {
        type: 'string',
        minLength: 1,
        maxLength: NAME_MAX_LENGTH,
        // Upper case is accepted and folded, so the pattern the client may send allows it.
        pattern: NAME_PATTERN.replace(/a-z/g, 'a-zA-Z'),
        not: { enum: [...RESERVED_NAMES] },
        examples: ['visits', 'page-home_2'],
      },
      CounterEntry: {
        type: 'object',
        required: ['name', 'value'],
        additionalProperties: false,
        properties: { name: ref('schemas', 'CounterName'), value: INT64 },
      },
      CounterList: {
        type: 'object',
        required: ['counters', 'next'],
        additionalProperties: false,
        properties: {
          counters: { type: 'array', items: ref('schemas', 'CounterEntry') },
          next: {
            description: 'Give it as ?after= for the next page; null on the last page.',
            oneOf: [ref('schemas', 'CounterName'), { type: 'null' }],
          },
        },
      },
      Value: {
        type: 'object',
        required: ['value'],
        additionalProperties: false,
        properties: { value: INT64 },
      },
      StepBody: {
        type: 'object',
        additionalProperties: false,
        properties: {
          by: {
            description:
              'A positive whole number up to 9223372036854775807 (a decimal string is accepted too).',
            oneOf: [
              { type: 'integer', format: 'int64', minimum: 1 },
              { type: 'string', pattern: '^[0-9]+$' },
            ],
          },
        },
      },
      SetBody: {
        type: 'object',
        additionalProperties: false,
        properties: {
          value: {
            description: 'The new value (a decimal string is accepted too).',
            oneOf: [INT64, { type: 'string', pattern: '^-?[0-9]+$' }],
          },
        },
      },
      Error: {
        type: 'object',
        required: ['error'],
        additionalProperties: false,
        properties: {
          error: { type: 'string', description: 'What was wrong, in words a user can act on.' },
        },
      },
      Health: {
        type: 'object',
        required: ['status', 'checks'],
        properties: {
          status: { const: 'ok' },
          checks: {
            type: 'object',
            properties: {
              dataDirectory: { const: 'writable' },
              value: { const: 'valid' },
            },
          },
        },
      },
      HealthUnavailable: {
        type: 'object',
        required: ['status', 'error'],
        properties: { status: { const: 'unavailable' }, error: { type: 'string' } },
      },
    },
    headers: {
      Allow: {
        description: 'The methods this path takes, e.g. "GET, OPTIONS".',
        required: true,
        schema: { type: 'string', examples: ['GET, OPTIONS'] },
      },
      RetryAfter: {
        description: 'Seconds to wait before trying again.',
        required: true,
        schema: { type: 'integer', minimum: 0, examples: [RETRY_AFTER_SECONDS] },
      },
    },
    responses: {
      NotFound: {
        description: 'Nothing is there: no such path, or no such counter.',
        content: { 'application/json': { schema: ref('schemas', 'Error') } },
      },
      RequestTooLarge: {
        description:
          "The request body is larger than FUNCTIONS_REQUEST_BODY_SIZE_LIMIT (1 MiB in this app's settings); the Functions host refuses it before reading it.",
        content: { 'application/json': { schema: ref('schemas', 'Error') } },
      },
      Value: {
        description: 'The value right after this request.',
        content: {
          'application/json': {
            schema: ref('schemas', 'Value'),
            example: { value: 42 },
          },
        },
      },
      Unauthorized: {
        description:
          'The key this route needs is missing or wrong (header "Authorization: Bearer <key>").',
        headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
        content: { 'application/json': { schema: ref('schemas', 'Error') } },
      },
      StorageUnavailable: {
        description:
          'Storage is away or failed: the data directory (full, read-only, busy...) or the database (unreachable, restarting, failing over, slower than COUNTER_LOCK_TIMEOUT_MS). The error says "nothing was changed", or, when the connection to the database broke after COMMIT was sent, that the change may or may not have been applied: it is never retried for the client, who should read the counter before sending it again.',
        headers: { 'Retry-After': ref('headers', 'RetryAfter') },
        content: { 'application/json': { schema: ref('schemas', 'Error') } },
      },
      TooManyCounters: {
        description:
          'Creating this named counter would pass COUNTER_MAX_NAMED; nothing was created.',
        content: { 'application/json': { schema: ref('schemas', 'Error') } },
      },
    },
  },
};
