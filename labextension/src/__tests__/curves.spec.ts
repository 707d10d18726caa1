import { PageConfig } from '@jupyterlab/coreutils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { ICompare, ICurve, ICurveOverlay, IImportance } from '../api';
import { MLOpsAPI } from '../api';
import { overlayNote } from '../charts/compare_data';
import {
  curveSeries,
  downsampleNote,
  importanceOption
} from '../charts/curves';
import { chartTheme } from '../charts/theme';
import { API_PREFIX } from '../request';

const theme = chartTheme(name =>
  name === '--jp-brand-color1' ? '#1976d2' : ''
);

function curve(extra: Partial<ICurve> = {}): ICurve {
  return {
    key: 'validation_0-logloss',
    label: 'validation_0-logloss',
    steps: [0, 5, 9],
    values: [0.7, null, 0.2],
    total: 3,
    downsampled: false,
    run_id: 'r1',
    ...extra
  };
}

describe('curves', () => {
  it('become series, a null value a gap', () => {
    const [s] = curveSeries([curve()]);
    expect(s.label).toBe('validation_0-logloss');
    expect(s.points.map(p => p.x)).toEqual([0, 5, 9]);
    expect(s.points[0].y).toBe(0.7);
    expect(Number.isNaN(s.points[1].y)).toBe(true);
  });

  it('say when the server downsampled them, and by how much', () => {
    expect(downsampleNote([curve()])).toBe('');
    const long = curve({
      steps: Array.from({ length: 598 }, (_, i) => i),
      total: 10000,
      downsampled: true
    });
    expect(downsampleNote([curve(), long])).toBe(
      '598 of 10,000 points shown (min and max per bucket; the last point exact)'
    );
  });
});

describe('importance chart', () => {
  const imp: IImportance = {
    column: 'gain',
    columns: ['gain', 'weight'],
    feature_column: 'feature',
    features: ['f2', 'f0', 'f1'],
    values: [9, 4, 1],
    total: 3
  };

  it('draws horizontal bars, the largest on top, in the theme colour', () => {
    const o = importanceOption(imp, theme);
    expect(o.yAxis.type).toBe('category');
    expect(o.yAxis.inverse).toBe(true); // the first (largest) feature at the top
    expect(o.yAxis.data).toEqual(['f2', 'f0', 'f1']);
    expect(o.xAxis.type).toBe('value');
    expect(o.series[0].type).toBe('bar');
    expect(o.series[0].data).toEqual([9, 4, 1]);
    expect(o.series[0].itemStyle.color).toBe('#1976d2');
    // Long names are cut to fit a 250 px panel, not the bars.
    expect(o.yAxis.axisLabel.overflow).toBe('truncate');
  });
});

describe('overlay note', () => {
  const cmp = {
    runs: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    names: ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']
  } as unknown as ICompare;

  it('names the runs past the first five and those without the curve', () => {
    const overlay = {
      key: 'loss',
      curves: [],
      missing: ['b'],
      omitted: ['f', 'g'],
      points: 600
    } as ICurveOverlay;
    expect(overlayNote(cmp, overlay)).toBe(
      '7 runs: the first 5 are charted (not r5, r6); no loss curve in r1'
    );
    expect(overlayNote(cmp, { ...overlay, missing: [], omitted: [] })).toBe('');
  });
});

describe('the calls', () => {
  const BASE = 'http://localhost:8888/lab-base/';
  const sent: URL[] = [];
  beforeEach(() => {
    PageConfig.setOption('baseUrl', BASE);
    sent.length = 0;
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        sent.push(new URL(request.url));
        return new Response('{}', { status: 200 });
      })
    );
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('ask for curves, overlays and tables with their bounds', async () => {
    await MLOpsAPI.runCurves('r 1', 600);
    await MLOpsAPI.compareCurves(['a1', 'b2'], 'val/loss', 300);
    await MLOpsAPI.artifactTable('r1', 'sub/clf.importance.json', 'weight', 50);
    expect(sent.map(u => u.pathname)).toEqual([
      `/lab-base/${API_PREFIX}/runs/r%201/curves`,
      `/lab-base/${API_PREFIX}/compare/curves`,
      `/lab-base/${API_PREFIX}/runs/r1/table/sub/clf.importance.json`
    ]);
    expect(sent[0].searchParams.get('points')).toBe('600');
    expect(sent[1].searchParams.get('ids')).toBe('a1,b2');
    expect(sent[1].searchParams.get('metric')).toBe('val/loss');
    expect(sent[2].searchParams.get('by')).toBe('weight');
    expect(sent[2].searchParams.get('rows')).toBe('50');
  });
});
