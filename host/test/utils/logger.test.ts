import { createLogger, parseLogLevel } from '../../src/utils/logger';

function sinks() {
  const out: string[] = [];
  const errors: string[] = [];
  return {
    out,
    errors,
    outSink: { write: (line: string) => out.push(line) },
    errorSink: { write: (line: string) => errors.push(line) },
  };
}

describe('parseLogLevel', () => {
  it('reads the Functions level names in any case, and info/warn', () => {
    expect(parseLogLevel('Information')).toBe('information');
    expect(parseLogLevel('warn')).toBe('warning');
    expect(parseLogLevel('NONE')).toBe('none');
    expect(parseLogLevel('loud')).toBeUndefined();
  });
});

describe('createLogger', () => {
  it('writes one timestamped line per call, with level and source', () => {
    const { out, outSink, errorSink } = sinks();
    createLogger('information', outSink, errorSink).log(
      'information',
      'get',
      'GET /get -> 200 in 1.2 ms',
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}\[get\] GET \/get -> 200 in 1\.2 ms\n$/,
    );
  });

  it('sends warnings and errors to the error stream', () => {
    const { out, errors, outSink, errorSink } = sinks();
    const logger = createLogger('trace', outSink, errorSink);
    logger.log('warning', 'host', 'careful');
    logger.log('error', 'host', 'broken');
    expect(out).toEqual([]);
    expect(errors.map((line) => line.slice(25))).toEqual([
      'WARN  [host] careful\n',
      'ERROR [host] broken\n',
    ]);
  });

  it('drops lines below its level, and everything at "none"', () => {
    const { out, errors, outSink, errorSink } = sinks();
    const warningOnly = createLogger('warning', outSink, errorSink);
    warningOnly.log('information', 'host', 'dropped');
    expect(warningOnly.isEnabled('debug')).toBe(false);
    expect(warningOnly.isEnabled('error')).toBe(true);
    createLogger('none', outSink, errorSink).log('critical', 'host', 'dropped too');
    expect([...out, ...errors]).toEqual([]);
  });
});
