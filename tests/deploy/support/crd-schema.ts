import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';

type Schema = Record<string, unknown>;

/**
 * The API server prunes or, under strict field validation (`kubectl apply` sends it), refuses a
 * field its structural schema does not declare. JSON Schema allows such fields unless told, so
 * each object that lists its properties and says nothing else about extra ones gets
 * `additionalProperties: false`, as the server would treat it.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const entries = Object.entries(schema as Schema).map(([key, value]) => [
    key,
    key === 'properties'
      ? Object.fromEntries(
          Object.entries(value as Schema).map(([name, sub]) => [name, closed(sub)]),
        )
      : closed(value),
  ]);
  const result = Object.fromEntries(entries) as Schema;
  if (
    result.properties !== undefined &&
    result.additionalProperties === undefined &&
    result['x-kubernetes-preserve-unknown-fields'] !== true
  )
    result.additionalProperties = false;
  return result;
}

/**
 * A validator for a custom resource, from the OpenAPI v3 schema of its CustomResourceDefinition
 * kept beside this file (`file`: `{ "source": "<where it was taken from>", "schema": … }`), so
 * that the check needs neither a cluster nor a download. Kubernetes' `x-kubernetes-*` keywords
 * and OpenAPI formats are not JSON Schema's: ajv is told to let them be.
 */
export function crdValidator(file: string): ValidateFunction {
  const { schema } = JSON.parse(readFileSync(path.join(__dirname, file), 'utf8')) as {
    schema: Schema;
  };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  return ajv.compile(closed(schema) as Schema);
}

/** What a validator found wrong, one line each: `/spec/instancse: must NOT have additional properties`. */
export function schemaErrors(validate: ValidateFunction, value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (error) =>
      `${error.instancePath || '/'}: ${error.message ?? error.keyword}${
        error.keyword === 'additionalProperties'
          ? ` (${String((error.params as { additionalProperty: string }).additionalProperty)})`
          : ''
      }`,
  );
}
