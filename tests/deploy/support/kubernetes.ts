/** A Kubernetes CPU quantity in cores: "2" → 2, "500m" → 0.5. Throws for anything else. */
export function cpuCores(quantity: string | number | undefined): number {
  const [, digits, milli] = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(quantity ?? '')) ?? [];
  if (digits === undefined) throw new Error(`not a CPU quantity: ${String(quantity)}`);
  return milli ? Number(digits) / 1000 : Number(digits);
}
