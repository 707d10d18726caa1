/** The sidebar widget: a tab bar over the runs, compare, pipelines, models and monitoring views. */
import { ReactWidget } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import { PanelModelContext } from './common';
import { CompareView } from './compare';
import { RunDetailView } from './detail';
import type { IPanelContext, ViewName } from './model';
import { PanelModel } from './model';
import { ModelsView } from './models';
import { MonitoringView } from './monitoring';
import { PipelinesView } from './pipelines';
import { RefreshButton } from './refresh';
import { RunsView } from './runs';

const TABS: { view: ViewName; label: string }[] = [
  { view: 'runs', label: 'Runs' },
  { view: 'compare', label: 'Compare' },
  { view: 'pipelines', label: 'Pipelines' },
  { view: 'models', label: 'Models' },
  { view: 'monitoring', label: 'Monitoring' }
];

function Panel(props: { ctx: IPanelContext; model: PanelModel }): JSX.Element {
  const { ctx, model } = props;
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const bump = () => setVersion(v => v + 1);
    model.changed.connect(bump);
    return () => {
      model.changed.disconnect(bump);
    };
  }, [model]);
  // Live updates while the panel is on screen (it renders nothing before its first show).
  React.useEffect(() => ctx.follow?.(model), [ctx, model]);
  const view = model.view;
  const runId = model.runId;
  return (
    <div className="jp-mlops-panel">
      <div className="jp-mlops-tabbar">
        {/* The tabs wrap onto a second row when the sidebar is narrow (250 px by default):
            every tab stays in sight, none hides behind a scroll or a menu. */}
        <div
          className="jp-mlops-tabs"
          role="tablist"
          aria-label="jupyter-mlops views"
        >
          {TABS.map(t => (
            <button
              key={t.view}
              role="tab"
              aria-selected={view === t.view && !runId}
              className={`jp-mlops-tab ${view === t.view ? 'jp-mod-current' : ''}`}
              onClick={() => model.show(t.view)}
            >
              {t.label}
            </button>
          ))}
        </div>
        {/* Buttons for the whole panel sit beside the tablist: a tablist may hold only tabs. */}
        <RefreshButton model={model} />
      </div>
      <div className="jp-mlops-body">
        {runId && (
          <RunDetailView key={runId} ctx={ctx} model={model} runId={runId} />
        )}
        {/* The runs view stays mounted under a detail so its filter and page survive. */}
        <div hidden={!!runId || view !== 'runs'} className="jp-mlops-view">
          <RunsView ctx={ctx} model={model} />
        </div>
        {!runId && view === 'compare' && (
          <CompareView ctx={ctx} model={model} />
        )}
        {!runId && view === 'pipelines' && (
          <PipelinesView ctx={ctx} model={model} />
        )}
        {!runId && view === 'models' && <ModelsView ctx={ctx} model={model} />}
        {!runId && view === 'monitoring' && (
          <MonitoringView ctx={ctx} model={model} />
        )}
      </div>
    </div>
  );
}

export class MLOpsPanel extends ReactWidget {
  readonly model = new PanelModel();

  constructor(private readonly _ctx: IPanelContext) {
    super();
    this.id = 'jupyter-mlops-panel';
    this.addClass('jp-mlops-sidebar');
  }

  // Nothing is rendered (nor fetched) until the panel is first shown: a JupyterLab that never
  // opens the sidebar pays nothing for it, whatever the size of the store.
  private _shown = false;

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (!this._shown) {
      this._shown = true;
      this.update();
    }
  }

  protected onAfterAttach(msg: Message): void {
    this._shown = this._shown || this.isVisible;
    super.onAfterAttach(msg);
  }

  render(): JSX.Element | null {
    return this._shown ? (
      <PanelModelContext.Provider value={this.model}>
        <Panel ctx={this._ctx} model={this.model} />
      </PanelModelContext.Provider>
    ) : null;
  }
}
