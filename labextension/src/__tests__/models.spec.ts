import { PageConfig } from '@jupyterlab/coreutils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { IModelVersion } from '../api';
import { MLOpsAPI } from '../api';
import { hasFacts, parseTag } from '../registry/versionMeta';
import { API_PREFIX } from '../request';

const BASE = 'http://localhost:8888/lab-base/';

function version(extra: Partial<IModelVersion> = {}): IModelVersion {
  return {
    name: 'churn',
    version: 3,
    run_id: 'r1',
    artifact_uri: 'a',
    artifact_sha: 's',
    size: 1,
    stage: 'candidate',
    created: '2026-01-01T00:00:00+00:00',
    updated: '2026-01-01T00:00:00+00:00',
    metrics: {},
    data: [],
    pipeline: null,
    description: null,
    aliases: [],
    tags: {},
    ...extra
  };
}

describe('version metadata helpers', () => {
  it('parses key=value tags, the value may hold "="', () => {
    expect(parseTag('owner=ana')).toEqual(['owner', 'ana']);
    expect(parseTag('q=a=b')).toEqual(['q', 'a=b']);
    expect(parseTag('owner=')).toEqual(['owner', '']);
    expect(parseTag('owner')).toBeNull();
    expect(parseTag('=x')).toBeNull();
  });
  it('shows a facts row only when there is something to show', () => {
    expect(hasFacts(version(), undefined)).toBe(false);
    expect(hasFacts(version({ aliases: ['champion'] }), undefined)).toBe(true);
    expect(hasFacts(version({ tags: { k: 'v' } }), undefined)).toBe(true);
    expect(hasFacts(version({ description: 'x' }), undefined)).toBe(true);
    const passed = {
      version: 3,
      outcome: 'passed',
      failed: [],
      failed_text: null
    };
    expect(hasFacts(version(), passed)).toBe(false);
    expect(
      hasFacts(version(), { ...passed, outcome: 'failed', failed_text: 'x' })
    ).toBe(true);
  });
});

describe('version edit calls', () => {
  const sent: { path: string; body: unknown }[] = [];
  beforeEach(() => {
    PageConfig.setOption('baseUrl', BASE);
    sent.length = 0;
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        sent.push({
          path: new URL(request.url).pathname,
          body: JSON.parse(await request.text())
        });
        return new Response('{}', { status: 200 });
      })
    );
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });
  const api = (path: string) => `/lab-base/${API_PREFIX}/${path}`;

  it('POSTs alias, tags, description and an overriding bless', async () => {
    await MLOpsAPI.setAlias('churn model', 3, 'champion');
    await MLOpsAPI.setAlias('churn model', 'champion', 'champion', true);
    await MLOpsAPI.setTags('churn', 3, { owner: 'ana' }, ['team']);
    await MLOpsAPI.describe('churn', 3, 'text');
    await MLOpsAPI.blessOverridingGates('churn', 3, 'stale gate');
    expect(sent).toEqual([
      {
        path: api('models/churn%20model/versions/3/alias'),
        body: { alias: 'champion' }
      },
      {
        path: api('models/churn%20model/versions/champion/alias'),
        body: { alias: 'champion', delete: true }
      },
      {
        path: api('models/churn/versions/3/tags'),
        body: { set: { owner: 'ana' }, delete: ['team'] }
      },
      {
        path: api('models/churn/versions/3/description'),
        body: { description: 'text' }
      },
      {
        path: api('models/churn/bless'),
        body: { version: 3, reason: 'stale gate', override_gates: true }
      }
    ]);
  });
});
