/** The refresh button of the panel's tab bar: reloads what the visible view shows. */
import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { PanelModel } from './model';

export function RefreshButton(props: { model: PanelModel }): JSX.Element {
  return (
    <button
      type="button"
      className="jp-mlops-refresh"
      aria-label="Refresh"
      title="Refresh: reload what this view shows"
      onClick={() => props.model.refresh()}
    >
      <refreshIcon.react tag="span" className="jp-mlops-refresh-icon" />
    </button>
  );
}
