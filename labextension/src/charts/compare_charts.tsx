/**
 * Compare's charts, above its table: overlaid curves of a stepped metric (the first five
 * runs), bars of a scalar metric, a param-against-metric scatter and, for a sweep (3+ runs), parallel coordinates;
 * every run labelled by its name. The default is a curve when a metric has one.
 */
import * as React from 'react';

import type { ICompare, ICurveOverlay } from '../api';
import { LineChart } from '../chart';
import { ErrorLine, useLoad } from '../common';
import type { IPanelContext } from '../model';
import {
  CHART_TITLES,
  type ChartKind,
  chartKinds,
  overlayNote,
  metricKeys,
  numericParams,
  parallelAxes,
  rowValues
} from './compare_data';
import { CURVE_POINTS, curveSeries, downsampleNote } from './curves';
import { EChart } from './echart';
import { barOption, parallelOption, scatterOption } from './options';
import { useChartTheme } from './theme';

function Pick(props: {
  label: string;
  value: string;
  options: string[];
  titles?: Record<string, string>;
  onChange: (v: string) => void;
}): JSX.Element {
  return (
    <label className="jp-mlops-chart-pick">
      {props.label}{' '}
      <select
        className="jp-mlops-select"
        aria-label={props.label}
        value={props.value}
        onChange={e => props.onChange(e.target.value)}
      >
        {props.options.map(o => (
          <option key={o} value={o}>
            {props.titles?.[o] ?? o}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The chosen metric of the first five runs overlaid (downsampled by the server); more runs
 * are named, not drawn, and runs without that curve are said. */
function Curves(props: { ctx: IPanelContext; cmp: ICompare; metric: string }) {
  const { ctx, cmp, metric } = props;
  const overlay = useLoad<ICurveOverlay>(
    () => ctx.api.compareCurves([...cmp.runs], metric, CURVE_POINTS),
    [cmp.runs.join(','), metric]
  );
  const lines = React.useMemo(
    () => curveSeries(overlay.data?.curves ?? []),
    [overlay.data]
  );
  const data = overlay.data;
  const note = data ? overlayNote(cmp, data) : '';
  const sampled = data ? downsampleNote(data.curves) : '';
  return (
    <>
      <ErrorLine error={overlay.error} />
      {data && (
        <LineChart title={metric} xName="step" height={200} series={lines} />
      )}
      {note && (
        <div className="jp-mlops-muted jp-mlops-overlay-note">{note}</div>
      )}
      {sampled && (
        <div className="jp-mlops-muted jp-mlops-downsampled">{sampled}</div>
      )}
    </>
  );
}

function Other(props: {
  cmp: ICompare;
  kind: ChartKind;
  metric: string;
  param: string;
}): JSX.Element {
  const { cmp, kind, metric, param } = props;
  const theme = useChartTheme();
  const option = React.useMemo(() => {
    if (kind === 'bars') {
      return barOption([...cmp.names], rowValues(cmp, `metrics.${metric}`), {
        theme,
        metric
      });
    }
    if (kind === 'scatter') {
      const xs = rowValues(cmp, `params.${param}`);
      const ys = rowValues(cmp, `metrics.${metric}`);
      const points = cmp.names.flatMap((name, i) => {
        const [x, y] = [xs[i], ys[i]];
        return x === null || y === null ? [] : [{ name, x, y }];
      });
      return scatterOption(points, { theme, xName: param, yName: metric });
    }
    const axes = parallelAxes(cmp).map(key => ({
      name: key.replace(/^(params|metrics)\./, ''),
      values: rowValues(cmp, key)
    }));
    return parallelOption(axes, [...cmp.names], theme);
  }, [cmp, kind, metric, param, theme]);
  return (
    <figure className="jp-mlops-chart" data-kind={kind}>
      <EChart option={option} height={220} label={CHART_TITLES[kind]} />
    </figure>
  );
}

export function CompareCharts(props: {
  ctx: IPanelContext;
  cmp: ICompare;
}): JSX.Element | null {
  const { ctx, cmp } = props;
  const kinds = chartKinds(cmp);
  const { stepped, scalar } = metricKeys(cmp);
  const params = numericParams(cmp);
  const [kind, setKind] = React.useState<ChartKind | undefined>(kinds[0]);
  const [picked, setMetric] = React.useState<string>('');
  const [pickedParam, setParam] = React.useState<string>('');
  if (!kind || !kinds.includes(kind)) {
    return null;
  }
  const metrics = kind === 'curves' ? stepped : [...scalar, ...stepped];
  const metric = metrics.includes(picked) ? picked : metrics[0];
  const param = params.includes(pickedParam) ? pickedParam : params[0];
  return (
    <section className="jp-mlops-compare-charts" data-chart={kind}>
      <div className="jp-mlops-chart-picks">
        <Pick
          label="chart"
          value={kind}
          options={kinds}
          titles={CHART_TITLES}
          onChange={v => setKind(v as ChartKind)}
        />
        {kind === 'scatter' && (
          <Pick
            label="param"
            value={param}
            options={params}
            onChange={setParam}
          />
        )}
        {kind !== 'parallel' && (
          <Pick
            label="metric"
            value={metric}
            options={metrics}
            onChange={setMetric}
          />
        )}
      </div>
      {kind === 'curves' ? (
        <Curves ctx={ctx} cmp={cmp} metric={metric} />
      ) : (
        <Other cmp={cmp} kind={kind} metric={metric} param={param} />
      )}
    </section>
  );
}
