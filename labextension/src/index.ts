/** The plugins of the jupyter-mlops sidebar. Nothing but plugin objects lives here. */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, IToolbarWidgetRegistry } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';

import {
  CommandIDs,
  addCommands,
  createPanel,
  linkRunSummaries
} from './plugin';

/** The sidebar panel, its commands, and links from `%%track` summaries to run details. */
const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlops:panel',
  description:
    'A sidebar over the jupyter-mlops store: runs, compare, pipelines and models.',
  autoStart: true,
  requires: [],
  optional: [
    ILayoutRestorer,
    ICommandPalette,
    INotebookTracker,
    IToolbarWidgetRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    toolbars: IToolbarWidgetRegistry | null
  ) => {
    const panel = createPanel(app, notebooks);
    app.shell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, 'jupyter-mlops');
    addCommands(app, panel, notebooks, palette);
    linkRunSummaries(app, panel);
    void toolbars; // toolbar items come from the settings schema (see schema/plugin.json)
    void CommandIDs;
  }
};

export default [panelPlugin];
