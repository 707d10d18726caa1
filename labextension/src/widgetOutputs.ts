/** Which outputs are our notebook widgets, and when ipywidgets failed to show one: the pure
 * part of widgetFallback.ts (no DOM, no Lumino: unit-tested in Node). */

export const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';
/** The metadata key and the one MIME type our outputs name as their fallback. */
const MARK = 'jupyter_mlops';
export const FALLBACK_MIME = 'text/html';
/** The class ipywidgets' renderer takes when it writes an error instead of a view. */
export const ERROR_CLASS = 'jupyter-widgets';
const ERROR_TEXT = 'Error displaying widget';

/** An output as JupyterLab's output models and nbformat both hold it. */
export interface IOutputLike {
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** What of a DOM element `isWidgetError` reads (an interface so it is testable in Node). */
export interface IRendererNode {
  readonly textContent: string | null;
  readonly childElementCount: number;
  readonly classList: { contains(token: string): boolean };
}

/** The HTML to show for `output` where its widget cannot be, or null when the output is not
 * one of ours (no mark), is not a widget view, or has no HTML version. */
export function fallbackHtml(output: IOutputLike): string | null {
  const mark = output.metadata?.[MARK];
  if (!mark || typeof mark !== 'object' || !(WIDGET_MIME in output.data)) {
    return null;
  }
  if ((mark as Record<string, unknown>).widget_fallback !== FALLBACK_MIME) {
    return null;
  }
  const html = output.data[FALLBACK_MIME];
  if (typeof html === 'string') {
    return html;
  }
  // nbformat may store a multiline string as its list of lines.
  const isLines =
    Array.isArray(html) && html.every(line => typeof line === 'string');
  return isLines ? html.join('') : null;
}

/** Whether a widget-view renderer shows ipywidgets' error (its text alone) rather than a
 * view, "Loading widget..." or our fallback. */
export function isWidgetError(node: IRendererNode): boolean {
  return (
    node.classList.contains(ERROR_CLASS) &&
    node.childElementCount === 0 &&
    (node.textContent ?? '').startsWith(ERROR_TEXT)
  );
}
