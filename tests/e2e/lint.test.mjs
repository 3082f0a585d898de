// `web-ext lint` (Mozilla's add-on linter, from npm) on the Firefox build:
// no errors. Warnings are allowed; today they are two innerHTML assignments
// inside the vendored Readability.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { root, dist } from './helpers.mjs';

const dir = path.join(dist, 'firefox');
const webExt = path.join(root, 'node_modules/.bin/web-ext');

test('web-ext lint finds no errors in the Firefox build', { skip: (!fs.existsSync(dir) || !fs.existsSync(webExt)) && 'needs make extension and npm ci' }, () => {
  let outp;
  try {
    outp = execFileSync(webExt, ['lint', '--source-dir', dir, '--output', 'json'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  } catch (e) {
    outp = e.stdout; // exits nonzero on errors; the JSON says which
  }
  const report = JSON.parse(outp.slice(outp.indexOf('{')));
  assert.deepEqual(report.errors.map((e) => `${e.code} ${e.file ?? ''}: ${e.message}`), []);
  for (const w of report.warnings) assert.match(w.file ?? '', /^vendor\//, `unexpected warning: ${w.code} ${w.file}: ${w.message}`);
  console.log(`web-ext lint: ${report.summary.errors} errors, ${report.summary.warnings} warnings, ${report.summary.notices} notices`);
});
