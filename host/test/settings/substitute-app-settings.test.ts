import { HostStartupError } from '../../src/utils/host-startup-error';
import { substituteAppSettings } from '../../src/settings/substitute-app-settings';

describe('substituteAppSettings', () => {
  it('replaces each %NAME% with the app setting NAME', () => {
    const env = { SCHEDULE: '*/5 * * * * *', PREFIX: 'v2' };
    expect(substituteAppSettings('%SCHEDULE%', env, 'the schedule')).toBe('*/5 * * * * *');
    expect(substituteAppSettings('%PREFIX%/items/%PREFIX%', env, 'the route')).toBe('v2/items/v2');
  });

  it('leaves text without references alone', () => {
    expect(substituteAppSettings('0 * * * * *', {}, 'the schedule')).toBe('0 * * * * *');
  });

  it('fails start-up naming the setting that is not set', () => {
    expect(() => substituteAppSettings('%MISSING%', {}, 'the schedule of "backup"')).toThrow(
      HostStartupError,
    );
    expect(() => substituteAppSettings('%MISSING%', {}, 'the schedule of "backup"')).toThrow(
      'the schedule of "backup" refers to the app setting %MISSING%, which is not set',
    );
  });
});
