import { HostStartupError } from './host-startup-error';

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON object in a settings file's text; anything else stops start-up, naming the file. */
export function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new HostStartupError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(json)) throw new HostStartupError(`${file} must hold a JSON object`);
  return json;
}
