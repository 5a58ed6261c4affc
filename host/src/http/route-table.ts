import { compareRoutePrecedence, type CompiledRoute, matchRoute } from './compile-route';

export interface HttpRoute {
  functionName: string;
  /** Upper-case methods, or every method; an empty set takes none. */
  methods: ReadonlySet<string> | 'any';
  route: CompiledRoute;
}

export type RouteLookup =
  | { kind: 'found'; route: HttpRoute; params: Record<string, string> }
  /** No function takes this method at this path (the path may exist for other methods). */
  | { kind: 'notFound' };

/**
 * Finds the function for a method and a routing path (see `toRoutingPath`): the most specific
 * route that accepts the method, as ASP.NET Core picks among the endpoints whose path and
 * method match. HEAD goes only to a function that lists HEAD, as in the Functions host.
 */
export class RouteTable {
  readonly routes: readonly HttpRoute[];

  constructor(routes: HttpRoute[]) {
    this.routes = [...routes].sort((a, b) => compareRoutePrecedence(a.route, b.route));
  }

  lookup(method: string, path: string): RouteLookup {
    for (const route of this.routes) {
      if (!accepts(route, method)) continue;
      const params = matchRoute(route.route, path);
      if (params) return { kind: 'found', route, params };
    }
    return { kind: 'notFound' };
  }

  /** The methods some function accepts at `path`, and OPTIONS; empty if none. */
  allowedMethods(path: string): string[] {
    const methods = new Set<string>();
    let anyMethod = false;
    for (const route of this.routes) {
      if (!matchRoute(route.route, path)) continue;
      if (route.methods === 'any') anyMethod = true;
      else for (const method of route.methods) methods.add(method);
    }
    if (anyMethod) return ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];
    if (methods.size === 0) return [];
    methods.add('OPTIONS');
    return [...methods].sort();
  }
}

function accepts(route: HttpRoute, method: string): boolean {
  return route.methods === 'any' || route.methods.has(method);
}
