/**
 * ECharts with only the chart kinds and components the panel uses (echarts/core). Loaded on
 * demand by echart.tsx: a chunk of its own (650 kB, 224 kB gzipped), so the panel's first
 * rows never wait for it.
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

export { echarts };
