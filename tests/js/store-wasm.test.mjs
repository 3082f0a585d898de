// The encrypted store layer exported from the wasm builds (the extension's
// cache) and the native host's store read each other's files: one format,
// one implementation, two builds. Tampering is refused in wasm as natively.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { flavours, loadEngine } from './helpers.mjs';
import { makeHome, hostBin, hostCli } from './host-client.mjs';

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

// Thin calls to the raw exports (buffer API).
function wasmStore(mod) {
  const heap = () => mod.HEAPU8;
  const u32 = (p) => new DataView(mod.HEAPU8.buffer).getUint32(p, true);
  const put = (bytes) => { const p = mod._malloc(Math.max(1, bytes.length)); heap().set(bytes, p); return p; };
  const str = (s) => { const n = mod.lengthBytesUTF8(s) + 1; const p = mod._malloc(n); mod.stringToUTF8(s, p, n); return p; };
  const take = (p) => { const s = mod.UTF8ToString(p); mod._sotto_string_free(p); return s; };
  const ERROR_BYTES = 4 + 512; // struct sotto_error: int32 status, message
  const errorCode = (p) => mod.UTF8ToString(mod._sotto_status_code(new DataView(mod.HEAPU8.buffer).getInt32(p, true)));
  return {
    seal(key, manifest, bytes) {
      const k = put(key), m = str(JSON.stringify(manifest)), d = put(bytes), outp = mod._malloc(4), lenp = mod._malloc(4), errp = mod._malloc(ERROR_BYTES);
      try {
        const rc = mod._sotto_store_seal(k, m, d, bytes.length, outp, lenp, errp);
        if (rc !== 0) throw new Error(`${errorCode(errp)}: ${mod.UTF8ToString(errp + 4)}`);
        const p = u32(outp);
        const sealed = heap().slice(p, p + u32(lenp));
        mod._sotto_string_free(p);
        return sealed;
      } finally { [k, m, d, outp, lenp, errp].forEach((p) => mod._free(p)); }
    },
    open(key, sealed) { // {code} or {bytes, manifest}
      const k = put(key), s = put(sealed), pp = mod._malloc(4), lenp = mod._malloc(4), mp = mod._malloc(4), errp = mod._malloc(ERROR_BYTES);
      try {
        if (mod._sotto_store_open(k, s, sealed.length, pp, lenp, mp, errp) !== 0) return { code: errorCode(errp) };
        const p = u32(pp);
        const bytes = heap().slice(p, p + u32(lenp));
        mod._sotto_string_free(p);
        return { bytes, manifest: JSON.parse(take(u32(mp))) };
      } finally { [k, s, pp, lenp, mp, errp].forEach((p) => mod._free(p)); }
    },
    keygen() { const p = mod._malloc(32); mod._sotto_store_keygen(p); const k = heap().slice(p, p + 32); mod._free(p); return k; },
    keyFromPassphrase(pass, salt, ops, memKiB) {
      const p = mod._malloc(32), s = put(salt), pw = str(pass);
      try {
        assert.equal(mod._sotto_store_key_from_passphrase(p, pw, mod.lengthBytesUTF8(pass), s, ops, memKiB), 0);
        return heap().slice(p, p + 32);
      } finally { [p, s, pw].forEach((x) => mod._free(x)); }
    },
  };
}

for (const flavour of Object.keys(flavours)) {
  const built = fs.existsSync(flavours[flavour]) && fs.existsSync(hostBin);
  test(`store files move between ${flavour} and the native host`, { skip: !built && `${flavour} or the host is not built` }, async () => {
    const engine = await loadEngine(flavour);
    const st = wasmStore(engine.mod);
    try {
      const { env, home, modelsDir } = makeHome('sotto-wasm-store-');
      // The native store's key, created by the host on first use.
      hostCli(env, ['models', 'list']);
      const keyHex = fs.readFileSync(path.join(home, '.config/sotto/store.key'), 'utf8').match(/key ([0-9a-f]{64})/)[1];
      const key = Buffer.from(keyHex, 'hex');

      // wasm seals (3 chunks), the host opens and verifies.
      const bytes = crypto.randomBytes((2 << 20) + 777);
      const manifest = { id: 'from-wasm', format: 'gguf', task: 'test', size: bytes.length, sha256: sha256(bytes) };
      fs.writeFileSync(path.join(modelsDir, 'from-wasm.sotto'), st.seal(key, manifest, bytes));
      assert.match(hostCli(env, ['models', 'verify', 'from-wasm']), new RegExp(`ok, ${bytes.length} bytes, sha256 ${sha256(bytes)}`));

      // The host seals, wasm opens.
      const file = path.join(home, 'native.bin');
      const other = crypto.randomBytes(1234567);
      fs.writeFileSync(file, other);
      hostCli(env, ['models', 'add', file, '--id', 'from-native', '--format', 'fasttext', '--task', 'language']);
      const sealed = fs.readFileSync(path.join(modelsDir, 'from-native.sotto'));
      const opened = st.open(key, sealed);
      assert.ok(opened.bytes && Buffer.from(opened.bytes).equals(other));
      assert.deepEqual(opened.manifest, { id: 'from-native', format: 'fasttext', task: 'language', size: other.length, sha256: sha256(other) });

      // Tampering and wrong keys refused in wasm.
      const flip = Buffer.from(sealed);
      flip[flip.length - 5] ^= 1;
      assert.equal(st.open(key, flip).code, 'tampered');
      assert.equal(st.open(key, sealed.subarray(0, sealed.length - 17)).code, 'truncated');
      assert.equal(st.open(st.keygen(), sealed).code, 'wrong_key');
      // Throughput, printed (16 MiB, buffer API, sha256 included).
      const big = crypto.randomBytes(16 << 20);
      const bm = { id: 'speed', format: 'gguf', size: big.length, sha256: sha256(big) };
      const t0 = performance.now();
      const bs = st.seal(key, bm, big);
      const t1 = performance.now();
      assert.equal(st.open(key, bs).bytes.length, big.length);
      const t2 = performance.now();
      console.log(`# ${flavour} store: seal ${(16.78 / ((t1 - t0) / 1000)).toFixed(0)} MB/s, open ${(16.78 / ((t2 - t1) / 1000)).toFixed(0)} MB/s (16 MiB, with copies in and out of the heap)`);
      // Data that does not match the manifest's sha256 is not sealed.
      assert.throws(() => st.seal(key, { ...manifest, sha256: '0'.repeat(64) }, bytes), /sha256_mismatch/);
    } finally {
      engine.destroy();
    }
  });

  test(`Argon2id in ${flavour} matches Debian's reference argon2`, { skip: !fs.existsSync(flavours[flavour]) && `${flavour} is not built` }, async () => {
    const engine = await loadEngine(flavour);
    try {
      const key = wasmStore(engine.mod).keyFromPassphrase('correct horse battery staple', Buffer.from('sotto-salt-16byt'), 2, 8192);
      let want = 'b1d8cac68ac017ec621dc0f891d41e2b223f7e83a9e2a12007cce47462c5398f'; // see tests/c/test_store.c
      const ref = spawnSync('argon2', ['sotto-salt-16byt', '-id', '-t', '2', '-m', '13', '-p', '1', '-l', '32', '-r'], { input: 'correct horse battery staple', encoding: 'utf8' });
      if (ref.status === 0) want = ref.stdout.trim();
      assert.equal(Buffer.from(key).toString('hex'), want);
    } finally {
      engine.destroy();
    }
  });
}
