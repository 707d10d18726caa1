/**
 * The refresh button of the panel's tab bar: reloads what the visible view shows. Its tooltip
 * (and `data-live`) says whether the server's changes stream in.
 */
import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { PanelModel } from './model';

export function RefreshButton(props: { model: PanelModel }): JSX.Element {
  return (
    <button
      type="button"
      className="jp-mlops-refresh"
      aria-label="Refresh"
      title={
        props.model.live
          ? 'Refresh (live: changes to the store show on their own)'
          : 'Refresh (live updates are reconnecting)'
      }
      data-live={props.model.live ? 'on' : 'off'}
      onClick={() => props.model.refresh()}
    >
      <refreshIcon.react tag="span" className="jp-mlops-refresh-icon" />
    </button>
  );
}
