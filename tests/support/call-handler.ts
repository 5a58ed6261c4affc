import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';

export type Handler = (
  request: HttpRequest,
  context: InvocationContext,
) => Promise<HttpResponseInit>;

export interface CallInit {
  method?: string;
  /** The `{name?}` route parameter. */
  name?: string;
  /** Other route parameters. */
  params?: Record<string, string>;
  /** e.g. `?label=visits`. */
  query?: string;
  headers?: Record<string, string>;
}

export interface HandlerCall {
  response: HttpResponseInit;
  status: number;
  header(name: string): string | undefined;
  /** The body when it is a string (every answer but a stream). */
  text: string;
  /** What the handler logged, one string per call. */
  logs: string[];
}

/** Calls a function handler in-process, as the library would after the host's request. */
export async function callHandler(handler: Handler, init: CallInit = {}): Promise<HandlerCall> {
  const request = new HttpRequest({
    method: init.method ?? 'GET',
    url: `http://localhost/route${init.query ?? ''}`,
    headers: init.headers ?? {},
    params: { ...init.params, ...(init.name === undefined ? {} : { name: init.name }) },
  });
  const logs: string[] = [];
  const context = new InvocationContext({
    logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')),
  });
  const response = await handler(request, context);
  const headers = new Headers(response.headers as Record<string, string> | undefined);
  return {
    response,
    status: response.status ?? 200,
    header: (name) => headers.get(name) ?? undefined,
    text: typeof response.body === 'string' ? response.body : '',
    logs,
  };
}
