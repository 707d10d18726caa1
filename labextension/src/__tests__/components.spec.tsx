import { readFileSync } from 'fs';
import { resolve } from 'path';

import * as React from 'react';
import { describe, expect, it, vi } from 'vitest';

import type { IModelPin } from '../api';
import { RUN_STATUSES } from '../api';
import { GateChip, StatusChip } from '../common';
import { DEFAULT_SETTINGS, PanelModel, readSettings } from '../model';
import { pinTitle } from '../models';
import { fmtDay, limitText } from '../monitoring';

describe('readSettings', () => {
  it('gives the defaults for missing or mistyped values', () => {
    expect(readSettings({})).toEqual(DEFAULT_SETTINGS);
    expect(
      readSettings({ refreshInterval: '5s', metricColumns: Number.NaN })
    ).toEqual(DEFAULT_SETTINGS);
  });
  it('reads the values, kept within the schema bounds', () => {
    expect(readSettings({ refreshInterval: 5000, metricColumns: 6 })).toEqual({
      refreshInterval: 5000,
      metricColumns: 6
    });
    expect(readSettings({ refreshInterval: 10, metricColumns: 99 })).toEqual({
      refreshInterval: 500,
      metricColumns: 20
    });
    expect(readSettings({ metricColumns: -1.4 }).metricColumns).toBe(0);
  });
  it('matches the defaults of schema/plugin.json', () => {
    const schema = JSON.parse(
      readFileSync(resolve(__dirname, '../../schema/plugin.json'), 'utf8')
    );
    const defaults = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, (v as any).default])
    );
    expect(defaults).toEqual(DEFAULT_SETTINGS);
  });
});

describe('PanelModel', () => {
  it('opens a run over the current view and closes it', () => {
    const model = new PanelModel();
    const changed = vi.fn();
    model.changed.connect(changed);
    model.show('models');
    model.openRun('r1');
    expect([model.view, model.runId]).toEqual(['models', 'r1']);
    model.closeRun();
    expect(model.runId).toBeNull();
    expect(changed).toHaveBeenCalledTimes(3);
  });
  it('compares runs in the compare view, closing a run', () => {
    const model = new PanelModel();
    model.openRun('r1');
    model.compare(['a', 'b']);
    expect([model.view, model.runId, model.compareIds]).toEqual([
      'compare',
      null,
      ['a', 'b']
    ]);
  });
  it('starts with the default settings and tells the views of new ones', () => {
    const model = new PanelModel();
    expect(model.settings).toEqual(DEFAULT_SETTINGS);
    const changed = vi.fn();
    model.changed.connect(changed);
    model.setSettings({ refreshInterval: 1000, metricColumns: 2 });
    expect(model.settings.metricColumns).toBe(2);
    expect(changed).toHaveBeenCalledOnce();
  });
});

describe('chips', () => {
  const css = readFileSync(resolve(__dirname, '../../style/base.css'), 'utf8');
  const className = (el: React.ReactElement | null) =>
    (el?.props as { className: string }).className;

  it.each(RUN_STATUSES)('the %s status has a styled chip', status => {
    const cls = className(StatusChip({ status }));
    expect(cls).toBe(`jp-mlops-chip jp-mlops-status-${status}`);
    expect(css).toMatch(new RegExp(`\\.jp-mlops-status-${status}\\b`));
  });
  it('a run without a status reads unknown', () => {
    expect(className(StatusChip({ status: null }))).toContain(
      'jp-mlops-status-unknown'
    );
  });
  it('gates chips name the outcome, and no gates is a muted dash', () => {
    expect(className(GateChip({ gates: 'failed' }))).toContain(
      'jp-mlops-gates-failed'
    );
    expect(className(GateChip({ gates: null }))).toBe('jp-mlops-muted');
  });
});

describe('models and monitoring helpers', () => {
  const pin: IModelPin = {
    name: 'churn',
    version: 2,
    origin: 'rollback',
    by: 'ana',
    reason: 'AUC dropped',
    since: 'not a time',
    until: null
  };
  it('puts the pin reason first, then who and since when', () => {
    expect(pinTitle(pin)).toBe(
      'AUC dropped (pinned by rollback by ana since not a time; runs register candidates only)'
    );
    expect(pinTitle({ ...pin, reason: null, by: null })).toMatch(
      /^no reason given \(pinned by rollback since/
    );
  });
  it('writes a check limits', () => {
    expect(limitText(0.8, null)).toBe('≥ 0.8');
    expect(limitText(null, 0.2)).toBe('≤ 0.2');
    expect(limitText(0.1, 0.9)).toBe('≥ 0.1 and ≤ 0.9');
    expect(limitText(null, null)).toBe('—');
  });
  it('writes a chart day in UTC', () => {
    expect(fmtDay(Date.UTC(2024, 2, 5, 23, 59) / 1000)).toBe('03-05');
  });
});
