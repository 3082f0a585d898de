// One failure, one code, wherever it happens: the same malformed and
// impossible requests (flows.ERROR_CASES: bad JSON, an unknown op, an
// unknown model, a damaged model file, a model over the memory budget) go to
// the native CLI, both wasm engines (engine.mjs, in node), the native host
// (the real process over its stdin/stdout) and the extension's background
// in real Chromium, and each must answer with the code the engine's status
// list gives that failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromiumDriver, startServer, nativeCli, root, tmpdir, sha256, CHROMIUM, dist } from './helpers.mjs';
import * as flows from './flows.mjs';
import { HostClient, makeHome, hostBin, frame } from '../js/host-client.mjs';

const ready = fs.existsSync(CHROMIUM) && fs.existsSync(path.join(dist, 'chrome/manifest.json')) &&
  fs.existsSync(nativeCli) && fs.existsSync(hostBin) && flows.haveModels;
const skip = !ready && 'needs chromium, make extension, make native and make models';
const want = flows.ERROR_CASES.map((c) => c.code);

let dir, damaged, server;
before(() => {
  if (skip) return;
  dir = tmpdir('errors');
  damaged = flows.damagedModel(dir);
});
after(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// The CLI: requests on stdin; models that cannot be registered are reported
// as error replies too.
function cli(args, input = '') {
  const r = spawnSync(nativeCli, [...args, 'request'], { input, encoding: 'utf8' });
  const last = r.stdout.trim().split('\n').pop();
  return JSON.parse(last).error?.code ?? 'none';
}

function cliCodes() {
  const classify = (model) => `${JSON.stringify({ id: 1, op: 'classify', model, text: 'Bonjour à tous' })}\n`;
  return [
    cli([], '{"id":1,"op":\n'),
    cli([], '{"id":2,"op":"nope"}\n'),
    cli([], classify('nope')),
    cli(['--model', `damaged=${damaged}`], classify('damaged')),
    cli(['--memory-budget', String(flows.BUDGET_BYTES), '--model', `lid176=${flows.MODELS.lid176}`], classify('lid176')),
  ];
}

// Both wasm engines, in a node that runs their glue (it needs
// --no-experimental-fetch, which these browser tests cannot have).
function wasmCodes(flavour) {
  const r = spawnSync(process.execPath, ['--no-experimental-fetch', path.join(root, 'tests/e2e/errors-wasm.mjs'),
    flavour, damaged, flows.MODELS.lid176, String(flows.BUDGET_BYTES)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// The native host: models are installed in its store over the protocol, then
// named in requests; the budget comes from $SOTTO_HOST_MEMORY_BUDGET.
async function hostCodes() {
  const { env } = makeHome('sotto-errors-');
  const h = new HostClient({ env: { ...env, SOTTO_HOST_MEMORY_BUDGET: String(flows.BUDGET_BYTES) } });
  const install = async (id, file) => {
    const bytes = fs.readFileSync(file);
    const b = await h.request({ id: `${id}-b`, op: 'host.models.install.begin', model: id, format: 'fasttext', size: bytes.length, sha256: sha256(file) });
    assert.ok(b.result, JSON.stringify(b));
    for (let seq = 0; seq * (1 << 19) < bytes.length; seq++) {
      const c = await h.request({ id: `${id}-c${seq}`, op: 'host.models.install.chunk', model: id, seq,
        data: bytes.subarray(seq << 19, (seq + 1) << 19).toString('base64') });
      assert.ok(c.result, JSON.stringify(c));
    }
    assert.ok((await h.request({ id: `${id}-e`, op: 'host.models.install.end', model: id })).result);
  };
  await install('damaged', damaged);
  await install('lid176', flows.MODELS.lid176);
  h.send(frame('{"id":1,"op":'));
  const codes = [(await h.wait((m) => m.id === null && m.error)).error.code];
  for (const [i, req] of [{ op: 'nope' }, { op: 'classify', model: 'nope', text: 'x' },
    { op: 'classify', model: 'damaged', text: 'x' }, { op: 'classify', model: 'lid176', text: 'x' }].entries()) {
    codes.push((await h.request({ id: `r${i}`, ...req })).error?.code ?? 'none');
  }
  await h.close();
  return codes;
}

test('the same bad requests get the same codes from the CLI, wasm, the host and the extension', { skip }, async () => {
  const got = { cli: cliCodes() };
  for (const flavour of ['wasm-simd', 'wasm-simd-threads']) got[flavour] = wasmCodes(flavour);
  got.host = await hostCodes();
  server = await startServer(flows.routes());
  const { browser, drv } = await chromiumDriver(server);
  try {
    got.extension = await flows.errorCodes(drv, `${server.base}/models/damaged.ftz`, flows.damagedSha256());
  } finally {
    await browser.close();
  }
  for (const [i, c] of flows.ERROR_CASES.entries()) {
    console.log(`# ${c.name.padEnd(20)} ${Object.entries(got).map(([k, v]) => `${k} ${v[i]}`).join(', ')}`);
  }
  for (const [where, codes] of Object.entries(got)) assert.deepEqual(codes, want, where);
});
