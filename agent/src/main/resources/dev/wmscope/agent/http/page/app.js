// wmscope live page: polls the agent's JSON API and draws everything itself (no libraries,
// no network beyond this agent). Every number shown carries its raw value in data-value, so
// tests and scripts can read exactly what the API said.
'use strict';

const $ = (id) => document.getElementById(id);
const COLORS = { in: '#3fb950', out: '#58a6ff', p50: '#d2a8ff', p99: '#f0883e', active: '#58a6ff', grid: '#30363d', text: '#8b949e' };

function fmtBytes(n) {
  if (!(n >= 0)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? Math.round(n) : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + units[i];
}
const fmtRate = (n) => fmtBytes(n) + '/s';
function fmtUs(us) {
  if (!(us > 0)) return '–';
  if (us < 1000) return us + ' µs';
  if (us < 1e6) return (us / 1000).toFixed(us < 10000 ? 2 : 1) + ' ms';
  return (us / 1e6).toFixed(2) + ' s';
}
function fmtNum(n) {
  if (n === null || n === undefined) return '–';
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n.toFixed(n >= 100 ? 0 : 2);
}
function fmtDuration(s) {
  if (s < 60) return Math.round(s) + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + String(Math.round(s % 60)).padStart(2, '0') + 's';
  return Math.floor(s / 3600) + 'h' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
}

function setValue(id, raw, text) {
  const el = $(id);
  el.dataset.value = String(raw);
  el.textContent = text;
}

function cell(tr, field, raw, text, numeric) {
  const td = document.createElement('td');
  td.dataset.field = field;
  if (raw !== undefined && raw !== null) td.dataset.value = String(raw);
  td.textContent = text === undefined ? String(raw ?? '–') : text;
  if (numeric) td.className = 'num';
  tr.appendChild(td);
  return td;
}

function bar(queue, limit) {
  const wrap = document.createElement('span');
  const ratio = limit > 0 ? Math.min(1, queue / limit) : 0;
  wrap.className = 'bar' + (ratio >= 0.8 ? ' bad' : ratio >= 0.3 ? ' warn' : '');
  const fill = document.createElement('span');
  fill.style.width = Math.max(queue > 0 ? 2 : 0, ratio * 100) + '%';
  wrap.appendChild(fill);
  return wrap;
}

function renderTotals(s) {
  const t = s.totals;
  setValue('total-active', t.active, fmtNum(t.active));
  setValue('total-opened-rate', t.opened_per_s, fmtNum(t.opened_per_s));
  setValue('total-in-rate', t.bytes_in_per_s, fmtRate(t.bytes_in_per_s));
  setValue('total-out-rate', t.bytes_out_per_s, fmtRate(t.bytes_out_per_s));
  setValue('total-rtt', t.rtt_p50_us + '/' + t.rtt_p99_us, fmtUs(t.rtt_p50_us) + ' / ' + fmtUs(t.rtt_p99_us));
  setValue('total-accept-queue', t.accept_queue, fmtNum(t.accept_queue) + (t.listen_drops ? ' (' + fmtNum(t.listen_drops) + ' dropped)' : ''));
  setValue('total-errors', t.retransmits + '/' + t.resets, fmtNum(t.retransmits) + ' / ' + fmtNum(t.resets));
  setValue('total-workers', t.workers + '/' + t.stalled_workers, fmtNum(t.workers) + (t.stalled_workers ? ' (' + t.stalled_workers + ' stalled)' : ''));
  $('window').textContent = 'rates and RTT over the last ' + Math.round(s.window_s) + ' s';
}

function renderWorkers(workers) {
  const body = $('workers').tBodies[0];
  const rows = [];
  for (const w of workers) {
    const tr = document.createElement('tr');
    tr.dataset.pid = String(w.pid);
    if (w.stalled) tr.className = 'stalled';
    cell(tr, 'pid', w.pid, w.pid === 0 ? '–' : String(w.pid));
    cell(tr, 'name', w.name, w.name ?? (w.pid === 0 ? '(no process found)' : w.process_name || '–'));
    cell(tr, 'listen', w.listen, w.listen ?? '–');
    cell(tr, 'active', w.active, fmtNum(w.active), true);
    cell(tr, 'opened_per_s', w.opened_per_s, fmtNum(w.opened_per_s), true);
    cell(tr, 'bytes_in_per_s', w.bytes_in_per_s, fmtRate(w.bytes_in_per_s), true);
    cell(tr, 'bytes_out_per_s', w.bytes_out_per_s, fmtRate(w.bytes_out_per_s), true);
    cell(tr, 'rtt_p50_us', w.rtt_p50_us, fmtUs(w.rtt_p50_us), true);
    cell(tr, 'rtt_p99_us', w.rtt_p99_us, fmtUs(w.rtt_p99_us), true);
    cell(tr, 'retransmits', w.retransmits, fmtNum(w.retransmits), true);
    cell(tr, 'resets', w.resets, fmtNum(w.resets), true);
    cell(tr, 'accept_queue', w.accept_queue, w.accept_queue_limit ? fmtNum(w.accept_queue) + ' / ' + fmtNum(w.accept_queue_limit) : '–', true);
    cell(tr, 'state', w.stalled ? 'stalled' : 'ok', w.stalled ? 'stalled (' + fmtBytes(w.queued_bytes) + ' unread)' : 'ok');
    rows.push(tr);
  }
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell(tr, 'empty', null, 'No Workerman workers found yet (start your app, or run the agent with --port/--pid).');
    td.colSpan = 13;
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

function fmtMs(ms) {
  return ms === undefined || ms === null ? '–' : fmtNum(ms) + ' ms';
}

function renderRequests(workers) {
  const rows = [];
  for (const w of workers) {
    if (w.requests === undefined) continue; // not an HTTP or WebSocket worker
    const tr = document.createElement('tr');
    tr.dataset.pid = String(w.pid);
    cell(tr, 'pid', w.pid, String(w.pid));
    cell(tr, 'name', w.name, w.name ?? '–');
    cell(tr, 'requests_per_s', w.requests_per_s, fmtNum(w.requests_per_s), true);
    cell(tr, 'request_p50_ms', w.request_p50_ms, fmtMs(w.request_p50_ms), true);
    cell(tr, 'request_p99_ms', w.request_p99_ms, fmtMs(w.request_p99_ms), true);
    cell(tr, 'errors_5xx_per_s', w.errors_5xx_per_s, fmtNum(w.errors_5xx_per_s), true);
    cell(tr, 'websocket_messages_per_s', w.websocket_messages_per_s, fmtNum(w.websocket_messages_per_s), true);
    cell(tr, 'requests', w.requests, fmtNum(w.requests), true);
    cell(tr, 'errors_5xx', w.errors_5xx, fmtNum(w.errors_5xx), true);
    rows.push(tr);
  }
  $('requests-section').hidden = rows.length === 0;
  $('requests').tBodies[0].replaceChildren(...rows);
}

function renderLoops(workers) {
  const rows = [];
  for (const w of workers) {
    const l = w.eventloop;
    if (!l) continue; // worker health off, or not a Workerman worker
    const tr = document.createElement('tr');
    tr.dataset.pid = String(w.pid);
    cell(tr, 'pid', w.pid, String(w.pid));
    cell(tr, 'name', w.name, w.name ?? '–');
    cell(tr, 'kind', l.kind);
    cell(tr, 'utilization', l.utilization,
      l.utilization === null || l.utilization === undefined ? '–' : Math.round(l.utilization * 100) + '%', true);
    cell(tr, 'open_fds', w.open_fds,
      w.open_fds === null || w.open_fds === undefined ? '–' : w.open_fds + (w.fd_limit ? ' / ' + w.fd_limit : ''), true);
    const state = cell(tr, 'state', l.blocked ? 'blocked' : l.state,
      l.blocked ? 'blocked ' + fmtNum(l.blocked_s) + ' s: ' + l.doing : l.state);
    if (l.blocked) state.className = 'bad';
    rows.push(tr);
  }
  $('loops-section').hidden = rows.length === 0;
  $('loops').tBodies[0].replaceChildren(...rows);
}

function renderEvents(events) {
  const rows = [];
  for (const e of events.slice(0, 50)) {
    const tr = document.createElement('tr');
    cell(tr, 'time', e.time, new Date(e.time).toLocaleTimeString());
    cell(tr, 'type', e.type);
    cell(tr, 'pid', e.pid, String(e.pid));
    cell(tr, 'name', e.name, e.name ?? '–');
    cell(tr, 'cause', e.cause, e.cause ?? '');
    cell(tr, 'detail', e.detail, e.detail ?? '');
    rows.push(tr);
  }
  $('events-section').hidden = rows.length === 0;
  $('events').tBodies[0].replaceChildren(...rows);
}

// --- Gateway topology: per GatewayWorker app its processes and a client x server link matrix ---

const ROLE_NAMES = { register: 'Register', gateway: 'Gateway', business_worker: 'BusinessWorker' };
const roleName = (role) => ROLE_NAMES[role] || role;

function scrolling(table) {
  const div = document.createElement('div');
  div.className = 'scroll';
  div.appendChild(table);
  return div;
}

function newTable(className, headers) {
  const t = document.createElement('table');
  t.className = className;
  const tr = t.createTHead().insertRow();
  for (const [text, numeric] of headers) {
    const th = document.createElement('th');
    th.textContent = text;
    if (numeric) th.className = 'num';
    tr.appendChild(th);
  }
  t.createTBody();
  return t;
}

function topologyProcesses(processes) {
  const t = newTable('processes', [['Role'], ['PID'], ['Worker'], ['Listen'], ['Inner ports'], ['Clients', true],
    ['Clients opened/s', true]]);
  for (const p of processes) {
    const tr = t.tBodies[0].insertRow();
    tr.dataset.pid = String(p.pid);
    cell(tr, 'role', p.role, roleName(p.role));
    cell(tr, 'pid', p.pid, String(p.pid));
    cell(tr, 'name', p.name);
    cell(tr, 'listen', p.listen);
    const inner = p.inner_ports;
    cell(tr, 'inner_ports', inner ? inner.join(',') : null, inner && inner.length ? inner.join(', ') : '–');
    cell(tr, 'clients', p.clients, p.clients === undefined ? '–' : fmtNum(p.clients), true);
    const opened = cell(tr, 'clients_opened_per_s', p.clients_opened_per_s,
      p.clients_opened_per_s === undefined ? '–' : fmtNum(p.clients_opened_per_s), true);
    if (p.clients_opened !== undefined) {
      opened.dataset.opened = String(p.clients_opened);
      opened.title = fmtNum(p.clients_opened) + ' opened since the agent started';
    }
  }
  return t;
}

/** One matrix cell: the links from client to server (normally one), the missing one flagged, or none. */
function linkCell(tr, client, server, links, missing) {
  const td = document.createElement('td');
  td.dataset.client = String(client.pid);
  td.dataset.server = String(server.pid);
  const line = (text, sub) => {
    const span = document.createElement('span');
    span.textContent = text;
    if (sub) span.className = 'sub';
    td.appendChild(span);
  };
  if (links.length > 0) {
    const rtt = Math.max(...links.map((l) => l.rtt_us));
    const age = Math.min(...links.map((l) => l.age_s));
    const backlog = links.reduce((n, l) => n + l.unacked_bytes + l.unread_bytes, 0);
    const reconnects = links.reduce((n, l) => n + l.reconnects, 0);
    Object.assign(td.dataset, { state: 'link', links: String(links.length), rttUs: String(rtt), ageS: String(age),
      backlogBytes: String(backlog), reconnects: String(reconnects) });
    line((links.length > 1 ? links.length + ' links · ' : '') + 'RTT ' + fmtUs(rtt) + ' · ' + fmtDuration(age));
    line('backlog ' + fmtBytes(backlog) + ' · ' + fmtNum(reconnects) + ' reconnect' + (reconnects === 1 ? '' : 's'), true);
    td.title = links.map((l) => 'port ' + l.server_port + ': unacked ' + fmtBytes(l.unacked_bytes) + ', unread '
      + fmtBytes(l.unread_bytes)).join('\n');
    if (reconnects > 0) td.className = 'warn';
  } else if (missing) {
    td.dataset.state = 'missing';
    td.className = 'bad';
    line('MISSING');
    line('expected, not linked', true);
    td.title = roleName(client.role) + ' ' + client.pid + ' has no link to ' + roleName(server.role) + ' ' + server.pid;
  } else {
    td.dataset.state = 'none';
    td.className = 'muted';
    line('–');
  }
  tr.appendChild(td);
}

/** A matrix heading naming a process: role and pid, its worker name below. */
function processHeading(p) {
  const th = document.createElement('th');
  th.dataset.pid = String(p.pid);
  th.textContent = roleName(p.role) + ' ' + p.pid;
  const name = document.createElement('span');
  name.className = 'sub';
  name.textContent = p.name;
  th.appendChild(name);
  return th;
}

function topologyMatrix(app) {
  const isClient = (p) => p.role === 'gateway' || p.role === 'business_worker'
    || app.links.some((l) => l.client_pid === p.pid) || app.missing_links.some((m) => m.client_pid === p.pid);
  const isServer = (p) => p.role === 'register' || p.role === 'gateway'
    || app.links.some((l) => l.server_pid === p.pid) || app.missing_links.some((m) => m.server_pid === p.pid);
  const clients = app.processes.filter(isClient);
  const servers = app.processes.filter(isServer);
  const t = newTable('matrix', [['client \u2193 / server \u2192']]);
  const head = t.tHead.rows[0];
  for (const s of servers) head.appendChild(processHeading(s));
  for (const c of clients) {
    const tr = t.tBodies[0].insertRow();
    tr.dataset.pid = String(c.pid);
    tr.appendChild(processHeading(c));
    for (const s of servers) {
      const links = app.links.filter((l) => l.client_pid === c.pid && l.server_pid === s.pid);
      const missing = app.missing_links.some((m) => m.client_pid === c.pid && m.server_pid === s.pid);
      linkCell(tr, c, s, links, missing);
    }
  }
  return t;
}

function renderTopology(doc) {
  const apps = doc.apps.map((app) => {
    const box = document.createElement('div');
    box.className = 'gw-app';
    box.dataset.master = String(app.master_pid);
    const h = document.createElement('h3');
    const missing = app.missing_links.length;
    h.textContent = app.start_file + ' (master ' + app.master_pid + ') · ' + fmtNum(app.links.length) + ' links'
      + (missing ? ' · ' + missing + ' missing' : '');
    if (missing) h.className = 'bad';
    box.append(h, scrolling(topologyProcesses(app.processes)), scrolling(topologyMatrix(app)));
    return box;
  });
  $('topology-section').hidden = apps.length === 0;
  $('topology').replaceChildren(...apps);
}

function renderListeners(listeners) {
  const body = $('listeners').tBodies[0];
  const rows = listeners.map((l) => {
    const tr = document.createElement('tr');
    tr.dataset.port = String(l.port);
    const host = l.address.includes(':') ? '[' + l.address + ']' : l.address;
    cell(tr, 'listener', host + ':' + l.port);
    const holder = l.role === 'master' ? 'master ' + l.pid : (l.name || (l.pid ? 'pid ' + l.pid : '–'));
    cell(tr, 'holder', l.pid, holder + (l.shared ? ' (shared by ' + l.holders.length + ' processes)' : ''));
    const q = cell(tr, 'accept_queue', l.accept_queue, '');
    q.appendChild(bar(l.accept_queue, l.accept_queue_limit));
    q.appendChild(document.createTextNode(' ' + fmtNum(l.accept_queue) + ' / ' + fmtNum(l.accept_queue_limit)));
    cell(tr, 'drops', l.drops, fmtNum(l.drops), true);
    return tr;
  });
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    cell(tr, 'empty', null, 'No watched listeners.').colSpan = 4;
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

function renderPeers(top) {
  const body = $('peers').tBodies[0];
  const rows = top.peers.map((p) => {
    const tr = document.createElement('tr');
    tr.dataset.peer = p.peer_address;
    cell(tr, 'peer_address', p.peer_address);
    cell(tr, 'active', p.active, fmtNum(p.active), true);
    cell(tr, 'bytes', p.bytes, fmtBytes(p.bytes), true);
    cell(tr, 'bytes_in_per_s', p.bytes_in_per_s, fmtRate(p.bytes_in_per_s), true);
    cell(tr, 'bytes_out_per_s', p.bytes_out_per_s, fmtRate(p.bytes_out_per_s), true);
    return tr;
  });
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    cell(tr, 'empty', null, 'No traffic yet.').colSpan = 5;
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

function renderAgent(a) {
  $('agent-line').textContent = 'agent ' + a.version + ' · pid ' + a.pid + ' · up ' + fmtDuration(a.uptime_s)
    + ' · updated ' + new Date().toLocaleTimeString();
  const state = $('state');
  state.textContent = a.ready ? 'ready' : 'starting: ' + a.not_ready.join(', ');
  state.className = 'badge ' + (a.ready ? 'ok' : 'bad');
  const drops = Object.values(a.events_dropped).reduce((x, y) => x + y, 0);
  const failures = Object.values(a.export_failures).reduce((x, y) => x + y, 0);
  const items = [
    ['events', 'Kernel events / s', a.events_per_s, fmtNum(a.events_per_s)],
    ['poll_lag', 'Poll loop lag (max 10 s)', a.poll_lag_max_ms, fmtNum(a.poll_lag_ms) + ' ms (' + fmtNum(a.poll_lag_max_ms) + ')'],
    ['events_dropped', 'Kernel events dropped', drops, fmtNum(drops)],
    ['export_failures', 'Export failures', failures, fmtNum(failures) + (a.spans_dropped ? ' (' + fmtNum(a.spans_dropped) + ' spans lost)' : '')],
    ['heap', 'JVM heap used', a.jvm.heap_used_bytes, fmtBytes(a.jvm.heap_used_bytes) + ' of ' + fmtBytes(a.jvm.heap_max_bytes)],
    ['open_connections', 'Open connections tracked', a.open_connections, fmtNum(a.open_connections)],
    ['peers', 'Peers tracked', a.peers_tracked, fmtNum(a.peers_tracked)],
    ['poll_interval', 'Poll interval', a.poll_interval_ms, fmtNum(a.poll_interval_ms) + ' ms'],
  ];
  $('self').replaceChildren(...items.map(([key, label, raw, text]) => {
    const div = document.createElement('div');
    div.dataset.field = key;
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.dataset.value = String(raw);
    dd.textContent = text;
    div.append(dt, dd);
    return div;
  }));
}

// --- charts: lines over time on a canvas, y axis from 0 to a rounded maximum ---

/** A y-axis scale: a round step (1, 2 or 5 times a power of ten) and 2 to 5 gridlines up to the maximum. */
function scale(v, integer) {
  if (!(v > 0)) return integer ? { max: 1, step: 1 } : { max: 1, step: 0.25 };
  const rough = v / 4;
  const p = Math.pow(10, Math.floor(Math.log10(rough)));
  let step = 10 * p;
  for (const m of [1, 2, 5, 10]) if (m * p >= rough) { step = m * p; break; }
  if (integer && step < 1) step = 1;
  return { max: step * Math.ceil(v / step), step };
}

function drawChart(canvas, points, series, format, integer) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const left = 64, right = 8, top = 8, bottom = 20;
  const pw = w - left - right, ph = h - top - bottom;
  let top_ = 0;
  for (const p of points) for (const s of series) top_ = Math.max(top_, p[s.key] || 0);
  const { max, step } = scale(top_, integer);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = COLORS.text;
  ctx.strokeStyle = COLORS.grid;
  ctx.lineWidth = 1;
  for (let v = 0; v <= max + step / 2; v += step) {
    const y = top + ph - (v / max) * ph;
    ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + pw, y); ctx.stroke();
    ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    ctx.fillText(format(v), left - 6, y);
  }
  if (points.length === 0) {
    ctx.textAlign = 'center';
    ctx.fillText('waiting for data…', left + pw / 2, top + ph / 2);
    return;
  }
  const t0 = points[0].time, t1 = Math.max(points[points.length - 1].time, t0 + 1000);
  const x = (t) => left + ((t - t0) / (t1 - t0)) * pw;
  ctx.textAlign = 'left'; ctx.textBaseline = 'top';
  ctx.fillText(new Date(t0).toLocaleTimeString(), left, top + ph + 4);
  ctx.textAlign = 'right';
  ctx.fillText(new Date(t1).toLocaleTimeString(), left + pw, top + ph + 4);
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let started = false;
    for (const p of points) {
      const v = p[s.key];
      if (s.skipZero && !(v > 0)) { started = false; continue; }
      const px = x(p.time), py = top + ph - (Math.min(v, max) / max) * ph;
      if (started) ctx.lineTo(px, py); else ctx.moveTo(px, py);
      started = true;
    }
    ctx.stroke();
  }
}

let last = { history: [] };
function renderCharts() {
  const pts = last.history;
  drawChart($('chart-active'), pts, [{ key: 'active', color: COLORS.active }], (v) => fmtNum(Math.round(v)), true);
  drawChart($('chart-bytes'), pts, [{ key: 'bytes_in_per_s', color: COLORS.in }, { key: 'bytes_out_per_s', color: COLORS.out }], fmtRate);
  drawChart($('chart-rtt'), pts, [{ key: 'rtt_p50_us', color: COLORS.p50, skipZero: true }, { key: 'rtt_p99_us', color: COLORS.p99, skipZero: true }],
    (v) => (v > 0 ? fmtUs(Math.round(v)) : '0'));
}

async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(path + ' answered HTTP ' + r.status);
  return r.json();
}

let interval = 1000;
async function refresh() {
  try {
    const [status, history, top, events, topology] = await Promise.all([getJson('/api/status'),
      getJson('/api/history'), getJson('/api/top?limit=10'), getJson('/api/events'), getJson('/api/topology')]);
    renderAgent(status.agent);
    renderTotals(status);
    renderWorkers(status.workers);
    renderRequests(status.workers);
    renderLoops(status.workers);
    renderEvents(events.events);
    renderTopology(topology);
    renderListeners(status.listeners);
    renderPeers(top);
    last = { history: history.points };
    renderCharts();
    interval = Math.max(1000, status.agent.poll_interval_ms || 1000);
    $('banner').classList.add('hidden');
    document.body.dataset.updated = String(Date.now());
  } catch (e) {
    const b = $('banner');
    b.textContent = 'Cannot reach the agent (' + e.message + '); retrying…';
    b.classList.remove('hidden');
  } finally {
    setTimeout(refresh, interval);
  }
}

window.addEventListener('resize', renderCharts);
refresh();
