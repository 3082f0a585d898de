// Shared by the end-to-end tests: a local test server (127.0.0.1 only), real
// Chromium (playwright-core) and real Firefox (puppeteer-core, WebDriver
// BiDi) with the built extension, each in a throwaway profile and HOME, and
// the native host registered in that profile when asked.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const out = path.join(root, 'out');
export const dist = path.join(out, 'extension/dist');
export const artifacts = path.join(out, 'artifacts');
export const ids = JSON.parse(fs.readFileSync(path.join(root, 'extension/ids.json'), 'utf8'));
export const nativeCli = path.join(out, 'native/engine/sotto');
export const hostBinary = path.join(out, 'native/native-host/sotto-host');
export const FIREFOX_UUID = '6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';
export const CHROMIUM = '/usr/bin/chromium';
export const FIREFOX = '/usr/bin/firefox-esr';

fs.mkdirSync(artifacts, { recursive: true });

export function tmpdir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sotto-${prefix}-`));
}

export function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// ---- the test server: the demo article, test pages, model files ----
const TYPES = { '.html': 'text/html; charset=utf-8', '.ftz': 'application/octet-stream', '.bin': 'application/octet-stream' };

export async function startServer(routes = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const file = routes[url.pathname];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    const body = typeof file === 'function' ? file(url) : fs.readFileSync(file);
    res.writeHead(200, {
      'content-type': TYPES[path.extname(url.pathname)] ?? 'application/octet-stream',
      'content-length': Buffer.byteLength(body),
      // Model downloads come from extension pages: allow them like a CDN does.
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
      'cache-control': 'no-store',
    });
    // Larger bodies go out in paced pieces, like a real download, so
    // progress has steps to report.
    const CH = 64 * 1024;
    let off = 0;
    const next = () => {
      if (off >= body.length) return res.end();
      const part = body.subarray(off, off + CH);
      off += CH;
      if (res.write(part)) setTimeout(next, 10); else res.once('drain', () => setTimeout(next, 10));
    };
    next();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

// ---- the native host, registered for one browser profile ----
// The host also checks its caller against an allow-list (install.sh writes
// one beside the binary); tests name their own through the environment.
export function hostEnv(home) {
  const allowed = path.join(home, 'sotto-host.allowed');
  fs.writeFileSync(allowed, `chrome-extension://${ids.chrome}/\n${ids.firefox}\n`);
  return { ...process.env, HOME: home, SOTTO_HOST_ALLOWED: allowed };
}

export function hostManifest(browser, hostPath) {
  const m = { name: 'org.sotto.host', description: 'sotto native engine', path: hostPath, type: 'stdio' };
  if (browser === 'chrome') m.allowed_origins = [`chrome-extension://${ids.chrome}/`];
  else m.allowed_extensions = [ids.firefox];
  return m;
}

// ---- Chromium ----
export async function launchChromium({ home = null, host = null } = {}) {
  const ownHome = !home;
  home ??= tmpdir('home');
  const { chromium } = await import('playwright-core');
  const ext = path.join(dist, 'chrome');
  const profile = tmpdir('chromium');
  if (host) {
    fs.mkdirSync(path.join(profile, 'NativeMessagingHosts'), { recursive: true });
    fs.writeFileSync(path.join(profile, 'NativeMessagingHosts/org.sotto.host.json'), JSON.stringify(hostManifest('chrome', host)));
  }
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [`--disable-extensions-except=${ext}`, `--load-extension=${ext}`, '--no-sandbox',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    env: hostEnv(home),
  });
  const sw = ctx.serviceWorkers()[0] ?? await ctx.waitForEvent('serviceworker');
  const id = new URL(sw.url()).host;
  return {
    ctx, sw, id, home, profile,
    async close() {
      await ctx.close();
      fs.rmSync(profile, { recursive: true, force: true });
      if (ownHome) fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

// ---- Firefox ----
export async function launchFirefox({ home = null, host = null, keepHome = false } = {}) {
  const ownHome = !home && !keepHome;
  home ??= tmpdir('home');
  const { default: puppeteer } = await import('puppeteer-core');
  if (host) {
    const dir = path.join(home, '.mozilla/native-messaging-hosts');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'org.sotto.host.json'), JSON.stringify(hostManifest('firefox', host)));
  }
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    args: ['--remote-allow-system-access'],
    env: hostEnv(home),
    defaultViewport: { width: 1280, height: 900 },
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [ids.firefox]: FIREFOX_UUID }),
    },
  });
  await browser.installExtension(path.join(dist, 'firefox'));
  const base = `moz-extension://${FIREFOX_UUID}/`;
  return {
    browser, home, base,
    // An extension page to run code in (with the background page at hand).
    async extensionPage(file = 'src/results.html') {
      const page = await browser.newPage();
      await page.goto(base + file, { waitUntil: [] }).catch(() => {});
      await waitFor(() => page.evaluate(() => document.readyState === 'complete').catch(() => false), 15000, `${file} to load`);
      return page;
    },
    async close() {
      await browser.close();
      if (ownHome) fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

// ---- drivers: one shape for both browsers (flows.mjs describes it) ----

// Chromium with the extension; drv.bg runs code in the service worker and
// drv.menu fires the real context-menu listeners.
export async function chromiumDriver(server) {
  const browser = await launchChromium();
  const page = await browser.ctx.newPage();
  const manifestPath = path.join(browser.profile, 'NativeMessagingHosts/org.sotto.host.json');
  const drv = {
    name: 'chromium',
    page,
    base: server.base,
    bg: (fn, arg) => browser.sw.evaluate(
      new Function('arg', `return (${fn.toString()})({ sotto: globalThis.sotto, api: chrome }, arg)`), arg),
    async menu(info) {
      // The tab the test page is in: found by URL, or (for pages whose URL
      // the extension may not see) as the active tab.
      await page.bringToFront();
      const tab = await browser.sw.evaluate(async (url) => (await chrome.tabs.query({})).find((t) => t.url === url) ??
        (await chrome.tabs.query({ active: true, lastFocusedWindow: true }))[0], page.url());
      if (!tab) throw new Error('the test page is not a tab');
      await browser.sw.evaluate(([info, tab]) => chrome.contextMenus.onClicked.dispatch(info, tab), [info, tab]);
    },
    async openExtensionPage(file) {
      const p = await browser.ctx.newPage();
      await p.goto(`chrome-extension://${browser.id}/${file}`);
      return p;
    },
    async setHost(on) {
      if (on) {
        fs.mkdirSync(path.dirname(manifestPath), { recursive: true });
        fs.writeFileSync(manifestPath, JSON.stringify(hostManifest('chrome', hostBinary)));
      } else {
        fs.rmSync(manifestPath, { force: true });
      }
      await browser.sw.evaluate(() => globalThis.sotto.host.disconnect());
    },
  };
  return { browser, drv };
}

// Firefox with the extension; drv.bg runs code against the background page
// from an extension page, drv.menu calls the exported handler with the real
// tab (Firefox has no onClicked.dispatch).
export async function firefoxDriver(server, { home }) {
  const manifestPath = path.join(home, '.mozilla/native-messaging-hosts/org.sotto.host.json');
  const browser = await launchFirefox({ home });
  const page = await browser.browser.newPage();
  const ext = await browser.extensionPage('src/results.html');
  // Results are copied out as JSON.
  const bg = (fn, arg) => ext.evaluate(new Function('arg', `return (async () => {
      const bg = await browser.runtime.getBackgroundPage();
      const r = await (${fn.toString()})({ sotto: bg.sotto, api: browser }, arg);
      return r === undefined ? null : JSON.parse(JSON.stringify(r));
    })()`), arg);
  const drv = {
    name: 'firefox',
    page,
    base: server.base,
    bg,
    async menu(info) {
      await page.bringToFront();
      await bg(async ({ sotto, api }, [info, url]) => {
        const tab = (await api.tabs.query({})).find((t) => t.url === url);
        if (!tab) throw new Error(`no tab for ${url}`);
        sotto.onMenuClick(info, tab); // not awaited, like the menu event
        return tab.id;
      }, [info, page.url()]);
    },
    async openExtensionPage(file) { return browser.extensionPage(file); },
    async setHost(on) {
      if (on) {
        fs.mkdirSync(path.dirname(manifestPath), { recursive: true });
        fs.writeFileSync(manifestPath, JSON.stringify(hostManifest('firefox', hostBinary)));
      } else {
        fs.rmSync(manifestPath, { force: true });
      }
      await bg(({ sotto }) => sotto.host.disconnect());
    },
  };
  return { browser, drv };
}

export async function waitFor(fn, ms = 30000, what = 'a condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

// ---- independent references ----

// Debian's fasttext on the same model and text: [{label, prob}], best first.
export function fasttextPredict(model, text, k) {
  const line = text.replace(/\s+/g, ' ').trim();
  const outp = execFileSync('fasttext', ['predict-prob', model, '-', String(k)], { input: `${line}\n` }).toString().trim();
  const parts = outp.split(/\s+/);
  const labels = [];
  for (let i = 0; i + 1 < parts.length; i += 2) labels.push({ label: parts[i].replace(/^__label__/, ''), prob: Number(parts[i + 1]) });
  return labels;
}

// The native engine's answer to the same request, through the real CLI.
export function nativeRequest(req, models = []) {
  const args = [];
  for (const m of models) args.push('--model', `${m.id}=${m.file}`);
  const outp = execFileSync(nativeCli, [...args, 'request'], { input: JSON.stringify(req) + '\n', maxBuffer: 1 << 26 }).toString();
  return JSON.parse(outp.trim().split('\n').pop());
}
