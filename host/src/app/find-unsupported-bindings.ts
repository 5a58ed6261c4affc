import type { FunctionMetadata } from '../core/core-types';

/**
 * What a function declares that this host does not provide, one line each: input and output
 * bindings other than the HTTP trigger's own response (`extraInputs`/`extraOutputs` such as
 * storage or Cosmos DB). The Functions host would connect these to Azure
 * services; here they would be silently missing, so start-up names them instead.
 */
export function findUnsupportedBindings(metadata: FunctionMetadata): string[] {
  const found: string[] = [];
  for (const [name, binding] of Object.entries(metadata.bindings)) {
    const type = binding.type ?? 'untyped';
    const lowerType = type.toLowerCase();
    if (lowerType.endsWith('trigger')) continue;
    if (lowerType === 'http' && binding.direction === 'out') continue;
    found.push(`${binding.direction ?? 'in'}put binding "${name}" (${type})`);
  }
  return found;
}
