// The converter in both wasm builds: the same Hugging Face folder gives,
// byte for byte, the GGUF file the native `sotto convert` writes (which
// tests/c/test_convert.c proves identical to llama-quantize's), with
// progress, cancellation and clear errors; sharded weights convert as one
// file, and sentence-transformers' pooling module is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root, nativeCli, flavours, loadEngine } from './helpers.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'sotto-convert-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function make(family, name, args) {
  const r = spawnSync('/usr/bin/python3', [path.join(root, 'tests/models/make_hf_model.py'), family, path.join(dir, name), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return files(path.join(dir, name));
}

// A folder's files as the extension hands them over (one folder level down).
function files(folder, sub = '') {
  return readdirSync(path.join(folder, sub)).flatMap((f) => {
    const rel = sub ? `${sub}/${f}` : f;
    return statSync(path.join(folder, rel)).isDirectory() ? (sub ? [] : files(folder, rel))
      : [{ name: rel, bytes: readFileSync(path.join(folder, rel)) }];
  });
}

function native(name, type) {
  const outFile = path.join(dir, `${name}-${type}.gguf`);
  const r = spawnSync(nativeCli, ['convert', path.join(dir, name), outFile, '--type', type, '--weights-only'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(outFile);
}

const models = {
  llama: make('llama', 'llama', ['--untied', '--set', 'hidden_size=256', '--set', 'intermediate_size=512', '--set', 'num_attention_heads=8']),
  bert: make('bert', 'bert', ['--labels', 'neg,pos', '--dtype', 'bf16']),
  sharded: make('bert', 'sharded', ['--shards', '3', '--pooling', 'mean']),
};
make('bert', 'pooled', ['--pooling', 'mean']);

for (const flavour of Object.keys(flavours)) {
  test(`${flavour}: converts as the native build does`, async () => {
    const engine = await loadEngine(flavour, { threads: 1 });
    try {
      for (const [name, files] of Object.entries(models)) {
        for (const type of ['f16', 'q8_0', 'q4_k_m']) {
          const chunks = [];
          const seen = [];
          engine.convert(files, { type, weightsOnly: true }, (c) => { chunks.push(c); }, (done) => { seen.push(done); });
          const wasm = Buffer.concat(chunks);
          assert.ok(wasm.equals(native(name, type)), `${name} ${type}: wasm and native files differ`);
          assert.equal(seen.at(-1), 1);
          assert.ok(seen.every((d, i) => i === 0 || d >= seen[i - 1]), 'progress only grows');
        }
      }
      // sharded weights and a sentence-transformers pooling module
      const sharded = [];
      engine.convert(models.sharded, { type: 'q8_0', weightsOnly: true }, (c) => { sharded.push(c); });
      const one = native('pooled', 'q8_0');
      assert.ok(Buffer.concat(sharded).equals(one), 'three shards convert as one file does');
      assert.ok(one.includes('bert.pooling_type'), 'the pooling module is read');
      assert.throws(() => engine.convert(models.llama, { type: 'q4_k_m', weightsOnly: true }, () => {}, (done) => done > 0.3),
        (e) => e.code === 'cancelled');
      assert.throws(() => engine.convert(models.llama.filter((f) => f.name !== 'config.json'), { weightsOnly: true }, () => {}),
        (e) => e.code === 'bad_request' && /config\.json/.test(e.message));
      assert.throws(() => engine.convert(models.llama, { type: 'q4_k_m' }, () => {}),
        (e) => /tokenizer/.test(e.message));
    } finally {
      engine.destroy();
    }
  });
}
