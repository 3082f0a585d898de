// native-host/install.sh in a temporary HOME: manifests where each browser
// reads them, with the installed binary's absolute path and the pinned ids;
// the installed host serves the pinned callers only (from its allow-list,
// not from any test override); bundled models added to the store; uninstall
// removes what install wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HostClient, makeHome, hostBin, chromeId, firefoxId } from './host-client.mjs';
import { root, out } from './helpers.mjs';

const skip = fs.existsSync(hostBin) ? false : 'out/native/native-host/sotto-host is not built (make native)';
const script = path.join(root, 'native-host/install.sh');
const NAME = 'org.sotto.host';
const lid = path.join(out, 'models/lid176.ftz');

function run(env, args) {
  const r = spawnSync('sh', [script, ...args], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('install.sh writes each browser\'s manifest; uninstall removes them', { skip }, async () => {
  const { home, env } = makeHome('sotto-install-');
  delete env.SOTTO_HOST_ALLOWED; // the installed host must use its own allow-list
  fs.mkdirSync(path.join(home, '.config/BraveSoftware/Brave-Browser'), { recursive: true });
  const stdout = run(env, ['--host', hostBin]);
  const bin = path.join(home, '.local/lib/sotto/sotto-host');
  assert.match(stdout, new RegExp(`installed ${bin}`));
  const places = {
    chrome: '.config/google-chrome/NativeMessagingHosts',
    chromium: '.config/chromium/NativeMessagingHosts',
    brave: '.config/BraveSoftware/Brave-Browser/NativeMessagingHosts',
    firefox: '.mozilla/native-messaging-hosts',
  };
  for (const [browser, dir] of Object.entries(places)) {
    const m = JSON.parse(fs.readFileSync(path.join(home, dir, `${NAME}.json`), 'utf8'));
    assert.equal(m.name, NAME);
    assert.equal(m.type, 'stdio');
    assert.equal(m.path, bin);
    assert.ok(path.isAbsolute(m.path));
    if (browser === 'firefox') assert.deepEqual(m.allowed_extensions, [firefoxId]);
    else assert.deepEqual(m.allowed_origins, [`chrome-extension://${chromeId}/`]);
  }
  // Edge and Vivaldi have no profile folder here: nothing written for them.
  assert.ok(!fs.existsSync(path.join(home, '.config/microsoft-edge')));
  assert.ok(!fs.existsSync(path.join(home, '.config/vivaldi')));
  // Host names: lowercase alphanumerics, dots and underscores only.
  assert.match(NAME, /^[a-z0-9_]+(\.[a-z0-9_]+)*$/);
  assert.equal(fs.statSync(bin).mode & 0o111, 0o111);
  assert.deepEqual(fs.readFileSync(`${bin}.allowed`, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')),
    [`chrome-extension://${chromeId}/`, firefoxId]);

  // The installed host serves the pinned Chrome origin and Firefox add-on...
  let h = new HostClient({ env, bin });
  assert.equal((await h.request({ id: 1, op: 'host.hello' })).result.caller, `chrome-extension://${chromeId}/`);
  await h.close();
  h = new HostClient({ env, bin, args: [path.join(home, places.firefox, `${NAME}.json`), firefoxId] });
  assert.equal((await h.request({ id: 1, op: 'host.hello' })).result.caller, firefoxId);
  await h.close();
  // ... and nobody else.
  h = new HostClient({ env, bin, args: ['chrome-extension://abcdefghijklmnopabcdefghijklmnop/'] });
  assert.equal((await h.exited).code, 1);

  // Installing again replaces in place; uninstall removes everything it wrote.
  run(env, ['--host', hostBin, '--browser', 'firefox']);
  const un = run(env, ['--uninstall']);
  for (const dir of Object.values(places)) {
    assert.ok(!fs.existsSync(path.join(home, dir, `${NAME}.json`)), `${dir} removed`);
    assert.match(un, new RegExp(`removed ${path.join(home, dir, `${NAME}.json`)}`));
  }
  assert.ok(!fs.existsSync(bin) && !fs.existsSync(`${bin}.allowed`));
});

test('install.sh --browser picks browsers; bad ids are refused; Windows commands printed', { skip }, () => {
  const { home, env } = makeHome('sotto-install-');
  run(env, ['--host', hostBin, '--browser', 'chromium', '--browser', 'edge']);
  assert.ok(fs.existsSync(path.join(home, '.config/chromium/NativeMessagingHosts', `${NAME}.json`)));
  assert.ok(fs.existsSync(path.join(home, '.config/microsoft-edge/NativeMessagingHosts', `${NAME}.json`)));
  assert.ok(!fs.existsSync(path.join(home, '.config/google-chrome')));
  assert.ok(!fs.existsSync(path.join(home, '.mozilla')));
  const bad = spawnSync('sh', [script, '--host', hostBin, '--chrome-id', 'NOT-AN-ID'], { env, encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /bad or missing Chrome extension id/);
  const win = run(env, ['--windows', path.join(home, 'win')]);
  assert.match(win, /REG ADD "HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\org\.sotto\.host" \/ve \/t REG_SZ \/d ".*org\.sotto\.host\.chrome\.json" \/f/);
  assert.match(win, /REG ADD "HKCU\\Software\\Mozilla\\NativeMessagingHosts\\org\.sotto\.host"/);
  const wm = JSON.parse(fs.readFileSync(path.join(home, 'win', `${NAME}.firefox.json`), 'utf8'));
  assert.deepEqual(wm.allowed_extensions, [firefoxId]);
});

test('install.sh --models adds the bundled models; the host classifies with them', { skip: skip || (!fs.existsSync(lid) && 'out/models/lid176.ftz not fetched (make models)') }, async () => {
  const { env } = makeHome('sotto-install-');
  delete env.SOTTO_HOST_ALLOWED;
  const stdout = run(env, ['--host', hostBin, '--models', path.dirname(lid)]);
  assert.match(stdout, /installed lid176 \(fasttext, 938013 bytes, sha256 8f3472cf/);
  assert.match(run(env, ['--host', hostBin, '--models', path.dirname(lid)]), /model lid176 is already installed/);
  const bin = path.join(env.HOME, '.local/lib/sotto/sotto-host');
  const list = JSON.parse(execFileSync(bin, ['models', 'list', '--json'], { env, encoding: 'utf8' }));
  const m = list.find((x) => x.id === 'lid176');
  assert.deepEqual([m.task, m.format, m.size, m.runs_in], ['language', 'fasttext', 938013, 'both']);
  const h = new HostClient({ env, bin });
  // No model named: the engine's default for the task (lid176), installed in
  // the store, is loaded on demand.
  const r = await h.request({ id: 'lang', op: 'classify', task: 'language', text: 'Der schnelle braune Fuchs springt über den faulen Hund', top_k: 1 });
  assert.equal(r.result.labels[0].label, 'de', JSON.stringify(r));
  const l = (await h.request({ id: 'l', op: 'host.models.list' })).result.models.find((x) => x.id === 'lid176');
  assert.equal(l.loaded, true);
  // "models.list" is the engine's op everywhere: the models registered in it.
  const e = (await h.request({ id: 'e', op: 'models.list' })).result.models;
  assert.deepEqual(e.map((x) => [x.id, x.format, x.arch]), [['lid176', 'fasttext', 'fasttext']]);
  await h.close();
});
