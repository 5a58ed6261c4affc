import { allowedMethods, documentedPathOf } from '../../shared/allowed-methods';
import { openApiDocument } from '../../shared/openapi';

describe('the routes the OpenAPI document lists', () => {
  it('finds the path template a request path falls under', () => {
    expect(documentedPathOf('/get')).toBe('/get');
    expect(documentedPathOf('/get/visits')).toBe('/get/{name}');
    expect(documentedPathOf('/INCREMENT/')).toBe('/increment');
    expect(documentedPathOf('/get/a/b')).toBeUndefined();
    expect(documentedPathOf('/nothing')).toBeUndefined();
    expect(documentedPathOf('/')).toBe('/');
    expect(documentedPathOf('//')).toBeUndefined();
  });

  it('names the methods each documented path answers, then OPTIONS', () => {
    for (const [template, pathItem] of Object.entries(openApiDocument.paths as object)) {
      const path = template.replace(/\{[^}]+\}/g, 'some-name');
      const documented = Object.keys(pathItem as object)
        .filter((key) => key !== 'parameters' && key !== 'options')
        .map((method) => method.toUpperCase());
      expect({ path, methods: allowedMethods(path) }).toEqual({
        path,
        methods: [...documented.sort(), 'OPTIONS'],
      });
    }
  });

  it('knows the routes that list and delete counters', () => {
    expect(allowedMethods('/counters')).toEqual(['GET', 'OPTIONS']);
    expect(allowedMethods('/Counters/visits/')).toEqual(['DELETE', 'OPTIONS']);
    expect(allowedMethods('/counters/a/b')).toEqual([]);
  });

  it('names no method where nothing is served', () => {
    expect(allowedMethods('/nothing')).toEqual([]);
  });
});
