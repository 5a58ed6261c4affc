import { createRequire } from 'node:module';
import path from 'node:path';
import { createSerializer, type CompositeMapper, type Mapper } from '@azure/core-client';

/**
 * The Container Apps REST model (Microsoft.App, api-version of the installed
 * @azure/arm-appcontainers), as the SDK's generated mappers describe it. The package exports
 * only its client, so the mappers are loaded from their file; the path is the package's own
 * layout, and this throws if a new version moves them.
 */
const load = createRequire(__filename);
const mappers = load(
  path.join(
    path.dirname(load.resolve('@azure/arm-appcontainers/package.json')),
    'dist/commonjs/models/mappers.js',
  ),
) as Record<string, Mapper>;
const serializer = createSerializer(mappers, false);

/**
 * Checks a resource in its REST form (what `az containerapp create --yaml` and ARM templates
 * take) against the model named `modelName`, e.g. `ContainerApp`, through the SDK's own
 * serializer: reading it into the model keeps only the properties the model declares, and
 * writing it back checks types and required properties (and throws when one is wrong). So
 * whatever comes back different from what went in is a property the model does not know.
 *
 * Returns the paths of those properties, e.g. `properties.template.scale.rules[0].htp`.
 */
export function unknownProperties(modelName: string, resource: unknown): string[] {
  const mapper = mappers[modelName] as CompositeMapper | undefined;
  if (!mapper) throw new Error(`the Container Apps model has no ${modelName}`);
  const options = { ignoreUnknownProperties: true, xml: {} };
  const model: unknown = serializer.deserialize(mapper, resource, modelName, options);
  const written: unknown = serializer.serialize(mapper, model, modelName, options);
  return differences(resource, written, '');
}

/** Paths where `given` has something `written` lacks or holds otherwise. */
function differences(given: unknown, written: unknown, at: string): string[] {
  if (Array.isArray(given)) {
    if (!Array.isArray(written)) return [at];
    return given.flatMap((item, index) => differences(item, written[index], `${at}[${index}]`));
  }
  if (typeof given === 'object' && given !== null) {
    if (typeof written !== 'object' || written === null) return [at];
    const record = written as Record<string, unknown>;
    return Object.entries(given).flatMap(([key, value]) =>
      key in record
        ? differences(value, record[key], at ? `${at}.${key}` : key)
        : [at ? `${at}.${key}` : key],
    );
  }
  return given === written ? [] : [at];
}
