/** What the plugin objects in index.ts wire up: the panel, its commands, the summary links. */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Clipboard,
  Dialog,
  ICommandPalette,
  InputDialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { CommandToolbarButton } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { MLOpsAPI } from './api';
import { mlopsIcon } from './icon';
import { LiveUpdates } from './live';
import type { IPanelContext } from './model';
import { MLOpsPanel } from './panel';

export namespace CommandIDs {
  export const open = 'jupyter-mlops:open';
  export const trackCell = 'jupyter-mlops:track-cell';
  export const promote = 'jupyter-mlops:promote';
  export const showRun = 'jupyter-mlops:show-run';
}

const CATEGORY = 'jupyter-mlops';
/** What a command that takes no arguments tells `describedBy`. */
const NO_ARGS = { args: { type: 'object', properties: {} } };
/** Where copies of output notebooks go when the store is not visible to the contents API. */
const OUTPUTS_DIR = 'mlops-outputs';

export function createPanel(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker | null
): MLOpsPanel {
  const ctx: IPanelContext = {
    api: MLOpsAPI,
    baseUrl: ServerConnection.makeSettings().baseUrl,
    currentNotebook: () => notebooks?.currentWidget?.context.path ?? null,
    openPath: path => void app.commands.execute('docmanager:open', { path }),
    openOutputNotebook: async nb => {
      // The store usually sits in the hidden .mlops/, which the contents API will not open:
      // then the notebook is copied to a visible folder first.
      const visible =
        nb.root_path && !nb.root_path.split('/').some(p => p.startsWith('.'));
      let path = nb.root_path ?? '';
      if (!visible) {
        const contents = app.serviceManager.contents;
        const dir = OUTPUTS_DIR;
        try {
          await contents.get(dir, { content: false });
        } catch {
          await contents.save(dir, { type: 'directory' });
        }
        path = `${dir}/${nb.run_id.slice(0, 8)}-output.ipynb`;
        await contents.save(path, {
          type: 'notebook',
          format: 'json',
          content: nb.content
        });
      }
      await app.commands.execute('docmanager:open', { path });
    },
    askReason: async (title, question) => {
      const result = await InputDialog.getText({
        title,
        label: question,
        placeholder: 'reason (recorded in the model history)',
        okLabel: 'Confirm'
      });
      return result.button.accept ? (result.value ?? '') : null;
    },
    notify: (message, kind) => {
      Notification.emit(message, kind, {
        autoClose: kind === 'error' ? false : 4000
      });
    },
    copy: text => {
      Clipboard.copyToSystem(text);
      Notification.emit('Run id copied', 'info', { autoClose: 2000 });
    },
    follow: model => {
      const live = new LiveUpdates({
        onChange: kinds => model.storeChangedBy(kinds),
        onStatus: connected => model.setLive(connected)
      });
      live.start();
      return () => {
        live.stop();
        model.setLive(false);
      };
    }
  };
  const panel = new MLOpsPanel(ctx);
  panel.title.icon = mlopsIcon;
  panel.title.caption = 'jupyter-mlops';
  return panel;
}

/** The body of the promote dialog: the pipeline's name and an optional cron schedule. */
class PromoteBody extends Widget {
  constructor(defaultName: string) {
    const node = document.createElement('div');
    node.className = 'jp-mlops-promote-form';
    node.innerHTML = `
      <label>Pipeline name <input class="jp-mod-styled" name="name"></label>
      <label>Schedule (cron, empty for manual runs)
        <input class="jp-mod-styled" name="schedule" placeholder="0 3 * * *"></label>`;
    super({ node });
    (node.querySelector('input[name=name]') as HTMLInputElement).value =
      defaultName;
  }

  getValue(): { name: string; schedule: string } {
    const get = (n: string) =>
      (
        this.node.querySelector(`input[name=${n}]`) as HTMLInputElement
      ).value.trim();
    return { name: get('name'), schedule: get('schedule') };
  }
}

export function addCommands(
  app: JupyterFrontEnd,
  panel: MLOpsPanel,
  notebooks: INotebookTracker | null,
  palette: ICommandPalette | null
): void {
  const { commands, shell } = app;
  commands.addCommand(CommandIDs.open, {
    label: 'Open jupyter-mlops',
    describedBy: NO_ARGS,
    icon: mlopsIcon,
    execute: () => shell.activateById(panel.id)
  });
  commands.addCommand(CommandIDs.showRun, {
    label: 'Show jupyter-mlops run',
    describedBy: {
      args: {
        type: 'object',
        properties: { id: { type: 'string', description: 'The run id' } },
        required: ['id']
      }
    },
    execute: args => {
      shell.activateById(panel.id);
      panel.model.openRun(String(args.id));
    }
  });
  commands.addCommand(CommandIDs.trackCell, {
    label: 'Track this cell',
    caption: 'Record this cell as an experiment run (%%track)',
    describedBy: NO_ARGS,
    isEnabled: () =>
      !!notebooks?.activeCell && notebooks.activeCell.model.type === 'code',
    execute: () => {
      const cell = notebooks?.activeCell;
      if (!cell || cell.model.type !== 'code') {
        return;
      }
      const source = cell.model.sharedModel.getSource();
      if (!source.startsWith('%%track')) {
        cell.model.sharedModel.setSource(`%%track\n${source}`);
      }
    }
  });
  commands.addCommand(CommandIDs.promote, {
    label: 'Promote notebook to pipeline',
    caption: 'Turn this notebook into a papermill pipeline behind gates',
    describedBy: NO_ARGS,
    isEnabled: () => !!notebooks?.currentWidget,
    execute: async () => {
      const nb = notebooks?.currentWidget;
      if (!nb) {
        return;
      }
      const path = nb.context.path;
      const body = new PromoteBody(PathExt.basename(path, '.ipynb'));
      const result = await showDialog({
        title: 'Promote notebook to pipeline',
        body,
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Promote' })]
      });
      if (!result.button.accept || !result.value) {
        return;
      }
      try {
        await nb.context.save();
        const out = await MLOpsAPI.promote(
          path,
          result.value.name || undefined,
          result.value.schedule || undefined
        );
        Notification.success(`Promoted ${path} → ${out.path}`, {
          autoClose: 5000
        });
        shell.activateById(panel.id);
        panel.model.show('pipelines');
      } catch (e) {
        Notification.error(`Promote failed: ${(e as Error).message}`, {
          autoClose: false
        });
      }
    }
  });
  for (const command of [
    CommandIDs.open,
    CommandIDs.trackCell,
    CommandIDs.promote
  ]) {
    palette?.addItem({ command, category: CATEGORY });
  }
  notebooks?.widgetAdded.connect((_, nb: NotebookPanel) => {
    const add = (name: string, id: string, rank: number, label: string) =>
      nb.toolbar.insertItem(
        rank,
        name,
        new CommandToolbarButton({ commands, id, label })
      );
    add('jupyter-mlops-track', CommandIDs.trackCell, 10, '%%track');
    add('jupyter-mlops-promote', CommandIDs.promote, 11, 'Promote');
  });
}

/** A click on a `%%track` summary (it carries `data-jupyter-mlops-run`) opens that run. */
export function linkRunSummaries(
  app: JupyterFrontEnd,
  panel: MLOpsPanel
): void {
  document.addEventListener('click', event => {
    const target = event.target as Element | null;
    const el = target?.closest?.('[data-jupyter-mlops-run]');
    if (!el || panel.node.contains(el)) {
      return;
    }
    const id = el.getAttribute('data-jupyter-mlops-run');
    if (id) {
      void app.commands.execute(CommandIDs.showRun, { id });
    }
  });
}
