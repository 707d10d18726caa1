/** The column chooser: a disclosure with one checkbox per metric, param and tag of the page. */
import * as React from 'react';

import type { RunColumns } from '../types';
import {
  type ColumnGroup,
  GROUPS,
  type IColumnChoice,
  offered,
  toggleColumn
} from './choice';

export interface IChooserProps {
  columns: RunColumns;
  shown: IColumnChoice;
  /** True when `shown` is a saved pick, not the page's default. */
  custom: boolean;
  onChange: (choice: IColumnChoice | null) => void;
}

export function ColumnChooser(props: IChooserProps): JSX.Element {
  const { columns, shown, custom, onChange } = props;
  const count = GROUPS.reduce((n, g) => n + shown[g].length, 0);
  return (
    <details className="jp-mlops-chooser">
      <summary className="jp-mlops-button">Columns ({count})</summary>
      <div className="jp-mlops-chooser-body">
        {GROUPS.map(group => (
          <ChooserGroup
            key={group}
            group={group}
            keys={offered(columns, shown, group)}
            shown={shown}
            onChange={onChange}
          />
        ))}
        <button
          className="jp-mlops-button"
          disabled={!custom}
          onClick={() => onChange(null)}
        >
          Reset to default
        </button>
      </div>
    </details>
  );
}

function ChooserGroup(props: {
  group: ColumnGroup;
  keys: string[];
  shown: IColumnChoice;
  onChange: (choice: IColumnChoice) => void;
}): JSX.Element {
  const { group, keys, shown, onChange } = props;
  return (
    <fieldset className="jp-mlops-chooser-group" data-group={group}>
      <legend>{group}</legend>
      {keys.length === 0 && <span className="jp-mlops-muted">none</span>}
      {keys.map(key => (
        <label key={key} title={`${group}.${key}`}>
          <input
            type="checkbox"
            checked={shown[group].includes(key)}
            onChange={() => onChange(toggleColumn(shown, group, key))}
          />
          {key}
        </label>
      ))}
    </fieldset>
  );
}
