/**
 * A plain JSON object, the only shape the app accepts for a request body or config.json
 * (the host keeps its own check: the app and the host share no code).
 */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
