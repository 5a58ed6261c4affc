import type { IncomingHttpHeaders } from 'node:http';
import Ajv2020 from 'ajv/dist/2020';
import { allowedMethods, documentedPathOf } from '../shared/allowed-methods';
import { openApiDocument } from '../shared/openapi';
import { type HttpReply, request, type RequestOptions } from './support/http';

/**
 * Checks an answer the service gave against `GET /openapi.json` (the same document, from
 * the module that serves it): the route and method must be documented, the status
 * documented for that operation, documented required headers present, and a JSON body
 * valid against the response's schema. A path the document lacks must answer its 404, and a
 * method a path does not take its 405, with Allow as the document lists the path's methods. The e2e tests run every reply through this, so the
 * document cannot drift from what the code does.
 */

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

type Node = Record<string, unknown>;

const DOCUMENT_ID = 'openapi.json';
const ajv = new Ajv2020({ strict: false, allErrors: true });
// OpenAPI's int64 on a JSON number: JSON.parse cannot keep digits beyond 2^53, so the exact
// text is compared by the tests themselves; here it must at least be a whole number.
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
ajv.addSchema(openApiDocument, DOCUMENT_ID);

const escapePointer = (part: string) => part.replace(/~/g, '~0').replace(/\//g, '~1');

/** Follows `$ref`s inside the document, returning the object and its JSON pointer. */
function resolve(node: Node, pointer: string): { node: Node; pointer: string } {
  const target = node.$ref;
  if (typeof target !== 'string') return { node, pointer };
  const parts = target.replace(/^#\//, '').split('/');
  let found: unknown = openApiDocument;
  for (const part of parts) found = (found as Node)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return resolve(found as Node, target.slice(1));
}

/** Throws, naming what differs, unless `reply` is what the document says `method url` answers. */
export function expectConformant(method: string, url: string, reply: Reply): void {
  const { pathname } = new URL(url, 'http://localhost');
  const template = documentedPathOf(pathname);
  const label = `${method} ${pathname} → ${reply.status}`;
  const unrouted = (status: '404' | '405') =>
    resolve(
      (openApiDocument['x-unrouted-responses'] as Node)[status] as Node,
      `/x-unrouted-responses/${status}`,
    );
  if (!template) {
    // The catch-all's 404, whatever the method.
    if (reply.status !== 404) throw new Error(`${label}: no path of openapi.json matches`);
    return expectResponse(method, label, unrouted('404'), reply);
  }
  const pathItem = (openApiDocument.paths as Node)[template] as Node;
  const operation = pathItem[method.toLowerCase()] as Node | undefined;
  const allow = allowedMethods(pathname).join(', ');
  if (!operation) {
    if (reply.status !== 405)
      throw new Error(`${label}: openapi.json has no ${method} ${template}`);
    if (reply.headers.allow !== allow) {
      throw new Error(`${label}: Allow is ${reply.headers.allow}, the document says ${allow}`);
    }
    return expectResponse(method, label, unrouted('405'), reply);
  }
  if (method === 'OPTIONS' && reply.headers.allow !== allow) {
    throw new Error(`${label}: Allow is ${reply.headers.allow}, the document says ${allow}`);
  }

  const responses = operation.responses as Node;
  const documented = responses[String(reply.status)] as Node | undefined;
  if (!documented) {
    throw new Error(
      `${label}: openapi.json documents only ${Object.keys(responses).join(', ')} for ${method} ${template}; the body was ${reply.text.slice(0, 200)}`,
    );
  }
  const basePointer = `/paths/${escapePointer(template)}/${method.toLowerCase()}/responses/${reply.status}`;
  expectResponse(method, label, resolve(documented, basePointer), reply);
}

/** The documented headers, content type and JSON schema of one response, against `reply`. */
function expectResponse(
  method: string,
  label: string,
  { node: response, pointer }: { node: Node; pointer: string },
  reply: Reply,
): void {
  for (const [name, header] of Object.entries((response.headers ?? {}) as Node)) {
    const { node } = resolve(header as Node, '');
    if (node.required === true && reply.headers[name.toLowerCase()] === undefined) {
      throw new Error(`${label}: the documented header ${name} is missing`);
    }
  }

  // A HEAD answer has the headers of its GET and never a body.
  if (method === 'HEAD') {
    if (reply.text !== '') throw new Error(`${label}: a body was sent to HEAD`);
    return;
  }
  const content = response.content as Node | undefined;
  if (content === undefined) {
    if (reply.text !== '') throw new Error(`${label}: a body was sent where none is documented`);
    return;
  }
  const type = String(reply.headers['content-type'] ?? '')
    .split(';')[0]
    .trim();
  if (!(type in content)) {
    throw new Error(
      `${label}: Content-Type "${type}" is not among ${Object.keys(content).join(', ')}`,
    );
  }
  // SVG badges, the page and event streams are checked by their own tests, not as JSON.
  if (type !== 'application/json') return;
  const schemaPointer = `${pointer}/content/${escapePointer(type)}/schema`;
  const validate = ajv.getSchema(`${DOCUMENT_ID}#${schemaPointer}`);
  if (!validate) throw new Error(`${label}: no schema at ${schemaPointer}`);
  if (!validate(JSON.parse(reply.text))) {
    throw new Error(
      `${label}: the body ${reply.text.slice(0, 200)} does not match openapi.json: ${ajv.errorsText(validate.errors)}`,
    );
  }
}

/**
 * `request` from tests/support/http, with every answer checked by `expectConformant`, the
 * catch-all's 404, 405 and OPTIONS included.
 */
export async function conformantRequest(
  url: string,
  options: RequestOptions = {},
): Promise<HttpReply> {
  const reply = await request(url, options);
  expectConformant(options.method ?? 'GET', url, reply);
  return reply;
}
