/** The run's artifacts with their sizes, each previewed in place: an image, a table's head,
 * an HTML report in a sandboxed iframe (no scripts, no same origin), a text file's start, and
 * a framework's `table` artifact as rows with its importance chart (./table.tsx). */
import * as React from 'react';

import type { IArtifact, IArtifactPreview } from '../api';
import { ErrorLine, useLoad } from '../common';
import type { IPanelContext } from '../model';
import { fmtSize, headCaption } from './format';
import { TableArtifact } from './table';

function PreviewBody(props: {
  ctx: IPanelContext;
  runId: string;
  preview: IArtifactPreview;
}): JSX.Element {
  const { ctx, runId, preview: p } = props;
  const src = ctx.api.artifactInlineURL(runId, p.name, ctx.baseUrl);
  switch (p.preview) {
    case 'image':
      return <img className="jp-mlops-preview-image" src={src} alt={p.name} />;
    case 'html':
      return (
        <iframe
          className="jp-mlops-preview-html"
          src={src}
          title={p.name}
          sandbox=""
          referrerPolicy="no-referrer"
        />
      );
    case 'table':
      return (
        <div className="jp-mlops-preview-table">
          <div
            className="jp-mlops-preview-scroll"
            tabIndex={0}
            role="region"
            aria-label={`head of ${p.name}`}
          >
            <table className="jp-mlops-table">
              <thead>
                <tr>
                  {p.columns.map((c, i) => (
                    <th key={i}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {p.rows.map((r, i) => (
                  <tr key={i}>
                    {r.map((v, j) => (
                      <td key={j}>{v}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="jp-mlops-muted">
            {headCaption(p.rows.length, p.total_rows, p.truncated)}
          </div>
        </div>
      );
    case 'text':
      return (
        <pre
          className="jp-mlops-pre jp-mlops-preview-text"
          tabIndex={0}
          aria-label={`first lines of ${p.name}`}
        >
          {p.text}
          {p.truncated ? '\n…' : ''}
        </pre>
      );
    default:
      return <div className="jp-mlops-muted">{p.note || 'no preview'}</div>;
  }
}

function Preview(props: {
  ctx: IPanelContext;
  runId: string;
  name: string;
}): JSX.Element {
  const { ctx, runId, name } = props;
  const load = useLoad(
    () => ctx.api.artifactPreview(runId, name),
    [runId, name]
  );
  if (load.error) {
    return <ErrorLine error={load.error} />;
  }
  if (!load.data) {
    return <div className="jp-mlops-muted">loading preview…</div>;
  }
  return <PreviewBody ctx={ctx} runId={runId} preview={load.data} />;
}

// Figures, images and framework tables (importance, a search's candidates) open at once;
// other artifacts load their preview when opened.
const IMAGE_NAME = /\.(png|jpe?g|gif|webp|svg)$/i;

function ArtifactItem(props: {
  ctx: IPanelContext;
  runId: string;
  artifact: IArtifact;
}): JSX.Element {
  const { ctx, runId, artifact: a } = props;
  const [open, setOpen] = React.useState(
    a.kind === 'figure' || a.kind === 'table' || IMAGE_NAME.test(a.name)
  );
  return (
    <li className="jp-mlops-artifact" data-artifact={a.name}>
      <details
        open={open}
        onToggle={e => setOpen((e.target as HTMLDetailsElement).open)}
      >
        <summary>
          <span className="jp-mlops-artifact-name">{a.name}</span>{' '}
          <span className="jp-mlops-muted jp-mlops-artifact-size">
            {a.kind}, {fmtSize(a.size)}
          </span>
        </summary>
        <a
          className="jp-mlops-link jp-mlops-artifact-download"
          href={ctx.api.artifactURL(runId, a.name, ctx.baseUrl)}
          download
        >
          Download
        </a>
        {open &&
          (a.kind === 'table' ? (
            <TableArtifact ctx={ctx} runId={runId} name={a.name} />
          ) : (
            <Preview ctx={ctx} runId={runId} name={a.name} />
          ))}
      </details>
    </li>
  );
}

export function ArtifactList(props: {
  ctx: IPanelContext;
  runId: string;
  artifacts: readonly IArtifact[];
}): JSX.Element {
  if (props.artifacts.length === 0) {
    return <div className="jp-mlops-muted">none</div>;
  }
  return (
    <ul className="jp-mlops-artifacts">
      {props.artifacts.map(a => (
        <ArtifactItem
          key={a.name}
          ctx={props.ctx}
          runId={props.runId}
          artifact={a}
        />
      ))}
    </ul>
  );
}
