import type { FunctionMetadata, RpcBindingInfo } from '../core/core-types';

export interface TriggerBinding {
  name: string;
  binding: RpcBindingInfo;
  /** Lower-case binding type, e.g. `httptrigger`. */
  type: string;
}

/** The function's trigger: its one binding whose type ends in `Trigger`, as the library marks it. */
export function findTriggerBinding(metadata: FunctionMetadata): TriggerBinding | undefined {
  for (const [name, binding] of Object.entries(metadata.bindings)) {
    const type = binding.type?.toLowerCase() ?? '';
    if (type.endsWith('trigger')) return { name, binding, type };
  }
  return undefined;
}
