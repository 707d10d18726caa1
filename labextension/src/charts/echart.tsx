/**
 * One ECharts chart in a div that follows its container's width (ResizeObserver). Only the
 * chart kinds and components the panel uses are bundled (echarts/core). Small charts draw in
 * SVG (crisp, their text in the DOM for screen readers and tests), large ones on a canvas.
 * After each option, the div says what ECharts holds: `data-y-type` (value, log, category)
 * and `data-series` (how many series), for tests.
 */
import {
  BarChart,
  LineChart,
  ParallelChart,
  ScatterChart
} from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  ParallelComponent,
  TooltipComponent
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';
import * as React from 'react';

echarts.use([
  BarChart,
  LineChart,
  ParallelChart,
  ScatterChart,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  ParallelComponent,
  TooltipComponent,
  CanvasRenderer,
  SVGRenderer
]);

export type ChartOption = echarts.EChartsCoreOption;

/** What the chart reports back: the zoomed x range in percent (0–100) after a zoom. */
export interface IChartEvents {
  onZoom?: (start: number, end: number) => void;
}

export function EChart(
  props: {
    option: ChartOption;
    height: number;
    /** Resetting the zoom: a new value re-applies the option as given. */
    resetKey?: number;
    renderer?: 'svg' | 'canvas';
    attrs?: Record<string, string>;
    label: string;
  } & IChartEvents
): JSX.Element {
  const ref = React.useRef<HTMLDivElement>(null);
  const chart = React.useRef<echarts.ECharts | null>(null);
  const onZoom = React.useRef(props.onZoom);
  onZoom.current = props.onZoom;
  React.useEffect(() => {
    const el = ref.current!;
    const c = echarts.init(el, null, { renderer: props.renderer ?? 'svg' });
    chart.current = c;
    c.on('datazoom', () => {
      const dz = (
        c.getOption().dataZoom as { start: number; end: number }[]
      )?.[0];
      if (dz) {
        onZoom.current?.(dz.start, dz.end);
      }
    });
    // Only a real change of width redraws: the sidebar is dragged wider or narrower.
    const observer = new ResizeObserver(() => c.resize());
    observer.observe(el);
    return () => {
      observer.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);
  React.useEffect(() => {
    const c = chart.current;
    if (!c) {
      return;
    }
    c.setOption(props.option, { notMerge: true });
    const held = c.getOption() as {
      yAxis?: { type: string }[];
      series?: unknown[];
    };
    ref.current!.dataset.yType = held.yAxis?.[0]?.type ?? '';
    ref.current!.dataset.series = String(held.series?.length ?? 0);
  }, [props.option, props.resetKey]);
  return (
    <div
      ref={ref}
      className="jp-mlops-echart"
      role="img"
      aria-label={props.label}
      style={{ height: props.height }}
      {...props.attrs}
    />
  );
}
