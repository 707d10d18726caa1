import { describe, expect, it } from 'vitest';

import {
  IRendererNode,
  WIDGET_MIME,
  fallbackHtml,
  isWidgetError
} from '../widgetOutputs';

const MARK = { jupyter_mlops: { widget_fallback: 'text/html' } };
const VIEW = { model_id: 'abc', version_major: 2, version_minor: 1 };

describe('fallbackHtml', () => {
  it('gives the HTML of a marked widget output', () => {
    const data = { [WIDGET_MIME]: VIEW, 'text/html': '<table></table>' };
    expect(fallbackHtml({ data, metadata: MARK })).toBe('<table></table>');
  });

  it('joins HTML nbformat stored as lines', () => {
    const data = {
      [WIDGET_MIME]: VIEW,
      'text/html': ['<table>\n', '</table>']
    };
    expect(fallbackHtml({ data, metadata: MARK })).toBe('<table>\n</table>');
  });

  it('leaves alone outputs that are not ours or have no HTML', () => {
    const html = '<table></table>';
    const cases = [
      { data: { [WIDGET_MIME]: VIEW, 'text/html': html }, metadata: {} },
      { data: { [WIDGET_MIME]: VIEW, 'text/html': html } },
      { data: { 'text/html': html }, metadata: MARK },
      { data: { [WIDGET_MIME]: VIEW }, metadata: MARK },
      { data: { [WIDGET_MIME]: VIEW, 'text/html': [1, 2] }, metadata: MARK },
      {
        data: { [WIDGET_MIME]: VIEW, 'text/html': html },
        metadata: { jupyter_mlops: { widget_fallback: 'text/javascript' } }
      },
      {
        data: { [WIDGET_MIME]: VIEW, 'text/html': html },
        metadata: { jupyter_mlops: 'text/html' }
      }
    ];
    expect(cases.map(fallbackHtml)).toEqual(cases.map(() => null));
  });
});

function node(text: string, classes: string[], children = 0): IRendererNode {
  return {
    textContent: text,
    childElementCount: children,
    classList: { contains: (c: string) => classes.includes(c) }
  };
}

describe('isWidgetError', () => {
  it("knows ipywidgets' errors", () => {
    const missing = 'Error displaying widget: model not found';
    expect(isWidgetError(node(missing, ['jupyter-widgets']))).toBe(true);
    expect(
      isWidgetError(node('Error displaying widget', ['jupyter-widgets']))
    ).toBe(true);
  });

  it('leaves views, loading and our fallback alone', () => {
    expect(isWidgetError(node('Loading widget...', []))).toBe(false);
    expect(isWidgetError(node('run1 run2', ['jupyter-widgets'], 1))).toBe(
      false
    );
    const missing = 'Error displaying widget: model not found';
    expect(isWidgetError(node(missing, ['jupyter-widgets'], 1))).toBe(false);
    expect(isWidgetError(node(missing, ['jm-widget-fallback']))).toBe(false);
  });
});
