// The host's encrypted model store, through the real binary: installs over
// native messaging (chunks, progress, sha256), on-demand loading into the
// engine, the command line, tampering on disk, a killed install, the
// passphrase mode, and an independent reader of the file format (PyNaCl).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HostClient, makeHome, hostBin, hostCli } from './host-client.mjs';
import { root } from './helpers.mjs';

const skip = fs.existsSync(hostBin) ? false : 'out/native/native-host/sotto-host is not built (make native)';
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const pynacl = spawnSync('/usr/bin/python3', ['-c', 'import nacl.bindings']).status === 0;

// Sends a file to the host in install chunks; returns the replies.
async function install(h, id, bytes, { chunk = 256 * 1024, sha = sha256(bytes), task = 'sentiment', format = 'fasttext' } = {}) {
  const begin = await h.request({ id: `${id}-begin`, op: 'host.models.install.begin', model: id, format, task, size: bytes.length, sha256: sha, source: 'test' });
  if (begin.error) return { begin };
  const progress = [];
  for (let seq = 0, off = 0; off < bytes.length || seq === 0; seq++, off += chunk) {
    const r = await h.request({ id: `${id}-c${seq}`, op: 'host.models.install.chunk', model: id, seq, data: bytes.subarray(off, off + chunk).toString('base64') });
    if (r.error) return { begin, progress, error: r };
    progress.push(r.result);
  }
  const end = await h.request({ id: `${id}-end`, op: 'host.models.install.end', model: id });
  return { begin, progress, end };
}

const files = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

// A tiny fastText sentiment model trained by Debian's fasttext, and its
// own predictions as the reference.
function trainModel(dir) {
  const lines = [];
  const pos = ['good', 'great', 'lovely', 'excellent', 'happy', 'fine'];
  const neg = ['bad', 'awful', 'poor', 'terrible', 'sad', 'broken'];
  for (let i = 0; i < 60; i++) {
    lines.push(`__label__pos ${pos[i % 6]} ${pos[(i + 1) % 6]} day`);
    lines.push(`__label__neg ${neg[i % 6]} ${neg[(i + 2) % 6]} day`);
  }
  fs.writeFileSync(path.join(dir, 'train.txt'), lines.join('\n') + '\n');
  execFileSync('fasttext', ['supervised', '-input', path.join(dir, 'train.txt'), '-output', path.join(dir, 'tiny'),
    '-dim', '8', '-epoch', '20', '-minCount', '1', '-wordNgrams', '2', '-bucket', '4000', '-thread', '1', '-seed', '1', '-verbose', '0']);
  return fs.readFileSync(path.join(dir, 'tiny.bin'));
}

function reference(dir, text) { // fasttext predict-prob, top 2
  const out = execFileSync('fasttext', ['predict-prob', path.join(dir, 'tiny.bin'), '-', '2'], { input: text + '\n', encoding: 'utf8' });
  const w = out.trim().split(/\s+/);
  return [{ label: w[0].replace('__label__', ''), prob: Number(w[1]) }, { label: w[2].replace('__label__', ''), prob: Number(w[3]) }];
}

test('install over native messaging, list, load on demand, classify, delete', { skip }, async (t) => {
  const { home, env, modelsDir } = makeHome();
  const h = new HostClient({ env });
  const fasttext = has('fasttext');
  const model = fasttext ? trainModel(home) : crypto.randomBytes(300000);
  const r = await install(h, 'tiny-sent', model, { chunk: 64 * 1024 });
  assert.ok(r.end.result?.installed, JSON.stringify(r.end));
  // Progress: bytes done over total, rising to the whole size.
  assert.equal(r.begin.result.total, model.length);
  assert.deepEqual(r.progress.map((p) => p.total), r.progress.map(() => model.length));
  assert.equal(r.progress.at(-1).done, model.length);
  assert.ok(r.progress.every((p, i) => i === 0 || p.done > r.progress[i - 1].done));
  assert.deepEqual(files(modelsDir), ['tiny-sent.sotto']);
  assert.equal(fs.statSync(path.join(modelsDir, 'tiny-sent.sotto')).mode & 0o777, 0o600);
  // The plaintext is nowhere in the store.
  const sealed = fs.readFileSync(path.join(modelsDir, 'tiny-sent.sotto'));
  const mid = model.length >> 1;
  assert.ok(model.length > 64 && sealed.indexOf(model.subarray(mid - 16, mid + 16)) === -1);

  const list = (await h.request({ id: 'l', op: 'host.models.list' })).result.models;
  assert.equal(list.length, 1);
  assert.deepEqual({ ...list[0] }, {
    id: 'tiny-sent', format: 'fasttext', task: 'sentiment', size: model.length, sha256: sha256(model),
    source: 'test', runs_in: 'both', loaded: false,
  });

  if (fasttext) {
    for (const [i, text] of ['good great day', 'terrible awful', 'a fine but broken thing'].entries()) {
      const c = await h.request({ id: `cl${i}`, op: 'classify', model: 'tiny-sent', text, top_k: 2 });
      const want = reference(home, text);
      assert.deepEqual(c.result.labels.map((l) => l.label), want.map((l) => l.label), JSON.stringify(c));
      c.result.labels.forEach((l, k) => assert.ok(Math.abs(l.prob - want[k].prob) < 2e-3, `${l.prob} vs ${want[k].prob}`));
    }
    // No "model": the engine's default for the task (sotto_model_default:
    // "sentiment-en") is loaded from the store when it is installed there.
    assert.ok((await install(h, 'sentiment-en', model)).end.result?.installed);
    const c = await h.request({ id: 'task', op: 'classify', task: 'sentiment', text: 'good great day', top_k: 1 });
    assert.equal(c.result.model, 'sentiment-en');
    assert.equal(c.result.labels[0].label, reference(home, 'good great day')[0].label, JSON.stringify(c));
    const l2 = (await h.request({ id: 'l2', op: 'host.models.list' })).result.models;
    assert.equal(l2.find((m) => m.id === 'sentiment-en').loaded, true);
    assert.equal((await h.request({ id: 'd0', op: 'host.models.delete', model: 'sentiment-en' })).result.deleted, true);
  } else {
    t.diagnostic('fasttext is not installed: classification with the installed model not checked');
    const c = await h.request({ id: 'cl', op: 'classify', model: 'tiny-sent', text: 'x' });
    assert.equal(c.error.code, 'unsupported_format'); // random bytes are no fastText model
  }
  const d = await h.request({ id: 'd', op: 'host.models.delete', model: 'tiny-sent' });
  assert.equal(d.result.deleted, true);
  assert.deepEqual(files(modelsDir), []);
  const gone = await h.request({ id: 'gone', op: 'classify', model: 'tiny-sent', text: 'good' });
  assert.equal(gone.error.code, 'model_not_found');
  assert.equal((await h.request({ id: 'd2', op: 'host.models.delete', model: 'tiny-sent' })).error.code, 'model_not_found');
  await h.close();
});

test('installs are verified: sha256, size, sequence; failures leave nothing', { skip }, async () => {
  const { env, modelsDir } = makeHome();
  const h = new HostClient({ env });
  const bytes = crypto.randomBytes(100000);
  let r = await install(h, 'wrong-sha', bytes, { sha: sha256(Buffer.from('something else')) });
  assert.equal(r.end.error.code, 'sha256_mismatch');
  r = await install(h, 'short', bytes, { chunk: 40000, sha: sha256(bytes) });
  assert.ok(r.end.result.installed);
  // Declared size larger than what is sent: refused at the end.
  const begin = await h.request({ id: 'b', op: 'host.models.install.begin', model: 'trunc', format: 'gguf', size: 10, sha256: sha256(Buffer.alloc(10)) });
  assert.ok(begin.result);
  await h.request({ id: 'c', op: 'host.models.install.chunk', model: 'trunc', seq: 0, data: Buffer.alloc(5).toString('base64') });
  assert.equal((await h.request({ id: 'e', op: 'host.models.install.end', model: 'trunc' })).error.code, 'size_mismatch');
  // Too much data: refused at the chunk.
  await h.request({ id: 'b2', op: 'host.models.install.begin', model: 'over', format: 'gguf', size: 4, sha256: sha256(Buffer.alloc(4)) });
  assert.equal((await h.request({ id: 'c2', op: 'host.models.install.chunk', model: 'over', seq: 0, data: Buffer.alloc(5).toString('base64') })).error.code, 'size_mismatch');
  // Out of sequence, or not base64: the install is aborted.
  await h.request({ id: 'b3', op: 'host.models.install.begin', model: 'seq', format: 'gguf', size: 4, sha256: sha256(Buffer.alloc(4)) });
  assert.equal((await h.request({ id: 'c3', op: 'host.models.install.chunk', model: 'seq', seq: 1, data: 'AAAA' })).error.code, 'bad_sequence');
  assert.equal((await h.request({ id: 'c4', op: 'host.models.install.chunk', model: 'seq', seq: 0, data: 'AAAA' })).error.code, 'no_install');
  await h.request({ id: 'b4', op: 'host.models.install.begin', model: 'b64', format: 'gguf', size: 4, sha256: sha256(Buffer.alloc(4)) });
  assert.equal((await h.request({ id: 'c5', op: 'host.models.install.chunk', model: 'b64', seq: 0, data: '!!!!' })).error.code, 'bad_request');
  // Abort.
  await h.request({ id: 'b5', op: 'host.models.install.begin', model: 'abort', format: 'gguf', size: 4, sha256: sha256(Buffer.alloc(4)) });
  assert.equal((await h.request({ id: 'a5', op: 'host.models.install.abort', model: 'abort' })).result.aborted, true);
  assert.deepEqual(files(modelsDir), ['short.sotto']);
  await h.close();
});

test('a killed install leaves no model; its temp file is removed on the next start', { skip }, async () => {
  const { env, modelsDir } = makeHome();
  const h = new HostClient({ env });
  const bytes = crypto.randomBytes(3 << 20);
  await h.request({ id: 'b', op: 'host.models.install.begin', model: 'killed', format: 'gguf', size: bytes.length, sha256: sha256(bytes) });
  for (let seq = 0; seq < 2; seq++) {
    const r = await h.request({ id: `c${seq}`, op: 'host.models.install.chunk', model: 'killed', seq, data: bytes.subarray(seq << 20, (seq + 1) << 20).toString('base64') });
    assert.equal(r.result.done, (seq + 1) << 20);
  }
  h.proc.kill('SIGKILL');
  assert.equal((await h.exited).signal, 'SIGKILL');
  const left = files(modelsDir);
  assert.equal(left.length, 1);
  assert.match(left[0], /^\.killed\.\d+\.[0-9a-f]{8}\.tmp$/);
  assert.ok(!left.includes('killed.sotto'));
  // A live install of another host is not touched by a start-up clean-up...
  const a = new HostClient({ env });
  await a.request({ id: 'b', op: 'host.models.install.begin', model: 'alive', format: 'gguf', size: 1, sha256: sha256(Buffer.alloc(1)) });
  const b = new HostClient({ env });
  assert.deepEqual((await b.request({ id: 'l', op: 'host.models.list' })).result.models, []);
  const now = files(modelsDir);
  assert.equal(now.length, 1, `dead temp removed, live one kept: ${now}`);
  assert.match(now[0], /^\.alive\./);
  // ... and finishes.
  await a.request({ id: 'c', op: 'host.models.install.chunk', model: 'alive', seq: 0, data: 'AA==' });
  assert.ok((await a.request({ id: 'e', op: 'host.models.install.end', model: 'alive' })).result.installed);
  assert.deepEqual(files(modelsDir), ['alive.sotto']);
  await a.close();
  await b.close();
});

test('tampering on disk is refused and nothing is loaded', { skip }, async () => {
  const { env, modelsDir, home } = makeHome();
  const bytes = crypto.randomBytes(2.5 * (1 << 20));
  let h = new HostClient({ env });
  assert.ok((await install(h, 'victim', bytes, { chunk: 1 << 20, format: 'gguf' })).end.result.installed);
  await h.close();
  const file = path.join(modelsDir, 'victim.sotto');
  const good = fs.readFileSync(file);
  const cases = [
    ['bit flip in chunk 2', (b) => { b[good.length - (1 << 20)] ^= 1; return b; }, 'tampered'],
    ['bit flip in the manifest', (b) => { b[80] ^= 1; return b; }, 'tampered'],
    ['bit flip in the header', (b) => { b[20] ^= 1; return b; }, 'tampered'],
    ['truncated', (b) => b.subarray(0, b.length - 100), 'truncated'],
    ['appended', (b) => Buffer.concat([b, Buffer.from('x')]), 'tampered'],
  ];
  for (const [what, change, code] of cases) {
    fs.writeFileSync(file, change(Buffer.from(good)));
    const r = spawnSync(hostBin, ['models', 'verify', 'victim'], { env, encoding: 'utf8' });
    assert.notEqual(r.status, 0, what);
    assert.match(r.stderr, new RegExp(`\\(${code}\\)`), `${what}: ${r.stderr}`);
  }
  // Over the port, a request naming a damaged model gets the store's error
  // (the engine never sees the bytes: here the format is not even loadable).
  fs.writeFileSync(file, cases[0][1](Buffer.from(good)));
  h = new HostClient({ env });
  assert.equal((await h.request({ id: 1, op: 'classify', model: 'victim', text: 'x' })).error.code, 'tampered');
  await h.close();
  // Another key: the file is refused as sealed with a different key.
  fs.writeFileSync(file, good);
  assert.match(hostCli(env, ['models', 'verify', 'victim']), /victim: ok/);
  const keyFile = path.join(home, '.config/sotto/store.key');
  fs.writeFileSync(keyFile, `sotto-store-key 1\nkey ${crypto.randomBytes(32).toString('hex')}\n`);
  const r = spawnSync(hostBin, ['models', 'verify', 'victim'], { env, encoding: 'utf8' });
  assert.match(r.stderr, /\(wrong_key\)/);
});

test('command line: models add / list / verify / delete; key file and folders private', { skip }, async () => {
  const { env, home, modelsDir } = makeHome();
  const file = path.join(home, 'lid-mini.gguf'); // the name says GGUF, the content fastText
  const bytes = crypto.randomBytes(1.5 * (1 << 20));
  bytes.writeUInt32LE(793712314, 0); // fastText's magic number
  fs.writeFileSync(file, bytes);
  // The format comes from the content: a contradicting --format is refused,
  // and so are bytes in no format without one.
  const wrong = spawnSync(hostBin, ['models', 'add', file, '--format', 'gguf'], { env, encoding: 'utf8' });
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /is a fasttext file, not gguf/);
  const noise = path.join(home, 'noise.ftz');
  fs.writeFileSync(noise, Buffer.alloc(4096, 7));
  const unknown = spawnSync(hostBin, ['models', 'add', noise], { env, encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /no model format sotto recognises/);
  const add = spawnSync(hostBin, ['models', 'add', file, '--task', 'language'], { env, encoding: 'utf8' });
  assert.equal(add.status, 0, add.stderr);
  assert.match(add.stdout, new RegExp(`installed lid-mini \\(fasttext, ${bytes.length} bytes, sha256 ${sha256(bytes)}\\)`));
  assert.match(add.stderr, /lid-mini: 100% \(1572864 of 1572864 bytes\)/); // progress
  const list = JSON.parse(hostCli(env, ['models', 'list', '--json']));
  assert.deepEqual(list.map((m) => [m.id, m.task, m.format, m.size, m.runs_in]), [['lid-mini', 'language', 'fasttext', bytes.length, 'both']]);
  assert.match(hostCli(env, ['models', 'list']), /lid-mini\s+language\s+fasttext\s+1572864\s+both/);
  assert.match(hostCli(env, ['models', 'verify', 'lid-mini']), new RegExp(sha256(bytes)));
  // Wrong expected sha256, bad ids: refused, nothing written.
  const bad = spawnSync(hostBin, ['models', 'add', file, '--id', 'other', '--sha256', '0'.repeat(64)], { env, encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.equal(spawnSync(hostBin, ['models', 'add', file, '--id', '../evil'], { env }).status, 2);
  assert.equal(spawnSync(hostBin, ['models', 'delete', '../../x'], { env }).status, 1);
  assert.deepEqual(files(modelsDir), ['lid-mini.sotto']);
  // Private: key 0600, folders 0700.
  assert.equal(fs.statSync(path.join(home, '.config/sotto/store.key')).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.join(home, '.config/sotto')).mode & 0o777, 0o700);
  assert.equal(fs.statSync(modelsDir).mode & 0o777, 0o700);
  assert.match(hostCli(env, ['models', 'delete', 'lid-mini']), /deleted lid-mini/);
  assert.deepEqual(files(modelsDir), []);
});

test('the file format, read and written by an independent implementation (PyNaCl)', { skip: skip || (!pynacl && 'python3-nacl is not installed') }, async () => {
  const { env, home, modelsDir } = makeHome();
  const bytes = crypto.randomBytes((2 << 20) + 12345);
  bytes.write('GGUF', 0, 'latin1');
  const file = path.join(home, 'm.gguf');
  fs.writeFileSync(file, bytes);
  hostCli(env, ['models', 'add', file, '--task', 'generate']);
  const keyFile = path.join(home, '.config/sotto/store.key');
  const reader = path.join(root, 'tests/store/open_store.py');
  const [manifest, digest] = execFileSync('/usr/bin/python3', [reader, keyFile, path.join(modelsDir, 'm.sotto')], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(digest, sha256(bytes));
  assert.deepEqual(JSON.parse(manifest), { id: 'm', format: 'gguf', task: 'generate', size: bytes.length, sha256: sha256(bytes) });
  // A file sealed by the reference opens in the host (chunks of 64 KiB).
  const m2 = JSON.stringify({ id: 'ref', format: 'gguf', size: bytes.length, sha256: sha256(bytes) });
  execFileSync('/usr/bin/python3', [reader, '--seal', keyFile, file, m2, path.join(modelsDir, 'ref.sotto'), '65536']);
  assert.match(hostCli(env, ['models', 'verify', 'ref']), new RegExp(`ref: ok, ${bytes.length} bytes, sha256 ${sha256(bytes)}`));
});

test('passphrase store: locked until unlocked, wrong passphrase refused', { skip }, async () => {
  const { env, home } = makeHome();
  const pass = 'a long test passphrase';
  const init = spawnSync(hostBin, ['store', 'init', '--passphrase'], { env: { ...env, SOTTO_PASSPHRASE: pass }, encoding: 'utf8' });
  assert.equal(init.status, 0, init.stderr);
  const keyText = fs.readFileSync(path.join(home, '.config/sotto/store.key'), 'utf8');
  assert.match(keyText, /^sotto-store-key 1\nargon2id [0-9a-f]{32} 2 65536 [0-9a-f]{32}\n$/);
  assert.ok(!keyText.includes(pass));
  // A second init does not replace the key.
  assert.notEqual(spawnSync(hostBin, ['store', 'init', '--passphrase'], { env: { ...env, SOTTO_PASSPHRASE: 'another passphrase' } }).status, 0);

  const h = new HostClient({ env });
  const hello = await h.request({ id: 'h', op: 'host.hello' });
  assert.deepEqual([hello.result.store.mode, hello.result.store.locked], ['passphrase', true]);
  assert.equal((await h.request({ id: 'l', op: 'host.models.list' })).error.code, 'store_locked');
  assert.equal((await h.request({ id: 'u1', op: 'host.store.unlock', passphrase: 'wrong passphrase' })).error.code, 'wrong_passphrase');
  assert.equal((await h.request({ id: 'u2', op: 'host.store.unlock', passphrase: pass })).result.unlocked, true);
  const bytes = crypto.randomBytes(5000);
  assert.ok((await install(h, 'secret', bytes, { format: 'gguf' })).end.result.installed);
  await h.close();
  // The command line takes the passphrase from the environment.
  assert.match(hostCli({ ...env, SOTTO_PASSPHRASE: pass }, ['models', 'verify', 'secret']), /secret: ok/);
  const wrong = spawnSync(hostBin, ['models', 'verify', 'secret'], { env: { ...env, SOTTO_PASSPHRASE: 'nope nope nope' }, encoding: 'utf8' });
  assert.match(wrong.stderr, /wrong_passphrase/);
});
