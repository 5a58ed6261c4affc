import { compareRoutePrecedence, type CompiledRoute, matchRoute } from './compile-route';

export interface HttpRoute {
  functionName: string;
  /** Upper-case methods; empty means every method. */
  methods: ReadonlySet<string>;
  route: CompiledRoute;
}

export type RouteLookup =
  | { kind: 'found'; route: HttpRoute; params: Record<string, string> }
  /** The path exists, but no function there accepts the method. */
  | { kind: 'methodNotAllowed'; allowedMethods: string[] }
  | { kind: 'notFound' };

/** Finds the function for a method and path; HEAD falls back to a GET function. */
export class RouteTable {
  readonly routes: readonly HttpRoute[];

  constructor(routes: HttpRoute[]) {
    this.routes = [...routes].sort((a, b) => compareRoutePrecedence(a.route, b.route));
  }

  lookup(method: string, path: string): RouteLookup {
    let getFallback: { route: HttpRoute; params: Record<string, string> } | undefined;
    let pathExists = false;
    for (const route of this.routes) {
      const params = matchRoute(route.route, path);
      if (!params) continue;
      pathExists = true;
      if (accepts(route, method)) return { kind: 'found', route, params };
      if (method === 'HEAD' && !getFallback && accepts(route, 'GET'))
        getFallback = { route, params };
    }
    if (getFallback) return { kind: 'found', ...getFallback };
    if (!pathExists) return { kind: 'notFound' };
    return { kind: 'methodNotAllowed', allowedMethods: this.allowedMethods(path) };
  }

  /** The methods some function accepts at `path`, plus HEAD where GET is, and OPTIONS; empty if none. */
  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    let anyMethod = false;
    for (const route of this.routes) {
      if (!matchRoute(route.route, path)) continue;
      if (route.methods.size === 0) anyMethod = true;
      for (const method of route.methods) methods.add(method);
    }
    if (anyMethod) return ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];
    if (methods.size === 0) return [];
    if (methods.has('GET')) methods.add('HEAD');
    methods.add('OPTIONS');
    return [...methods].sort();
  }
}

function accepts(route: HttpRoute, method: string): boolean {
  return route.methods.size === 0 || route.methods.has(method);
}
