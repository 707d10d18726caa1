/**
 * Our notebook widgets' static version where their model is gone.
 *
 * A trusted notebook saved without widget state (JupyterLab's default) reopens with widget
 * views whose models died with the kernel. ipywidgets' renderer then writes "Error displaying
 * widget: model not found" and never tries the output's other MIME types
 * (jupyter-widgets/ipywidgets#849). Our `%mlops runs`/`compare` outputs carry a static
 * text/html version and a mark in their metadata (jupyter_mlops/notebook/widgets.py,
 * FALLBACK_METADATA); where such an output's widget view shows that error, this renders the
 * HTML in its place through the notebook's own text/html renderer, so it is sanitized exactly
 * as JupyterLab would for the output's trust.
 *
 * Why not a renderer factory of our own for the widget MIME type: a registry holds one factory
 * per MIME type and ipywidgets replaces it on every notebook once its kernel is ready, and it
 * hands its manager only to renderers that are its own class. So we let ipywidgets render and
 * watch for its error (it writes it only after the manager restored from the kernel and the
 * notebook's saved state, so a model still alive in the kernel renders as usual).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import type { CodeCell } from '@jupyterlab/cells';
import { INotebookTracker } from '@jupyterlab/notebook';
import type { Notebook, NotebookPanel } from '@jupyterlab/notebook';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Panel, Widget } from '@lumino/widgets';

import {
  ERROR_CLASS,
  FALLBACK_MIME,
  fallbackHtml,
  isWidgetError
} from './widgetOutputs';

/** The fallback views shown, by the widget renderer they sit in. */
const shown = new Map<Panel, Widget>();

/** Renders `html` inside `renderer` (ipywidgets' renderer, a Panel) in place of its error. */
function showFallback(
  renderer: Panel,
  html: string,
  trusted: boolean,
  rendermime: Notebook['rendermime']
): void {
  dropFallback(renderer);
  const view = rendermime.createRenderer(FALLBACK_MIME);
  view.addClass('jm-widget-fallback');
  renderer.node.textContent = '';
  renderer.removeClass(ERROR_CLASS);
  renderer.addWidget(view);
  shown.set(renderer, view);
  const model: IRenderMime.IMimeModel = {
    trusted,
    data: { [FALLBACK_MIME]: html },
    metadata: {},
    setData: () => undefined
  };
  view.renderModel(model).catch(reason => {
    console.warn('jupyter-mlops: widget fallback not rendered', reason);
  });
}

/** Disposes the fallback in `renderer`, whose node ipywidgets may have wiped on a rerender
 * (Lumino detaches a child by removing its node, so it must be there). */
function dropFallback(renderer: Panel): void {
  const view = shown.get(renderer);
  shown.delete(renderer);
  if (!view || view.isDisposed) {
    return;
  }
  if (view.node.parentNode !== renderer.node) {
    renderer.node.appendChild(view.node);
  }
  view.dispose();
}

/** Replaces each of our widget outputs' error in `panel` with its HTML, and drops fallbacks
 * ipywidgets has since rendered over. */
function replaceErrors(panel: NotebookPanel): void {
  for (const [renderer, view] of shown) {
    if (renderer.isDisposed) {
      shown.delete(renderer); // its children, the fallback with them, are disposed too
    } else if (view.node.parentNode !== renderer.node) {
      dropFallback(renderer);
    }
  }
  const errors = panel.content.node.querySelectorAll(`.${ERROR_CLASS}`);
  if (!Array.from(errors).some(isWidgetError)) {
    return;
  }
  for (const cell of panel.content.widgets) {
    if (cell.model.type !== 'code') {
      continue;
    }
    const area = (cell as CodeCell).outputArea;
    area.widgets.forEach((item, index) => {
      const output = area.model.get(index);
      const html = output ? fallbackHtml(output) : null;
      if (html === null || !(item instanceof Panel)) {
        return;
      }
      for (const renderer of item.widgets) {
        if (renderer instanceof Panel && isWidgetError(renderer.node)) {
          showFallback(
            renderer,
            html,
            output.trusted,
            panel.content.rendermime
          );
        }
      }
    });
  }
}

/** Watches `panel`'s outputs: ipywidgets writes its error some time after the notebook
 * opens (once the kernel is ready and the manager restored), so a DOM observer, batched to
 * one scan a frame, is what sees it. */
function watch(panel: NotebookPanel): void {
  let queued = false;
  const scan = () => {
    queued = false;
    if (!panel.isDisposed) {
      replaceErrors(panel);
    }
  };
  const observer = new MutationObserver(() => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(scan);
    }
  });
  observer.observe(panel.content.node, { childList: true, subtree: true });
  panel.disposed.connect(() => observer.disconnect());
}

/** The static HTML of our widget outputs in place of "Error displaying widget: model not
 * found". */
export const widgetFallbackPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlops:widget-fallback',
  description:
    'Shows the static HTML of jupyter-mlops widget outputs whose widget model is gone.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (_app, notebooks: INotebookTracker) => {
    notebooks.forEach(watch);
    notebooks.widgetAdded.connect((_, panel) => watch(panel));
  }
};
