import type { Environment } from './load-settings';
import { HostStartupError } from '../utils/host-startup-error';

const APP_SETTING_REFERENCE = /%([^%\s]+)%/g;

/**
 * Replaces each `%NAME%` in a binding property with the app setting (environment variable)
 * NAME, as the Functions host does for schedules and routes. A missing setting stops start-up.
 */
export function substituteAppSettings(value: string, env: Environment, usedFor: string): string {
  return value.replace(APP_SETTING_REFERENCE, (_match, name: string) => {
    const setting = env[name];
    if (setting === undefined) {
      throw new HostStartupError(
        `${usedFor} refers to the app setting %${name}%, which is not set`,
      );
    }
    return setting;
  });
}
