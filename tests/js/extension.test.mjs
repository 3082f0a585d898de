// The extension's build and routing rules, without a browser: the manifests
// each browser gets, the pinned Chrome id, the packages (checked with
// Debian's unzip) and the router's decisions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { root } from './helpers.mjs';
import { route, memoryBytes } from '../../extension/src/router.js';

const dist = path.join(root, 'out/extension/dist');
const source = JSON.parse(fs.readFileSync(path.join(root, 'extension/manifest.json'), 'utf8'));
const ids = JSON.parse(fs.readFileSync(path.join(root, 'extension/ids.json'), 'utf8'));
const built = fs.existsSync(path.join(dist, 'chrome/manifest.json'));

test('the pinned key gives the Chrome id in ids.json', () => {
  // openssl, not our code, hashes the DER key.
  const der = Buffer.from(source.key, 'base64');
  const hex = execFileSync('openssl', ['dgst', '-sha256', '-hex'], { input: der }).toString().trim().split(/\s+/).pop();
  const id = [...hex.slice(0, 32)].map((c) => 'abcdefghijklmnop'[parseInt(c, 16)]).join('');
  assert.equal(id, ids.chrome);
  // A public key, never a private one.
  const info = execFileSync('openssl', ['pkey', '-pubin', '-inform', 'DER', '-noout', '-text'], { input: der }).toString();
  assert.match(info, /Public-Key: \(2048 bit\)/);
  assert.equal(source.browser_specific_settings.gecko.id, ids.firefox);
});

test('the source manifest serves both browsers and allows no remote code', () => {
  assert.equal(source.manifest_version, 3);
  assert.ok(source.background.service_worker && source.background.scripts?.length);
  const csp = source.content_security_policy.extension_pages;
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.doesNotMatch(csp, /https?:|unsafe-inline|'unsafe-eval'/);
  assert.equal(source.host_permissions, undefined, 'no host access in the package manifest source');
});

test('each browser gets its own manifest; packages drop the development key', { skip: !built && 'run make extension' }, () => {
  const chrome = JSON.parse(fs.readFileSync(path.join(dist, 'chrome/manifest.json'), 'utf8'));
  const firefox = JSON.parse(fs.readFileSync(path.join(dist, 'firefox/manifest.json'), 'utf8'));
  assert.equal(chrome.key, source.key);
  assert.equal(chrome.browser_specific_settings, undefined);
  assert.deepEqual(chrome.cross_origin_embedder_policy, { value: 'require-corp' });
  assert.equal(firefox.key, undefined);
  assert.equal(firefox.browser_specific_settings.gecko.id, ids.firefox);
  assert.ok(!firefox.permissions.includes('offscreen'));
  for (const [name, file] of [['chrome', 'sotto-chrome.zip'], ['firefox', 'sotto-firefox.xpi']]) {
    const zip = path.join(dist, file);
    execFileSync('unzip', ['-tq', zip]); // throws on a damaged archive
    const listing = execFileSync('unzip', ['-Z1', zip]).toString().split('\n').filter(Boolean);
    // the single-threaded engine in both; Chrome's threaded one besides
    for (const f of ['manifest.json', 'src/background.js', 'engine/light/sotto.wasm', 'engine/light/sotto.mjs', 'vendor/Readability.js', 'models/catalogue.json']) {
      assert.ok(listing.includes(f), `${file} holds ${f}`);
    }
    if (name === 'chrome') for (const f of ['engine/sotto.wasm', 'engine/sotto.mjs', 'engine/sotto.worker.js']) assert.ok(listing.includes(f), `${file} holds ${f}`);
    const m = JSON.parse(execFileSync('unzip', ['-p', zip, 'manifest.json']).toString());
    assert.equal(m.key, undefined, `${file}: no development key`);
    assert.equal(m.host_permissions, undefined, `${file}: no host access`);
    // Every file in the unpacked build is in the package, byte for byte.
    for (const f of listing) {
      if (f === 'manifest.json') continue;
      assert.deepEqual(execFileSync('unzip', ['-p', zip, f], { maxBuffer: 1 << 28 }), fs.readFileSync(path.join(dist, name, f)), f);
    }
  }
});

const MiB = 1 << 20;
const settings = (s = {}) => ({ routing: 'auto', budgetMiB: 1024, pinnedNative: [], ...s });

test('the router keeps small models in the browser and sends big ones to the host', () => {
  const small = { id: 'small', runs_in: 'both', memory_bytes: 100 * MiB };
  const big = { id: 'big', runs_in: 'both', memory_bytes: 3000 * MiB };
  assert.equal(route(small, settings()).where, 'browser');
  assert.equal(route(big, settings()).where, 'native');
  assert.match(route(big, settings()).reason, /3000 MiB, over the browser budget of 1024 MiB/);
  assert.equal(route(small, settings({ budgetMiB: 64 })).where, 'native');
  assert.equal(route(small, settings({ pinnedNative: ['small'] })).where, 'native');
  assert.equal(route(big, settings({ routing: 'browser' })).where, 'browser', 'the user may insist');
  assert.equal(route(small, settings({ routing: 'native' })).where, 'native');
});

test('the router respects where a model can run', () => {
  const nativeOnly = { id: 'n', runs_in: 'native', memory_bytes: 1 };
  const browserOnly = { id: 'b', runs_in: 'browser', memory_bytes: 5000 * MiB };
  assert.equal(route(nativeOnly, settings()).where, 'native');
  assert.equal(route(browserOnly, settings()).where, 'browser');
  assert.equal(route(nativeOnly, settings({ routing: 'browser' })).where, null);
  assert.equal(route(browserOnly, settings({ routing: 'native' })).where, null);
});

test('memory estimates fall back to twice the file size', () => {
  assert.equal(memoryBytes({ memory_bytes: 5, bytes: 100 }), 5);
  assert.equal(memoryBytes({ memory_bytes: 0 }), 0);
  assert.equal(memoryBytes({ memory_bytes: null, bytes: 10 }), 20);
  assert.equal(memoryBytes({ bytes: 10 }), 20);
  assert.equal(memoryBytes({}), 0);
});
