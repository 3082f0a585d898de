// The floor plan as the README and the headers state it, checked against the
// tree: the engine's layers include only the layers below them
// (engine/src/core/core.h), only extension/src/platform.js touches the
// browsers' extension APIs, README's status table is sotto.h's
// SOTTO_STATUS_LIST, its protocol section names every op served, and its
// layout table names paths that exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p) => fs.readFileSync(path.join(root, p), 'utf8');
const readme = read('README.md');

// Top to bottom, as core.h lists them; a layer may include itself and those after it.
const LAYERS = ['tasks', 'models', 'runtime', 'tokenizers', 'formats', 'ops', 'core'];

test('each engine layer includes only itself and the layers below it', () => {
  const bad = [];
  for (const layer of LAYERS) {
    const dir = path.join(root, 'engine/src', layer);
    for (const f of fs.readdirSync(dir).filter((n) => /\.[ch]$/.test(n))) {
      for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/^#include "([a-z_]+)\//gm)) {
        const to = LAYERS.indexOf(m[1]);
        if (to < LAYERS.indexOf(layer)) bad.push(`${layer}/${f} includes ${m[1]}/`);
      }
    }
  }
  const folders = fs.readdirSync(path.join(root, 'engine/src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  assert.deepEqual(folders.filter((d) => !LAYERS.includes(d)), [], 'a folder of engine/src that is no layer');
  assert.deepEqual(bad, []);
});

test('only platform.js touches the browsers\' extension APIs', () => {
  // chrome.X / browser.X for an extension API namespace, or the global itself.
  const API = /\b(?:chrome|browser)\.(?:runtime|tabs|storage|contextMenus|menus|scripting|offscreen|action|browserAction|permissions|downloads|i18n|alarms|windows|webNavigation|identity|management|declarativeNetRequest)\b|globalThis\.(?:chrome|browser)\b/;
  const dir = path.join(root, 'extension/src');
  const files = fs.readdirSync(dir).filter((n) => /\.(m?js|html)$/.test(n));
  assert.ok(API.test(fs.readFileSync(path.join(dir, 'platform.js'), 'utf8')), 'platform.js itself uses them');
  const offenders = files.filter((n) => n !== 'platform.js').flatMap((n) =>
    fs.readFileSync(path.join(dir, n), 'utf8').split('\n').map((l, i) => (API.test(l) ? `${n}:${i + 1}: ${l.trim()}` : null)).filter(Boolean));
  assert.deepEqual(offenders, []);
});

test('README\'s status table lists exactly the codes of SOTTO_STATUS_LIST', () => {
  const list = read('engine/include/sotto.h').match(/#define SOTTO_STATUS_LIST\(X\)([\s\S]*?)\n\n/)[1];
  const codes = [...list.matchAll(/X\(SOTTO_\w+,\s*"(\w+)"\)/g)].map((m) => m[1]).filter((c) => c !== 'ok');
  assert.ok(codes.length > 20, `read ${codes.length} codes from sotto.h`);
  const table = readme.slice(readme.indexOf('**Status codes**'));
  const rows = table.slice(0, table.search(/\n\n(?!\|)/)).split('\n').filter((l) => l.startsWith('| `'));
  const documented = rows.flatMap((r) => [...r.split('|')[1].matchAll(/`(\w+)`/g)].map((m) => m[1]));
  assert.deepEqual([...documented].sort(), [...codes].sort());
});

test('README\'s layout table names paths that exist, every engine layer among them', () => {
  const section = readme.slice(readme.indexOf('## Layout'), readme.indexOf('\n## ', readme.indexOf('## Layout') + 1));
  const paths = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
  assert.ok(paths.length > 10, `read ${paths.length} rows`);
  assert.deepEqual(paths.filter((p) => !fs.existsSync(path.join(root, p))), []);
  for (const layer of LAYERS) assert.ok(paths.includes(`engine/src/${layer}/`), `engine/src/${layer}/ in the layout table`);
});

test('every op the engine, the native host, the engine worker and the background serve is named in README\'s protocol section', () => {
  const start = readme.indexOf('## The request protocol');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const named = new Set([...section.matchAll(/`([a-z][a-z.]*(?:\.\*)?)`/g)].map((m) => m[1]));
  // A family such as `browser.cache.*` covers its members; a whole prefix (`ext.*`) does not.
  const covered = (op) => named.has(op) || [...named].some((n) => /\..*\.\*$/.test(n) && op.startsWith(n.slice(0, -1)));
  const served = {
    'engine/src/api.c': [...read('engine/src/api.c').matchAll(/^\s*\{"([a-z.]+)", sotto_task_/gm)],
    'native-host/host.c': [...read('native-host/host.c').matchAll(/^\s*\{"(host\.[a-z.]+)", op_/gm)],
    'extension/src/engine-worker.js': [...read('extension/src/engine-worker.js').matchAll(/'(browser\.[a-z.]+)'/g)],
    'extension/src/background.js': [...read('extension/src/background.js').matchAll(/^\s*'(ext\.[a-z.]+)':/gm)],
  };
  for (const [file, ops] of Object.entries(served)) assert.ok(ops.length > 0, `read the ops of ${file}`);
  const missing = Object.entries(served).flatMap(([file, ops]) => ops.map((m) => m[1]).filter((op) => !covered(op)).map((op) => `${file}: ${op}`));
  assert.deepEqual(missing, []);
});
