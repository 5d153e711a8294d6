// The harness's arithmetic: percentiles and run medians, the Prometheus histogram deltas that give
// the gateway's per-tick lateness, and the SVG writer's output.
import { describe, expect, it } from 'vitest';
import { cdf, medianOf, pct, summarize } from '../bench/lib/stats.js';
import { histogramDelta, parseHistogram } from '../bench/lib/stacks.js';
import { lineChart } from '../bench/lib/svg.js';

const scrape = (sum: number, count: number, buckets: Array<[string, number]>) =>
  [
    '# HELP fived_gateway_tick_lateness_seconds tick publish time minus its second boundary',
    ...buckets.map(([le, v]) => `fived_gateway_tick_lateness_seconds_bucket{le="${le}"} ${v}`),
    `fived_gateway_tick_lateness_seconds_sum ${sum}`,
    `fived_gateway_tick_lateness_seconds_count ${count}`,
    'fived_gateway_tick_lateness_seconds_other 1',
  ].join('\n');

describe('stats', () => {
  it('nearest-rank percentiles and summaries', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(summarize(xs)).toMatchObject({ n: 100, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5 });
    expect(pct(Float64Array.from([7]), 99)).toBe(7);
    expect(summarize([]).n).toBe(0);
  });

  it('medians of runs with min and max, skipping missing runs', () => {
    expect(medianOf([3, null, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: 3 });
    expect(medianOf([4, 1])).toEqual({ median: 2.5, min: 1, max: 4, runs: 2 });
    expect(medianOf([null, undefined]).median).toBeNull();
  });

  it('a CDF ends at 1 with the maximum', () => {
    const c = cdf(Array.from({ length: 1000 }, (_, i) => i), 10);
    expect(c.at(-1)).toEqual([999, 1]);
    expect(c.length).toBeLessThanOrEqual(12);
  });
});

describe('gateway histogram deltas', () => {
  it('one observation between scrapes gives its exact value', () => {
    const a = parseHistogram(scrape(0.01, 4, [['0.001', 1], ['0.005', 3], ['0.01', 4], ['+Inf', 4]]), 'fived_gateway_tick_lateness_seconds')!;
    const b = parseHistogram(scrape(0.0137, 5, [['0.001', 1], ['0.005', 4], ['0.01', 5], ['+Inf', 5]]), 'fived_gateway_tick_lateness_seconds')!;
    expect(a.buckets).toHaveLength(4);
    const d = histogramDelta(a, b)!;
    expect(d.count).toBe(1);
    expect(d.exact).toBeCloseTo(0.0037, 10);
  });

  it('several observations give the bucket bound that holds them all; none gives null', () => {
    const a = parseHistogram(scrape(0, 0, [['0.001', 0], ['0.005', 0], ['0.05', 0], ['+Inf', 0]]), 'fived_gateway_tick_lateness_seconds')!;
    const b = parseHistogram(scrape(0.03, 2, [['0.001', 1], ['0.005', 1], ['0.05', 2], ['+Inf', 2]]), 'fived_gateway_tick_lateness_seconds')!;
    expect(histogramDelta(a, b)).toEqual({ count: 2, exact: null, maxBound: 0.05 });
    expect(histogramDelta(b, b)).toBeNull();
    expect(parseHistogram('nothing here', 'fived_gateway_tick_lateness_seconds')).toBeNull();
  });
});

describe('svg', () => {
  it('writes one path per non-empty series, the legend and the shaded range', () => {
    const svg = lineChart({
      title: 'a <b> & c', xLabel: 'x', yLabel: 'y', yLog: true,
      series: [{ name: 's1', color: '#000', points: [[0, 1], [1, 10], [2, 100]] }, { name: 's2', color: '#f00', points: [] }],
      shade: { from: 1, to: 2, label: 'fallback' },
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(1);
    expect(svg).toContain('a &lt;b&gt; &amp; c');
    expect(svg).toContain('>s2<');
    expect(svg).toContain('fill="#f5c542"');
  });
});
