// The organizer console end to end, in Debian's headless Chromium through
// playwright-core, on a laptop (1280x800) and a phone (375x812): sign in
// from the one-time link `rollcalld account add` prints, see a public
// registration arrive on the overview without a reload, tick a check-in
// on two pages at once (one admission), undo, export, CSRF and scope.
// axe-core and the Nu checker (vnu-jar) run on every console page, in
// English and in zh-CN.
//
//   make e2e      (runs tests/e2e/run.mjs, then this)
//   node tests/e2e/console.mjs
//
// The world is its own: a private PostgreSQL (deploy/dev/pg.sh), the
// sanitizer build on a free port, torn down at the end (E2E_KEEP=1 keeps
// the temp dir). Prints one line per test, then "console e2e: N passed,
// N failed".

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const ROLLCALLD = process.env.ROLLCALLD || path.join(REPO, 'build', 'asan', 'rollcalld');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const AXE = require.resolve('axe-core/axe.min.js');
const VNU = path.join(path.dirname(require.resolve('vnu-jar')), 'build', 'dist', 'vnu.jar');
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };
const SAN_MARKERS = ['AddressSanitizer', 'runtime error', 'LeakSanitizer'];
const PASSWORD = 'correct horse battery staple';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
function assert(cond, msg) { if (!cond) throw new Error(typeof msg === 'function' ? msg() : msg); }
function eq(got, want, what) {
  assert(got === want, () => `${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}
const log = (...a) => console.log(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tail = (t, n) => t.split('\n').slice(-n).join('\n');

const world = { tmp: null, out: null, pgDir: null, conninfo: null, daemon: null, log: null,
  base: null, admin: null, browser: null, events: {} };

function env() {
  const e = { ...process.env, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1', ROLLCALL_SHARE: REPO };
  delete e.ROLLCALL_DB;
  return e;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env(), timeout: 180000 });
  if (r.error) throw r.error;
  for (const m of SAN_MARKERS) assert(!(r.stderr || '').includes(m), `${cmd} printed sanitizer output:\n${r.stderr}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function api(method, p, body, token, status) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(world.base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  assert(r.status === status, `${method} ${p}: expected ${status}, got ${r.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

function at(days, hour) {
  const d = new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
  return `${d}T${String(hour).padStart(2, '0')}:00:00+08:00`;
}

async function publishedEvent(title, extra = {}) {
  const ev = await api('POST', '/api/v1/events', { kind: 'meetup', title, chapter: 'shanghai',
    format: 'workshop', venue: 'Hub', starts_at: at(10, 14), ends_at: at(10, 18), capacity: 30, ...extra },
  world.admin, 201);
  return api('PATCH', `/api/v1/events/${ev.id}`, { status: 'published' }, world.admin, 200);
}

async function register(ev, name) {
  return api('POST', `/api/v1/events/${ev.id}/registrations`, { name, email: `${name.replace(/\W+/g, '.')}.${Date.now()}@example.com`,
    company: 'Acme', job_title: 'Dev', identity: 'professional', consent: { sponsors: false, fields: [] } }, null, 201);
}

// `rollcalld account add`: the link is its last line.
function accountAdd(email, role, events = []) {
  const out = run(ROLLCALLD, ['account', 'add', '--email', email, '--name', email.split('@')[0],
    '--role', role, ...events.flatMap((e) => ['--event', String(e)]), '--db', world.conninfo,
    '--public-url', world.base]);
  const link = out.trim().split('\n').pop();
  assert(link.startsWith(`${world.base}/console/password/`), `account add printed ${out}`);
  return link;
}

async function setup() {
  world.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-console-e2e-'));
  fs.chmodSync(world.tmp, 0o755);
  world.pgDir = path.join(world.tmp, 'pg');
  fs.mkdirSync(world.pgDir, { mode: 0o755 });
  world.out = path.join(world.tmp, 'out');
  fs.mkdirSync(world.out);
  world.log = path.join(world.tmp, 'rollcalld.log');
  world.conninfo = run('bash', [path.join(REPO, 'deploy/dev/pg.sh'), 'start', world.pgDir]).trim().split('\n').pop();
  run(ROLLCALLD, ['migrate', '--db', world.conninfo]);
  world.admin = run(ROLLCALLD, ['token', '--role', 'admin', '--name', 'e2e', '--db', world.conninfo]).trim();
  const port = await freePort();
  world.base = `http://127.0.0.1:${port}`;
  const fd = fs.openSync(world.log, 'a');
  const p = spawn(ROLLCALLD, ['serve', '--db', world.conninfo, '--listen', `127.0.0.1:${port}`,
    '--rate-limit', '0', '--public-url', world.base], { env: env(), stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  world.daemon = p;
  p.exited = new Promise((resolve) => p.on('exit', (code, sig) => resolve({ code, sig })));
  p.on('exit', () => { p.gone = true; });
  for (let i = 0; i < 600 && !p.gone; i++) {
    try { if ((await fetch(world.base + '/healthz')).status === 200) break; } catch { /* not yet */ }
    await sleep(100);
  }
  // Events name a chapter by its slug.
  await api('POST', '/api/v1/chapters', { slug: 'shanghai', name: 'Shanghai', name_zh: '上海',
    kind: 'city', city: 'Shanghai', status: 'active' }, world.admin, 201);
  world.events.main = await publishedEvent('Go Meetup: console');
  world.events.other = await publishedEvent('Rust Meetup: not yours');
  world.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
}

async function teardown(failed) {
  try { if (world.browser) await world.browser.close(); } catch { /* gone */ }
  let problem = null;
  const d = world.daemon;
  if (d && !d.gone) {
    d.kill('SIGTERM');
    const t = setTimeout(() => d.kill('SIGKILL'), 30000);
    const { code, sig } = await d.exited;
    clearTimeout(t);
    if (code !== 0) problem = `rollcalld exited with ${code ?? sig} on SIGTERM`;
  } else if (d) problem = 'rollcalld died during the run';
  if (world.log && fs.existsSync(world.log)) {
    const text = fs.readFileSync(world.log, 'utf8');
    if (SAN_MARKERS.some((m) => text.includes(m))) problem = (problem ? problem + '; ' : '') + 'sanitizer report in the log';
    if (problem || failed) log(`# rollcalld log tail:\n${tail(text, 40).replace(/^/gm, '# ')}`);
  }
  if (world.pgDir) {
    spawnSync('bash', [path.join(REPO, 'deploy/dev/pg.sh'), 'stop', world.pgDir], { env: env(), timeout: 120000 });
    const link = path.join(world.pgDir, 'cluster');
    try { if (fs.lstatSync(link).isSymbolicLink()) fs.rmSync(fs.realpathSync(link), { recursive: true, force: true }); } catch { /* none */ }
  }
  if (world.tmp) {
    if (process.env.E2E_KEEP) log(`# kept ${world.tmp}`);
    else fs.rmSync(world.tmp, { recursive: true, force: true });
  }
  return problem;
}

const audited = [];
const axeProblems = [];
const layoutProblems = [];

async function newContext(opts = {}) {
  const ctx = await world.browser.newContext({ viewport: LAPTOP, bypassCSP: true, acceptDownloads: true, locale: 'en-US', ...opts });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  page.lastDoc = null;
  page.on('response', (r) => {
    if (r.request().resourceType() === 'document' && r.frame() === page.mainFrame() &&
        (r.status() < 300 || r.status() >= 400)) page.lastDoc = r;
  });
  page.consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.consoleErrors.push(m.text()); });
  return { ctx, page };
}

async function audit(page, label) {
  await page.waitForLoadState('load');
  const html = await page.lastDoc.text();
  const file = path.join(world.out, `${String(audited.length).padStart(2, '0')}-${label.replace(/[^a-z0-9]+/gi, '-')}.html`);
  fs.writeFileSync(file, html);
  audited.push({ label, file });
  await page.addScriptTag({ path: AXE });
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  for (const v of res.violations)
    if (v.impact === 'serious' || v.impact === 'critical')
      axeProblems.push(`${label}: [${v.impact}] ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')})`);
  const vw = page.viewportSize().width;
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > vw) layoutProblems.push(`${label}: page is ${wide}px wide at ${vw}px`);
  await page.screenshot({ path: file.replace(/\.html$/, '.png'), fullPage: true });
}

// Follow the one-time link and set the password: the browser is signed in.
async function setPassword(page, link, label) {
  await page.goto(link);
  if (label) await audit(page, label);
  await page.getByLabel(/New password|新密码/).fill(PASSWORD);
  await page.getByLabel(/The same password again|再次输入密码/).fill(PASSWORD);
  await Promise.all([page.waitForURL(`${world.base}/console`), page.getByRole('button', { name: /Save and sign in|保存并登录/ }).click()]);
}

async function signIn(page, email) {
  await page.goto(`${world.base}/console/login`);
  await page.getByLabel(/E-mail|电子邮箱/).fill(email);
  await page.getByLabel(/^Password$|^密码$/).fill(PASSWORD);
  const [reply] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${world.base}/console/login` && r.request().method() === 'POST'),
    page.getByRole('button', { name: /^Sign in$|^登录$/ }).click()]);
  // The server allows LOGIN_PER_ACCOUNT (10) sign-ins of one address a
  // minute: a test that needs more gives itself its own account.
  assert(reply.status() !== 429, `${email} was refused for signing in too often (429): ` +
    'give this test an account of its own (accountAdd + setPassword)');
  await page.waitForURL(`${world.base}/console`);
}

const ORG = 'org@example.com';

test('sign in from the one-time link; the link is spent; sign-in page', async () => {
  const link = accountAdd(ORG, 'organizer', [world.events.main.id]);
  const { ctx, page } = await newContext();
  try {
    await setPassword(page, link, 'password-en');
    await page.getByRole('heading', { level: 1, name: 'My upcoming events' }).waitFor();
    await page.getByRole('heading', { level: 2, name: world.events.main.title }).waitFor();
    eq(await page.getByRole('heading', { name: world.events.other.title }).count(), 0, 'another organizer\'s event on my overview');
    await audit(page, 'overview-en');
    const again = await page.goto(link);
    eq(again.status(), 404, 'a second use of the link');
    await audit(page, 'link-spent-en');
  } finally { await ctx.close(); }
  const { ctx: c2, page: p2 } = await newContext({ locale: 'zh-CN' });
  try {
    await p2.goto(`${world.base}/console/login`);
    await p2.getByRole('heading', { level: 1, name: '登录组织者后台' }).waitFor();
    await audit(p2, 'login-zh-CN');
    await p2.getByLabel('电子邮箱').fill(ORG);
    await p2.getByLabel(/^密码$/).fill('wrong password here');
    await p2.getByRole('button', { name: '登录' }).click();
    await p2.getByRole('alert').filter({ hasText: '电子邮箱或密码不正确' }).waitFor();
    await audit(p2, 'login-failed-zh-CN');
    await signIn(p2, ORG);
    await audit(p2, 'overview-zh-CN');
  } finally { await c2.close(); }
});

test('a registration on the public page appears on the overview within 2 s, no reload', async () => {
  const { ctx, page } = await newContext({ bypassCSP: false });
  try {
    await signIn(page, ORG);
    const card = page.locator(`.console-event[data-event="${world.events.main.id}"]`);
    const before = Number(await card.locator('[data-count="confirmed"]').innerText());
    let reloaded = false;
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) reloaded = true; });
    const { ctx: pub, page: pp } = await newContext({ viewport: PHONE });
    try {
      await pp.goto(`${world.base}/events/${world.events.main.id}?lang=en`);
      await pp.getByRole('textbox', { name: 'Name', exact: true }).fill('Live Arrival');
      await pp.getByRole('textbox', { name: 'E-mail', exact: true }).fill('live@example.com');
      await pp.getByRole('textbox', { name: 'Company', exact: true }).fill('Acme');
      await pp.getByRole('textbox', { name: 'Job title', exact: true }).fill('Dev');
      await pp.getByRole('radio', { name: 'Professional developer' }).check();
      await Promise.all([pp.waitForURL('**/manage/**'), pp.getByRole('button', { name: 'Register' }).click()]);
    } finally { await pub.close(); }
    const t0 = Date.now();
    await card.locator('[data-count="confirmed"]').filter({ hasText: String(before + 1) }).waitFor({ timeout: 2000 });
    log(`# the overview showed the registration after ${Date.now() - t0} ms`);
    assert(!reloaded, 'the overview reloaded itself');
    assert(page.consoleErrors.length === 0, () => `console errors under the page's own CSP: ${page.consoleErrors.join('\n')}`);
  } finally { await ctx.close(); }
});

test('tick to check in on two pages at once admits once; undo; live count', async () => {
  const ev = world.events.main;
  const reg = await register(ev, 'Zhang Wei');
  const a = await newContext();
  const b = await newContext({ viewport: PHONE });
  try {
    await signIn(a.page, ORG);
    await signIn(b.page, ORG);
    for (const { page } of [a, b]) {
      await page.goto(`${world.base}/console/events/${ev.id}/checkin?q=Zhang`);
      await page.getByRole('button', { name: 'Check in Zhang Wei' }).waitFor();
    }
    await audit(a.page, 'desk-en');
    await audit(b.page, 'desk-phone-en');
    const inBefore = Number(await a.page.locator('[data-count="checked_in"]').innerText());
    await Promise.all([a, b].map(({ page }) => page.getByRole('button', { name: 'Check in Zhang Wei' }).click()));
    const texts = [];
    for (const { page } of [a, b]) {
      const s = page.getByRole('status').filter({ hasText: /Checked in|Already checked in/ });
      await s.waitFor();
      texts.push(await s.innerText());
    }
    eq(texts.sort().join(' | '), 'Already checked in | Checked in', 'the two ticks');
    const csv = await (await fetch(`${world.base}/api/v1/events/${ev.id}/attendance.csv`, { headers: { Authorization: `Bearer ${world.admin}` } })).text();
    const row = csv.split('\r\n').find((l) => l.startsWith(`${reg.id},`));
    assert(row && /,"desk",/.test(row), `the attendance row after the ticks: ${row}`);
    // The other page's count follows without a reload.
    await b.page.locator('[data-count="checked_in"]').filter({ hasText: String(inBefore + 1) }).waitFor({ timeout: 3000 });
    // Undo, without JavaScript's help: a plain form post.
    await a.page.goto(`${world.base}/console/events/${ev.id}/checkin?q=Zhang`);
    await Promise.all([a.page.waitForURL(/v=undone/), a.page.getByRole('button', { name: 'Undo Zhang Wei' }).click()]);
    await a.page.getByRole('status').filter({ hasText: 'Check-in undone.' }).waitFor();
    await a.page.getByRole('button', { name: 'Check in Zhang Wei' }).waitFor();
    await audit(a.page, 'desk-undone-en');
  } finally { await a.ctx.close(); await b.ctx.close(); }
});

test('registrations: waitlist in order, promote, cancel, walk-in; zh-CN', async () => {
  const ev = await publishedEvent('Tiny room', { capacity: 1 });
  await register(ev, 'Seat Holder');
  await register(ev, 'Waiting One');
  await register(ev, 'Waiting Two');
  const link = accountAdd('tiny@example.com', 'organizer', [ev.id]);
  const { ctx, page } = await newContext({ viewport: PHONE, locale: 'zh-CN' });
  try {
    await setPassword(page, link, 'password-zh-CN');
    await page.goto(`${world.base}/console/events/${ev.id}/registrations`);
    await audit(page, 'regs-phone-zh-CN');
    const html = await page.content();
    assert(html.indexOf('Waiting One') < html.indexOf('Waiting Two'), 'the waitlist out of order');
    await Promise.all([page.waitForURL(/done=cancelled/), page.getByRole('button', { name: '取消 Seat Holder' }).click()]);
    await page.getByRole('status').filter({ hasText: '已取消该报名' }).waitFor();
    await page.getByLabel('姓名').fill('Walk In');
    await page.getByLabel('电子邮箱').fill('walkin@example.com');
    await page.getByLabel('公司').fill('Door Co');
    await page.getByLabel('职位').fill('Dev');
    await Promise.all([page.waitForURL(/done=walk_in/), page.getByRole('button', { name: '登记现场报名' }).click()]);
    await audit(page, 'regs-walk-in-zh-CN');
    await page.goto(`${world.base}/console/events/${ev.id}/registrations?lang=en`);
    await audit(page, 'regs-en');
  } finally { await ctx.close(); }
});

test('export: the attendance CSV downloads, audited with the account', async () => {
  const { ctx, page } = await newContext();
  try {
    await signIn(page, ORG);
    const [dl] = await Promise.all([page.waitForEvent('download'),
      page.locator(`.console-event[data-event="${world.events.main.id}"]`).getByRole('link', { name: 'Attendance (CSV)' }).click()]);
    const file = path.join(world.out, 'attendance.csv');
    await dl.saveAs(file);
    const buf = fs.readFileSync(file);
    assert(buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf, 'no BOM on the CSV');
    assert(buf.toString('utf8').includes('Zhang Wei'), 'the CSV lacks the attendee');
    const audit = await api('GET', `/api/v1/audit?event=${world.events.main.id}`, undefined, world.admin, 200);
    assert(audit.entries.some((e) => e.action === 'export.attendance' && /^acct:\d+$/.test(e.actor)),
      () => `no audited export by an account: ${JSON.stringify(audit.entries.slice(0, 5))}`);
  } finally { await ctx.close(); }
});

test('a form posted without its CSRF token is refused (403)', async () => {
  const { ctx, page } = await newContext();
  try {
    await signIn(page, ORG);
    await page.goto(`${world.base}/console/events/${world.events.main.id}/registrations`);
    const keep = (await ctx.cookies()).filter((c) => c.name !== 'rc_csrf');
    await ctx.clearCookies();
    await ctx.addCookies(keep);
    for (const name of ['Sign out', 'Register walk-in']) {
      await page.goto(`${world.base}/console/events/${world.events.main.id}/registrations`);
      await page.evaluate(() => { for (const i of document.querySelectorAll('input[name=csrf]')) i.remove(); });
      if (name === 'Register walk-in') {
        await page.getByLabel('Name', { exact: true }).fill('X');
        await page.getByLabel('E-mail', { exact: true }).fill('x@example.com');
        await page.getByLabel('Company', { exact: true }).fill('X');
        await page.getByLabel('Job title', { exact: true }).fill('X');
      }
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.getByRole('button', { name, exact: true }).click(),
      ]);
      eq(resp.status(), 403, `${name} without CSRF`);
      await page.waitForURL((u) => u.pathname === new URL(resp.url()).pathname);
      await page.getByText('This form has expired').waitFor();
    }
    await audit(page, 'error-403-csrf');
  } finally { await ctx.close(); }
});

test('an organizer of one event gets 403 on another event\'s pages and export', async () => {
  const { ctx, page } = await newContext();
  try {
    await signIn(page, ORG);
    for (const p of ['checkin', 'registrations', 'attendance.csv']) {
      const r = await page.request.get(`${world.base}/console/events/${world.events.other.id}/${p}`);
      assert(r.status() === 403 || r.status() === 404, `${p} of another's event: ${r.status()}`);
    }
    await page.goto(`${world.base}/console/events/${world.events.other.id}/checkin`);
    await audit(page, 'error-403-scope');
  } finally { await ctx.close(); }
});

test('the audit page (admin only) lists the console\'s changes by account, in both languages', async () => {
  const link = accountAdd('admin@example.com', 'admin');
  const { ctx, page } = await newContext();
  try {
    await setPassword(page, link);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    for (const action of ['checkin.desk', 'checkin.undo', 'registration.cancel', 'registration.walk_in', 'export.attendance'])
      await page.getByRole('cell', { name: action, exact: true }).first().waitFor();
    await audit(page, 'audit-en');
    await page.goto(`${world.base}/console/audit?lang=zh-CN`);
    await page.getByRole('heading', { level: 1, name: '审计日志' }).waitFor();
    await audit(page, 'audit-zh-CN');
  } finally { await ctx.close(); }
  const { ctx: c2, page: p2 } = await newContext();
  try {
    // Its own organizer: ORG's sign-ins are counted by the rate limit.
    await setPassword(p2, accountAdd('audit-org@example.com', 'organizer', [world.events.main.id]));
    eq((await p2.request.get(`${world.base}/console/audit`)).status(), 403, 'an organizer on the audit page');
  } finally { await c2.close(); }
});

test('the accounts page (admin only) invites and lists; the reset page answers alike, in both languages', async () => {
  const link = accountAdd('accounts-admin@example.com', 'admin');
  const { ctx, page } = await newContext();
  try {
    await setPassword(page, link);
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
    await page.getByLabel('E-mail', { exact: true }).fill('invitee@example.com');
    await page.getByLabel('Name', { exact: true }).fill('Invitee');
    await page.getByLabel('Events').fill(String(world.events.main.id));
    await Promise.all([page.waitForURL(/\/console\/accounts\?done=invited$/),
      page.getByRole('button', { name: 'Invite and send the link' }).click()]);
    await page.getByRole('cell', { name: 'invitee@example.com', exact: true }).waitFor();
    await audit(page, 'accounts-en');
    await page.goto(`${world.base}/console/accounts?lang=zh-CN`);
    await page.getByRole('heading', { level: 1, name: '账号' }).waitFor();
    await audit(page, 'accounts-zh-CN');
  } finally { await ctx.close(); }
  const { ctx: c2, page: p2 } = await newContext();
  try {
    // Its own organizer: ORG's sign-ins are counted by the rate limit.
    await setPassword(p2, accountAdd('accounts-org@example.com', 'organizer', [world.events.main.id]));
    eq((await p2.request.get(`${world.base}/console/accounts`)).status(), 403, 'an organizer on the accounts page');
  } finally { await c2.close(); }
  const { ctx: c3, page: p3 } = await newContext();
  try {
    await p3.goto(`${world.base}/console/login`);
    await p3.getByRole('link', { name: 'Forgot your password?' }).click();
    await p3.getByRole('heading', { level: 1, name: 'Reset your password' }).waitFor();
    await audit(p3, 'reset-en');
    await p3.getByLabel('E-mail').fill('nobody@example.com');
    await p3.getByRole('button', { name: 'Send the link' }).click();
    await p3.getByRole('status').filter({ hasText: 'If an account has this address' }).waitFor();
    await audit(p3, 'reset-sent-en');
    await p3.goto(`${world.base}/console/reset?lang=zh-CN`);
    await p3.getByRole('heading', { level: 1, name: '重置密码' }).waitFor();
    await audit(p3, 'reset-zh-CN');
  } finally { await c3.close(); }
});

test('create and publish an event from the console; it is on the public home page', async () => {
  const { ctx, page } = await newContext();
  const title = `Console-made Meetup ${Date.now()}`;
  const day = new Date(Date.now() + 12 * 86400000).toISOString().slice(0, 10);
  try {
    await signIn(page, ORG);
    await page.getByRole('link', { name: 'New event' }).click();
    await audit(page, 'editor-kinds-en');
    await page.getByRole('link', { name: 'Meetup' }).click();
    await page.getByRole('heading', { level: 1, name: /New event: Meetup/ }).waitFor();
    await audit(page, 'editor-new-meetup-en');
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Chapter').selectOption('shanghai');
    await page.getByLabel('Venue').fill('Hub, 88 Keyuan Road');
    await page.getByLabel('Starts (local time)').fill(`${day}T14:00`);
    await page.getByLabel('Ends (local time)').fill(`${day}T13:00`);
    await page.getByRole('button', { name: 'Create draft' }).click();
    await page.getByRole('alert').filter({ hasText: 'ends_at: must be after starts_at' }).waitFor();
    await audit(page, 'editor-error-en');
    await page.getByLabel('Ends (local time)').fill(`${day}T18:00`);
    await Promise.all([page.waitForURL(/\/edit\?done=saved$/), page.getByRole('button', { name: 'Create draft' }).click()]);
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await audit(page, 'editor-edit-en');
    const before = await (await fetch(`${world.base}/?lang=en`)).text();
    assert(!before.includes(title), 'a draft is on the public home page');
    await Promise.all([page.waitForURL(/done=published$/), page.getByRole('button', { name: 'Publish' }).click()]);
    await page.getByRole('status').filter({ hasText: 'Published' }).waitFor();
    const { ctx: pub, page: pp } = await newContext({ viewport: PHONE });
    try {
      await pp.goto(`${world.base}/?lang=en`);
      await pp.getByText(title).first().waitFor();
    } finally { await pub.close(); }
    await page.goto(`${page.url().replace(/\?.*$/, '')}?lang=zh-CN`);
    await page.getByRole('heading', { level: 1, name: new RegExp(`编辑活动: ${title}`) }).waitFor();
    await audit(page, 'editor-edit-zh-CN');
    await page.goto(`${world.base}/console/events/new?kind=community_day&lang=zh-CN`);
    await audit(page, 'editor-new-day-zh-CN');
    await page.goto(`${world.base}/console/events/new?kind=nighttalk&lang=en`);
    await audit(page, 'editor-new-series-en');
  } finally { await ctx.close(); }
});

test('sponsors: add and rename a booth, its scan count; reprint a badge from the registrations', async () => {
  const ev = world.events.main;
  const link0 = accountAdd('booths@example.com', 'organizer', [ev.id]);
  const { ctx, page } = await newContext({ viewport: PHONE });
  try {
    await setPassword(page, link0);
    await page.goto(`${world.base}/console/events/${ev.id}/sponsors`);
    await audit(page, 'sponsors-empty-phone-en');
    await page.getByLabel('Sponsor', { exact: true }).fill('CloudCo');
    await Promise.all([page.waitForURL(/done=added/), page.getByRole('button', { name: 'Add sponsor' }).click()]);
    await page.getByLabel('New name for CloudCo').fill('CloudCo Ltd');
    await Promise.all([page.waitForURL(/done=renamed/), page.getByRole('button', { name: 'Rename CloudCo' }).click()]);
    await page.getByRole('cell', { name: 'CloudCo Ltd', exact: true }).waitFor();
    eq(await page.locator('[data-count="scans"]').first().innerText(), '0', 'a new booth\'s scans');
    await audit(page, 'sponsors-phone-en');
    await page.goto(`${world.base}/console/events/${ev.id}/sponsors?lang=zh-CN`);
    await page.getByRole('heading', { level: 1, name: /赞助商/ }).waitFor();
    await audit(page, 'sponsors-zh-CN');
    await page.goto(`${world.base}/console/events/${ev.id}/registrations?lang=en`);
    const link = page.getByRole('link', { name: 'Reprint badge Zhang Wei' });
    const href = await link.getAttribute('href');
    const r = await page.request.get(world.base + href);
    eq(r.status(), 200, 'the reprinted badge');
    eq(r.headers()['content-type'].split(';')[0], 'application/pdf', 'the badge\'s type');
  } finally { await ctx.close(); }
});

test('devices: a door set-up QR (SVG and PNG), listed, revoked; both languages', async () => {
  const ev = world.events.main;
  const link0 = accountAdd('devices@example.com', 'organizer', [ev.id]);
  const { ctx, page } = await newContext();
  try {
    await setPassword(page, link0);
    await page.goto(`${world.base}/console/events/${ev.id}/devices`);
    await audit(page, 'devices-empty-en');
    await page.getByLabel('Device name').fill('Door North');
    await page.getByRole('button', { name: 'Make a set-up QR' }).click();
    await page.getByRole('heading', { level: 2, name: 'Set-up QR: Door North' }).waitFor();
    assert(await page.locator('.device-qr svg').count() === 1, 'no QR SVG on the page');
    const href = await page.getByRole('link', { name: 'Download the QR as PNG' }).getAttribute('href');
    assert(href.startsWith('data:image/png;base64,'), 'the PNG link');
    await audit(page, 'devices-qr-en');
    // A screenshot of the QR as the page shows it: rollcall-scan --setup
    // reads it, claims the code and keeps the door token in a file.
    const shot = path.join(os.tmpdir(), `rc-e2e-qr-${process.pid}.png`);
    const tokFile = path.join(os.tmpdir(), `rc-e2e-door-${process.pid}.token`);
    await page.locator('.device-qr svg').screenshot({ path: shot });
    const setup = spawnSync(process.env.ROLLCALL_SCAN, ['--setup', shot, '--token-file', tokFile], { encoding: 'utf8', timeout: 60000 });
    assert(setup.status === 0, () => `rollcall-scan --setup on a screenshot of the QR exited ${setup.status}: ${setup.stderr}`);
    const doorTok = fs.readFileSync(tokFile, 'utf8').trim();
    const bundle = await fetch(`${world.base}/api/v1/events/${ev.id}/offline-bundle`, { headers: { Authorization: `Bearer ${doorTok}` } });
    eq(bundle.status, 200, 'the door token from the screenshot opens the offline bundle');
    const reg = await (await fetch(`${world.base}/api/v1/events/${ev.id}/registrations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Screenshot Guest', email: `shot-${process.pid}@example.com`, company: 'Acme', job_title: 'Dev', identity: 'enthusiast' }) })).json();
    assert(reg.ticket && reg.ticket.token, () => `no ticket for the new registration: ${JSON.stringify(reg)}`);
    const scan = await (await fetch(`${world.base}/api/v1/checkins`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${doorTok}` }, body: JSON.stringify({ token: reg.ticket.token }) })).json();
    eq(scan.result, 'admitted', 'the device set up from the screenshot admits a ticket');
    fs.rmSync(shot, { force: true });
    fs.rmSync(tokFile, { force: true });
    const claim = await fetch(`${world.base}/api/v1/devices/claim`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: 'A'.repeat(43) }) });
    eq(claim.status, 404, 'an unknown code');
    await page.goto(`${world.base}/console/events/${ev.id}/devices?lang=zh-CN`);
    await page.getByRole('heading', { level: 1, name: /设备/ }).waitFor();
    await audit(page, 'devices-zh-CN');
  } finally { await ctx.close(); }
});

// Recognition (COMMUNITY.md section 6): a member made straight in the
// database (the join flow is another part's), as the integration tests do.
function makeMember(name) {
  const secret = crypto.randomBytes(32).toString('base64url');
  const hash = crypto.createHash('sha256').update(secret).digest('hex');
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${Date.now()}@example.com`;
  run('psql', [world.conninfo, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c',
    `WITH p AS (INSERT INTO persons (email, name) VALUES ('${email}', '${name}') RETURNING id) ` +
    `INSERT INTO members (person_id, key_hash) SELECT id, decode('${hash}', 'hex') FROM p`]);
  return { secret, email };
}

test('recognition: record and review contributions, benefits and redemptions, leaderboard, member points page; both languages', async () => {
  const year = new Date().getFullYear();
  const date = `${year}-03-0`;
  const speaker = makeMember('Ming Speaker');
  // Recorded by the API's token: the account below is not its recorder.
  const theirs = await api('POST', '/api/v1/contributions', { email: speaker.email, name: 'Ming Speaker',
    kind: 'talk', title: 'Scaling TiDB', date: `${date}1`, chapter: 'shanghai' }, world.admin, 201);
  const link = accountAdd('recognition@example.com', 'admin');
  const { ctx, page } = await newContext();
  try {
    await setPassword(page, link);
    await page.getByRole('link', { name: 'Recognition' }).click();
    await page.getByRole('heading', { level: 1, name: 'Contributions' }).waitFor();
    await audit(page, 'contributions-en');
    await page.getByLabel('E-mail', { exact: true }).last().fill(speaker.email);
    await page.getByLabel('Name', { exact: true }).last().fill('Ming Speaker');
    await page.getByLabel('Kind').selectOption('article');
    await page.getByLabel('Title', { exact: true }).fill('Notes from the meetup');
    await page.getByLabel('Date').fill(`${date}2`);
    await page.getByLabel('Chapter', { exact: true }).last().selectOption('shanghai');
    await Promise.all([page.waitForURL(/done=recorded/), page.getByRole('button', { name: 'Record', exact: true }).click()]);
    await page.getByRole('status').filter({ hasText: 'Recorded; it waits for review.' }).waitFor();
    eq(await page.getByRole('button', { name: 'Approve Notes from the meetup' }).count(), 0, 'review buttons on my own record');
    await Promise.all([page.waitForURL(/done=reviewed/), page.getByRole('button', { name: 'Approve Scaling TiDB' }).click()]);
    await page.locator(`[data-contribution="${theirs.id}"] [data-status="approved"]`).waitFor();
    await audit(page, 'contributions-reviewed-en');
    await page.goto(`${world.base}/console/contributions?lang=zh-CN`);
    await page.getByRole('heading', { level: 1, name: '贡献' }).waitFor();
    await audit(page, 'contributions-zh-CN');

    await page.goto(`${world.base}/console/benefits?lang=en`);
    await audit(page, 'benefits-empty-en');
    await page.getByLabel('Kind').selectOption('gift');
    await page.getByLabel('Name', { exact: true }).fill('Community T-shirt');
    await page.getByLabel('Name in Chinese').fill('社区T恤');
    await page.getByLabel('Price in points').last().fill('20');
    await page.getByLabel('Stock').last().fill('5');
    await Promise.all([page.waitForURL(/done=saved/), page.getByRole('button', { name: 'Add a benefit' }).click()]);
    await page.getByRole('heading', { level: 3, name: /Community T-shirt/ }).waitFor();

    // The member's side, on a phone, in Chinese first.
    const m = await newContext({ viewport: PHONE, locale: 'zh-CN' });
    try {
      await m.page.goto(`${world.base}/member/${speaker.secret}/points?lang=zh-CN`);
      await m.page.getByRole('heading', { level: 1, name: '我的积分' }).waitFor();
      eq(await m.page.locator('[data-balance]').innerText(), '50', 'the balance after one approved talk');
      await audit(m.page, 'member-points-phone-zh-CN');
      await Promise.all([m.page.waitForURL(/done=requested/), m.page.getByRole('button', { name: /申请兑换/ }).click()]);
      await m.page.getByRole('status').filter({ hasText: '积分已预留' }).waitFor();
      eq(await m.page.locator('[data-balance]').innerText(), '30', 'the balance after a request');
      await m.page.goto(`${world.base}/member/${speaker.secret}/points?lang=en`);
      await m.page.getByLabel('Show my public profile').check();
      await Promise.all([m.page.waitForURL(/done=listed/), m.page.getByRole('button', { name: 'Save' }).click()]);
      await audit(m.page, 'member-points-phone-en');
      await m.page.getByRole('link', { name: 'My public profile' }).click();
      await m.page.getByRole('heading', { level: 1, name: 'Ming Speaker' }).waitFor();
      await audit(m.page, 'profile-phone-en');
    } finally { await m.ctx.close(); }

    await page.goto(`${world.base}/console/benefits?lang=en`);
    await Promise.all([page.waitForURL(/done=decided/), page.getByRole('button', { name: 'Approve Ming Speaker Community T-shirt' }).click()]);
    await page.getByRole('button', { name: 'Mark fulfilled Ming Speaker Community T-shirt' }).waitFor();
    await audit(page, 'benefits-en');
    await page.goto(`${world.base}/console/benefits?lang=zh-CN`);
    await audit(page, 'benefits-zh-CN');
    await page.goto(`${world.base}/console/leaderboard?year=${year}&lang=en`);
    await page.getByRole('cell', { name: 'Ming Speaker', exact: true }).first().waitFor();
    await audit(page, 'leaderboard-en');
    await page.goto(`${world.base}/console/leaderboard?year=${year}&lang=zh-CN`);
    await audit(page, 'leaderboard-zh-CN');
  } finally { await ctx.close(); }
});

// Volunteers and certificates (docs/certificates.md): the nav link, the
// volunteers page of an event (approve, attended, issue), the
// certificates page (list, PDF, revoke), in both languages.
test('volunteers and certificates: approve, record, issue, download, revoke; both languages', async () => {
  const ev = world.events.main;
  const email = `helper.${Date.now()}@example.com`;
  await api('POST', `/api/v1/events/${ev.id}/volunteers`, { email, name: 'Wang Helper', skills: ['operations', 'hosting'] }, null, 201);
  const link = accountAdd('certs@example.com', 'organizer', [ev.id]);
  const { ctx, page } = await newContext();
  try {
    await setPassword(page, link);
    await page.getByRole('link', { name: 'Certificates' }).click();
    await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
    await audit(page, 'certificates-empty-en');
    await page.locator('ul.event-links a', { hasText: ev.title }).click();
    await page.waitForURL(`**/console/events/${ev.id}/volunteers`);
    await page.getByRole('heading', { level: 1, name: `Volunteers: ${ev.title}` }).waitFor();
    await audit(page, 'volunteers-en');
    await page.getByRole('button', { name: 'Approve Wang Helper' }).click();
    await page.getByText('Volunteer approved.').waitFor();
    await page.getByRole('button', { name: 'Attended Wang Helper' }).click();
    await page.getByText('Attendance recorded.').waitFor();
    await page.getByRole('button', { name: 'Issue volunteer certificate Wang Helper' }).click();
    await page.getByText('Certificate issued.').waitFor();
    await audit(page, 'volunteers-issued-en');
    const href = await page.locator('a[href^="/console/certificates/"]').first().getAttribute('href');
    const code = href.match(/^\/console\/certificates\/([A-Za-z0-9_-]{24})\.pdf$/)[1];
    const pdf = await page.request.get(world.base + href);
    eq(pdf.status(), 200, 'the certificate PDF from the volunteers page');
    eq(pdf.headers()['content-type'], 'application/pdf', 'its type');
    await page.goto(`${world.base}/console/certificates?lang=zh-CN`);
    await page.getByRole('heading', { level: 1, name: '证书' }).waitFor();
    await page.locator(`tr[data-code="${code}"]`).waitFor();
    await audit(page, 'certificates-zh-CN');
    await page.goto(`${world.base}/console/events/${ev.id}/volunteers`);
    await page.getByRole('heading', { level: 1, name: `志愿者: ${ev.title}` }).waitFor();
    await audit(page, 'volunteers-zh-CN');
    await page.goto(`${world.base}/console/certificates?lang=en`);
    await page.getByRole('button', { name: `Revoke ${code}` }).click();
    await page.getByText('Certificate revoked.').waitFor();
    await audit(page, 'certificates-revoked-en');
    const v = await api('GET', `/api/v1/verify/${code}`, undefined, null, 200);
    eq(v.status, 'revoked', 'the verify answer right after revoking in the console');
    const other = await page.goto(`${world.base}/console/events/${world.events.other.id}/volunteers`);
    eq(other.status(), 403, 'another event\'s volunteers page');
  } finally { await ctx.close(); }
});

test('chapters (committee): create one, add a leader whose editor then offers only it; both languages', async () => {
  const { ctx, page } = await newContext();
  try {
    await setPassword(page, accountAdd('committee@example.com', 'committee'));
    await Promise.all([page.waitForURL(/\/console\/chapters$/),
      page.getByRole('navigation').getByRole('link', { name: 'Chapters' }).click()]);
    await page.getByRole('heading', { level: 1, name: 'Chapters' }).waitFor();
    await page.getByRole('cell', { name: 'shanghai', exact: true }).waitFor();
    await audit(page, 'chapters-en');
    await page.getByLabel('Slug').fill('Bad Slug');
    await page.getByLabel('Name (English)').fill('Shenzhen');
    await page.getByRole('button', { name: 'Create the chapter' }).click();
    await page.getByRole('alert').filter({ hasText: 'slug:' }).waitFor();
    await audit(page, 'chapters-error-en');
    await page.getByLabel('Slug').fill('shenzhen');
    await page.getByLabel('Name (Chinese)').fill('深圳');
    await page.getByLabel('City').fill('Shenzhen');
    await Promise.all([page.waitForURL(/\/console\/chapters\/shenzhen\?done=created$/),
      page.getByRole('button', { name: 'Create the chapter' }).click()]);
    await page.getByRole('status').filter({ hasText: 'Chapter created.' }).waitFor();
    await page.getByLabel('E-mail').fill('ugl@example.com');
    await page.getByLabel('Name', { exact: true }).fill('UGL Shenzhen');
    await page.getByLabel('Role in the chapter').selectOption('co_lead');
    await Promise.all([page.waitForURL(/done=leader_added$/),
      page.getByRole('button', { name: 'Add the leader' }).click()]);
    await page.getByRole('cell', { name: 'ugl@example.com', exact: true }).waitFor();
    await audit(page, 'chapter-en');
    await page.goto(`${world.base}/console/chapters/shenzhen?lang=zh-CN`);
    await page.getByRole('heading', { level: 1, name: /分会: 深圳/ }).waitFor();
    await audit(page, 'chapter-zh-CN');
    await page.goto(`${world.base}/console/chapters?lang=zh-CN`);
    await audit(page, 'chapters-zh-CN');
    await page.goto(`${world.base}/console/accounts?lang=en`);
    await page.getByLabel('Role').selectOption('leader');
    eq(await page.locator('#acc-role option[value="admin"]').count(), 0, 'the committee offered the admin role');
    await audit(page, 'accounts-committee-en');
  } finally { await ctx.close(); }
  // The leader row makes the account with that e-mail a leader of the
  // chapter: the editor offers it, and only it.
  const { ctx: c2, page: p2 } = await newContext();
  try {
    await setPassword(p2, accountAdd('ugl@example.com', 'leader'));
    await p2.goto(`${world.base}/console/events/new?kind=meetup&lang=en`);
    const offered = await p2.locator('#chapter option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    eq(JSON.stringify(offered), JSON.stringify(['shenzhen']), 'the chapters a leader is offered');
    await audit(p2, 'editor-new-meetup-leader-en');
  } finally { await c2.close(); }
});

test('reports: charts drawn as SVG with a table beside each, both languages, laptop and phone', async () => {
  // A few members of known identities, so the bars have lengths.
  run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', world.conninfo, '-c',
    "WITH p AS (INSERT INTO persons (email, name, identity) SELECT 'rp' || i || '@example.com', 'R ' || i, " +
    "(ARRAY['professional', 'professional', 'enthusiast', 'partner', 'decision_maker', NULL])[1 + i % 6] " +
    'FROM generate_series(1, 12) i RETURNING id) INSERT INTO members (person_id) SELECT id FROM p']);
  const link = accountAdd('reports@example.com', 'admin');
  const { ctx, page } = await newContext();
  try {
    await setPassword(page, link);
    await page.getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor();
    eq(await page.locator('svg.rp-chart[role="img"]').count(), 6, 'charts on the reports page');
    const named = await page.locator('svg.rp-chart').evaluateAll((svgs) => svgs.filter((s) => {
      const ids = (s.getAttribute('aria-labelledby') || '').split(' ');
      return ids.length === 2 && ids.every((id) => document.getElementById(id) && document.getElementById(id).textContent.trim());
    }).length);
    eq(named, 6, 'charts named by their <title> and <desc>');
    await page.getByRole('img', { name: /^Members by identity/ }).waitFor();
    await page.getByRole('table', { name: 'Members and new members by identity' }).waitFor();
    await page.getByRole('table', { name: 'Events per quarter by chapter' }).waitFor();
    await page.getByRole('table', { name: 'Growth per quarter' }).waitFor();
    // Other tests of this run add members too: the share is the database's.
    const share = run('psql', ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-d', world.conninfo, '-c',
      "SELECT to_char(round(100.0 * count(*) FILTER (WHERE p.identity = 'professional') / count(*), 1), 'FM990.0') " +
      'FROM members m JOIN persons p ON p.id = m.person_id']).trim();
    await page.getByText(`Professional developers among members: ${share}%`).waitFor();
    await audit(page, 'reports-en');
    const csv = await page.request.get(`${world.base}/console/reports?csv=identity`);
    eq(csv.status(), 200, 'the identity CSV under the session');
  } finally { await ctx.close(); }
  const { ctx: c2, page: p2 } = await newContext({ viewport: PHONE, locale: 'zh-CN' });
  try {
    await signIn(p2, 'reports@example.com');
    await p2.goto(`${world.base}/console/reports?lang=zh-CN`);
    await p2.getByRole('heading', { level: 1, name: '报告' }).waitFor();
    await p2.getByRole('img', { name: /^会员身份构成/ }).waitFor();
    await audit(p2, 'reports-phone-zh-CN');
  } finally { await c2.close(); }
  const { ctx: c3, page: p3 } = await newContext();
  try {
    // Its own organizer: ORG's sign-ins are counted by the rate limit
    // (LOGIN_PER_ACCOUNT a minute), and a quick run signs ORG in more often.
    await setPassword(p3, accountAdd('reports-org@example.com', 'organizer', [world.events.main.id]));
    eq((await p3.request.get(`${world.base}/console/reports`)).status(), 403, 'an organizer on the reports page');
  } finally { await c3.close(); }
});

test('NightTalk topics and a series report: rank, close, propose, who attended; both languages', async () => {
  const slug = `e2e-ai-${Date.now()}`;
  psql(`INSERT INTO chapters (slug, name, name_zh, kind, topic, status) VALUES ('${slug}', 'AI Builders', 'AI 开发者', 'topic', 'ai', 'active')`);
  const start = new Date(Date.now() + 20 * 86400000).toISOString().slice(0, 10);
  const title = 'NightTalk: AI Builders';
  const s = await api('POST', '/api/v1/series', { title, chapter: slug, track_owner: 'Wang Fang',
    starts_on: start, episodes: 4, online_url: 'https://live.example.com/ai', completion_threshold: 2 }, world.admin, 201);
  for (const e of s.events) await api('PATCH', `/api/v1/events/${e.id}`, { status: 'published' }, world.admin, 200);
  const secret = crypto.randomBytes(32).toString('base64url');
  const key = crypto.createHash('sha256').update(secret).digest('hex');
  psql(`WITH p AS (INSERT INTO persons (email, name, identity) VALUES ('zhao.lei.${Date.now()}@example.com', 'Zhao Lei', 'professional') RETURNING id) ` +
    `INSERT INTO members (person_id, key_hash) SELECT id, decode('${key}', 'hex') FROM p`);
  await api('POST', `/api/v1/member/${secret}/series/${s.id}`, {}, null, 201);
  const rag = await api('POST', '/api/v1/topics', { chapter: slug, title: 'RAG that cites its sources' }, world.admin, 201);
  await api('POST', '/api/v1/topics', { chapter: slug, title: 'Agents and their tools' }, world.admin, 201);
  await api('POST', `/api/v1/member/${secret}/votes`, { topic: rag.id }, null, 201);
  const link = accountAdd('topics-admin@example.com', 'admin');
  const { ctx, page } = await newContext();
  try {
    await setPassword(page, link);
    await page.getByRole('link', { name: 'NightTalk topics' }).click();
    await page.getByRole('heading', { level: 1, name: 'NightTalk topics and series' }).waitFor();
    const first = page.locator(`tr[data-topic="${rag.id}"]`);
    eq(await first.locator('td').first().innerText(), '1', 'the voted topic\'s rank');
    eq(await first.locator('[data-count="votes"]').innerText(), '1', 'its votes');
    await audit(page, 'topics-en');
    await page.getByLabel(`Status: ${rag.title}`).selectOption('chosen');
    await Promise.all([page.waitForURL(/done=status$/), page.getByRole('button', { name: `Change ${rag.title}` }).click()]);
    await page.getByRole('status').filter({ hasText: 'The topic\'s status is changed.' }).waitFor();
    eq(await page.locator(`tr[data-topic="${rag.id}"] td[data-status]`).innerText(), 'Chosen', 'the chosen topic');
    await page.getByLabel('Topic', { exact: true }).fill('');
    await page.getByLabel('Topic', { exact: true }).fill('Evaluating LLM apps');
    await Promise.all([page.waitForURL(/done=proposed$/), page.getByRole('button', { name: 'Propose', exact: true }).click()]);
    await page.getByRole('cell', { name: 'Evaluating LLM apps', exact: true }).waitFor();
    await audit(page, 'topics-changed-en');
    await page.getByRole('link', { name: title }).click();
    await page.getByRole('heading', { level: 1, name: `Series report: ${title}` }).waitFor();
    await page.getByRole('cell', { name: 'Zhao Lei', exact: true }).waitFor();
    eq(await page.locator('dd[data-count="people"]').innerText(), '1', 'people in the report');
    await audit(page, 'series-report-en');
    await page.goto(`${world.base}/console/series/${s.id}?lang=zh-CN`);
    await page.getByRole('heading', { level: 1, name: `系列报告: ${title}` }).waitFor();
    await audit(page, 'series-report-zh-CN');
    await page.goto(`${world.base}/console/topics?lang=zh-CN`);
    await page.getByRole('heading', { level: 1, name: 'NightTalk 话题与系列' }).waitFor();
    await audit(page, 'topics-zh-CN');
  } finally { await ctx.close(); }
  // An organizer sees the public ranking, without the forms.
  const { ctx: c2, page: p2 } = await newContext({ viewport: PHONE });
  try {
    // Its own organizer: ORG's sign-ins are counted by the rate limit.
    await setPassword(p2, accountAdd('topics-org@example.com', 'organizer', [world.events.main.id]));
    await p2.goto(`${world.base}/console/topics?lang=en`);
    await p2.getByRole('cell', { name: 'Evaluating LLM apps', exact: true }).waitFor();
    eq(await p2.getByRole('button', { name: /^Change/ }).count(), 0, 'status buttons for an organizer');
    eq((await p2.request.get(`${world.base}/console/series/${s.id}`)).status(), 403, 'a series outside the organizer\'s scope');
    await audit(p2, 'topics-organizer-phone-en');
  } finally { await c2.close(); }
});

// The committee's approval (docs/approval.md): the last console test, as
// a live committee account makes every later organizer's publish wait.
function psql(sql) {
  return run('psql', ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-d', world.conninfo, '-c', sql]).trim();
}

test('approval: apply, submit, the committee\'s queue and applications; both languages', async () => {
  const cLink = accountAdd('approval-committee@example.com', 'organizer', [world.events.main.id]);
  psql("UPDATE accounts SET role = 'committee', events = NULL WHERE email = 'approval-committee@example.com'");
  const draft = await api('POST', '/api/v1/events', { kind: 'meetup', title: 'Proposal: edge functions', chapter: 'shanghai',
    format: 'panel', venue: 'Hub', starts_at: at(12, 14), ends_at: at(12, 17) }, world.admin, 201);
  const lLink = accountAdd('planner@example.com', 'organizer', [draft.id]);
  const app = await api('POST', '/api/v1/applications', { name: 'Zhou Min', email: 'zhou.min@example.com',
    occupation: 'Engineer', company: 'Acme', job_title: 'Architect', background: 'Serverless since 2019.',
    experience: 'Two meetups a year.', motivation: 'A Hangzhou chapter.', new_chapter: { kind: 'city', name: 'Hangzhou' } }, null, 201);
  const { ctx: pub, page: ap } = await newContext({ viewport: PHONE });
  try {
    await ap.goto(`${world.base}/apply?lang=en`);
    await ap.getByRole('heading', { level: 1, name: 'Apply to lead a chapter' }).waitFor();
    await audit(ap, 'apply-phone-en');
    await ap.getByLabel('Name', { exact: true }).fill('Qian Yu');
    await ap.getByRole('button', { name: 'Send my application' }).click();
    await ap.locator('#email-error, #background-error').first().waitFor();
    await audit(ap, 'apply-errors-phone-en');
    await ap.goto(`${world.base}/apply?lang=zh-CN`);
    await ap.getByRole('heading', { level: 1, name: '申请成为分会负责人' }).waitFor();
    await audit(ap, 'apply-zh-CN');
  } finally { await pub.close(); }
  const { ctx: lc, page: lp } = await newContext();
  const { ctx: cc, page: cp } = await newContext();
  try {
    await setPassword(lp, lLink);
    await lp.goto(`${world.base}/console/events/${draft.id}/edit?lang=en`);
    await lp.locator('[data-needs-approval]').waitFor();
    assert(await lp.locator('[data-action="publish"]').count() === 0, 'a publish button waiting for approval');
    await audit(lp, 'editor-needs-approval-en');
    await Promise.all([lp.waitForURL(/done=proposed$/), lp.getByRole('button', { name: 'Submit to the committee' }).click()]);
    await lp.locator('[data-awaiting]').waitFor();
    await setPassword(cp, cLink);
    await cp.goto(`${world.base}/console/proposals?lang=en`);
    await cp.getByRole('heading', { level: 3, name: 'Proposal: edge functions' }).waitFor();
    await audit(cp, 'proposals-en');
    const sec = cp.locator(`[data-proposal-event="${draft.id}"]`);
    await sec.getByLabel('Comment').fill('Please add a hands-on part.');
    await Promise.all([cp.waitForURL(/done=rejected$/), sec.getByRole('button', { name: /^Reject/ }).click()]);
    await lp.goto(`${world.base}/console/events/${draft.id}/edit?lang=en`);
    await lp.getByText('Please add a hands-on part.').waitFor();
    await audit(lp, 'editor-rejected-en');
    await cp.goto(`${world.base}/console/proposals?lang=zh-CN`);
    await cp.getByRole('heading', { level: 1, name: '待审批' }).waitFor();
    await audit(cp, 'proposals-zh-CN');
    await cp.goto(`${world.base}/console/applications?lang=en`);
    await cp.getByRole('link', { name: 'Zhou Min' }).waitFor();
    await audit(cp, 'applications-en');
    await cp.goto(`${world.base}/console/applications/${app.id}?lang=en`);
    await cp.getByLabel('Add a note').fill('Interviewed on Monday: strong.');
    await Promise.all([cp.waitForURL(/done=noted$/), cp.getByRole('button', { name: 'Save the note' }).click()]);
    await cp.getByText('Interviewed on Monday: strong.').waitFor();
    await audit(cp, 'application-en');
    await cp.goto(`${world.base}/console/applications/${app.id}?lang=zh-CN`);
    await Promise.all([cp.waitForURL(/done=approved$/), cp.getByRole('button', { name: '批准' }).click()]);
    await cp.locator('[data-status="approved"]').waitFor();
    await audit(cp, 'application-approved-zh-CN');
    eq(psql("SELECT status FROM chapters WHERE slug = 'hangzhou'"), 'trial', 'the new chapter');
  } finally { await lc.close(); await cc.close(); }
});

test('axe-core: no serious or critical violations on the console pages', async () => {
  assert(audited.length >= 10, `only ${audited.length} pages were audited`);
  assert(axeProblems.length === 0, () => `${axeProblems.length} violations:\n  ${axeProblems.join('\n  ')}`);
  log(`# axe-core checked ${audited.length} pages: ${audited.map((a) => a.label).join(', ')}`);
});

test('console pages fit their screen without sideways scrolling', async () => {
  assert(layoutProblems.length === 0, () => layoutProblems.join('\n'));
});

test('Nu HTML checker (vnu-jar): no errors on the console pages', async () => {
  const r = spawnSync('java', ['-jar', VNU, '--errors-only', '--format', 'json', ...audited.map((a) => a.file)],
    { encoding: 'utf8', timeout: 120000 });
  if (r.error) throw r.error;
  const out = JSON.parse(r.stderr || r.stdout);
  const errs = out.messages.filter((m) => m.type === 'error' || m.subType === 'fatal');
  const byFile = new Map(audited.map((a) => [path.basename(a.file), a.label]));
  assert(errs.length === 0, () => `${errs.length} errors:\n  ` + errs.map((m) =>
    `${byFile.get(path.basename(decodeURIComponent(m.url || ''))) || m.url}:${m.lastLine}: ${m.message} [${(m.extract || '').replace(/\s+/g, ' ').slice(0, 120)}]`).join('\n  '));
});

async function main() {
  const started = Date.now();
  let passed = 0, failed = 0;
  try { await setup(); } catch (e) {
    log(`not ok - setup\n${String(e.stack || e).replace(/^/gm, '#   ')}`);
    await teardown(true);
    log(`console e2e: 0 passed, ${tests.length} failed`);
    process.exit(1);
  }
  for (const t of tests) {
    const t0 = Date.now();
    try { await t.fn(); passed++; log(`ok - ${t.name} (${Date.now() - t0} ms)`); } catch (e) {
      failed++;
      log(`not ok - ${t.name} (${Date.now() - t0} ms)\n${String(e.stack || e).replace(/^/gm, '#   ')}`);
    }
  }
  const problem = await teardown(failed > 0);
  if (problem) { failed++; log(`not ok - rollcalld stops cleanly: ${problem}`); } else { passed++; log('ok - rollcalld stops cleanly on SIGTERM with no sanitizer report'); }
  log(`# ${((Date.now() - started) / 1000).toFixed(1)} s`);
  log(`console e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
