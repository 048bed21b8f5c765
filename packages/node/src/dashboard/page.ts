/**
 * The dashboard page (docs/dashboard.md): one HTML document, one stylesheet and one script,
 * held here as strings so they ship inside dist/ with the rest of the node (tsc copies no
 * assets, and `pnpm bundle` deploys only what the package's `files` list). No framework and
 * no build step: the script is plain ES2020 that builds the DOM with textContent (member ids
 * and key contents never become markup) and draws the ring and the charts as inline SVG.
 * It polls the read-only /admin/dashboard routes of the node that served it; the token a user
 * types is kept in sessionStorage and sent as a Bearer header, never in a URL.
 */

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ringkv dashboard</title>
<link rel="stylesheet" href="/ui/dashboard.css">
<script src="/ui/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>ringkv</h1>
  <span id="served-by"></span>
  <span id="updated" class="muted"></span>
  <span id="poll-error" class="error" role="status"></span>
  <form id="token-form" autocomplete="off">
    <input id="token" type="password" placeholder="token (admin or client)" aria-label="token">
    <button type="submit">Use token</button>
    <button type="button" id="token-clear">Forget</button>
  </form>
</header>
<main>
 <div class="columns">
 <div class="column">
  <section id="members-panel"><h2>Members</h2>
    <table id="members"><thead><tr><th>id</th><th>status</th><th>incarnation</th><th>zone</th><th>address</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="inspector-panel"><h2>Key inspector <span class="muted">(admin token)</span></h2>
    <form id="inspect-form" autocomplete="off"><input id="inspect-key" placeholder="key" aria-label="key"><button type="submit">Inspect</button></form>
    <div id="inspect-result"></div>
  </section>
 </div>
 <div class="column">
  <section id="ring-panel"><h2>Ring</h2>
    <div class="ring-row"><svg id="ring" viewBox="-110 -110 220 220" width="260" height="260" role="img" aria-label="ring ownership"></svg>
    <div><table id="ring-nodes"><thead><tr><th></th><th>node</th><th>status</th><th>primary share</th><th>replica share</th></tr></thead><tbody></tbody></table>
    <p id="health-summary"></p></div></div>
    <table id="ranges"><thead><tr><th>under-replicated: replicas down</th><th>of the key space</th><th>replicas alive (fewest)</th></tr></thead><tbody></tbody></table>
  </section>
 </div>
 </div>
  <section id="nodes-panel"><h2>Nodes <span class="muted" id="window-label"></span></h2>
    <table id="nodes"><thead><tr><th>node</th><th>req/s</th><th>p50 ms</th><th>p99 ms</th><th>errors</th><th>req/s and p99 over the window</th><th>keys</th><th>hints waiting (owner: count)</th><th>transfers pending / handed off</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="ae-panel"><h2>Anti-entropy per peer</h2>
    <table id="anti-entropy"><thead><tr><th>node</th><th>peer</th><th>last exchange</th><th>keys repaired last (in / out)</th><th>keys repaired total (in / out)</th><th>exchanges / failed</th></tr></thead><tbody></tbody></table>
  </section>
</main>
</body>
</html>
`;

export const DASHBOARD_CSS = `
:root { --alive: #2e7d32; --suspect: #ef8f00; --dead: #c62828; --left: #757575; font-family: system-ui, sans-serif; font-size: 14px; color: #1d1d1f; }
body { margin: 0; background: #f6f7f9; }
header { display: flex; gap: 1em; align-items: baseline; flex-wrap: wrap; padding: .6em 1em; background: #1f2933; color: #f5f7fa; }
header h1 { font-size: 1.2em; margin: 0; }
header form { margin-left: auto; }
main { display: flex; flex-direction: column; gap: 1em; padding: 1em; }
.columns { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.column { flex: 1 1 560px; display: flex; flex-direction: column; gap: 1em; min-width: 0; }
section { background: #fff; border-radius: 6px; padding: .6em 1em 1em; box-shadow: 0 1px 2px rgba(0,0,0,.08); overflow-x: auto; }
h2 { font-size: 1em; margin: .3em 0 .6em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25em .5em; border-bottom: 1px solid #eceff1; vertical-align: top; white-space: nowrap; }
th { font-weight: 600; color: #52606d; font-size: .9em; }
.status { display: inline-block; padding: 0 .5em; border-radius: 1em; color: #fff; font-size: .9em; }
.status-alive { background: var(--alive); } .status-suspect { background: var(--suspect); }
.status-dead { background: var(--dead); } .status-left { background: var(--left); }
.muted { color: #8795a1; font-weight: normal; } .error { color: #ff8a80; }
.swatch { display: inline-block; width: .9em; height: .9em; border-radius: 2px; }
.ring-row { display: flex; gap: 1em; align-items: flex-start; flex-wrap: wrap; }
.warn { color: var(--suspect); } .bad { color: var(--dead); } .good { color: var(--alive); }
pre { margin: 0; white-space: pre-wrap; word-break: break-all; max-width: 40em; }
#inspect-result table { margin-top: .5em; }
`;

export const DASHBOARD_JS = `'use strict';
(() => {
  const COLORS = ['#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6', '#dd4477', '#66aa00', '#b82e2e', '#316395', '#994499', '#22aa99'];
  const RING_EVERY_MS = 1000;
  const NODES_EVERY_MS = 3000;
  const TOKEN_KEY = 'ringkv.dashboard.token';
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = tag === 'svg' || SVG_TAGS.has(tag) ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) if (value !== undefined && value !== null) node.setAttribute(name, String(value));
    for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
    return node;
  }
  const SVG_TAGS = new Set(['path', 'circle', 'polyline', 'line', 'g', 'title', 'text']);
  const replaceRows = (table, rows) => table.tBodies[0].replaceChildren(...rows);
  const badge = (status) => el('span', { class: 'status status-' + status }, status);
  const pct = (x) => (x * 100).toFixed(1) + '%';
  const ms = (x) => (x === null || x === undefined ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(0));
  const ago = (nowMs, thenMs) => { const s = Math.max(0, Math.round((nowMs - thenMs) / 1000)); return s < 120 ? s + ' s ago' : Math.round(s / 60) + ' min ago'; };

  function headers() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? { authorization: 'Bearer ' + token } : {};
  }
  async function getJson(path) {
    const response = await fetch(path, { headers: headers(), cache: 'no-store' });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((body && body.error && (body.error.code + ': ' + body.error.message)) || 'HTTP ' + response.status);
      error.body = body;
      throw error;
    }
    return body;
  }

  let colorOf = () => '#999';

  function renderMembers(members) {
    replaceRows($('members'), members.map((m) => el('tr', { 'data-member': m.id, 'data-status': m.status },
      el('td', {}, m.id), el('td', { class: 'member-status' }, badge(m.status)), el('td', {}, m.incarnation), el('td', {}, m.zone || ''), el('td', { class: 'muted' }, m.address))));
  }

  function arcPath(from, to, outer, inner) {
    // An arc's ends coincide on a whole turn, which SVG draws as nothing: draw two halves.
    if (to - from > 0.5) return arcPath(from, (from + to) / 2, outer, inner) + ' ' + arcPath((from + to) / 2, to, outer, inner);
    const a0 = from * 2 * Math.PI - Math.PI / 2;
    const a1 = to * 2 * Math.PI - Math.PI / 2;
    const large = to - from > 0.5 ? 1 : 0;
    const p = (r, a) => (r * Math.cos(a)).toFixed(3) + ' ' + (r * Math.sin(a)).toFixed(3);
    return 'M' + p(outer, a0) + ' A' + outer + ' ' + outer + ' 0 ' + large + ' 1 ' + p(outer, a1) + ' L' + p(inner, a1) + ' A' + inner + ' ' + inner + ' 0 ' + large + ' 0 ' + p(inner, a0) + 'Z';
  }

  function renderRing(body) {
    const { ring, health } = body;
    const index = new Map(ring.nodes.map((node, i) => [node.id, i]));
    colorOf = (id) => COLORS[(index.has(id) ? index.get(id) : 0) % COLORS.length];
    const svg = $('ring');
    const parts = [];
    if (ring.segments && ring.segments.length > 0) {
      ring.segments.forEach(([start, owner], i) => {
        const end = i + 1 < ring.segments.length ? ring.segments[i + 1][0] : 1;
        const node = ring.nodes[owner];
        parts.push(el('path', { d: arcPath(start, end, 80, 55), fill: COLORS[owner % COLORS.length], opacity: node.status === 'alive' ? 1 : 0.4, 'data-owner': node.id }));
      });
    } else {
      let at = 0;
      ring.nodes.forEach((node, i) => { parts.push(el('path', { d: arcPath(at, at + node.share, 80, 55), fill: COLORS[i % COLORS.length], 'data-owner': node.id })); at += node.share; });
    }
    for (const band of health.bands || health.ranges.map((r) => ({ start: r.start, end: r.end, belowQuorum: r.alive < health.quorum }))) {
      const color = band.belowQuorum ? '#c62828' : '#ef8f00';
      const title = band.belowQuorum ? 'fewer than a quorum of replicas alive' : 'fewer than N replicas alive';
      parts.push(el('path', { d: arcPath(band.start, Math.min(1, Math.max(band.end, band.start + 0.002)), 100, 86), fill: color, class: 'under-replicated' }, el('title', {}, pct(band.start) + ' – ' + pct(band.end) + ': ' + title)));
    }
    parts.push(el('text', { x: 0, y: 5, 'text-anchor': 'middle', 'font-size': 14 }, ring.nodes.length + ' nodes, N=' + body.n));
    svg.replaceChildren(...parts);
    replaceRows($('ring-nodes'), ring.nodes.map((node, i) => el('tr', { 'data-node': node.id },
      el('td', {}, el('span', { class: 'swatch', style: undefined, 'data-color': i }, '')), el('td', {}, node.id + (node.zone ? ' (' + node.zone + ')' : '')), el('td', {}, badge(node.status)), el('td', {}, pct(node.share)), el('td', {}, pct(node.replicaShare)))));
    // Inline style attributes are refused by the page's CSP; colour the swatches through the DOM.
    for (const swatch of $('ring-nodes').querySelectorAll('.swatch')) swatch.style.background = COLORS[Number(swatch.dataset.color) % COLORS.length];
    const s = health.share;
    const summary = $('health-summary');
    summary.replaceChildren(
      el('span', { class: 'good' }, pct(s.all) + ' of keys have all ' + health.n + ' replicas alive'), '; ',
      el('span', { class: s.quorum > 0 ? 'warn' : '' }, pct(s.quorum) + ' fewer than N but a quorum (' + health.quorum + ')'), '; ',
      el('span', { class: s.fewer > 0 ? 'bad' : '' }, pct(s.fewer) + ' fewer than a quorum'), '.');
    summary.dataset.fewer = String(health.arcs.fewer);
    summary.dataset.quorum = String(health.arcs.quorum);
    const rows = health.groups.map((g) => el('tr', { class: g.alive >= health.quorum ? 'warn' : 'bad' },
      el('td', {}, g.down.join(', ')), el('td', {}, pct(g.share) + ' (' + g.arcs + ' arcs)'), el('td', {}, g.alive + ' of ' + health.n)));
    if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 3, class: 'good' }, 'every range has all N replicas alive')));
    replaceRows($('ranges'), rows);
  }

  function sparkline(series, slotMs) {
    const width = 160, height = 28;
    const maxRate = Math.max(1, ...series.map((p) => p.perSecond));
    const maxP99 = Math.max(1, ...series.map((p) => p.p99Ms || 0));
    const x = (i) => ((i / Math.max(1, series.length - 1)) * width).toFixed(1);
    const line = (value, max) => series.map((p, i) => x(i) + ',' + (height - (value(p) / max) * (height - 2) - 1).toFixed(1)).join(' ');
    return el('svg', { width, height, viewBox: '0 0 ' + width + ' ' + height, class: 'spark' },
      el('title', {}, 'req/s (blue, max ' + maxRate.toFixed(1) + ') and p99 (red, max ' + ms(maxP99) + ' ms), ' + (slotMs / 1000) + ' s per point'),
      el('polyline', { points: line((p) => p.perSecond, maxRate), fill: 'none', stroke: '#3366cc', 'stroke-width': 1.5 }),
      el('polyline', { points: line((p) => p.p99Ms || 0, maxP99), fill: 'none', stroke: '#dc3912', 'stroke-width': 1 }));
  }

  function renderNodes(answer) {
    const rows = [];
    const aeRows = [];
    for (const entry of answer.nodes) {
      const f = entry.figures;
      if (!f) {
        rows.push(el('tr', { 'data-node': entry.id }, el('td', {}, entry.id, ' ', badge(entry.status)), el('td', { colspan: 8, class: 'muted' }, entry.error || 'no figures')));
        continue;
      }
      const t = f.requests.totals;
      $('window-label').textContent = '(last ' + Math.round(t.windowMs / 60000) + ' min)';
      const hints = f.hints.owners.length === 0 ? '0' : f.hints.owners.map((h) => h.owner + ': ' + h.count).join(', ') + (f.hints.truncated ? ', …' : '');
      rows.push(el('tr', { 'data-node': entry.id },
        el('td', {}, entry.id, ' ', badge(entry.status)), el('td', {}, t.perSecond.toFixed(1)), el('td', {}, ms(t.p50Ms)), el('td', {}, ms(t.p99Ms)), el('td', { class: t.errors > 0 ? 'bad' : '' }, t.errors),
        el('td', {}, sparkline(f.requests.series, f.requests.slotMs)), el('td', {}, f.keys), el('td', { class: 'hints' }, hints),
        el('td', {}, f.transfers.pending + ' / ' + f.transfers.handedOff + (f.transfers.paused ? ' (paused)' : ''))));
      if (f.antiEntropy.running) aeRows.push(el('tr', {}, el('td', {}, entry.id), el('td', {}, f.antiEntropy.running.peer), el('td', { colspan: 4 }, 'running for ' + ago(f.nowMs, f.antiEntropy.running.startedMs).replace(' ago', ''))));
      for (const p of f.antiEntropy.peers) {
        aeRows.push(el('tr', {}, el('td', {}, entry.id), el('td', {}, p.peer), el('td', { class: p.lastError ? 'bad' : '' }, ago(f.nowMs, p.lastEndedMs) + (p.lastError ? ' (' + p.lastError + ')' : '')),
          el('td', {}, p.lastKeysIn + ' / ' + p.lastKeysOut), el('td', {}, p.keysInTotal + ' / ' + p.keysOutTotal), el('td', {}, p.exchanges + ' / ' + p.failures)));
      }
    }
    if (answer.truncated) rows.push(el('tr', {}, el('td', { colspan: 9, class: 'muted' }, 'more members than shown')));
    replaceRows($('nodes'), rows);
    if (aeRows.length === 0) aeRows.push(el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'no exchange yet')));
    replaceRows($('anti-entropy'), aeRows);
  }

  function decodeValue(sibling) {
    if (sibling.deleted) return el('em', {}, 'deleted (tombstone)');
    try {
      const bytes = Uint8Array.from(atob(sibling.value), (c) => c.charCodeAt(0));
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.slice(0, 2048));
      return el('pre', {}, text + (bytes.length > 2048 ? ' …(' + bytes.length + ' bytes)' : ''));
    } catch {
      return el('pre', { class: 'muted' }, 'binary, base64: ' + sibling.value.slice(0, 200));
    }
  }

  function renderInspection(result) {
    const replicas = result.replicas.map((r) => {
      let stored;
      if (r.error) stored = el('span', { class: 'bad' }, r.error);
      else if (!r.found) stored = el('span', { class: 'muted' }, 'holds nothing');
      else if (r.stored.siblings) stored = el('div', {}, r.stored.siblings.length + ' sibling(s)', r.stored.siblings.map((s) => el('div', {}, el('span', { class: 'muted' }, s.contentType || ''), decodeValue(s))));
      else stored = el('div', {}, decodeValue(r.stored));
      return el('tr', { 'data-replica': r.id }, el('td', {}, r.id), el('td', {}, badge(r.status)), el('td', {}, stored));
    });
    $('inspect-result').replaceChildren(
      el('div', {}, 'preference list: ', result.preferenceList.map((m) => m.id).join(', '), el('span', { class: 'muted' }, '; next fallbacks: ' + (result.fallbacks.map((m) => m.id).join(', ') || 'none'))),
      el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'replica'), el('th', {}, 'status'), el('th', {}, 'stored'))), el('tbody', {}, replicas)));
  }

  async function inspect(event) {
    event.preventDefault();
    const key = $('inspect-key').value;
    if (key === '') return;
    $('inspect-result').replaceChildren(el('span', { class: 'muted' }, 'asking…'));
    try {
      renderInspection(await getJson('/admin/dashboard/key/' + encodeURIComponent(key)));
    } catch (error) {
      $('inspect-result').replaceChildren(el('span', { class: 'bad' }, error.message));
    }
  }

  function every(ms, task) {
    const run = async () => { try { await task(); } finally { setTimeout(run, ms); } };
    void run();
  }

  function start() {
    $('token-form').addEventListener('submit', (event) => { event.preventDefault(); const v = $('token').value; if (v) sessionStorage.setItem(TOKEN_KEY, v); $('token').value = ''; $('token').placeholder = 'token set'; });
    $('token-clear').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); $('token').placeholder = 'token (admin or client)'; });
    if (sessionStorage.getItem(TOKEN_KEY)) $('token').placeholder = 'token set';
    $('inspect-form').addEventListener('submit', inspect);
    every(RING_EVERY_MS, async () => {
      try {
        const body = await getJson('/admin/dashboard');
        $('served-by').textContent = 'served by ' + body.nodeId;
        renderMembers(body.members);
        renderRing(body);
        $('updated').textContent = 'updated ' + new Date(body.nowMs).toLocaleTimeString();
        document.body.dataset.updatedMs = String(body.nowMs);
        $('poll-error').textContent = '';
      } catch (error) {
        $('poll-error').textContent = 'not updating: ' + error.message;
      }
    });
    every(NODES_EVERY_MS, async () => {
      try { renderNodes(await getJson('/admin/dashboard/nodes')); } catch (error) { $('poll-error').textContent = 'node figures: ' + error.message; }
    });
  }
  document.addEventListener('DOMContentLoaded', start);
})();
`;
