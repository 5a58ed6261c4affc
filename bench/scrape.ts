import { createRequire } from 'node:module';

/** One metric family as parse-prometheus-text-format reads it; numbers stay strings. */
export interface MetricFamily {
  name: string;
  type: string;
  metrics: Array<{
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }>;
}

// The parser ships no type declarations, so it is loaded untyped and given the shape above.
const parsePrometheusText = createRequire(__filename)('parse-prometheus-text-format') as (
  text: string,
) => MetricFamily[];

/**
 * A scrape of Prometheus' text format, parsed by a real parser (not a regex). The parser
 * folds the series of a histogram with labels into one, so only counters, gauges and
 * histograms without labels are read through it; the series are counted from the text.
 */
export class Scrape {
  readonly families: MetricFamily[];

  constructor(private readonly text: string) {
    this.families = parsePrometheusText(text);
  }

  /** The sample of a counter or gauge whose labels include `labels`; throws when absent. */
  value(name: string, labels: Record<string, string> = {}): number {
    const sample = this.sample(name, labels);
    if (sample.value === undefined) throw new Error(`${name} is not a counter or gauge`);
    return Number(sample.value);
  }

  /** The number of observations of a histogram without labels. */
  count(name: string): number {
    const sample = this.sample(name, {});
    if (sample.count === undefined) throw new Error(`${name} is not a histogram`);
    return Number(sample.count);
  }

  /** The sum of the observations of a histogram without labels. */
  sum(name: string): number {
    const sample = this.sample(name, {});
    if (sample.sum === undefined) throw new Error(`${name} is not a histogram`);
    return Number(sample.sum);
  }

  /**
   * The series whose names start with `prefix`: in the text format, each line that is not a
   * comment is one.
   */
  seriesCount(prefix = ''): number {
    return this.text
      .split('\n')
      .filter((line) => line.startsWith(prefix) && !line.startsWith('#') && line.trim() !== '')
      .length;
  }

  /** The sum of a counter's series over all their labels. */
  total(name: string): number {
    return this.family(name).metrics.reduce((n, sample) => n + Number(sample.value), 0);
  }

  private family(name: string): MetricFamily {
    const family = this.families.find((f) => f.name === name);
    if (family === undefined) throw new Error(`no metric ${name} in the scrape`);
    return family;
  }

  private sample(name: string, labels: Record<string, string>) {
    const sample = this.family(name).metrics.find((s) =>
      Object.entries(labels).every(([key, value]) => s.labels?.[key] === value),
    );
    if (sample === undefined) throw new Error(`no ${name} with labels ${JSON.stringify(labels)}`);
    return sample;
  }
}

/** Increments made durable, by `rusty_counter_changes_total`. */
export const incrementsOf = (s: Scrape): number =>
  s.value('rusty_counter_changes_total', { kind: 'increment' });

/** `POST /increment` answered 200, by `rusty_counter_http_requests_total`. */
export const answeredIncrementsOf = (s: Scrape): number =>
  s.value('rusty_counter_http_requests_total', {
    function: 'increment',
    method: 'POST',
    status: '200',
  });
