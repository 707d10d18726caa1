import { PageConfig } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { MLOpsAPI } from '../api';
import { API_PREFIX, APIError, queryString, requestAPI } from '../request';

const BASE = 'http://localhost:8888/lab-base/';

interface ISent {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
  headers: Headers;
}

/** A `fetch` that records each request and answers `status` with `body`. */
function answering(status: number, body: string, statusText = '') {
  const sent: ISent[] = [];
  const fetch = vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    sent.push({
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      body: await request.text(),
      headers: request.headers
    });
    return new Response(body, { status, statusText });
  });
  return { fetch, sent };
}

function settings(fetch: (r: Request) => Promise<Response>) {
  return ServerConnection.makeSettings({
    baseUrl: BASE,
    fetch: fetch as any,
    token: 'secret'
  });
}

describe('queryString', () => {
  it('encodes the defined values only', () => {
    expect(
      queryString({ a: 'x y', b: undefined, c: null, d: '', e: 0, f: false })
    ).toBe('?a=x%20y&e=0&f=false');
  });
  it('is empty when nothing is defined', () => {
    expect(queryString({ a: undefined })).toBe('');
  });
});

describe('requestAPI', () => {
  it('calls the endpoint under the base URL and the API prefix, with the token', async () => {
    const { fetch, sent } = answering(200, '{"runs": []}');
    const data = await requestAPI<{ runs: unknown[] }>(
      'runs?limit=5',
      {},
      settings(fetch)
    );
    expect(data).toEqual({ runs: [] });
    expect(sent).toHaveLength(1);
    expect(sent[0].method).toBe('GET');
    expect(sent[0].path).toBe(`/lab-base/${API_PREFIX}/runs`);
    expect(sent[0].query.get('limit')).toBe('5');
    expect(sent[0].headers.get('Authorization')).toBe('token secret');
  });

  it('returns an empty answer as text', async () => {
    const { fetch } = answering(200, '');
    await expect(requestAPI('x', {}, settings(fetch))).resolves.toBe('');
  });

  it('maps an error answer to its message and status', async () => {
    const { fetch } = answering(400, '{"error": "limit must be at most 1000"}');
    const call = requestAPI('runs', {}, settings(fetch));
    await expect(call).rejects.toBeInstanceOf(APIError);
    await expect(call).rejects.toMatchObject({
      message: 'limit must be at most 1000',
      status: 400
    });
  });

  it('names the status when the error answer is not the API JSON', async () => {
    const { fetch } = answering(502, '<html>proxy</html>', 'Bad Gateway');
    await expect(requestAPI('runs', {}, settings(fetch))).rejects.toMatchObject(
      { message: '502 Bad Gateway', status: 502 }
    );
    const other = answering(500, '{"detail": "x"}', 'Internal Server Error');
    await expect(
      requestAPI('runs', {}, settings(other.fetch))
    ).rejects.toMatchObject({ message: '500 Internal Server Error' });
  });

  it('turns a failed connection into a NetworkError', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(
      requestAPI('runs', {}, settings(fetch))
    ).rejects.toBeInstanceOf(ServerConnection.NetworkError);
  });
});

describe('MLOpsAPI', () => {
  let server: ReturnType<typeof answering>;
  beforeEach(() => {
    // MLOpsAPI uses the page's settings, as in JupyterLab: its base URL and the global fetch.
    PageConfig.setOption('baseUrl', BASE);
    server = answering(200, '{}');
    vi.stubGlobal('fetch', server.fetch);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  const api = (path: string) => `/lab-base/${API_PREFIX}/${path}`;

  it('builds the runs query from the defined filters', async () => {
    await MLOpsAPI.runs({
      where: 'metrics.acc > 0.9',
      order_by: '-started',
      limit: 50,
      offset: 0,
      experiment: undefined
    });
    const [req] = server.sent;
    expect(req.path).toBe(api('runs'));
    expect(req.query.get('where')).toBe('metrics.acc > 0.9');
    expect(req.query.get('order_by')).toBe('-started');
    expect(req.query.get('limit')).toBe('50');
    expect(req.query.get('offset')).toBe('0');
    expect(req.query.has('experiment')).toBe(false);
  });

  it('escapes names in path segments', async () => {
    await MLOpsAPI.run('a/b c');
    await MLOpsAPI.metric('r1', 'val/loss');
    await MLOpsAPI.model('churn model');
    expect(server.sent.map(s => s.path)).toEqual([
      api('runs/a%2Fb%20c'),
      api('runs/r1/metrics/val%2Floss'),
      api('models/churn%20model')
    ]);
  });

  it('joins the compared ids', async () => {
    await MLOpsAPI.compare(['a1', 'b2', 'c3']);
    expect(server.sent[0].path).toBe(api('compare'));
    expect(server.sent[0].query.get('ids')).toBe('a1,b2,c3');
  });

  it('POSTs actions with their JSON body', async () => {
    await MLOpsAPI.bless('churn', 3, 'better AUC');
    await MLOpsAPI.rollback('churn', null, 'regression');
    await MLOpsAPI.runPipeline('train');
    await MLOpsAPI.promote('nb/train.ipynb', undefined, '0 3 * * *');
    expect(
      server.sent.map(s => [s.method, s.path, JSON.parse(s.body)])
    ).toEqual([
      ['POST', api('models/churn/bless'), { version: 3, reason: 'better AUC' }],
      [
        'POST',
        api('models/churn/rollback'),
        { to: null, reason: 'regression' }
      ],
      ['POST', api('pipelines/train/run'), { params: {} }],
      [
        'POST',
        api('promote'),
        { notebook: 'nb/train.ipynb', schedule: '0 3 * * *' }
      ]
    ]);
  });

  it('asks a monitor series by column for drift and by metric for performance', async () => {
    await MLOpsAPI.monitorSeries('m', 'drift', 'age');
    await MLOpsAPI.monitorSeries('m', 'performance', 'auc');
    const [drift, perf] = server.sent;
    expect(drift.path).toBe(api('monitors/m/series'));
    expect(Object.fromEntries(drift.query)).toMatchObject({
      kind: 'drift',
      column: 'age'
    });
    expect(Object.fromEntries(perf.query)).toMatchObject({
      kind: 'performance',
      metric: 'auc'
    });
    expect(perf.query.has('column')).toBe(false);
  });

  it('links artifacts under the same API prefix', () => {
    expect(MLOpsAPI.artifactURL('r 1', 'plots/roc curve.png', BASE)).toBe(
      `${BASE}${API_PREFIX}/runs/r%201/artifacts/plots/roc%20curve.png`
    );
  });
});
