// tunecheck viewer: one page, hash routes, no framework, no build step.
//
// Safety rule: every piece of data reaches the page as a text node
// (textContent / createTextNode) or an attribute set through setAttribute;
// nothing is ever parsed as HTML, and emptying an element uses
// replaceChildren(). The page runs under
// "default-src 'self'; script-src 'self'; style-src 'self'", so there are
// no inline scripts, no style attributes (classes only) and no eval.
'use strict';

// ---------------------------------------------------------------- DOM helpers

const SVGNS = 'http://www.w3.org/2000/svg';

// add appends children: Nodes as they are, anything else as a text node.
function add(node, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    node.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return node;
}

function setAttrs(node, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'value') node.value = v;
    else if (k === 'checked') node.checked = Boolean(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
}

// h builds an HTML element: h('td', {class: 'num'}, 'text', child, …).
function h(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  setAttrs(n, attrs);
  return add(n, kids);
}

// s builds an SVG element the same way.
function s(tag, attrs, ...kids) {
  const n = document.createElementNS(SVGNS, tag);
  setAttrs(n, attrs);
  return add(n, kids);
}

const enc = encodeURIComponent;

function fmt(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (typeof x !== 'number') return String(x);
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  const a = Math.abs(x);
  let out;
  if (a !== 0 && a < 0.001) out = x.toExponential(1);
  else if (a >= 100) out = x.toFixed(1);
  else out = String(Number(x.toFixed(digits)));
  return out.replace('-', '−');
}

function fmtSigned(x) {
  if (typeof x !== 'number' || Number.isNaN(x)) return fmt(x);
  return (x > 0 ? '+' : '') + fmt(x);
}

function fmtP(p) {
  if (typeof p !== 'number' || Number.isNaN(p)) return '—';
  if (p < 0.001) return '<0.001';
  return p.toFixed(3);
}

function fmtTime(t) {
  if (!t) return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

// ---------------------------------------------------------------- API

const state = {
  session: null, // {user, csrf_token}
  onKey: null, // the current view's keyboard handler
  events: null, // the open EventSource of a running run
  focusOnKeyUp: null, // the field that t or n focuses when the key comes up
};

class HTTPError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function getJSON(url) {
  const res = await fetch(url, {headers: {Accept: 'application/json'}});
  if (!res.ok) throw new HTTPError(res.status, await errorText(res, url));
  return res.json();
}

async function errorText(res, url) {
  let msg = `${res.status} ${res.statusText}`;
  try {
    const body = await res.text();
    try {
      const j = JSON.parse(body);
      if (j && j.error) msg += ': ' + j.error;
    } catch {
      if (body) msg += ': ' + body.slice(0, 300);
    }
  } catch { /* no body */ }
  return `${url}: ${msg}`;
}

async function session() {
  if (!state.session) state.session = await getJSON('/api/session');
  return state.session;
}

async function postJSON(url, body) {
  const sess = await session();
  const res = await fetch(url, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': sess.csrf || ''},
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new HTTPError(res.status, await errorText(res, url));
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === null || v === undefined || v === '' || v === false) continue;
    p.set(k, v === true ? '1' : String(v));
  }
  const str = p.toString();
  return str ? '?' + str : '';
}

// api follows docs/viewer.md, section API.
const api = {
  runs: (params) => getJSON('/api/runs' + qs(params)),
  run: (id) => getJSON(`/api/runs/${enc(id)}`),
  items: (id, params) => getJSON(`/api/runs/${enc(id)}/items` + qs(params)),
  item: (id, task, item, params) => getJSON(`/api/runs/${enc(id)}/items/${enc(task)}/${enc(item)}` + qs(params)),
  labels: (id, params) => getJSON(`/api/runs/${enc(id)}/labels` + qs(params)),
  label: (id, body) => postJSON(`/api/runs/${enc(id)}/labels`, body),
  exportURL: (id, kind) => `/api/runs/${enc(id)}/labels/export` + qs({kind}),
  agreement: (id) => getJSON(`/api/runs/${enc(id)}/labels/agreement`),
  compare: (params) => getJSON('/api/compare' + qs(params)),
  eventsURL: (id) => `/api/runs/${enc(id)}/events`,
};

// ---------------------------------------------------------------- routing

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/runs';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  return {parts, params};
}

function link(parts, params) {
  return '#/' + parts.map(enc).join('/') + qs(params);
}

function go(parts, params) {
  location.hash = link(parts, params);
}

function root() {
  return document.getElementById('app');
}

function closeEvents() {
  if (state.events) {
    state.events.close();
    state.events = null;
  }
}

async function route() {
  closeEvents();
  state.onKey = null;
  const {parts: raw, params} = parseHash();
  // The server answers the page for any path, so /runs/ID/items/TASK/ITEM
  // style paths are accepted as aliases of the hash routes.
  const parts = raw[0] === 'runs' && raw.length > 1 ? ['run', ...raw.slice(1)] : raw;
  if (parts[0] === 'run' && parts[2] === 'items' && parts.length >= 5) parts[2] = 'item';
  const main = root();
  main.replaceChildren(h('p', {class: 'muted'}, 'Loading…'));
  try {
    if (parts.length === 0 || parts[0] === 'runs') await viewRuns(main, params);
    else if (parts[0] === 'run' && parts.length === 2) await viewRun(main, parts[1]);
    else if (parts[0] === 'run' && parts[2] === 'items') await viewItems(main, parts[1], params);
    else if (parts[0] === 'run' && parts[2] === 'item' && parts.length >= 5) await viewItem(main, parts[1], parts[3], parts.slice(4).join('/'), params);
    else if (parts[0] === 'compare') await viewCompare(main, params);
    else main.replaceChildren(h('p', {class: 'error-box'}, 'No such page: ' + location.hash));
  } catch (err) {
    main.replaceChildren(h('h1', {}, 'Something went wrong'), h('p', {class: 'error-box', 'data-testid': 'error'}, String(err.message || err)));
  }
}

// ---------------------------------------------------------------- shared pieces

function statusClass(st) {
  return ['pass', 'fail', 'inconclusive', 'error'].includes(st) ? 'st-' + st : (st === 'running' ? 'st-running' : 'muted');
}

function verdictText(st) {
  return st ? String(st).toUpperCase() : '—';
}

// tone says whether a delta is good, bad or neither, by the metric's
// direction and its interval: a neutral metric (length) is never either.
function tone(p, info) {
  const dir = info && info.direction;
  if (!p || !p.ci || dir === 'neutral' || !dir) return 'neutral';
  const up = p.ci.low > 0;
  const down = p.ci.high < 0;
  if (!up && !down) return 'neutral';
  if (dir === 'higher') return up ? 'good' : 'bad';
  if (dir === 'lower') return down ? 'good' : 'bad';
  return 'neutral';
}

// sparkline draws a gate's values over runs, oldest first.
function sparkline(values) {
  const xs = (values || []).filter((v) => typeof v === 'number' && Number.isFinite(v));
  const w = 80, hgt = 18, pad = 2;
  const svgEl = s('svg', {class: 'spark', width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, role: 'img', 'aria-label': 'trend: ' + xs.map((x) => fmt(x)).join(', ')});
  if (xs.length === 0) return svgEl;
  const lo = Math.min(...xs), hi = Math.max(...xs);
  const span = hi - lo || 1;
  const pts = xs.map((v, i) => {
    const x = xs.length === 1 ? w / 2 : pad + (i * (w - 2 * pad)) / (xs.length - 1);
    const y = hi === lo ? hgt / 2 : hgt - pad - ((v - lo) * (hgt - 2 * pad)) / span;
    return [x, y];
  });
  svgEl.append(s('polyline', {points: pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}));
  const [lx, ly] = pts[pts.length - 1];
  svgEl.append(s('circle', {cx: lx.toFixed(1), cy: ly.toFixed(1), r: 2}));
  return svgEl;
}

// forestPlot draws one row per delta with its interval. Metrics have
// different units, so each row has its own symmetric scale around zero and
// prints its numbers; the dashed line is "no change".
function forestPlot(rows) {
  const rowH = 24, labelW = 260, plotW = 320, valW = 230, top = 8;
  const width = labelW + plotW + valW;
  const height = top * 2 + rows.length * rowH;
  const svgEl = s('svg', {class: 'forest', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'forest plot of deltas', 'data-testid': 'forest'});
  const zeroX = labelW + plotW / 2;
  svgEl.append(s('line', {class: 'zero', x1: zeroX, x2: zeroX, y1: 2, y2: height - 2}));
  rows.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    const p = r.paired;
    const m = Math.max(Math.abs(p.ci.low), Math.abs(p.ci.high), Math.abs(p.delta)) * 1.15 || 1;
    const x = (v) => zeroX + (v / m) * (plotW / 2 - 6);
    const cls = tone(p, r.info);
    const g = s('g', {class: cls});
    svgEl.append(s('line', {class: 'row', x1: labelW, x2: labelW + plotW, y1: y + rowH / 2, y2: y + rowH / 2}));
    svgEl.append(s('text', {x: 4, y: y + 4}, r.label));
    g.append(s('line', {class: 'ci ' + cls, x1: x(p.ci.low).toFixed(1), x2: x(p.ci.high).toFixed(1), y1: y, y2: y}));
    g.append(s('circle', {class: cls, cx: x(p.delta).toFixed(1), cy: y, r: 4.5}));
    g.append(s('title', {}, `${r.label}: ${fmtSigned(p.delta)} [${fmt(p.ci.low)}, ${fmt(p.ci.high)}]`));
    svgEl.append(g);
    svgEl.append(s('text', {class: 'val', x: labelW + plotW + 8, y: y + 4}, `${fmtSigned(p.delta)} [${fmt(p.ci.low)}, ${fmt(p.ci.high)}]`));
  });
  return svgEl;
}

function table(head, rows, attrs) {
  return h('table', attrs || {},
    h('thead', {}, h('tr', {}, head.map((c) => (c instanceof Node ? c : h('th', {}, c))))),
    h('tbody', {}, rows));
}

function th(text, cls) {
  return h('th', {class: cls}, text);
}

// ---------------------------------------------------------------- runs

async function viewRuns(main, params) {
  const data = await api.runs();
  const runs = Array.isArray(data) ? data : (data.runs || []);
  const filter = h('input', {type: 'search', placeholder: 'filter by plan or name', value: params.get('q') || '', 'data-testid': 'runs-filter'});
  const tbody = h('tbody');
  const compareBtn = h('button', {type: 'button', 'data-testid': 'compare-selected'}, 'Compare selected');
  const picked = {a: '', b: ''};
  compareBtn.addEventListener('click', () => {
    if (picked.a && picked.b) go(['compare'], {a: picked.a, b: picked.b});
  });

  function draw() {
    const q = filter.value.trim().toLowerCase();
    const shown = runs.filter((r) => !q || [r.plan, r.plan_name, r.name, r.id].some((v) => v && String(v).toLowerCase().includes(q)));
    tbody.replaceChildren(...shown.map((r) => {
      const gates = (r.gates || []).map((g) => h('div', {class: 'gate'},
        h('span', {class: statusClass(g.status)}, g.status ? g.status + ' ' : ''),
        h('span', {}, g.expr || ''), ' ', sparkline((g.trend || []).map((p) => p.value)), ' ',
        h('span', {class: 'muted'}, fmt(g.value))));
      const radio = (side) => h('input', {type: 'radio', name: 'cmp-' + side, 'aria-label': `compare as ${side.toUpperCase()}`, onchange: () => { picked[side] = r.id; }});
      return h('tr', {'data-testid': 'run-row'},
        h('td', {}, h('a', {href: link(['run', r.id])}, r.id)),
        h('td', {}, r.plan || r.plan_name || ''),
        h('td', {}, fmtTime(r.started || r.started_at)),
        h('td', {class: statusClass(r.status)}, r.status || ''),
        h('td', {class: statusClass(r.verdict)}, r.verdict ? verdictText(r.verdict) : '—'),
        h('td', {}, gates),
        h('td', {}, radio('a'), radio('b')),
        h('td', {}, h('a', {href: link(['run', r.id, 'items'])}, 'items')));
    }));
    if (shown.length === 0) tbody.append(h('tr', {}, h('td', {colspan: 8, class: 'muted'}, runs.length ? 'No run matches the filter.' : 'No runs in this store yet: run `tunecheck run` first.')));
  }
  filter.addEventListener('input', () => {
    draw();
    history.replaceState(null, '', link(['runs'], {q: filter.value}));
  });
  draw();
  main.replaceChildren(
    h('h1', {}, 'Runs'),
    h('div', {class: 'toolbar'}, filter, compareBtn, h('span', {class: 'muted'}, 'pick an A and a B run to compare them')),
    h('table', {'data-testid': 'runs'},
      h('thead', {}, h('tr', {}, ['run', 'plan', 'started', 'status', 'verdict', 'gates (trend over runs)', 'A / B', ''].map((c) => h('th', {}, c)))),
      tbody));
}

// ---------------------------------------------------------------- one run

function reportOf(data) {
  // The run endpoint answers the report, or the run with its report.
  if (data && data.report) return {run: data.run || data, report: data.report};
  return {run: data || {}, report: data || {}};
}

async function viewRun(main, id) {
  let data;
  try {
    data = await api.run(id);
  } catch (err) {
    // 409: the run has no report yet because it is still running.
    if (err.status !== 409) throw err;
    const line = h('div', {class: 'progress', 'data-testid': 'progress'}, 'Running… waiting for progress');
    main.replaceChildren(h('h1', {}, 'Run ', id),
      h('div', {class: 'banner running', 'data-testid': 'verdict'}, 'RUNNING', h('span', {class: 'sub'}, 'the report appears when the run finishes')),
      line);
    watch(id, line);
    return;
  }
  const {run, report} = reportOf(data);
  const status = run.status || '';
  const verdict = report.verdict || '';
  const gates = report.gates || [];
  const passed = gates.filter((g) => g.status === 'pass').length;
  const bannerCls = verdict || (status === 'running' ? 'running' : 'unknown');
  const kids = [
    h('h1', {}, 'Run ', run.id || id, ' ', h('span', {class: 'muted'}, (report.plan && report.plan.name) || run.plan || '')),
    h('div', {class: ['banner', bannerCls], 'data-testid': 'verdict', 'data-verdict': verdict || status},
      verdict ? verdictText(verdict) : (status ? status.toUpperCase() : 'NO VERDICT'),
      h('span', {class: 'sub'}, gates.length ? `${gates.length} gates: ${passed} passed` : 'no gates',
        report.compare ? ` · ${report.compare.baseline} → ${report.compare.candidate}` : '')),
  ];
  kids.push(h('p', {}, h('a', {href: link(['run', id, 'items'])}, 'Read the items'), ' · ',
    h('a', {href: link(['run', id, 'items'], {filter: 'flipped'})}, 'flipped items'), ' · ',
    h('a', {href: link(['compare'], {a: id})}, 'compare with another run')));
  if (report.warnings && report.warnings.length) {
    kids.push(h('h2', {}, 'Warnings'), h('ul', {class: 'warnings'}, report.warnings.map((w) => h('li', {}, w))));
  }
  if (gates.length) {
    kids.push(h('h2', {}, 'Gates'), table(['gate', 'status', th('value', 'num'), 'interval', 'why'], gates.map((g) => h('tr', {},
      h('td', {}, g.expr || ''),
      h('td', {class: statusClass(g.status)}, g.status || ''),
      h('td', {class: 'num'}, fmt(g.value)),
      h('td', {class: 'num'}, g.ci_low !== undefined || g.ci_high !== undefined ? `[${fmt(g.ci_low)}, ${fmt(g.ci_high)}]` : ''),
      h('td', {}, g.reason || ''))), {'data-testid': 'gates'}));
  }
  const tasks = [...(report.tasks || []), ...(report.groups || [])];
  const rows = [];
  for (const t of tasks) {
    const cmp = t.comparison;
    if (!cmp) continue;
    for (const m of t.metrics || Object.keys(cmp.metrics || {})) {
      const p = cmp.metrics && cmp.metrics[m];
      if (p && p.ci) rows.push({label: `${t.name} · ${m}`, paired: p, info: (t.metric_info || {})[m]});
    }
  }
  if (rows.length) kids.push(h('h2', {}, 'Deltas (candidate − baseline)'), forestPlot(rows));
  for (const t of tasks) kids.push(...taskSection(id, t));
  main.replaceChildren(...kids);
}

function taskSection(id, t) {
  const out = [h('h2', {}, 'Task ', t.name, ' ', h('span', {class: 'muted'}, `${t.type || ''} · ${t.items ?? ''} items`))];
  const info = t.metric_info || {};
  const per = t.per_model || [];
  const cmp = t.comparison;
  const metrics = t.metrics || [];
  const head = ['metric', ...per.map((m) => th(m.model, 'num'))];
  if (cmp) head.push(th('delta', 'num'), 'interval', 'test', th('p', 'num'), th('Holm p', 'num'), th('effect', 'num'), th('MDE', 'num'), th('W/T/L', 'num'));
  out.push(table(head, metrics.map((m) => {
    const tr = h('tr', {}, h('td', {}, m, info[m] && info[m].direction === 'neutral' ? h('span', {class: 'muted'}, ' (neutral)') : ''));
    for (const pm of per) tr.append(h('td', {class: 'num'}, fmt(pm.metrics && pm.metrics[m] && pm.metrics[m].mean)));
    if (cmp) {
      const p = (cmp.metrics || {})[m];
      if (!p) {
        tr.append(h('td', {colspan: 8, class: 'muted'}, 'not compared'));
      } else {
        const cls = tone(p, info[m]);
        tr.append(
          h('td', {class: ['num', cls]}, fmtSigned(p.delta)),
          h('td', {class: 'num'}, p.ci ? `[${fmt(p.ci.low)}, ${fmt(p.ci.high)}]` : ''),
          h('td', {}, p.test || ''),
          h('td', {class: 'num'}, fmtP(p.p_value)),
          h('td', {class: 'num'}, fmtP(p.p_adjusted)),
          h('td', {class: 'num'}, p.effect ? `${fmt(p.effect.value)} ${p.effect.name === 'odds_ratio' ? 'OR' : 'd'}` : '—'),
          h('td', {class: 'num'}, p.mde ? fmt(p.mde) : '—'),
          h('td', {class: 'num'}, `${p.wins ?? 0}/${p.ties ?? 0}/${p.losses ?? 0}`));
      }
    }
    return tr;
  }), {'data-testid': 'task-metrics'}));
  if (per.some((m) => m.failed || m.empty)) {
    out.push(h('p', {class: 'muted'}, per.map((m) => `${m.model}: ${m.failed} failed, ${m.empty} empty of ${m.items}`).join(' · ')));
  }
  for (const sl of t.slices || []) out.push(...sliceSection(id, t, sl));
  return out;
}

function sliceSection(id, t, sl) {
  const info = t.metric_info || {};
  const metrics = (t.metrics || []).filter((m) => !info[m] || !info[m].corpus);
  const out = [h('h3', {}, 'Slice ', sl.name, ' ', h('span', {class: 'muted'}, sl.by || ''))];
  const head = ['group', th('items', 'num'), ...metrics.map((m) => th(m + ' Δ', 'num'))];
  out.push(table(head, (sl.groups || []).map((g) => h('tr', {},
    h('td', {}, h('a', {href: link(['run', id, 'items'], {task: t.name, slice: sl.name, group: g.value})}, g.value)),
    h('td', {class: 'num'}, g.items),
    metrics.map((m) => {
      const p = g.comparison && g.comparison.metrics && g.comparison.metrics[m];
      return h('td', {class: ['num', p ? tone(p, info[m]) : '']}, p ? `${fmtSigned(p.delta)} [${fmt(p.ci.low)}, ${fmt(p.ci.high)}]` : '—');
    })))));
  const disp = Object.entries(sl.disparity || {}).sort(([a], [b]) => a.localeCompare(b));
  if (disp.length) {
    out.push(table(['metric', 'worst group', 'best group', th('gap', 'num'), th('ratio', 'num'), 'worst delta group', th('worst delta', 'num')], disp.map(([m, d]) => h('tr', {},
      h('td', {}, m),
      h('td', {}, d.worst || '—', ' ', h('span', {class: 'muted'}, d.min_value ? fmt(d.min_value.mean) : '')),
      h('td', {}, d.best || '—'),
      h('td', {class: 'num'}, fmt(d.gap)),
      h('td', {class: 'num'}, fmt(d.ratio)),
      h('td', {}, d.min_delta_group || '—'),
      h('td', {class: ['num', d.min_delta ? tone(d.min_delta, info[m]) : '']}, d.min_delta ? `${fmtSigned(d.min_delta.delta)} [${fmt(d.min_delta.ci.low)}, ${fmt(d.min_delta.ci.high)}]` : '—'))), {class: 'disparity'}));
  }
  return out;
}

// watch follows a running run's server-sent events and keeps the progress
// line current; when the run finishes the page loads its report.
function watch(id, line) {
  if (typeof EventSource === 'undefined') return;
  const es = new EventSource(api.eventsURL(id));
  state.events = es;
  es.addEventListener('progress', (ev) => {
    let d;
    try { d = JSON.parse(ev.data); } catch { return; }
    const results = d.results || [];
    const done = results.reduce((n, r) => n + (r.done || 0), 0);
    const failed = results.reduce((n, r) => n + (r.failed || 0), 0);
    const per = results.map((r) => `${r.model} ${r.task}${r.stage ? ' ' + r.stage : ''}: ${r.done}`).join(' · ');
    line.dataset.results = String(d.total ?? done);
    line.dataset.failed = String(failed);
    line.textContent = `running: ${d.total ?? done} results so far${failed ? `, ${failed} failed` : ''}` + (per ? ` — ${per}` : '');
  });
  es.addEventListener('finished', () => {
    closeEvents();
    route();
  });
  es.onerror = () => {
    if (state.events === es) line.textContent += ' (connection lost; reload to retry)';
    closeEvents();
  };
}

// ---------------------------------------------------------------- word diff

// words splits text into tokens that keep their trailing whitespace, so the
// diff compares words but the output keeps its line breaks.
function words(text) {
  return String(text || '').match(/\s+|\S+\s*/g) || [];
}

// wordDiff returns, for each side, its tokens marked same or changed: the
// longest common subsequence of the two word lists. Common ends are
// trimmed first; a pair too large for the table is shown as all changed.
function wordDiff(a, b) {
  const A = words(a), B = words(b);
  const key = (t) => t.trim();
  let pre = 0;
  while (pre < A.length && pre < B.length && key(A[pre]) === key(B[pre])) pre++;
  let suf = 0;
  while (suf < A.length - pre && suf < B.length - pre && key(A[A.length - 1 - suf]) === key(B[B.length - 1 - suf])) suf++;
  const a2 = A.slice(pre, A.length - suf), b2 = B.slice(pre, B.length - suf);
  const n = a2.length, m = b2.length;
  const left = A.slice(0, pre).map((t) => [t, false]);
  const right = B.slice(0, pre).map((t) => [t, false]);
  if (n * m > 12e6) {
    left.push(...a2.map((t) => [t, true]));
    right.push(...b2.map((t) => [t, true]));
  } else {
    // dp[i][j] = LCS length of a2[i:] and b2[j:]
    const W = m + 1;
    const dp = new Uint32Array((n + 1) * W);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        dp[i * W + j] = key(a2[i]) === key(b2[j]) ? dp[(i + 1) * W + j + 1] + 1 : Math.max(dp[(i + 1) * W + j], dp[i * W + j + 1]);
      }
    }
    let i = 0, j = 0;
    while (i < n && j < m) {
      if (key(a2[i]) === key(b2[j])) { left.push([a2[i++], false]); right.push([b2[j++], false]); }
      else if (dp[(i + 1) * W + j] >= dp[i * W + j + 1]) left.push([a2[i++], true]);
      else right.push([b2[j++], true]);
    }
    while (i < n) left.push([a2[i++], true]);
    while (j < m) right.push([b2[j++], true]);
  }
  left.push(...A.slice(A.length - suf).map((t) => [t, false]));
  right.push(...B.slice(B.length - suf).map((t) => [t, false]));
  return [left, right];
}

// diffNode renders marked tokens: runs of unchanged words as one text node,
// changed words in a span of the given class.
function diffNode(tokens, cls, testid) {
  const box = h('div', {class: 'text', 'data-testid': testid});
  let buf = '';
  let changed = '';
  const flush = () => {
    if (buf) box.append(document.createTextNode(buf));
    if (changed) {
      // keep the trailing whitespace outside the highlight
      const m = changed.match(/^(.*?)(\s*)$/s);
      box.append(h('span', {class: cls}, m[1]));
      if (m[2]) box.append(document.createTextNode(m[2]));
    }
    buf = '';
    changed = '';
  };
  for (const [t, ch] of tokens) {
    if (ch) {
      if (buf) { box.append(document.createTextNode(buf)); buf = ''; }
      changed += t;
    } else {
      if (changed) flush();
      buf += t;
    }
  }
  flush();
  return box;
}

// ---------------------------------------------------------------- items

// blindMode: the page's ?blind= when given, else the person's last choice,
// else the server's --blind.
function blindMode(params) {
  if (params.has('blind')) return params.get('blind') === '1';
  const saved = localStorage.getItem('tunecheck.blind');
  if (saved !== null) return saved === '1';
  return Boolean(state.session && state.session.blind_default);
}

// normItem reads an item as the API gives it (docs/viewer.md) into
// {task, id, prompt, references, left, right, flip, delta, slices}.
function normItem(it) {
  const outs = it.outputs || [];
  const side = (x) => ({
    side: (x && x.side) || '',
    model: (x && x.model) || '',
    run: (x && x.run) || '',
    text: (x && x.text) ?? '',
    status: (x && x.status) || '',
    error: (x && x.error) || '',
    scores: (x && x.scores) || {},
    judge: (x && x.judge) || '',
    judgeError: (x && x.judge_error) || '',
  });
  return {
    task: it.task || '',
    id: String(it.id ?? ''),
    prompt: it.prompt ?? '',
    references: it.references || [],
    left: side(outs[0]),
    right: side(outs[1]),
    single: outs.length < 2,
    flip: it.flip || '',
    delta: it.delta,
    slices: it.slices || {},
  };
}

const itemKey = (task, id) => task + '\u0000' + id;

// Labels keeps the run's labels by item: the session user's by kind, and
// everyone else's.
class Labels {
  constructor(list) {
    this.byItem = new Map();
    for (const l of list || []) this.put(l);
  }
  put(l) {
    const k = itemKey(l.task, String(l.item));
    const me = state.session && state.session.user;
    if (!this.byItem.has(k)) this.byItem.set(k, {mine: {}, others: []});
    const e = this.byItem.get(k);
    if (l.user === me) e.mine[l.kind] = l;
    else {
      e.others = e.others.filter((o) => !(o.user === l.user && o.kind === l.kind));
      e.others.push(l);
    }
  }
  of(item) {
    return this.byItem.get(itemKey(item.task, item.id)) || {mine: {}, others: []};
  }
  labelled(item) {
    return Object.keys(this.of(item).mine).length > 0;
  }
}

// chosenSide says which side of the page a preference label picked: in
// blind mode the side the person clicked, otherwise the side showing the
// model the stored A (baseline) or B (candidate) names.
function chosenSide(item, l, blind) {
  if (!l) return '';
  if (l.value === 'tie') return 'tie';
  if (blind) return l.side || '';
  const want = l.value === 'A' ? 'baseline' : 'candidate';
  if (item.left.side === want) return 'left';
  if (item.right.side === want) return 'right';
  return '';
}

function labelSummary(item, mine, blind) {
  const parts = [];
  if (mine.preference) {
    const sd = chosenSide(item, mine.preference, blind);
    parts.push(sd === 'tie' ? 'tie' : sd ? 'prefers ' + sd : 'preference recorded');
  }
  if (mine.rating) parts.push('rating ' + mine.rating.value);
  if (mine.tags && (mine.tags.value || []).length) parts.push('tags ' + mine.tags.value.join(', '));
  if (mine.note && mine.note.value) parts.push('note');
  return parts.length ? 'labelled: ' + parts.join(' · ') : 'not labelled';
}

function otherSummary(l) {
  let v = Array.isArray(l.value) ? l.value.join(', ') : String(l.value ?? '');
  if (l.kind === 'preference') v = {A: 'A (the baseline)', B: 'B (the candidate)'}[v] || v;
  return `${l.user}: ${l.kind} ${l.kind === 'note' ? '“' + v + '”' : v}`;
}

// sideName is what a side is called on the page: never the model in blind mode.
function sideName(sd, which, blind) {
  if (blind) return which === 'left' ? 'Left' : 'Right';
  if (sd.side === 'a' || sd.side === 'b') return `run ${sd.side.toUpperCase()} · ${sd.model}`;
  return sd.model ? `${sd.model} (${sd.side})` : which;
}

// itemDetail renders one item: prompt, references, both outputs with the
// word diff, their scores and judge rationales, and the label panel.
function itemDetail(runID, item, ctx) {
  const blind = ctx.blind;
  const [l, r] = wordDiff(item.left.text, item.right.text);
  const entry = ctx.labels ? ctx.labels.of(item) : {mine: {}, others: []};
  const mine = entry.mine;
  const chosen = chosenSide(item, mine.preference, blind);
  const sideBox = (sd, which, tokens, cls, key) => h('div', {class: ['side', chosen === which ? 'chosen' : ''], 'data-testid': 'side-' + which},
    h('h3', {'data-testid': 'name-' + which}, sideName(sd, which, blind), ctx.labels ? h('span', {class: 'key'}, `press ${key}`) : '',
      sd.status && sd.status !== 'ok' ? h('span', {class: 'badge'}, sd.status) : ''),
    sd.error ? h('p', {class: 'error-box'}, sd.error) : '',
    diffNode(tokens, cls, 'output-' + which),
    scoreTable(sd.scores),
    sd.judge ? h('div', {class: 'rationale'}, h('div', {class: 'label'}, 'judge rationale'), h('div', {class: 'text', 'data-testid': 'judge-' + which}, sd.judge)) : '',
    sd.judgeError ? h('p', {class: 'muted'}, 'judge failed: ', sd.judgeError) : '');
  const head = h('h2', {}, item.task, ' / ', item.id, ' ',
    item.flip ? h('span', {class: ['badge', item.flip], 'data-testid': 'flip'}, item.flip) : '', ' ',
    typeof item.delta === 'number' ? h('span', {class: 'muted'}, `Δ ${fmtSigned(item.delta)} `) : '',
    ctx.labels ? h('a', {href: link(['run', runID, 'item', item.task, item.id], {blind: blind ? '1' : '0'}), 'data-testid': 'permalink'}, 'permalink') : '');
  const slices = Object.entries(item.slices || {}).sort(([a], [b]) => a.localeCompare(b));
  const right = item.single ? '' : sideBox(item.right, 'right', r, 'd-ins', '2');
  return h('div', {class: 'item-detail', 'data-testid': 'item-detail', 'data-item': item.id},
    head,
    slices.length ? h('p', {class: 'muted'}, slices.map(([k, v]) => `${k}: ${v}`).join(' · ')) : '',
    h('div', {class: 'block'}, h('div', {class: 'label'}, 'prompt'), h('div', {class: 'text', 'data-testid': 'prompt'}, item.prompt)),
    item.references.map((ref, i) => h('div', {class: 'block'}, h('div', {class: 'label'}, item.references.length > 1 ? `reference ${i + 1}` : 'reference'), h('div', {class: 'text'}, ref))),
    ctx.labels ? labelPanel(item, ctx, mine, chosen) : '',
    h('div', {class: item.single ? '' : 'sides'},
      sideBox(item.left, 'left', item.single ? words(item.left.text).map((t) => [t, false]) : l, 'd-del', '1'), right),
    entry.others.length ? h('div', {class: 'block', 'data-testid': 'other-labels'}, h('div', {class: 'label'}, 'labels by others'),
      h('ul', {}, entry.others.map((o) => h('li', {}, otherSummary(o))))) : '');
}

function scoreTable(scores) {
  const keys = Object.keys(scores || {}).sort();
  if (!keys.length) return '';
  return h('table', {class: 'scores'}, h('tbody', {}, keys.map((k) => h('tr', {}, h('th', {}, k), h('td', {class: 'num'}, fmt(scores[k]))))));
}

function labelPanel(item, ctx, mine, chosen) {
  const tags = (mine.tags && mine.tags.value) || [];
  const tagInput = h('input', {type: 'text', placeholder: 'add a tag, Enter', 'data-testid': 'tag-input', 'aria-label': 'tag'});
  const note = h('textarea', {rows: 2, placeholder: 'note (Enter saves, Shift+Enter new line)', 'data-testid': 'note-input', 'aria-label': 'note', value: (mine.note && mine.note.value) || ''});
  const rating = h('input', {type: 'number', step: 1, value: mine.rating ? mine.rating.value : '', 'aria-label': 'rating', 'data-testid': 'rating-input'});
  const btn = (text, pref, key) => h('button', {type: 'button', class: chosen === pref ? 'on' : '', 'data-testid': 'prefer-' + pref, onclick: () => ctx.save(item, 'preference', pref)}, text, ' ', h('kbd', {}, key));
  tagInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && tagInput.value.trim()) ctx.save(item, 'tags', [...new Set([...tags, tagInput.value.trim()])]);
    else if (e.key === 'Escape') tagInput.blur();
  });
  note.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      ctx.save(item, 'note', note.value);
    } else if (e.key === 'Escape') note.blur();
  });
  rating.addEventListener('change', () => {
    if (rating.value !== '') ctx.save(item, 'rating', Number(rating.value));
  });
  const labelled = Object.keys(mine).length > 0;
  return h('div', {class: 'label-panel', 'data-testid': 'label-panel'},
    h('div', {class: 'row'},
      h('span', {class: ['label-state', labelled ? 'yes' : ''], 'data-testid': labelled ? 'label-state-labelled' : 'label-state',
        'data-preference': chosen || null, 'data-rating': mine.rating ? String(mine.rating.value) : null,
        'data-tags': tags.length ? tags.join(',') : null}, labelSummary(item, mine, ctx.blind)),
      h('span', {class: 'status-line', 'data-testid': 'save-status'}, ctx.status || '')),
    h('div', {class: 'row'},
      item.single ? '' : [btn('prefer left', 'left', '1'), btn('prefer right', 'right', '2'), btn('tie', 'tie', '3')],
      h('label', {}, 'rating ', rating), h('kbd', {}, 'r'), h('kbd', {}, '0–9')),
    h('div', {class: 'row'}, tags.map((t) => h('span', {class: 'badge'}, t)), tagInput, h('kbd', {}, 't'), note, h('kbd', {}, 'n')),
    h('div', {class: 'keys'}, 'keys: ', h('kbd', {}, 'j'), '/', h('kbd', {}, 'k'), ' next/previous item · ',
      h('kbd', {}, '1'), h('kbd', {}, '2'), h('kbd', {}, '3'), ' prefer left/right/tie · ', h('kbd', {}, 'r'), ' then a digit: rating · ',
      h('kbd', {}, 't'), ' tag · ', h('kbd', {}, 'n'), ' note · ', h('kbd', {}, 'Esc'), ' leaves a field'));
}

// labeller makes a page's save function: it posts one kind of label for an
// item, keeps the answer, and redraws.
function labeller(runID, redraw, ctx) {
  return async (item, kind, value) => {
    const body = {task: item.task, item: item.id, kind, value};
    if (kind === 'preference' && value !== 'tie') {
      if (ctx.blind) body.blind = true;
      else {
        // Not blind: the sides are the models as the API named them.
        const sd = value === 'left' ? item.left : item.right;
        body.value = sd.side === 'baseline' ? 'A' : 'B';
      }
    } else if (kind === 'preference' && ctx.blind) body.blind = true;
    ctx.status = 'saving…';
    redraw();
    try {
      const saved = await api.label(runID, body);
      ctx.labels.put(saved && saved.kind ? saved : {...body, user: state.session.user});
      ctx.status = 'saved';
    } catch (err) {
      ctx.status = 'not saved: ' + (err.message || err);
    }
    redraw();
  };
}

// keyHandler is the items pages' keyboard: j/k move, 1/2/3 prefer, r then
// a digit rates, t and n focus the tag and note inputs.
function keyHandler(ctx, current, move) {
  let pendingRating = false;
  return (e) => {
    const item = current();
    if (pendingRating) {
      pendingRating = false;
      if (/^[0-9]$/.test(e.key)) {
        if (item) ctx.save(item, 'rating', Number(e.key));
        return true;
      }
    }
    switch (e.key) {
      case 'j': if (move) move(1); return true;
      case 'k': if (move) move(-1); return true;
      case '1': if (item && !item.single) ctx.save(item, 'preference', 'left'); return true;
      case '2': if (item && !item.single) ctx.save(item, 'preference', 'right'); return true;
      case '3': if (item && !item.single) ctx.save(item, 'preference', 'tie'); return true;
      case 'r': pendingRating = true; return true;
      // The field gets the focus when the key comes up, so that the
      // letter itself is not typed into it.
      case 't': state.focusOnKeyUp = 'tag-input'; return true;
      case 'n': state.focusOnKeyUp = 'note-input'; return true;
      default: return false;
    }
  };
}

function focusTestid(id) {
  const el = document.querySelector(`[data-testid="${id}"]`);
  if (el) el.focus();
}

const FILTERS = [['all', 'all items'], ['flipped', 'flipped'], ['worst', 'worst by metric'], ['failed', 'failed']];

// itemsPage draws a paged list of items with one of them in full, for the
// items of a run (labels on) and for two runs compared (labels off).
function itemsPage(opts) {
  const {items, total, offset, limit, ctx, pageLink} = opts;
  let cur = opts.cur;
  const listBox = h('div', {class: 'item-list', 'data-testid': 'item-list'});
  const detailBox = h('div', {class: 'detail-box'});
  const redraw = () => {
    const ol = h('ol', {}, items.map((it, i) => h('li', {class: i === cur ? 'current' : '', 'data-testid': 'item', 'data-item': it.id,
      onclick: () => { cur = i; ctx.status = ''; redraw(); }},
    h('span', {class: 'id'}, it.id),
    it.flip ? h('span', {class: ['badge', it.flip]}, it.flip) : '',
    typeof it.delta === 'number' ? h('span', {class: 'muted'}, fmtSigned(it.delta)) : '',
    ctx.labels && ctx.labels.labelled(it) ? h('span', {class: 'badge labelled', 'data-testid': 'labelled'}, 'labelled') : '')));
    const pager = h('div', {class: 'pager'},
      h('span', {class: 'muted', 'data-testid': 'count'}, total === 0 ? 'no items' : `${offset + 1}–${offset + items.length} of ${total}`),
      offset > 0 ? h('a', {href: pageLink(Math.max(0, offset - limit))}, '← prev') : '',
      offset + items.length < total ? h('a', {href: pageLink(offset + limit)}, 'next →') : '');
    listBox.replaceChildren(pager, ol);
    const item = items[cur];
    detailBox.replaceChildren(item ? opts.detail(item) : h('p', {class: 'muted', 'data-testid': 'no-items'}, 'No item matches these filters.'));
    const li = ol.children[cur];
    if (li && li.scrollIntoView) li.scrollIntoView({block: 'nearest'});
  };
  const move = (d) => {
    const next = cur + d;
    if (next >= 0 && next < items.length) {
      cur = next;
      ctx.status = '';
      redraw();
    } else if (next >= items.length && offset + items.length < total) {
      location.hash = pageLink(offset + limit);
    } else if (next < 0 && offset > 0) {
      location.hash = pageLink(Math.max(0, offset - limit), 'last');
    }
  };
  return {box: h('div', {class: 'items-layout'}, listBox, detailBox), redraw, move, current: () => items[cur]};
}

async function viewItems(main, runID, params) {
  const {report} = reportOf(await api.run(runID));
  const blind = blindMode(params);
  const limit = Math.min(Number(params.get('limit')) || 50, 200);
  const offset = Number(params.get('offset')) || 0;
  const query = {};
  for (const k of ['task', 'filter', 'metric', 'slice', 'group', 'q', 'sort', 'order']) query[k] = params.get(k);
  const [data, labelList] = await Promise.all([
    api.items(runID, {...query, offset, limit, blind: blind ? '1' : '0'}),
    api.labels(runID, {}),
  ]);
  const items = (data.items || []).map(normItem);
  const total = data.total ?? items.length;
  const ctx = {blind, status: '', labels: new Labels(labelList.labels)};
  const cur = params.get('cur') === 'last' ? Math.max(items.length - 1, 0) : 0;
  const pageLink = (off, at) => link(['run', runID, 'items'], {...pageParams(params), offset: off || '', cur: at});
  const page = itemsPage({items, total, offset, limit, ctx, cur, pageLink, detail: (it) => itemDetail(runID, it, ctx)});
  ctx.save = labeller(runID, page.redraw, ctx);
  state.onKey = keyHandler(ctx, page.current, page.move);
  const agreeBox = h('div');
  const who = blind ? 'blind: the sides are drawn per item, model names hidden'
    : (data.baseline ? `left: ${data.baseline} (baseline) · right: ${data.candidate} (candidate)` : '');
  main.replaceChildren(
    h('h1', {}, 'Items of run ', h('a', {href: link(['run', runID])}, runID), ' ',
      h('span', {class: 'muted'}, data.task || '', data.metric ? ` · ${data.metric}` : '', data.direction ? ` (${data.direction} is better)` : '')),
    filterBar(runID, report, params, data, blind),
    h('p', {class: 'muted', 'data-testid': 'sides-note'}, who),
    agreeBox,
    page.box);
  page.redraw();
  loadAgreement(runID, agreeBox);
}

// pageParams are the filters of the items page, without its position.
function pageParams(params) {
  const out = {};
  for (const [k, v] of params) if (k !== 'offset' && k !== 'cur') out[k] = v;
  return out;
}

function filterBar(runID, report, params, data, blind) {
  const tasks = (report.tasks || []);
  const taskName = data.task || params.get('task') || (tasks[0] && tasks[0].name) || '';
  const task = tasks.find((t) => t.name === taskName) || {};
  const sel = (name, options, value, label) => {
    const el = h('select', {name, 'data-testid': 'filter-' + name}, options.map(([v, text]) => h('option', {value: v}, text)));
    el.value = value;
    return [el, h('label', {}, label + ' ', el)];
  };
  const [taskSel, taskL] = sel('task', tasks.map((t) => [t.name, t.name]), taskName, 'task');
  const [filterSel, filterL] = sel('filter', FILTERS, params.get('filter') || 'all', 'show');
  const [metricSel, metricL] = sel('metric', (task.metrics || []).map((m) => [m, m]), data.metric || params.get('metric') || '', 'metric');
  const groups = [];
  for (const sl of task.slices || []) for (const g of sl.groups || []) groups.push([`${sl.name}=${g.value}`, `${sl.name}: ${g.value}`]);
  const [sliceSel, sliceL] = sel('slice', [['', 'every slice'], ...groups], params.get('slice') ? `${params.get('slice')}=${params.get('group') || ''}` : '', 'slice');
  const [sortSel, sortL] = sel('sort', [['', 'default'], ['dataset', 'dataset order'], ['id', 'id'], ['delta', 'delta']], params.get('sort') || '', 'sort');
  const [orderSel, orderL] = sel('order', [['', 'worst first'], ['asc', 'ascending'], ['desc', 'descending']], params.get('order') || '', 'order');
  const search = h('input', {type: 'search', placeholder: 'search id, prompt, outputs', value: params.get('q') || '', 'data-testid': 'filter-q', 'aria-label': 'search'});
  const apply = () => {
    const cut = sliceSel.value.indexOf('=');
    go(['run', runID, 'items'], {
      task: taskSel.value, filter: filterSel.value === 'all' ? '' : filterSel.value,
      metric: taskSel.value === taskName ? metricSel.value : '',
      slice: cut > 0 ? sliceSel.value.slice(0, cut) : '', group: cut > 0 ? sliceSel.value.slice(cut + 1) : '',
      sort: sortSel.value, order: orderSel.value, q: search.value.trim(), blind: params.get('blind'),
    });
  };
  for (const el of [taskSel, filterSel, metricSel, sliceSel, sortSel, orderSel]) el.addEventListener('change', apply);
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') apply(); });
  const blindBtn = h('button', {type: 'button', class: blind ? 'on' : '', 'data-testid': 'blind', 'aria-pressed': blind ? 'true' : 'false'}, blind ? 'blind mode: on' : 'blind mode: off');
  blindBtn.addEventListener('click', () => {
    localStorage.setItem('tunecheck.blind', blind ? '0' : '1');
    const p = pageParams(params);
    delete p.blind;
    const next = link(['run', runID, 'items'], p);
    if (location.hash === next) route();
    else location.hash = next;
  });
  const exp = (kind, text) => h('a', {href: api.exportURL(runID, kind), download: `labels-${runID}-${kind}.jsonl`, class: 'button', 'data-testid': 'export-' + kind}, text);
  return h('div', {class: 'toolbar', 'data-testid': 'filters'}, taskL, filterL, metricL, sliceL, sortL, orderL, search, blindBtn,
    exp('preference', 'Export preferences (JSONL)'), exp('rating', 'Export ratings (JSONL)'));
}

async function loadAgreement(runID, box) {
  let a;
  try { a = await api.agreement(runID); } catch { return; }
  const pairs = (a && a.pairs) || [];
  if (!pairs.length) return;
  box.replaceChildren(h('div', {class: 'agreement', 'data-testid': 'agreement'},
    h('strong', {}, 'Agreement between labellers'),
    table(['kind', 'people', th('items both labelled', 'num'), th('agreement', 'num'), th('Cohen κ', 'num'), th('κ quadratic', 'num')], pairs.map((p) => h('tr', {},
      h('td', {}, p.kind || ''),
      h('td', {}, (p.users || []).join(' & ')),
      h('td', {class: 'num'}, p.n ?? ''),
      h('td', {class: 'num'}, fmt(p.agreement)),
      h('td', {class: 'num'}, p.kappa === null ? 'undefined' : fmt(p.kappa)),
      h('td', {class: 'num'}, p.kappa_quadratic === undefined ? '' : fmt(p.kappa_quadratic)))))));
}

async function viewItem(main, runID, task, itemID, params) {
  const blind = blindMode(params);
  const data = await api.item(runID, task, itemID, {blind: blind ? '1' : '0', metric: params.get('metric')});
  const item = normItem(data.item || {});
  if (!item.task) item.task = task;
  const ctx = {blind, status: '', labels: new Labels(data.labels)};
  const box = h('div');
  const redraw = () => box.replaceChildren(itemDetail(runID, item, ctx));
  ctx.save = labeller(runID, redraw, ctx);
  state.onKey = keyHandler(ctx, () => item, null);
  main.replaceChildren(
    h('p', {}, h('a', {href: link(['run', runID])}, '← run ' + runID), ' · ', h('a', {href: link(['run', runID, 'items'], {task})}, 'all items of ' + task)),
    box);
  redraw();
}

// ---------------------------------------------------------------- compare

async function viewCompare(main, params) {
  const data = await api.runs({limit: 1000});
  const runs = (data.runs || []).filter((r) => r.status === 'finished');
  const a = params.get('a') || '', b = params.get('b') || '';
  const runSel = (name, value) => {
    const el = h('select', {name, 'data-testid': 'compare-' + name},
      h('option', {value: ''}, '— pick a run —'),
      runs.map((r) => h('option', {value: r.id}, `${r.id} · ${r.plan || ''} · ${fmtTime(r.started)}`)));
    el.value = value;
    return el;
  };
  const selA = runSel('a', a), selB = runSel('b', b);
  const runA = runs.find((r) => r.id === a), runB = runs.find((r) => r.id === b);
  const models = (runA ? runA.models || [] : []).filter((m) => !runB || (runB.models || []).includes(m));
  const modelSel = h('select', {name: 'model', 'data-testid': 'compare-model'}, h('option', {value: ''}, 'A’s candidate'), models.map((m) => h('option', {value: m}, m)));
  modelSel.value = params.get('model') || '';
  const apply = () => go(['compare'], {a: selA.value, b: selB.value, model: modelSel.value});
  for (const el of [selA, selB, modelSel]) el.addEventListener('change', apply);
  const kids = [h('h1', {}, 'Compare two runs'),
    h('div', {class: 'compare-pick toolbar'}, h('label', {}, 'run A ', selA), h('label', {}, 'run B ', selB), h('label', {}, 'model ', modelSel))];
  if (!a || !b) {
    kids.push(h('p', {class: 'muted'}, 'Pick two runs of the same eval set and the model to read in both.'));
    main.replaceChildren(...kids);
    return;
  }
  const limit = 50;
  const offset = Number(params.get('offset')) || 0;
  const query = {a, b};
  for (const k of ['model', 'task', 'filter', 'metric', 'slice', 'group', 'q', 'sort', 'order']) query[k] = params.get(k);
  const res = await api.compare({...query, offset, limit});
  const items = (res.items || []).map(normItem);
  const ctx = {blind: false, status: '', labels: null};
  const pageLink = (off, at) => link(['compare'], {...pageParams(params), offset: off || '', cur: at});
  const cur = params.get('cur') === 'last' ? Math.max(items.length - 1, 0) : 0;
  const page = itemsPage({items, total: res.total ?? items.length, offset, limit, ctx, cur, pageLink, detail: (it) => itemDetail(a, it, ctx)});
  state.onKey = (e) => {
    if (e.key === 'j') { page.move(1); return true; }
    if (e.key === 'k') { page.move(-1); return true; }
    return false;
  };
  kids.push(h('p', {class: 'muted'}, `${res.model || ''} on ${res.task || ''}: left is run A, right is run B; Δ is B − A on ${res.metric || 'the metric'}`), page.box);
  main.replaceChildren(...kids);
  page.redraw();
}

// ---------------------------------------------------------------- start

document.addEventListener('keydown', (e) => {
  if (!state.onKey || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
  if (state.onKey(e)) e.preventDefault();
});

document.addEventListener('keyup', () => {
  if (state.focusOnKeyUp) {
    focusTestid(state.focusOnKeyUp);
    state.focusOnKeyUp = null;
  }
});

window.addEventListener('hashchange', route);

async function start() {
  const who = document.getElementById('who');
  try {
    const sess = await session();
    if (who && sess.user) who.textContent = 'labelling as ' + sess.user;
    if (!location.hash && location.pathname !== '/') {
      // a permalink by path: keep it, as a hash route
      history.replaceState(null, '', '/#' + location.pathname + location.search);
    } else if (!location.hash && sess.run) {
      history.replaceState(null, '', link(['run', sess.run]));
    }
  } catch (err) {
    if (who) who.textContent = 'no session: ' + (err.message || err);
  }
  route();
}

start();
