/**
 * One ECharts chart in a div that follows its container's width (ResizeObserver). ECharts is
 * loaded on the first chart shown (engine.ts, a chunk of its own). Small charts draw in SVG
 * (crisp, their text in the DOM for screen readers and tests), large ones on a canvas.
 * After each option, the div says what ECharts holds: `data-y-type` (value, log, category)
 * and `data-series` (how many series), for tests.
 */
import type { ECharts, EChartsCoreOption } from 'echarts/core';
import * as React from 'react';

let engine: Promise<typeof import('./engine')> | null = null;

/** ECharts, loaded once, on the first chart shown. */
function loadEngine(): Promise<typeof import('./engine')> {
  return (engine ??= import('./engine'));
}

export type ChartOption = EChartsCoreOption;

/** What the chart reports back: the zoomed x range in percent (0–100) after a zoom. */
export interface IChartEvents {
  onZoom?: (start: number, end: number) => void;
}

/** Apply an option and note on the div what ECharts now holds (for tests). */
function apply(c: ECharts, option: ChartOption): void {
  c.setOption(option, { notMerge: true });
  const held = c.getOption() as {
    yAxis?: { type: string }[];
    series?: unknown[];
  };
  const el = c.getDom();
  el.dataset.yType = held.yAxis?.[0]?.type ?? '';
  el.dataset.series = String(held.series?.length ?? 0);
}

function zoomRange(c: ECharts): { start: number; end: number } | undefined {
  return (c.getOption().dataZoom as { start: number; end: number }[])?.[0];
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
  const chart = React.useRef<ECharts | null>(null);
  const onZoom = React.useRef(props.onZoom);
  onZoom.current = props.onZoom;
  const option = React.useRef(props.option);
  option.current = props.option;
  React.useEffect(() => {
    const el = ref.current!;
    let observer: ResizeObserver | null = null;
    let gone = false;
    void loadEngine().then(({ echarts }) => {
      if (gone) {
        return;
      }
      const c = echarts.init(el, null, { renderer: props.renderer ?? 'svg' });
      chart.current = c;
      c.on('datazoom', () => {
        const dz = zoomRange(c);
        if (dz) {
          onZoom.current?.(dz.start, dz.end);
        }
      });
      apply(c, option.current);
      // The sidebar dragged wider or narrower: the chart takes the new width.
      observer = new ResizeObserver(() => c.resize());
      observer.observe(el);
    });
    return () => {
      gone = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);
  React.useEffect(() => {
    if (chart.current) {
      apply(chart.current, props.option);
    }
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
