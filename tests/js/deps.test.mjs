// build/fetch-deps.sh must refuse a source whose sha256 differs from the lock
// file, naming the file, and accept the pinned one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from './helpers.mjs';

const lock = readFileSync(path.join(root, 'build/deps.lock'), 'utf8');
const cjson = lock.split('\n').find((l) => l.startsWith('cjson '));
const [, , file, sha] = cjson.split(/\s+/);

function fetchWith(lockText) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sotto-deps-'));
  writeFileSync(path.join(dir, 'deps.lock'), lockText);
  return { dir, r: spawnSync('sh', [path.join(root, 'build/fetch-deps.sh'), path.join(dir, 'deps.lock'), path.join(dir, 'out')], { encoding: 'utf8' }) };
}

test('a wrong sha256 stops the fetch and names the file', () => {
  const wrong = sha.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  const { r } = fetchWith(cjson.replace(sha, wrong) + '\n');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`sha256 mismatch for ${file.replace(/[.~]/g, '\\$&')}`));
  assert.match(r.stderr, new RegExp(`expected ${wrong}`));
  assert.match(r.stderr, new RegExp(`got +${sha}`));
});

test('the pinned sha256 is accepted and the source unpacked', () => {
  const { dir, r } = fetchWith(cjson + '\n');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(path.join(dir, 'out/src/cjson/cJSON.c')));
});
