#!/usr/bin/env node
// build.mjs - assembles the extension for Chrome and Firefox from one source:
//   out/extension/dist/chrome/    unpacked, development build (pinned key)
//   out/extension/dist/firefox/   unpacked, development build
//   out/extension/dist/sotto-chrome.zip, sotto-firefox.xpi   packages
// Inputs: extension/manifest.json and src/, the wasm engine builds
// (out/wasm-mt for Chrome, out/wasm for Firefox), engine/wasm/engine.mjs,
// models/catalogue.json with the bundled models from out/models/, and
// @mozilla/readability from node_modules. Nothing is fetched. The shipped
// catalogue also carries the engine's default model per task ("defaults"),
// asked from the wasm engine being packaged (its "capabilities"), so the
// extension follows the engine's choice instead of making its own.
//
//   node extension/build.mjs [--allow-missing] [--catalogue FILE]
//   (--allow-missing: missing engine builds warn instead of failing)
// Missing bundled models only warn: the extension then offers to install them.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SottoEngine } from '../engine/wasm/engine.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const out = path.join(root, 'out');
const dist = path.join(out, 'extension/dist');
const allowMissing = process.argv.includes('--allow-missing');

// Pages on this machine that development builds may read without a click:
// the demo article of `make run` and the end-to-end tests' local server.
// Packages for users leave them out and rely on activeTab.
const DEV_HOSTS = ['http://127.0.0.1/*', 'http://localhost/*'];

// Both get the single-threaded build as engine/light/ (Firefox's engine;
// in Chrome the quick engine of the service worker and of the offscreen
// document, src/platform.js); Chrome also the threaded build as engine/.
const LIGHT = { dir: 'out/wasm/engine', files: ['sotto.mjs', 'sotto.wasm'] };
const ENGINE = {
  chrome: { dir: 'out/wasm-mt/engine', files: ['sotto.mjs', 'sotto.wasm', 'sotto.worker.js'], light: LIGHT },
  firefox: { dir: 'out/wasm/engine', files: [], light: LIGHT },
};

let problems = 0;
function missing(what, hint, { required = true } = {}) {
  if (required) problems++;
  console.error(`extension build: ${required ? '' : 'warning: '}missing ${what}${hint ? ` (${hint})` : ''}`);
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

function copyTree(from, to) {
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const f = path.join(from, e.name), t = path.join(to, e.name);
    if (e.isDirectory()) copyTree(f, t);
    else copy(f, t);
  }
}

// ---- a PNG icon drawn here, so the repository holds no binary ----
function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}
function icon(size) {
  // A rounded square in the product colour with a white speech bubble dot.
  const px = Buffer.alloc(size * (size * 4 + 1));
  const r = size * 0.22, c = size / 2;
  for (let y = 0; y < size; y++) {
    px[y * (size * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const dx = Math.max(Math.abs(x + 0.5 - c) - (c - r), 0), dy = Math.max(Math.abs(y + 0.5 - c) - (c - r), 0);
      const inside = Math.hypot(dx, dy) <= r;
      const dot = Math.hypot(x + 0.5 - c, y + 0.5 - c) <= size * 0.2;
      const o = y * (size * 4 + 1) + 1 + x * 4;
      if (!inside) continue;
      const [R, G, B] = dot ? [255, 255, 255] : [46, 90, 136];
      px[o] = R, px[o + 1] = G, px[o + 2] = B, px[o + 3] = 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8, ihdr[9] = 6; // 8-bit RGBA
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(px)), pngChunk('IEND', Buffer.alloc(0))]);
}

// ---- a zip writer (stored + deflated entries), enough for zip and xpi ----
function zip(dir, file) {
  const files = [];
  (function walk(d, rel) {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const f = path.join(d, e.name), r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(f, r);
      else files.push([r, fs.readFileSync(f)]);
    }
  })(dir, '');
  // manifest.json first: some tools look for it there.
  files.sort((a, b) => (b[0] === 'manifest.json') - (a[0] === 'manifest.json'));
  const parts = [], central = [];
  let offset = 0;
  const dosTime = 0, dosDate = (2024 - 1980) << 9 | 1 << 5 | 1; // fixed: reproducible packages
  for (const [name, data] of files) {
    const deflated = zlib.deflateRawSync(data, { level: 9 });
    const store = deflated.length >= data.length;
    const body = store ? data : deflated;
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = zlib.crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(store ? 0 : 8, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(20, 4);
    cen.writeUInt16LE(20, 6);
    cen.writeUInt16LE(0x0800, 8);
    cen.writeUInt16LE(store ? 0 : 8, 10);
    cen.writeUInt16LE(dosTime, 12);
    cen.writeUInt16LE(dosDate, 14);
    cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(body.length, 20);
    cen.writeUInt32LE(data.length, 24);
    cen.writeUInt16LE(nameBuf.length, 28);
    cen.writeUInt32LE(offset, 42);
    parts.push(local, nameBuf, body);
    central.push(cen, nameBuf);
    offset += 30 + nameBuf.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  fs.writeFileSync(file, Buffer.concat([...parts, cd, end]));
}

// ---- manifests ----
const source = JSON.parse(fs.readFileSync(path.join(here, 'manifest.json'), 'utf8'));
const ids = JSON.parse(fs.readFileSync(path.join(here, 'ids.json'), 'utf8'));
if (source.browser_specific_settings?.gecko?.id !== ids.firefox) {
  throw new Error('extension/manifest.json gecko id differs from extension/ids.json');
}

function manifestFor(browser, { dev }) {
  const m = structuredClone(source);
  if (browser === 'chrome') {
    delete m.browser_specific_settings;
    delete m.background.scripts;
  } else {
    delete m.key;
    delete m.cross_origin_embedder_policy; // Firefox has no isolated extension pages
    delete m.cross_origin_opener_policy;
    m.permissions = m.permissions.filter((p) => p !== 'offscreen');
    delete m.background.service_worker;
  }
  if (dev) m.host_permissions = [...(m.host_permissions ?? []), ...DEV_HOSTS];
  else delete m.key;
  return m;
}

// ---- catalogue and bundled models ----
function bundledModels() {
  const arg = process.argv.indexOf('--catalogue');
  const catFile = arg > 0 ? path.resolve(process.argv[arg + 1]) : path.join(root, 'models/catalogue.json');
  if (!fs.existsSync(catFile)) {
    missing('models/catalogue.json', 'the bundled models are left out', { required: false });
    return { catalogue: null, files: [] };
  }
  const catalogue = JSON.parse(fs.readFileSync(catFile, 'utf8'));
  const files = [];
  // A model with a file is bundled unless the catalogue says otherwise.
  for (const m of catalogue.models ?? []) {
    if (m.bundled === false || !m.file) continue;
    m.bundled = true;
    const f = path.join(out, 'models', m.file);
    if (fs.existsSync(f)) {
      // The catalogue pins what ships; entries still being made get their
      // size and digest from the file.
      const data = fs.readFileSync(f);
      const sha = crypto.createHash('sha256').update(data).digest('hex');
      if (m.sha256 && m.sha256 !== sha) throw new Error(`out/models/${m.file} has sha256 ${sha}, the catalogue says ${m.sha256}`);
      m.sha256 = sha;
      m.bytes = data.length;
      files.push([f, m.file]);
    } else {
      missing(`bundled model out/models/${m.file}`, 'make models', { required: false });
      m.bundled = false; // this build does not ship it
    }
  }
  return { catalogue, files };
}

// The engine's table of default models (capabilities "defaults"), from the
// engine this package ships.
async function engineDefaults(browser) {
  const glue = path.join(root, ENGINE[browser].dir, 'sotto.mjs');
  if (!fs.existsSync(glue)) return {};
  const { default: factory } = await import(pathToFileURL(glue));
  const engine = await SottoEngine.create(factory, { threads: 1 });
  try {
    return engine.request({ op: 'capabilities' }).result.defaults ?? {};
  } finally {
    engine.destroy();
  }
}

async function build(browser) {
  const dir = path.join(dist, browser);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  copyTree(path.join(here, 'src'), path.join(dir, 'src'));
  copyTree(path.join(here, 'demo'), path.join(dir, 'demo'));

  const readability = path.join(root, 'node_modules/@mozilla/readability');
  if (fs.existsSync(path.join(readability, 'Readability.js'))) {
    copy(path.join(readability, 'Readability.js'), path.join(dir, 'vendor/Readability.js'));
    copy(path.join(readability, 'LICENSE.md'), path.join(dir, 'vendor/Readability.LICENSE.md'));
  } else {
    missing('@mozilla/readability', 'npm ci');
  }

  const eng = ENGINE[browser];
  for (const f of eng.files) {
    const from = path.join(root, eng.dir, f);
    if (fs.existsSync(from)) copy(from, path.join(dir, 'engine', f));
    else missing(`${eng.dir}/${f}`, browser === 'chrome' ? 'make wasm-mt' : 'make wasm');
  }
  for (const f of eng.light?.files ?? []) {
    const from = path.join(root, eng.light.dir, f);
    if (fs.existsSync(from)) copy(from, path.join(dir, 'engine/light', f));
    else missing(`${eng.light.dir}/${f}`, 'make wasm');
  }
  copy(path.join(root, 'engine/wasm/engine.mjs'), path.join(dir, 'engine/engine.mjs'));

  const { catalogue, files } = bundledModels();
  const defaults = await engineDefaults(browser);
  if (!Object.keys(defaults).length) missing('the engine\'s default models', 'no engine build to ask', { required: false });
  fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'models/catalogue.json'), JSON.stringify({ ...(catalogue ?? { models: [] }), defaults }, null, 1));
  for (const [from, name] of files) copy(from, path.join(dir, 'models', name));
  // Licences and attributions of what ships (lid176 is CC BY-SA 3.0).
  const notices = (catalogue?.models ?? []).filter((m) => m.bundled).map((m) =>
    `${m.id} (${m.file}): licence ${m.licence ?? 'see the sotto repository'}\n${m.attribution ? `${m.attribution}\n` : ''}`);
  fs.writeFileSync(path.join(dir, 'models/NOTICE.txt'), `Models bundled with sotto\n\n${notices.join('\n')}`);

  for (const s of [16, 48, 128]) {
    fs.mkdirSync(path.join(dir, 'icons'), { recursive: true });
    fs.writeFileSync(path.join(dir, `icons/${s}.png`), icon(s));
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifestFor(browser, { dev: true }), null, 2));

  // The package: same files, the user-facing manifest.
  const pkgDir = path.join(dist, `.pkg-${browser}`);
  fs.rmSync(pkgDir, { recursive: true, force: true });
  copyTree(dir, pkgDir);
  fs.writeFileSync(path.join(pkgDir, 'manifest.json'), JSON.stringify(manifestFor(browser, { dev: false }), null, 2));
  zip(pkgDir, path.join(dist, browser === 'chrome' ? 'sotto-chrome.zip' : 'sotto-firefox.xpi'));
  fs.rmSync(pkgDir, { recursive: true, force: true });
}

fs.mkdirSync(dist, { recursive: true });
for (const b of ['chrome', 'firefox']) await build(b);
if (problems && !allowMissing) {
  console.error(`extension build: ${problems} input(s) missing; see above (or pass --allow-missing)`);
  process.exit(1);
}
console.log(`extension: built ${path.relative(root, dist)}/{chrome,firefox,sotto-chrome.zip,sotto-firefox.xpi}` +
  (problems ? ` with ${problems} missing input(s)` : ''));
