// Loads the agent's page in headless Debian chromium and prints what it shows as JSON:
//   node page-check.js URL SCREENSHOT.png
// Collects console errors and warnings, page errors and failed requests; waits for two
// refreshes, then reads every number from its data-value attribute (the raw API value).
'use strict';
const { chromium } = require('playwright-core');

(async () => {
  const [url, screenshot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push('console ' + m.type() + ': ' + m.text()); });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('requestfailed', (r) => problems.push('request failed: ' + r.url() + ' ' + (r.failure() || {}).errorText));
    page.on('response', (r) => { if (r.status() >= 400) problems.push('HTTP ' + r.status() + ' for ' + r.url()); });
    await page.goto(url, { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => document.body.dataset.updated, null, { timeout: 20000 });
    const first = await page.evaluate(() => document.body.dataset.updated);
    await page.waitForFunction((f) => document.body.dataset.updated !== f, first, { timeout: 20000 });
    const shown = await page.evaluate(() => {
      const value = (sel) => { const el = document.querySelector(sel); return el ? el.dataset.value : null; };
      const rows = (table) => [...document.querySelectorAll(table + ' tbody tr')].map((tr) => {
        const o = { key: tr.dataset.pid || tr.dataset.port || tr.dataset.peer || null };
        for (const td of tr.querySelectorAll('td[data-field]')) o[td.dataset.field] = td.dataset.value ?? null;
        o.text = tr.textContent;
        return o;
      });
      const inked = (id) => {
        const c = document.getElementById(id);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
      };
      return {
        state: document.getElementById('state').textContent,
        banner: document.getElementById('banner').classList.contains('hidden') ? '' : document.getElementById('banner').textContent,
        totals: {
          active: value('#total-active'), opened_rate: value('#total-opened-rate'), accept_queue: value('#total-accept-queue'),
          workers: value('#total-workers'), errors: value('#total-errors'),
        },
        workers: rows('#workers'),
        listeners: rows('#listeners'),
        peers: rows('#peers'),
        loops: rows('#loops'),
        events: rows('#events'),
        topology: {
          hidden: document.getElementById('topology-section').hidden,
          markup: document.querySelectorAll('#topology i, #topology img, #topology script').length,
          apps: [...document.querySelectorAll('#topology .gw-app')].map((app) => ({
            master_pid: app.dataset.master,
            heading: app.querySelector('h3').textContent,
            processes: rows('#topology .gw-app[data-master="' + app.dataset.master + '"] table.processes'),
            opened: Object.fromEntries([...app.querySelectorAll('table.processes td[data-opened]')]
              .map((td) => [td.parentElement.dataset.pid, td.dataset.opened])),
            columns: [...app.querySelectorAll('table.matrix thead th[data-pid]')].map((th) => th.dataset.pid),
            matrix_rows: [...app.querySelectorAll('table.matrix tbody tr')].map((tr) => tr.dataset.pid),
            cells: [...app.querySelectorAll('table.matrix td[data-state]')].map((td) => ({ ...td.dataset,
              flagged: td.classList.contains('bad'), text: td.textContent })),
          })),
        },
        self: Object.fromEntries([...document.querySelectorAll('#self [data-field]')].map((d) => [d.dataset.field, d.querySelector('dd').dataset.value])),
        charts: { active: inked('chart-active'), bytes: inked('chart-bytes'), rtt: inked('chart-rtt') },
      };
    });
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    console.log(JSON.stringify({ problems, shown }));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
