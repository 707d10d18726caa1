// The notebook widgets of jupyter-mlops (anywidget): the runs grid and the compare view.
// One ES module, no build step. The kernel sends display-ready text (one precision per
// column, durations, compact times); this module lays it out, turns start times into
// "3 min ago" (here, where the clock is), and draws the compare charts as SVG whose colours
// are the theme's CSS variables. Data is put into the page with textContent, never as HTML.

const SVG = "http://www.w3.org/2000/svg";

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

// -- the runs grid ------------------------------------------------------------------------

export function relativeTime(seconds, now = Date.now() / 1000) {
  const ago = Math.max(0, now - seconds);
  if (ago < 45) return "just now";
  if (ago < 3600) return `${Math.round(ago / 60)} min ago`;
  if (ago < 86400) return `${Math.round(ago / 3600)} h ago`;
  if (ago < 86400 * 30) return `${Math.round(ago / 86400)} d ago`;
  return new Date(seconds * 1000).toLocaleDateString();
}

function sortState(orderBy, key) {
  const term = (orderBy || "").split(",")[0].trim();
  if (!term) return key === "started" ? "descending" : "none";
  const desc = term.startsWith("-") || /\sdesc$/i.test(term);
  const name = term.replace(/^-/, "").replace(/\s+(asc|desc)$/i, "");
  return name === key ? (desc ? "descending" : "ascending") : "none";
}

function header(model, col) {
  const state = sortState(model.get("order_by"), col.key);
  const next = state === "descending" ? col.key : `-${col.key}`;
  const arrow = { ascending: " ▲", descending: " ▼", none: "" }[state];
  const button = h(
    "button",
    {
      type: "button",
      class: "jm-sort",
      title: `Sort by ${col.label}`,
      onclick: () => {
        model.set("order_by", next);
        model.save_changes();
      },
    },
    h("span", { text: col.label }),
    h("span", { "aria-hidden": "true", text: arrow }),
  );
  return h(
    "th",
    { scope: "col", "aria-sort": state, class: `jm-${col.group}${col.numeric ? " jm-num" : ""}` },
    button,
  );
}

function cell(col, row) {
  const text = row.cells[col.key] ?? "";
  const cls = `jm-${col.group}${col.numeric ? " jm-num" : ""}`;
  if (col.key === "started") {
    const iso = new Date(row.started * 1000).toISOString();
    return h("td", { class: cls }, h("time", { datetime: iso, title: text, text: relativeTime(row.started) }));
  }
  if (col.key === "name") return h("th", { scope: "row", class: `${cls} jm-name`, title: row.id, text });
  if (col.key === "status" || col.key === "gates") {
    return h("td", { class: cls }, h("span", { class: `jm-chip jm-${text}`, text }));
  }
  return h("td", { class: cls, text });
}

function renderGrid(model, el) {
  const draw = () => {
    const selected = new Set(model.get("selected"));
    const rows = model.get("rows");
    const cols = model.get("columns");
    const page = model.get("page");
    const size = model.get("page_size");
    const toggle = (id, on) => {
      const next = new Set(model.get("selected"));
      on ? next.add(id) : next.delete(id);
      model.set("selected", [...next]);
      model.save_changes();
    };
    const allOn = rows.length > 0 && rows.every((r) => selected.has(r.id));
    const head = h(
      "tr",
      {},
      h(
        "th",
        { scope: "col", class: "jm-check" },
        h("input", {
          type: "checkbox",
          "aria-label": "Select every run on this page",
          checked: allOn,
          onchange: (e) => {
            const next = new Set(model.get("selected"));
            for (const r of rows) (e.target.checked ? next.add(r.id) : next.delete(r.id));
            model.set("selected", [...next]);
            model.save_changes();
          },
        }),
      ),
      ...cols.map((c) => header(model, c)),
    );
    const body = rows.map((r) =>
      h(
        "tr",
        { "data-jupyter-mlops-run": r.id, class: selected.has(r.id) ? "jm-selected" : "" },
        h(
          "td",
          // A row opens its run in the sidebar (data-jupyter-mlops-run); ticking it must not.
          { class: "jm-check", onclick: (e) => e.stopPropagation() },
          h("input", {
            type: "checkbox",
            "aria-label": `Select run ${r.cells.name ?? r.id}`,
            checked: selected.has(r.id),
            onchange: (e) => toggle(r.id, e.target.checked),
          }),
        ),
        ...cols.map((c) => cell(c, r)),
      ),
    );
    const first = page * size + 1;
    const range = rows.length ? `Runs ${first}–${first + rows.length - 1}` : "No runs";
    const nav = (label, delta, disabled) =>
      h("button", {
        type: "button",
        class: "jm-button",
        disabled,
        text: label,
        onclick: () => {
          model.set("page", page + delta);
          model.save_changes();
        },
      });
    const toolbar = h(
      "div",
      { class: "jm-toolbar", role: "toolbar", "aria-label": "Runs" },
      h("span", { class: "jm-range", "aria-live": "polite", text: range }),
      nav("‹ Previous", -1, page === 0),
      nav("Next ›", 1, !model.get("has_more")),
      h("button", {
        type: "button",
        class: "jm-button jm-primary",
        disabled: selected.size < 2,
        text: `Compare ${selected.size || ""}`.trim(),
        title: "Compare the selected runs (two or more)",
        onclick: () => model.send({ action: "compare" }),
      }),
    );
    const error = model.get("error");
    el.replaceChildren(
      h(
        "div",
        { class: "jm-widget jm-runs" },
        toolbar,
        error ? h("p", { class: "jm-error", role: "alert", text: error }) : null,
        h(
          "div",
          { class: "jm-scroll" },
          h("table", { class: "jm-table" }, h("caption", { class: "jm-sr", text: range }), h("thead", {}, head), h("tbody", {}, ...body)),
        ),
      ),
    );
  };
  draw();
  for (const name of ["rows", "columns", "selected", "has_more", "error", "order_by"]) {
    model.on(`change:${name}`, draw);
  }
}

// -- the compare view ---------------------------------------------------------------------

function ticks(lo, hi, count = 5, integers = false) {
  if (!(hi > lo)) return [lo];
  const raw = Math.max((hi - lo) / count, integers ? 1 : 0);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((v) => raw <= v);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

const fmt = (v) => (Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : +v.toPrecision(4) + "");

function lineChart(chart) {
  const W = 480, H = 240, L = 56, R = 12, T = 24, B = 36;
  const all = chart.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) x1 = x0 + 1;
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const X = (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const Y = (v) => H - B - ((v - y0) / (y1 - y0)) * (H - T - B);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "jm-chart", role: "img", "aria-label": `${chart.key} by step, one line per run` });
  svg.append(s("text", { x: L, y: 14, class: "jm-title", text: chart.key }));
  for (const v of ticks(y0, y1)) {
    svg.append(s("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v), class: "jm-grid" }));
    svg.append(s("text", { x: L - 6, y: Y(v) + 4, class: "jm-tick", "text-anchor": "end", text: fmt(v) }));
  }
  for (const v of ticks(x0, x1, 5, xs.every(Number.isInteger))) {
    svg.append(s("text", { x: X(v), y: H - B + 16, class: "jm-tick", "text-anchor": "middle", text: fmt(v) }));
  }
  svg.append(s("text", { x: (L + W - R) / 2, y: H - 4, class: "jm-tick", "text-anchor": "middle", text: "step" }));
  svg.append(s("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "jm-axis" }));
  svg.append(s("line", { x1: L, x2: L, y1: T, y2: H - B, class: "jm-axis" }));
  chart.series.forEach((ser, i) => {
    const g = s("g", { class: `jm-series jm-c${i % 8}` }, s("title", { text: ser.label }));
    const d = ser.points.map((p, j) => `${j ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join("");
    g.append(s("path", { d, class: "jm-line" }));
    if (ser.points.length <= 200) {
      for (const [x, y] of ser.points) {
        g.append(s("circle", { cx: X(x), cy: Y(y), r: 3, class: "jm-point" }, s("title", { text: `${ser.label}: step ${x}, ${fmt(y)}` })));
      }
    }
    svg.append(g);
  });
  return svg;
}

function barChart(chart) {
  const W = 480, row = 22, L = 140, R = 64, T = 24;
  const H = T + row * chart.bars.length + 8;
  const vals = chart.bars.map((b) => b.value);
  const lo = Math.min(0, ...vals), hi = Math.max(0, ...vals) || 1;
  const X = (v) => L + ((v - lo) / (hi - lo)) * (W - L - R);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "jm-chart", role: "img", "aria-label": `${chart.key} by run` });
  svg.append(s("text", { x: 4, y: 14, class: "jm-title", text: chart.key }));
  chart.bars.forEach((b, i) => {
    const y = T + i * row;
    const label = b.label.length > 20 ? `${b.label.slice(0, 19)}…` : b.label;
    svg.append(s("text", { x: L - 6, y: y + 15, class: "jm-tick", "text-anchor": "end", text: label }));
    const x = Math.min(X(0), X(b.value));
    const bar = s("rect", { x, y: y + 3, width: Math.max(1, Math.abs(X(b.value) - X(0))), height: row - 6, class: `jm-bar jm-c${i % 8}` }, s("title", { text: `${b.label}: ${fmt(b.value)}` }));
    svg.append(bar);
    svg.append(s("text", { x: Math.max(X(0), X(b.value)) + 4, y: y + 15, class: "jm-tick", text: fmt(b.value) }));
  });
  return svg;
}

function legend(runs) {
  return h("ul", { class: "jm-legend", "aria-label": "Runs" }, ...runs.map((r, i) => h("li", {}, h("span", { class: `jm-swatch jm-c${i % 8}`, "aria-hidden": "true" }), h("span", { text: r.label }))));
}

function renderCompare(model, el) {
  const draw = () => {
    const runs = model.get("runs");
    if (!runs.length) return el.replaceChildren();
    const charts = model.get("charts");
    const labels = Object.fromEntries(runs.map((r, i) => [r.label, i]));
    const head = h("tr", {}, h("th", { scope: "col", text: "key" }), ...runs.map((r) => h("th", { scope: "col", class: "jm-num", text: r.label })));
    const body = model.get("table").map((row) =>
      h(
        "tr",
        { class: row.differs ? "jm-differs" : "" },
        h("th", { scope: "row", text: row.key }, row.differs ? h("span", { class: "jm-mark", text: " ≠", title: "differs" }) : null),
        ...row.values.map((v) => h("td", { class: "jm-num", text: v })),
      ),
    );
    // Colours follow the run, not the chart: a run missing from one chart keeps its colour.
    const curves = (charts.curves || []).map((c) => {
      const svg = lineChart(c);
      svg.querySelectorAll(".jm-series").forEach((g, i) => {
        g.setAttribute("class", `jm-series jm-c${labels[c.series[i].label] % 8}`);
      });
      return svg;
    });
    const bars = (charts.bars || []).map((c) => {
      const svg = barChart(c);
      svg.querySelectorAll(".jm-bar").forEach((b, i) => b.setAttribute("class", `jm-bar jm-c${labels[c.bars[i].label] % 8}`));
      return svg;
    });
    el.replaceChildren(
      h(
        "div",
        { class: "jm-widget jm-compare" },
        legend(runs),
        h("div", { class: "jm-charts" }, ...curves, ...bars),
        h("div", { class: "jm-scroll" }, h("table", { class: "jm-table" }, h("caption", { class: "jm-sr", text: "Params and metrics of the compared runs" }), h("thead", {}, head), h("tbody", {}, ...body))),
      ),
    );
  };
  draw();
  for (const name of ["runs", "table", "charts"]) model.on(`change:${name}`, draw);
}

export default {
  render({ model, el }) {
    (model.get("view") === "compare" ? renderCompare : renderGrid)(model, el);
  },
};
