// The extension's model-cache crypto (engine/wasm/engine.mjs over the wasm
// engine's sotto_store_*), run under node on both wasm builds: a model sealed
// in pieces opens to the same bytes (sha256 from node's crypto), and any
// change to the sealed bytes, a wrong key or a wrong sha256 is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { loadEngine } from './helpers.mjs';

const key = crypto.randomBytes(32).toString('base64');
const other = crypto.randomBytes(32).toString('base64');
const plain = crypto.randomBytes(3 * 1024 * 1024 + 12345); // several 1 MiB chunks and a short one
const sha = crypto.createHash('sha256').update(plain).digest('hex');
const manifest = { id: 'test-model', format: 'fasttext', task: 'language', size: plain.length, sha256: sha, source: 'test' };

function seal(engine, k = key, m = manifest, data = plain) {
  const s = engine.sealer(k, m);
  for (let off = 0; off < data.length; off += 200000) s.update(data.subarray(off, off + 200000));
  return Buffer.concat(s.finish());
}

function open(engine, sealed, k = key) {
  const { bytes, manifest: man } = engine.unseal(k, sealed);
  return { bytes: Buffer.from(bytes), man };
}

for (const flavour of ['wasm-simd', 'wasm-simd-threads']) {
  test(`${flavour}: sealed in pieces, opened whole, same bytes`, async (t) => {
    const engine = await loadEngine(flavour, { threads: 1 });
    t.after(() => engine.destroy());
    if (!engine.mod._sotto_store_seal_begin) return t.skip('this wasm build does not export sotto_store_*');
    const sealed = seal(engine);
    assert.equal(sealed.subarray(0, 8).toString(), 'SOTTOSTR');
    assert.ok(sealed.length > plain.length);
    assert.equal(sealed.indexOf(plain.subarray(1000, 1064)), -1, 'no plaintext in the sealed bytes');
    const { bytes, man } = open(engine, sealed);
    assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), sha);
    assert.equal(man.id, 'test-model');
    assert.equal(man.size, plain.length);

    // One flipped bit anywhere: header, manifest, a middle chunk, the tag of the last.
    for (const at of [10, 100, Math.floor(sealed.length / 2), sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at] ^= 0x01;
      assert.throws(() => open(engine, bad), (e) => ['tampered', 'not_a_store_file', 'unsupported_version', 'wrong_key'].includes(e.code), `flip at ${at}`);
    }
    assert.throws(() => open(engine, sealed.subarray(0, sealed.length - 100)), { code: 'truncated' });
    assert.throws(() => open(engine, sealed, other), { code: 'wrong_key' });
    assert.throws(() => seal(engine, key, { ...manifest, sha256: '0'.repeat(64) }), { code: 'sha256_mismatch' });
    assert.throws(() => engine.sealer(key, { ...manifest, id: '../escape' }), { code: 'bad_request' });
  });
}
