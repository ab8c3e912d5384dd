// Rollcall's attendee pages end to end, in a real browser: Debian's headless
// Chromium driven by playwright-core, at a phone's 375x812 viewport.
//
//   make e2e            (builds build/asan/rollcalld, runs `npm ci`, then this)
//   node tests/e2e/run.mjs
//
// The run makes its own world: a private PostgreSQL (deploy/dev/pg.sh), a
// migrated database, an admin token, published events seeded through the
// HTTP API, and the sanitizer build of the daemon on a free port. It walks
// the pages as a person would (list, register, QR ticket, calendar, cancel;
// the same in zh-CN; a form error that keeps the input; joining the
// community from the mailed link, the member page, a members-only
// NightTalk registered from it), decodes the ticket
// shown on screen with zbarimg and checks it in at the door, runs axe-core
// on every page, the Nu HTML checker (vnu-jar) on every page's HTML, and
// ical.js on the .ics file. Everything is torn down at the end, failure or
// not (E2E_KEEP=1 keeps the temp dir with screenshots and pages).
//
// Prints one line per test and closes with "e2e: N passed, N failed"; the
// exit status is non-zero when anything failed.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import ICAL from 'ical.js';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const ROLLCALLD = process.env.ROLLCALLD || path.join(REPO, 'build', 'asan', 'rollcalld');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const AXE = require.resolve('axe-core/axe.min.js');
const VNU = path.join(path.dirname(require.resolve('vnu-jar')), 'build', 'dist', 'vnu.jar');
const VIEWPORT = { width: 375, height: 812 };
const SAN_MARKERS = ['AddressSanitizer', 'runtime error', 'LeakSanitizer'];
const SAN_ENV = {
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};

// ---------------------------------------------------------------- harness

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

function assert(cond, msg) {
  if (!cond) throw new Error(typeof msg === 'function' ? msg() : msg);
}
function eq(got, want, what) {
  assert(got === want, () => `${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}
function log(...a) { console.log(...a); }

// ---------------------------------------------------------------- the world

const world = {
  tmp: null, out: null, pgDir: null, conninfo: null, daemon: null,
  daemonLog: null, port: null, base: null, admin: null, browser: null,
  events: {},
};

function env() {
  const e = { ...process.env, ...SAN_ENV, ROLLCALL_SHARE: REPO };
  delete e.ROLLCALL_DB;
  return e;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env(), timeout: 180000, ...opts });
  if (r.error) throw r.error;
  for (const m of SAN_MARKERS)
    assert(!(r.stderr || '').includes(m), `${cmd} ${args[0]} printed sanitizer output:\n${r.stderr}`);
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(method, p, body, token) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(world.base + p, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

async function expectApi(method, p, body, token, status) {
  const r = await api(method, p, body, token);
  assert(r.status === status, `${method} ${p}: expected ${status}, got ${r.status}: ${r.text.slice(0, 400)}`);
  return r.json;
}

function at(daysFromNow, hour, offset = '+08:00') {
  const d = new Date(Date.now() + daysFromNow * 86400000).toISOString().slice(0, 10);
  return `${d}T${String(hour).padStart(2, '0')}:00:00${offset}`;
}

async function createEvent(body) {
  const ev = await expectApi('POST', '/api/v1/events', body, world.admin, 201);
  return expectApi('PATCH', `/api/v1/events/${ev.id}`, { status: 'published' }, world.admin, 200);
}

async function startDaemon() {
  for (let attempt = 0; attempt < 3; attempt++) {
    world.port = await freePort();
    world.base = `http://127.0.0.1:${world.port}`;
    const fd = fs.openSync(world.daemonLog, 'a');
    const p = spawn(ROLLCALLD, ['serve', '--db', world.conninfo, '--listen',
      `127.0.0.1:${world.port}`, '--rate-limit', '0',
      '--sendmail', world.sendmail, '--mail-from', 'e2e@example.org'],
    { env: env(), stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    world.daemon = p;
    p.exited = new Promise((resolve) => p.on('exit', (code, sig) => resolve({ code, sig })));
    p.on('exit', () => { p.gone = true; });
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline && !p.gone) {
      try {
        const r = await fetch(world.base + '/healthz');
        if (r.status === 200) return;
      } catch { /* not up yet */ }
      await sleep(100);
    }
    const logText = fs.readFileSync(world.daemonLog, 'utf8');
    if (p.gone && logText.includes('cannot listen') && attempt < 2) continue;
    if (!p.gone) p.kill('SIGKILL');
    throw new Error(`rollcalld did not answer GET /healthz:\n${tail(logText, 40)}`);
  }
}

function tail(text, n) { return text.split('\n').slice(-n).join('\n'); }

async function setup() {
  assert(fs.existsSync(ROLLCALLD), `no daemon at ${ROLLCALLD}: run make build/asan/rollcalld`);
  assert(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install chromium`);
  world.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-e2e-'));
  fs.chmodSync(world.tmp, 0o755);       // pg.sh runs initdb as postgres when root
  world.pgDir = path.join(world.tmp, 'pg');
  fs.mkdirSync(world.pgDir, { mode: 0o755 });
  world.out = path.join(world.tmp, 'out');
  fs.mkdirSync(world.out);
  world.daemonLog = path.join(world.tmp, 'rollcalld.log');
  // Mail is handed to a sendmail(8) stand-in that files each message by
  // its recipient (written, then renamed: never read half-written).
  world.spool = path.join(world.tmp, 'spool');
  fs.mkdirSync(world.spool);
  world.sendmail = path.join(world.tmp, 'sendmail');
  fs.writeFileSync(world.sendmail, '#!/bin/sh\n# $1=-i $2=-f $3=FROM $4=-- $5=TO\n' +
    `cat > "${world.spool}/.tmp.$$" && mv "${world.spool}/.tmp.$$" "${world.spool}/$5.$$"\n`, { mode: 0o755 });

  const pgOut = run('bash', [path.join(REPO, 'deploy/dev/pg.sh'), 'start', world.pgDir]);
  world.conninfo = pgOut.trim().split('\n').pop();
  run(ROLLCALLD, ['migrate', '--db', world.conninfo]);
  world.admin = run(ROLLCALLD, ['token', '--role', 'admin', '--name', 'e2e', '--db', world.conninfo]).trim();
  assert(world.admin.split('.').length === 3, `rollcalld token printed ${world.admin}`);
  await startDaemon();

  // The chapters the events belong to (events name a chapter by its
  // slug), one with its leaders.
  for (const c of [
    { slug: 'shanghai', name: 'Shanghai', name_zh: '上海', kind: 'city', city: 'Shanghai', status: 'active' },
    { slug: 'beijing', name: 'Beijing', name_zh: '北京', kind: 'city', city: '北京', region: '华北', status: 'active' },
    { slug: 'hangzhou', name: 'Hangzhou', kind: 'city', city: 'Hangzhou', status: 'trial' },
    { slug: 'rust', name: 'Rust', name_zh: 'Rust 技术分会', kind: 'topic', topic: 'Rust', status: 'active' },
  ])
    await expectApi('POST', '/api/v1/chapters', c, world.admin, 201);
  for (const l of [{ email: 'wang@example.com', name: 'Wang Fang', role: 'lead' },
    { email: 'li@example.com', name: '李雷', role: 'co_lead' }])
    await expectApi('POST', '/api/v1/chapters/shanghai/leaders', l, world.admin, 201);

  // The events the pages show: an English meetup with sponsors, one with
  // a Chinese title, and a full one with a waiting list.
  world.events.meetup = await createEvent({
    kind: 'meetup', title: 'Go Meetup: profiling in production',
    description: 'Two talks and pizza.', chapter: 'shanghai', format: 'workshop',
    venue: 'Innovation Hub, 88 Keyuan Road', starts_at: at(30, 14), ends_at: at(30, 18),
    capacity: 50,
  });
  for (const name of ['CloudCo', 'DataWorks'])
    await expectApi('POST', `/api/v1/events/${world.events.meetup.id}/sponsors`, { name }, world.admin, 201);
  world.events.zh = await createEvent({
    kind: 'community_day', title: '社区日：北京站 · 云原生与开源',
    description: '一整天的技术分享与交流。', chapter: 'beijing',
    venue: '国家会议中心 3 号厅', starts_at: at(40, 9), ends_at: at(40, 18),
    capacity: 200,
  });
  await expectApi('POST', `/api/v1/events/${world.events.zh.id}/sponsors`, { name: '云栖科技' }, world.admin, 201);
  world.events.full = await createEvent({
    kind: 'meetup', title: 'Rust Meetup: tiny room', description: 'One seat only.', format: 'panel',
    chapter: 'hangzhou', venue: 'Cafe 42', starts_at: at(35, 19), ends_at: at(35, 21),
    capacity: 1, waitlist: true,
  });
  // A NightTalk series: members-only, so not in the lists above.
  const nt = await expectApi('POST', '/api/v1/series', {
    title: 'NightTalk: Rust in production', chapter: 'rust', track_owner: 'Li Wei',
    starts_on: at(20, 0).slice(0, 10), episodes: 4, online_url: 'https://live.example.com/rust',
  }, world.admin, 201);
  await expectApi('PATCH', `/api/v1/events/${nt.events[0].id}`, { status: 'published' }, world.admin, 200);
  world.nighttalk = nt.events[0];
  await expectApi('POST', `/api/v1/events/${world.events.full.id}/registrations`, {
    name: 'First Comer', email: 'first@example.com', company: 'Acme', job_title: 'Dev',
    identity: 'enthusiast', consent: { sponsors: false, fields: [] },
  }, null, 201);

  world.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

async function teardown(failed) {
  try { if (world.browser) await world.browser.close(); } catch (e) { log('# browser close:', e.message); }
  const d = world.daemon;
  let daemonProblem = null;
  if (d && !d.gone) {
    d.kill('SIGTERM');
    const t = setTimeout(() => d.kill('SIGKILL'), 30000);
    const { code, sig } = await d.exited;
    clearTimeout(t);
    if (code !== 0) daemonProblem = `rollcalld exited with ${code ?? sig} on SIGTERM`;
  } else if (d && d.gone) {
    daemonProblem = 'rollcalld died during the run';
  }
  if (world.daemonLog && fs.existsSync(world.daemonLog)) {
    const text = fs.readFileSync(world.daemonLog, 'utf8');
    if (SAN_MARKERS.some((m) => text.includes(m)))
      daemonProblem = (daemonProblem ? daemonProblem + '; ' : '') + 'sanitizer report in the log';
    if (daemonProblem || failed) log(`# rollcalld log tail:\n${tail(text, 40).replace(/^/gm, '# ')}`);
  }
  if (world.pgDir) {
    spawnSync('bash', [path.join(REPO, 'deploy/dev/pg.sh'), 'stop', world.pgDir], { env: env(), timeout: 120000 });
    const link = path.join(world.pgDir, 'cluster');
    try {
      if (fs.lstatSync(link).isSymbolicLink())
        fs.rmSync(fs.realpathSync(link), { recursive: true, force: true });
    } catch { /* no cluster link */ }
  }
  if (world.tmp) {
    if (process.env.E2E_KEEP) log(`# kept ${world.tmp}`);
    else fs.rmSync(world.tmp, { recursive: true, force: true });
  }
  return daemonProblem;
}

// ---------------------------------------------------------------- pages

// Every page the tests reach is kept (its HTML as the server sent it, for
// vnu) and checked with axe-core on the spot.
const audited = [];            // { label, file, url }
const axeProblems = [];        // serious or critical: these fail
const axeNotes = [];           // minor or moderate: printed
const layoutProblems = [];

async function newContext(opts = {}) {
  const ctx = await world.browser.newContext({
    viewport: VIEWPORT, deviceScaleFactor: 1, bypassCSP: true, acceptDownloads: true,
    locale: 'en-US', ...opts,
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.lastDoc = null;
  page.on('response', (r) => {
    if (r.request().resourceType() === 'document' && r.frame() === page.mainFrame() &&
        (r.status() < 300 || r.status() >= 400))
      page.lastDoc = r;
  });
  page.consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.consoleErrors.push(m.text()); });
  return { ctx, page };
}

async function audit(page, label) {
  await page.waitForLoadState('load');
  const resp = page.lastDoc;
  assert(resp, `${label}: no document response seen`);
  const html = await resp.text();
  const file = path.join(world.out, `${String(audited.length).padStart(2, '0')}-${label.replace(/[^a-z0-9]+/gi, '-')}.html`);
  fs.writeFileSync(file, html);
  audited.push({ label, file, url: page.url() });

  await page.addScriptTag({ path: AXE });
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  assert(res.passes.length > 0, `${label}: axe-core ran no rule`);
  for (const v of res.violations) {
    const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ');
    const line = `${label}: [${v.impact}] ${v.id}: ${v.help} (${where})`;
    if (v.impact === 'serious' || v.impact === 'critical') axeProblems.push(line);
    else axeNotes.push(line);
  }
  // Usable at 375 px: nothing wider than the screen.
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > VIEWPORT.width) layoutProblems.push(`${label}: page is ${wide}px wide at ${VIEWPORT.width}px`);
  await page.screenshot({ path: file.replace(/\.html$/, '.png'), fullPage: true });
}

async function fillForm(page, f) {
  // By their visible labels: the labels must name the fields.
  await page.getByRole('textbox', { name: f.labels.name, exact: true }).fill(f.name);
  await page.getByRole('textbox', { name: f.labels.email, exact: true }).fill(f.email);
  await page.getByRole('textbox', { name: f.labels.company, exact: true }).fill(f.company);
  await page.getByRole('textbox', { name: f.labels.job_title, exact: true }).fill(f.job_title);
  await page.getByRole('radio', { name: f.labels.identity }).check();
  if (f.consent) await page.getByRole('checkbox', { name: f.labels.consent }).check();
}

const EN = {
  name: 'Name', email: 'E-mail', company: 'Company', job_title: 'Job title',
  identity: 'Professional developer', consent: /share my name and company/,
};
const ZH = {
  name: '姓名', email: '电子邮箱', company: '公司', job_title: '职位',
  identity: '专业开发者', consent: /向扫描我胸牌的赞助商提供/,
};

function secretOf(url) {
  const m = /\/manage\/([^/?#]+)/.exec(url);
  assert(m, `not a manage page: ${url}`);
  return m[1];
}

// The QR on screen, photographed and read by zbarimg; also its size and
// colours (a large code, black on white).
async function readQr(page, label) {
  const qr = page.locator('figure.qr svg');
  await qr.scrollIntoViewIfNeeded();
  const box = await qr.boundingBox();
  assert(box, 'no QR on the page');
  assert(box.width >= 280 && Math.abs(box.width - box.height) < 2,
    `the QR is ${Math.round(box.width)}x${Math.round(box.height)} px at a ${VIEWPORT.width} px screen; want a square of at least 280 px`);
  const colours = await page.evaluate(() => {
    const svg = document.querySelector('figure.qr svg');
    const fig = svg.closest('figure');
    return {
      dark: getComputedStyle(svg.querySelector('path')).fill,
      light: getComputedStyle(svg.querySelector('rect')).fill,
      behind: getComputedStyle(fig).backgroundColor,
    };
  });
  const ratio = contrast(colours.dark, colours.light);
  assert(ratio >= 15, `QR contrast ${ratio.toFixed(1)}:1 (${colours.dark} on ${colours.light}); want at least 15:1`);
  assert(luminance(colours.behind) > 0.9, `the QR's surround is ${colours.behind}, not white: scanners need a light quiet zone`);
  const png = path.join(world.out, `qr-${label}.png`);
  await qr.screenshot({ path: png });
  const r = spawnSync('zbarimg', ['--raw', '-q', png], { encoding: 'utf8' });
  assert(r.status === 0, `zbarimg found no code in the screenshot (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

function rgb(s) {
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(s);
  assert(m, `not a colour: ${s}`);
  return [m[1], m[2], m[3]].map(Number);
}
function luminance(s) {
  const [r, g, b] = rgb(s).map((c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// The .ics behind the calendar link, downloaded the way a browser does and
// parsed by ical.js.
async function downloadIcs(page, linkName, ev) {
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: linkName }).click(),
  ]);
  eq(dl.suggestedFilename(), 'event.ics', 'the calendar file name');
  const file = path.join(world.out, `event-${ev.id}.ics`);
  await dl.saveAs(file);
  const text = fs.readFileSync(file, 'utf8');
  const cal = new ICAL.Component(ICAL.parse(text));
  // The event's zone comes as a VTIMEZONE: register it, as calendar apps do.
  for (const z of cal.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(z);
  const vevent = cal.getFirstSubcomponent('vevent');
  assert(vevent, `no VEVENT in the .ics:\n${text}`);
  const e = new ICAL.Event(vevent);
  eq(e.startDate.toJSDate().getTime(), Date.parse(ev.starts_at), `DTSTART of ${text.split('\r\n').find((l) => l.startsWith('DTSTART'))} vs starts_at ${ev.starts_at}`);
  eq(e.endDate.toJSDate().getTime(), Date.parse(ev.ends_at), 'DTEND vs ends_at');
  eq(e.summary, ev.title, 'SUMMARY');
  eq(e.location, ev.venue, 'LOCATION');
  assert(text.split('\r\n').every((l) => Buffer.byteLength(l) <= 75), 'a .ics line is longer than 75 octets');
  return e;
}

async function doorCheckin(eventId, ticket) {
  const door = await expectApi('POST', '/api/v1/tokens', { role: 'door', name: 'e2e', events: [eventId] }, world.admin, 201);
  return expectApi('POST', '/api/v1/checkins', { token: ticket }, door.token, 200);
}

// A register -> manage flow through the form, in one language.
async function registerFlow({ lang, ev, labels, person, text }) {
  const { ctx, page } = await newContext(lang === 'zh-CN' ? { locale: 'zh-CN' } : {});
  try {
    await page.goto(world.base + '/');
    eq(await page.locator('html').getAttribute('lang'), lang, 'html lang of the list');
    await page.getByRole('heading', { level: 1, name: text.listTitle }).waitFor();
    await audit(page, `list-${lang}`);

    // Open the event from the list.
    await page.getByRole('link', { name: ev.title }).click();
    await page.waitForURL(`**/events/${ev.id}`);
    await page.getByRole('heading', { level: 1, name: ev.title }).waitFor();
    await audit(page, `event-${lang}`);

    await fillForm(page, { ...person, labels, consent: true });
    await page.getByRole('checkbox', { name: labels.email, exact: true }).check();
    await Promise.all([
      page.waitForURL('**/manage/**'),
      page.getByRole('button', { name: text.registerButton }).click(),
    ]);
    const secret = secretOf(page.url());
    await page.getByRole('status').filter({ hasText: text.welcome }).waitFor();
    await page.getByText(text.confirmed).first().waitFor();
    await page.getByRole('heading', { level: 2, name: text.ticket }).waitFor();
    await audit(page, `manage-welcome-${lang}`);

    // The ticket on screen is the attendee's ticket, and admits them.
    const decoded = await readQr(page, lang);
    const reg = await expectApi('GET', `/api/v1/registrations/${secret}`, undefined, null, 200);
    eq(reg.status, 'confirmed', 'registration status');
    eq(reg.name, person.name, 'registered name');
    eq(decoded, reg.ticket.token, 'the ticket decoded from the screen vs the API\'s token');
    eq(reg.consent.sponsors, true, 'consent given in the form');
    eq(JSON.stringify(reg.consent.fields), '["email"]', 'fields shared');

    await downloadIcs(page, text.addCalendar, ev);
    return { ctx, page, secret, decoded };
  } catch (e) {
    await ctx.close();
    throw e;
  }
}

// ---------------------------------------------------------------- tests

test('list at 375 px: events, filter by kind, open an event', async () => {
  const { ctx, page } = await newContext();
  try {
    await page.goto(world.base + '/?lang=en');
    for (const ev of Object.values(world.events))
      await page.getByRole('link', { name: ev.title }).waitFor();
    await page.getByLabel('Kind').selectOption('community_day');
    await Promise.all([page.waitForURL(/kind=community_day/), page.getByRole('button', { name: 'Show' }).click()]);
    await page.getByRole('link', { name: world.events.zh.title }).waitFor();
    eq(await page.getByRole('link', { name: world.events.meetup.title }).count(), 0,
      'a meetup in the community-day list');
    await audit(page, 'list-filtered');
    await page.goto(world.base + '/?chapter=Nowhere');
    await page.getByText('No upcoming events yet.').waitFor();
    await audit(page, 'list-empty');
  } finally { await ctx.close(); }
});

test('chapters: the list and a chapter page with its leaders and events, in both languages', async () => {
  const { ctx, page } = await newContext();
  try {
    await page.goto(world.base + '/?lang=en');
    await Promise.all([page.waitForURL(/\/chapters$/),
      page.getByRole('link', { name: 'All chapters' }).click()]);
    await page.getByRole('heading', { level: 1, name: 'Chapters' }).waitFor();
    for (const name of ['Shanghai', 'Beijing', 'Hangzhou', 'Rust'])
      await page.getByRole('link', { name, exact: true }).waitFor();
    await audit(page, 'chapters-en');
    await Promise.all([page.waitForURL(/kind=topic/),
      page.getByRole('link', { name: 'Topic chapters' }).click()]);
    eq(await page.getByRole('link', { name: 'Shanghai', exact: true }).count(), 0,
      'a city chapter among the topic chapters');
    await page.goto(world.base + '/chapters');
    await Promise.all([page.waitForURL(/\/chapters\/shanghai$/),
      page.getByRole('link', { name: 'Shanghai', exact: true }).click()]);
    await page.getByRole('heading', { level: 1, name: 'Shanghai' }).waitFor();
    await page.getByText('Wang Fang — Lead').waitFor();
    await page.getByRole('link', { name: world.events.meetup.title }).waitFor();
    assert(!(await page.content()).includes('wang@example.com'), 'a leader\'s e-mail on the public page');
    await audit(page, 'chapter-en');
    await page.goto(world.base + '/chapters/beijing?lang=zh-CN');
    await page.getByRole('heading', { level: 1, name: '北京' }).waitFor();
    await page.getByText('城市分会').first().waitFor();
    await page.getByRole('link', { name: world.events.zh.title }).waitFor();
    await audit(page, 'chapter-zh-CN');
    await page.goto(world.base + '/chapters');
    await page.getByRole('heading', { level: 1, name: '分会' }).waitFor();
    await audit(page, 'chapters-zh-CN');
    await page.goto(world.base + '/chapters?status=retired&lang=en');
    await page.getByText('No chapters here yet.').waitFor();
    await audit(page, 'chapters-retired-empty');
  } finally { await ctx.close(); }
});

test('English: register, see the QR, decode it and check in, add to calendar, cancel', async () => {
  const ev = world.events.meetup;
  const { ctx, page, secret, decoded } = await registerFlow({
    lang: 'en', ev, labels: EN,
    person: { name: 'Li Lei', email: 'li.lei@example.com', company: 'Acme', job_title: 'Engineer' },
    text: {
      listTitle: 'Upcoming events', registerButton: 'Register', welcome: 'You are registered',
      confirmed: 'confirmed', ticket: 'Your ticket', addCalendar: 'Add to calendar (.ics)',
    },
  });
  try {
    const sponsors = await page.request.get(`${world.base}/events/${ev.id}`);
    assert((await sponsors.text()).includes('DataWorks'), 'the event page should name the sponsors');
    const ci = await doorCheckin(ev.id, decoded);
    eq(ci.result, 'admitted', 'check-in of the decoded ticket');
    eq(ci.attendee && ci.attendee.name, 'Li Lei', 'the admitted attendee');

    await page.getByRole('button', { name: 'Cancel registration' }).click();
    await page.waitForURL(`**/manage/${secret}`);
    await page.getByText('Your registration: cancelled').waitFor();
    eq(await page.locator('figure.qr').count(), 0, 'a QR on a cancelled registration');
    eq(await page.getByRole('link', { name: 'Add to calendar (.ics)' }).count(), 0, 'calendar link once cancelled');
    await audit(page, 'manage-cancelled-en');
    const reg = await expectApi('GET', `/api/v1/registrations/${secret}`, undefined, null, 200);
    eq(reg.status, 'cancelled', 'status after the cancel button');
  } finally { await ctx.close(); }
});

test('zh-CN: the same flow in Chinese (Accept-Language), ticket refused once cancelled', async () => {
  const ev = world.events.zh;
  const { ctx, page, secret, decoded } = await registerFlow({
    lang: 'zh-CN', ev, labels: ZH,
    person: { name: '王芳', email: 'wang.fang@example.com', company: '云栖科技', job_title: '架构师' },
    text: {
      listTitle: '近期活动', registerButton: '提交报名', welcome: '报名成功',
      confirmed: '已确认', ticket: '你的门票', addCalendar: '添加到日历（.ics）',
    },
  });
  try {
    await page.getByRole('button', { name: '取消报名' }).click();
    await page.waitForURL(`**/manage/${secret}`);
    await page.getByText('你的报名: 已取消').waitFor();
    await audit(page, 'manage-cancelled-zh-CN');
    const ci = await doorCheckin(ev.id, decoded);
    eq(ci.result, 'cancelled', 'check-in of a cancelled ticket');
  } finally { await ctx.close(); }
});

test('a form error is shown by its field and keeps the input; fixing it registers', async () => {
  const ev = world.events.meetup;
  const { ctx, page } = await newContext();
  try {
    await page.goto(`${world.base}/events/${ev.id}?lang=en`);
    await fillForm(page, { labels: EN, name: '张三 <b>', email: 'not-an-email', company: 'Acme', job_title: 'Engineer', consent: true });
    await page.getByRole('checkbox', { name: 'Phone (optional)' }).check();
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/events/${ev.id}/register`) && r.status() === 400),
      page.getByRole('button', { name: 'Register' }).click(),
    ]);
    await page.getByRole('alert').filter({ hasText: 'Please correct the field marked below.' }).waitFor();
    const email = page.getByRole('textbox', { name: 'E-mail', exact: true });
    eq(await email.getAttribute('aria-invalid'), 'true', 'aria-invalid on the e-mail field');
    const describedBy = await email.getAttribute('aria-describedby');
    const errorText = await page.locator(`#${describedBy}`).innerText();
    assert(/e-mail/i.test(errorText), `the e-mail field's description should be its error, got ${JSON.stringify(errorText)}`);
    // The error sits right after the field it is about.
    const next = await email.evaluate((el) => el.nextElementSibling && el.nextElementSibling.id);
    eq(next, describedBy, 'the element after the e-mail input');
    eq(await page.getByRole('textbox', { name: 'Name', exact: true }).inputValue(), '张三 <b>', 'the name kept');
    eq(await email.inputValue(), 'not-an-email', 'the e-mail kept');
    eq(await page.getByRole('textbox', { name: 'Company', exact: true }).inputValue(), 'Acme', 'the company kept');
    assert(await page.getByRole('radio', { name: EN.identity }).isChecked(), 'the identity kept');
    assert(await page.getByRole('checkbox', { name: EN.consent }).isChecked(), 'the consent tick kept');
    assert(await page.getByRole('checkbox', { name: 'Phone (optional)' }).isChecked(), 'the phone share kept');
    assert(!(await page.getByRole('checkbox', { name: 'E-mail', exact: true }).isChecked()), 'an unticked box became ticked');
    await audit(page, 'event-form-error');

    await email.fill('zhang.san@example.com');
    await Promise.all([page.waitForURL('**/manage/**'), page.getByRole('button', { name: 'Register' }).click()]);
    const reg = await expectApi('GET', `/api/v1/registrations/${secretOf(page.url())}`, undefined, null, 200);
    eq(reg.name, '张三 <b>', 'the name registered');
    eq(reg.status, 'confirmed', 'status after the fix');
    eq(JSON.stringify(reg.consent.fields), '["phone"]', 'fields shared');
  } finally { await ctx.close(); }
});

test('the language switch changes the pages and sticks', async () => {
  const { ctx, page } = await newContext();
  try {
    await page.goto(world.base + '/');
    eq(await page.locator('html').getAttribute('lang'), 'en', 'lang for an English browser');
    await page.getByRole('link', { name: '中文' }).click();
    await page.getByRole('heading', { level: 1, name: '近期活动' }).waitFor();
    eq(await page.locator('html').getAttribute('lang'), 'zh-CN', 'lang after the switch');
    await page.goto(`${world.base}/events/${world.events.meetup.id}`);
    await page.getByRole('heading', { level: 2, name: '报名' }).waitFor();
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('heading', { level: 2, name: 'Register' }).waitFor();
    await page.goto(world.base + '/');
    eq(await page.locator('html').getAttribute('lang'), 'en', 'lang after switching back');
  } finally { await ctx.close(); }
});

test('manage page: change consent, then delete my data', async () => {
  const ev = world.events.meetup;
  const { ctx, page } = await newContext();
  try {
    await page.goto(`${world.base}/events/${ev.id}`);
    await fillForm(page, { labels: EN, name: 'Han Meimei', email: 'han@example.com', company: 'Initech', job_title: 'CTO' });
    await Promise.all([page.waitForURL('**/manage/**'), page.getByRole('button', { name: 'Register' }).click()]);
    const secret = secretOf(page.url());
    let reg = await expectApi('GET', `/api/v1/registrations/${secret}`, undefined, null, 200);
    eq(reg.consent.sponsors, false, 'consent when nothing was ticked');

    await page.goto(`${world.base}/manage/${secret}`);
    await audit(page, 'manage-en');
    const consent = page.locator('section.consent');
    await consent.getByRole('checkbox', { name: EN.consent }).check();
    await consent.getByRole('checkbox', { name: 'Job title' }).check();
    await Promise.all([page.waitForURL(`**/manage/${secret}`), consent.getByRole('button', { name: 'Save my choice' }).click()]);
    reg = await expectApi('GET', `/api/v1/registrations/${secret}`, undefined, null, 200);
    eq(reg.consent.sponsors, true, 'consent after saving');
    eq(JSON.stringify(reg.consent.fields), '["job_title"]', 'fields after saving');
    assert(await page.locator('section.consent').getByRole('checkbox', { name: 'Job title' }).isChecked(),
      'the saved choice shows ticked');

    await page.getByRole('button', { name: 'Delete my data' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your data has been deleted' }).waitFor();
    assert(!(await page.content()).includes('Han Meimei'), 'the erased name is still on the page');
    await audit(page, 'manage-erased');
  } finally { await ctx.close(); }
});

test('a full event offers the waiting list; the manage page shows the position', async () => {
  const ev = world.events.full;
  const { ctx, page } = await newContext();
  try {
    await page.goto(`${world.base}/events/${ev.id}`);
    await page.getByText('This event is full: you can join the waiting list.').waitFor();
    await audit(page, 'event-full');
    await fillForm(page, { labels: EN, name: 'Second Comer', email: 'second@example.com', company: 'Acme', job_title: 'Dev' });
    await Promise.all([page.waitForURL('**/manage/**'), page.getByRole('button', { name: 'Register' }).click()]);
    await page.getByText(/on the waiting list \(position 1\)/).waitFor();
    eq(await page.locator('figure.qr').count(), 0, 'a QR for a waitlisted registration');
    await audit(page, 'manage-waitlisted');
  } finally { await ctx.close(); }
});

test('error pages: unknown event, unknown registration, expired form', async () => {
  const { ctx, page } = await newContext();
  try {
    let r = await page.goto(`${world.base}/events/999999999`);
    eq(r.status(), 404, 'status of an unknown event');
    await page.getByRole('heading', { level: 1, name: 'Something is not right' }).waitFor();
    await page.getByText('We could not find this page.', { exact: false }).waitFor();
    await audit(page, 'error-404-en');
    r = await page.goto(`${world.base}/manage/${'A'.repeat(43)}?lang=zh-CN`);
    eq(r.status(), 404, 'status of an unknown registration');
    await page.getByRole('heading', { level: 1, name: '出了点问题' }).waitFor();
    await audit(page, 'error-404-zh-CN');
    // The CSRF cookie is gone (another browser session): the post is refused.
    await page.goto(`${world.base}/events/${world.events.meetup.id}?lang=en`);
    await fillForm(page, { labels: EN, name: 'Late', email: 'late@example.com', company: 'Acme', job_title: 'Dev' });
    const keep = (await ctx.cookies()).filter((c) => c.name !== 'rc_csrf');
    await ctx.clearCookies();
    await ctx.addCookies(keep);
    await Promise.all([
      page.waitForResponse((x) => x.url().endsWith('/register') && x.status() === 403),
      page.getByRole('button', { name: 'Register' }).click(),
    ]);
    await page.getByText('This form has expired').waitFor();
    await audit(page, 'error-403-csrf');
    await page.getByRole('link', { name: 'Back to the events' }).click();
    await page.getByRole('heading', { level: 1, name: 'Upcoming events' }).waitFor();
  } finally { await ctx.close(); }
});

// Volunteers and certificates (docs/certificates.md): the sign-up form
// from the event's page, and the public verify page a certificate's QR
// opens, valid then revoked, in both languages.
test('volunteer sign-up from the event page; a certificate\'s verify page, valid then revoked', async () => {
  const ev = world.events.meetup;
  const email = `volunteer.${Date.now()}@example.com`;
  const { ctx, page } = await newContext();
  try {
    await page.goto(`${world.base}/events/${ev.id}?lang=en`);
    await page.getByRole('link', { name: 'Volunteer at this event' }).click();
    await page.waitForURL(`**/events/${ev.id}/volunteer`);
    await page.getByRole('heading', { level: 1, name: `Volunteer: ${ev.title}` }).waitFor();
    await audit(page, 'volunteer-form-en');
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Lin Volunteer');
    await page.getByRole('textbox', { name: 'E-mail', exact: true }).fill(email);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Sign up to volunteer' }).click()]);
    await page.getByText('Please choose at least one thing you can help with.').waitFor();
    await audit(page, 'volunteer-form-error');
    await page.getByRole('checkbox', { name: 'Design' }).check();
    await page.getByRole('checkbox', { name: /Hosting/ }).check();
    await Promise.all([page.waitForURL('**/volunteer?done=1'), page.getByRole('button', { name: 'Sign up to volunteer' }).click()]);
    await page.getByRole('status').filter({ hasText: 'Thank you for signing up' }).waitFor();
    await audit(page, 'volunteer-done-en');
    await page.goto(`${world.base}/events/${ev.id}/volunteer?lang=zh-CN`);
    await page.getByRole('heading', { level: 1, name: /报名志愿者/ }).waitFor();
    await audit(page, 'volunteer-form-zh-CN');

    const list = await expectApi('GET', `/api/v1/events/${ev.id}/volunteers`, undefined, world.admin, 200);
    const v = list.volunteers.find((x) => x.email === email);
    assert(v, () => `the sign-up is not in the event's volunteers: ${JSON.stringify(list)}`);
    eq(JSON.stringify(v.skills), '["design","hosting"]', 'skills from the form');
    await expectApi('POST', `/api/v1/volunteers/${v.id}/decision`, { decision: 'approve' }, world.admin, 200);
    await expectApi('POST', `/api/v1/volunteers/${v.id}/attended`, {}, world.admin, 200);
    const cert = await expectApi('POST', '/api/v1/certificates', { kind: 'volunteer', email, name: 'Lin Volunteer', event: ev.id }, world.admin, 201);
    eq(cert.verify_url, `${world.base}/verify/${cert.code}`, 'the verify address');
    await page.goto(`${cert.verify_url}?lang=en`);
    await page.getByRole('heading', { level: 1, name: 'Certificate verification' }).waitFor();
    await page.getByText('Status: Valid').waitFor();
    await page.getByText('Lin Volunteer').waitFor();
    await audit(page, 'verify-valid-en');
    await page.goto(`${cert.verify_url}?lang=zh-CN`);
    await page.getByText('状态: 有效').waitFor();
    await audit(page, 'verify-valid-zh-CN');
    await expectApi('POST', `/api/v1/certificates/${cert.code}/revoke`, {}, world.admin, 200);
    await page.goto(`${cert.verify_url}?lang=en`);
    await page.getByText('Status: Revoked').waitFor();
    await audit(page, 'verify-revoked-en');
    const r = await page.goto(`${world.base}/verify/${'A'.repeat(24)}`);
    eq(r.status(), 404, 'an unknown code');
    await page.getByText('No certificate has this code.', { exact: false }).waitFor();
    await audit(page, 'verify-unknown-en');
  } finally { await ctx.close(); }
});

// The link a message to addr carries (the sendmail spool), quoted-printable
// soft breaks undone.
async function mailedLink(addr, re, n = 1) {
  const deadline = Date.now() + 60000;
  for (;;) {
    const files = fs.readdirSync(world.spool).filter((f) => f.startsWith(addr + '.')).sort();
    const found = files.map((f) => re.exec(fs.readFileSync(path.join(world.spool, f), 'utf8')
      .replace(/=\r?\n/g, ''))).filter(Boolean);
    if (found.length >= n) return found[n - 1][1];
    assert(Date.now() < deadline, `no message to ${addr} carrying ${re}`);
    await sleep(200);
  }
}

test('members: join, confirm from the mailed link, the member page in both languages', async () => {
  const addr = 'zhou.min@example.com';
  const { ctx, page } = await newContext();
  try {
    await page.goto(`${world.base}/join?lang=en`);
    await page.getByRole('heading', { level: 1, name: 'Join the community' }).waitFor();
    await audit(page, 'join-en');
    await page.getByRole('textbox', { name: 'E-mail', exact: true }).fill(addr);
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Zhou Min');
    await page.getByRole('radio', { name: EN.identity }).check();
    await page.getByRole('textbox', { name: 'Company (optional)' }).fill('Acme');
    await page.getByRole('textbox', { name: 'Job title (optional)' }).fill('Engineer');
    await page.getByRole('checkbox', { name: /Shanghai/ }).check();
    await page.getByRole('button', { name: 'Send me the confirmation link' }).click();
    await page.getByRole('heading', { level: 1, name: 'Check your inbox' }).waitFor();
    await audit(page, 'join-sent');

    // The mailed link shows a button; only pressing it confirms.
    const confirm = await mailedLink(addr, /\/join\/([A-Za-z0-9_-]{43})/);
    await page.goto(`${world.base}/join/${confirm}`);
    await page.getByText(addr).waitFor();
    await audit(page, 'join-confirm');
    await Promise.all([
      page.waitForURL('**/member/**'),
      page.getByRole('button', { name: 'Confirm and join' }).click(),
    ]);
    const secret = /\/member\/([A-Za-z0-9_-]{43})/.exec(page.url())[1];
    eq(await mailedLink(addr, /\/member\/([A-Za-z0-9_-]{43})/), secret, 'the mailed member link');
    await page.getByRole('status').filter({ hasText: 'Welcome to the community' }).waitFor();
    assert(await page.getByRole('checkbox', { name: /Shanghai/ }).isChecked(), 'the chosen chapter is ticked');
    await audit(page, 'member-en');
    world.member = secret;

    // A members-only NightTalk: the public page sends people to join; the
    // member registers from their page.
    await page.goto(`${world.base}/events/${world.nighttalk.id}`);
    await page.getByRole('link', { name: 'Join the community' }).waitFor();
    eq(await page.getByRole('button', { name: 'Register' }).count(), 0, 'a public form on a members-only event');
    await audit(page, 'event-members-only');
    await page.goto(`${world.base}/member/${secret}`);
    await page.getByRole('link', { name: world.nighttalk.title }).click();
    await page.waitForURL(`**/member/${secret}/events/${world.nighttalk.id}`);
    await audit(page, 'member-event');
    await Promise.all([
      page.waitForURL('**/manage/**'),
      page.getByRole('button', { name: 'Register as a member' }).click(),
    ]);
    await page.getByRole('link', { name: 'Join the NightTalk' }).waitFor();
    assert(!(await page.content()).includes('live.example.com'), 'the stream URL is on the manage page');
  } finally { await ctx.close(); }
  const zh = await newContext({ locale: 'zh-CN' });
  try {
    await zh.page.goto(`${world.base}/member/${world.member}`);
    await zh.page.getByRole('heading', { level: 1, name: '我的会员页面' }).waitFor();
    eq(await zh.page.locator('html').getAttribute('lang'), 'zh-CN', 'lang of the member page');
    await audit(zh.page, 'member-zh-CN');
    await zh.page.goto(`${world.base}/member`);
    await zh.page.getByRole('button', { name: '发送我的会员链接' }).waitFor();
    await audit(zh.page, 'member-link-zh-CN');
    await zh.page.goto(`${world.base}/join`);
    await audit(zh.page, 'join-zh-CN');
  } finally { await zh.ctx.close(); }
});

// A member made straight in the database (the members part makes the
// real join flow): the secret opens /member/{secret}/...
function makeMember(name, identity) {
  const secret = crypto.randomBytes(32).toString('base64url');
  const key = crypto.createHash('sha256').update(secret).digest('hex');
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${Date.now()}@example.com`;
  run('psql', ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-d', world.conninfo, '-c',
    `WITH p AS (INSERT INTO persons (email, name, identity) VALUES ('${email}', '${name}', ` +
    `${identity ? `'${identity}'` : 'NULL'}) RETURNING id) INSERT INTO members (person_id, key_hash) ` +
    `SELECT id, decode('${key}', 'hex') FROM p`]);
  return secret;
}

test('member pages: a whole NightTalk series in one click, topic votes (en, zh-CN)', async () => {
  const slug = `e2e-topic-${Date.now()}`;
  run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', world.conninfo, '-c',
    `INSERT INTO chapters (slug, name, name_zh, kind, topic, status) VALUES ('${slug}', 'Cloud Native', '云原生', 'topic', 'cloud', 'active')`]);
  const start = new Date(Date.now() + 20 * 86400000).toISOString().slice(0, 10);
  const s = await expectApi('POST', '/api/v1/series', { title: 'NightTalk: Cloud Native', chapter: slug,
    track_owner: 'Li Wei', starts_on: start, episodes: 4, online_url: 'https://live.example.com/cn',
    completion_threshold: 3 }, world.admin, 201);
  for (const e of s.events) await expectApi('PATCH', `/api/v1/events/${e.id}`, { status: 'published' }, world.admin, 200);
  const topic = await expectApi('POST', '/api/v1/topics', { chapter: slug, title: 'Service mesh without sidecars',
    description: 'Ambient mode in practice.' }, world.admin, 201);
  await expectApi('POST', '/api/v1/topics', { chapter: slug, title: 'eBPF for observability' }, world.admin, 201);
  const secret = makeMember('Chen Jing', null);
  const { ctx, page } = await newContext();
  try {
    await page.goto(`${world.base}/member/${secret}/series/${s.id}?lang=en`);
    await page.getByRole('heading', { level: 1, name: 'NightTalk: Cloud Native' }).waitFor();
    await audit(page, 'member-series-en');
    await page.getByRole('radio', { name: 'Professional developer' }).check();
    await page.getByRole('button', { name: 'Register for every episode' }).click();
    await page.getByRole('status').filter({ hasText: 'You are registered for the series.' }).waitFor();
    eq(await page.getByRole('link', { name: /^Join the NightTalk/ }).count(), 4, 'join links shown once, one per episode');
    await audit(page, 'member-series-registered-en');
    await page.goto(`${world.base}/member/${secret}/series/${s.id}?lang=zh-CN`);
    await page.getByRole('heading', { level: 2, name: '取消尚未开始的期次' }).waitFor();
    eq(await page.getByRole('button', { name: '报名全部期次' }).count(), 0, 'no sign-up button once registered');
    await audit(page, 'member-series-zh-CN');
    await page.goto(`${world.base}/member/${secret}/topics?lang=en`);
    await page.getByRole('heading', { level: 1, name: 'Vote on the next NightTalk topics' }).waitFor();
    await audit(page, 'member-topics-en');
    await page.getByRole('button', { name: `Vote ${topic.title}` }).click();
    await page.getByRole('status').filter({ hasText: 'your vote is counted' }).waitFor();
    await page.getByRole('button', { name: `Take my vote back ${topic.title}` }).waitFor();
    await audit(page, 'member-topics-voted-en');
    const ranking = await expectApi('GET', `/api/v1/topics?chapter=${slug}`, undefined, null, 200);
    eq(ranking.chapter.topics[0].title, topic.title, 'the voted topic ranks first');
    eq(ranking.chapter.topics[0].votes, 1, 'its votes');
    await page.goto(`${world.base}/member/${secret}/topics?lang=zh-CN`);
    await page.getByRole('heading', { level: 2, name: /云原生/ }).waitFor();
    await audit(page, 'member-topics-zh-CN');
  } finally { await ctx.close(); }
});

test('pages work under their own Content-Security-Policy (no bypass)', async () => {
  const { ctx, page } = await newContext({ bypassCSP: false });
  try {
    for (const p of ['/', `/events/${world.events.meetup.id}`, '/events/999999999']) {
      await page.goto(world.base + p);
      const bg = await page.locator('header.top').evaluate((el) => getComputedStyle(el).backgroundColor);
      eq(bg, 'rgb(18, 53, 91)', `the stylesheet applied on ${p}`);
    }
    assert(page.consoleErrors.filter((m) => !/404/.test(m)).length === 0,
      () => `console errors: ${page.consoleErrors.join('\n')}`);
  } finally { await ctx.close(); }
});

test('axe-core: no serious or critical violations on any page', async () => {
  assert(audited.length >= 10, `only ${audited.length} pages were audited`);
  assert(axeProblems.length === 0, () => `${axeProblems.length} violations:\n  ${axeProblems.join('\n  ')}`);
  for (const n of axeNotes) log(`# axe (not failing): ${n}`);
  log(`# axe-core checked ${audited.length} pages: ${audited.map((a) => a.label).join(', ')}`);
});

test('every page fits a 375 px screen without sideways scrolling', async () => {
  assert(layoutProblems.length === 0, () => layoutProblems.join('\n'));
});

test('Nu HTML checker (vnu-jar): no errors on any page', async () => {
  assert(audited.length >= 10, `only ${audited.length} pages were saved`);
  const r = spawnSync('java', ['-jar', VNU, '--errors-only', '--format', 'json',
    ...audited.map((a) => a.file)], { encoding: 'utf8', timeout: 120000 });
  if (r.error) throw r.error;
  let out;
  try { out = JSON.parse(r.stderr || r.stdout); } catch {
    throw new Error(`vnu printed no JSON (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  const errs = out.messages.filter((m) => m.type === 'error' || m.subType === 'fatal');
  const byFile = new Map(audited.map((a) => [path.basename(a.file), a.label]));
  assert(errs.length === 0, () => `${errs.length} errors:\n  ` + errs.map((m) => {
    const f = byFile.get(path.basename(decodeURIComponent(m.url || ''))) || m.url;
    return `${f}:${m.lastLine}: ${m.message} [${(m.extract || '').replace(/\s+/g, ' ').slice(0, 120)}]`;
  }).join('\n  '));
  eq(r.status, 0, 'vnu exit status');
  log(`# vnu checked ${audited.length} pages`);
});

// ---------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  let passed = 0, failed = 0, cleaning = false;
  const onSignal = async (sig) => {
    if (cleaning) return;
    cleaning = true;
    log(`# ${sig}: cleaning up`);
    await teardown(true);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await setup();
  } catch (e) {
    log(`not ok - setup\n${String(e.stack || e).replace(/^/gm, '#   ')}`);
    cleaning = true;
    await teardown(true);
    log(`e2e: 0 passed, ${tests.length} failed`);
    process.exit(1);
  }
  for (const t of tests) {
    const t0 = Date.now();
    try {
      await t.fn();
      passed++;
      log(`ok - ${t.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      log(`not ok - ${t.name} (${Date.now() - t0} ms)\n${String(e.stack || e).replace(/^/gm, '#   ')}`);
    }
  }
  cleaning = true;
  const problem = await teardown(failed > 0);
  if (problem) {
    failed++;
    log(`not ok - rollcalld stops cleanly: ${problem}`);
  } else {
    passed++;
    log('ok - rollcalld stops cleanly on SIGTERM with no sanitizer report');
  }
  log(`# ${((Date.now() - started) / 1000).toFixed(1)} s`);
  log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
