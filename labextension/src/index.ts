/** The plugins of the jupyter-mlops sidebar. Nothing but plugin objects lives here. */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { readSettings } from './model';
// The panel is added to the shell as the plugin activates (it renders nothing until shown),
// so what it wires is needed at once: a lazy import would gain nothing.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { addCommands, createPanel, linkRunSummaries } from './plugin';
import { widgetFallbackPlugin } from './widgetFallback';

/** The sidebar panel, its commands, and links from `%%track` summaries to run details. */
const panelPlugin: JupyterFrontEndPlugin<void> = {
  // The settings schema is schema/plugin.json: JupyterLab finds it by the id's part after ':'.
  id: 'jupyter-mlops:plugin',
  description:
    'A sidebar over the jupyter-mlops store: runs, compare, pipelines and models.',
  autoStart: true,
  requires: [],
  optional: [
    ILayoutRestorer,
    ICommandPalette,
    INotebookTracker,
    ISettingRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    settingRegistry: ISettingRegistry | null
  ) => {
    const panel = createPanel(app, notebooks);
    app.shell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, 'jupyter-mlops');
    addCommands(app, panel, notebooks, palette);
    linkRunSummaries(app, panel);
    // Without a settings registry the panel keeps its defaults (model.ts).
    settingRegistry
      ?.load(panelPlugin.id)
      .then(settings => {
        const apply = () =>
          panel.model.setSettings(readSettings(settings.composite));
        apply();
        settings.changed.connect(apply);
      })
      .catch(reason => {
        console.warn(
          'jupyter-mlops: settings not loaded, using defaults',
          reason
        );
      });
  }
};

export default [panelPlugin, widgetFallbackPlugin];
