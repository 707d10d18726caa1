/**
 * Chart colours from JupyterLab's theme variables. A canvas cannot use `var(--jp-…)`, so the
 * values are read from the page's computed style, and read again when the theme changes
 * (JupyterLab sets `data-jp-theme-name` on the body): light, dark and high contrast alike.
 */
import * as React from 'react';

export interface IChartTheme {
  /** Series colours, in order. */
  palette: string[];
  text: string;
  muted: string;
  axis: string;
  grid: string;
  background: string;
  threshold: string;
  breach: string;
  font: string;
}

const PALETTE_VARS = [
  '--jp-brand-color1',
  '--jp-warn-color1',
  '--jp-success-color1',
  '--jp-error-color1',
  '--jp-accent-color1',
  '--jp-brand-color3'
];

/** The theme's colours; `read(name)` gives a CSS variable's value ('' when unset). */
export function chartTheme(read: (name: string) => string): IChartTheme {
  const v = (name: string, fallback: string) => read(name).trim() || fallback;
  const text = v('--jp-ui-font-color1', '#000');
  return {
    palette: PALETTE_VARS.map(name => v(name, text)),
    text,
    muted: v('--jp-ui-font-color2', text),
    axis: v('--jp-border-color1', text),
    grid: v('--jp-border-color2', text),
    background: v('--jp-layout-color1', '#fff'),
    threshold: v('--jp-warn-color0', text),
    breach: v('--jp-error-color1', text),
    font: v('--jp-ui-font-family', 'sans-serif')
  };
}

function readTheme(): IChartTheme {
  const style = getComputedStyle(document.body);
  return chartTheme(name => style.getPropertyValue(name));
}

/** The current chart theme; components using it re-render when JupyterLab's theme changes. */
export function useChartTheme(): IChartTheme {
  const [theme, setTheme] = React.useState(readTheme);
  React.useEffect(() => {
    // The theme's stylesheet may land a moment after the attribute: read on the next frame.
    const observer = new MutationObserver(() =>
      requestAnimationFrame(() => setTheme(readTheme()))
    );
    observer.observe(document.body, {
      attributes: true,
      attributeFilter: ['data-jp-theme-name', 'data-jp-theme-light']
    });
    return () => observer.disconnect();
  }, []);
  return theme;
}
