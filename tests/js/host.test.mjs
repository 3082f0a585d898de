// The native messaging host, spawned for real: round trip, results over
// 1 MB streamed in chunks under 1 MB, concurrent requests, cancel, the
// caller check, hostile input (run against the ASan/UBSan build too), and
// 10,000 requests over one port with flat memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  HostClient, makeHome, frame, origin, firefoxId, hostBin, hostBinSan, MB,
} from './host-client.mjs';

const have = fs.existsSync(hostBin);
const skip = have ? false : 'out/native/native-host/sotto-host is not built (make native)';

// c = a b in float32, as the engine computes it (a reference independent of the engine).
function matmul(a, [m, k], b, n) {
  const c = new Array(m * n).fill(0);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += Math.fround(a[i * k + p]) * Math.fround(b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

function close(x, y, tol = 1e-5) {
  return Math.abs(x - y) <= tol * Math.max(1, Math.abs(y));
}

test('round trip: hello, an engine op, ids echoed', { skip }, async () => {
  const { env } = makeHome();
  const h = new HostClient({ env });
  const hello = await h.request({ id: 'h1', op: 'host.hello' });
  assert.equal(hello.result.host, 'org.sotto.host');
  assert.equal(hello.result.protocol, 1);
  assert.equal(hello.result.caller, origin);
  assert.equal(hello.result.capabilities.flavour, 'native');
  assert.ok(hello.result.host_ops.includes('host.models.install.begin'));
  assert.ok(hello.result.host_ops.every((op) => op.startsWith('host.') || op === 'cancel'), 'host ops are host.*');
  assert.ok(hello.result.limits.max_message_out <= MB);
  assert.deepEqual(hello.result.models, []);
  assert.equal(hello.result.store.locked, false);

  const a = [1, 2, 3, 4, 5, 6], b = [0.5, -1, 2, 0.25, 3, 1];
  const r = await h.request({ id: 7, op: 'tensor.matmul', a: { shape: [2, 3], data: a }, b: { shape: [3, 2], data: b } });
  assert.deepEqual(r.result.shape, [2, 2]);
  matmul(a, [2, 3], b, 2).forEach((v, i) => assert.ok(close(r.result.data[i], v), `${r.result.data[i]} vs ${v}`));
  assert.equal(r.stats.ran, 'native');
  const u = await h.request({ id: 'u', op: 'no.such.op' });
  assert.equal(u.error.code, 'unknown_op');
  assert.deepEqual(await h.close(), { code: 0, signal: null });
  assert.doesNotMatch(h.stderr, /error|sanitizer/i);
});

test('a result over 1 MB arrives in chunk messages under 1 MB', { skip }, async () => {
  const { env } = makeHome();
  const h = new HostClient({ env });
  const m = 500, n = 500;
  const a = Array.from({ length: m }, (_, i) => Math.fround(Math.sin(i) * 0.7));
  const b = Array.from({ length: n }, (_, j) => Math.fround(Math.cos(j) * 1.3));
  const r = await h.request({ id: 'big', op: 'tensor.matmul', a: { shape: [m, 1], data: a }, b: { shape: [1, n], data: b } });
  assert.ok(r.__chunks >= 2, `chunked into ${r.__chunks} messages`);
  const text = JSON.stringify(r).length;
  assert.ok(text > MB, `the result is ${text} bytes`);
  assert.ok(Math.max(...h.frames) <= MB, `largest message ${Math.max(...h.frames)} bytes`);
  assert.deepEqual(r.result.shape, [m, n]);
  const want = matmul(a, [m, 1], b, n);
  let bad = 0;
  want.forEach((v, i) => { if (!close(r.result.data[i], v)) bad++; });
  assert.equal(bad, 0);
  console.log(`# ${text} bytes of JSON in ${r.__chunks} messages, largest ${Math.max(...h.frames)} bytes`);
  // The port is still in step afterwards.
  assert.equal((await h.request({ id: 'after', op: 'host.hello' })).result.host, 'org.sotto.host');
  await h.close();
});

test('three requests in flight at once; a slow one does not hold up the others', { skip }, async () => {
  const { env } = makeHome();
  const h = new HostClient({ env });
  const order = [];
  const ids = ['slow', 'quick1', 'quick2'];
  h.send({ id: 'slow', op: 'tensor.bench', m: 256, k: 1024, n: 1024, iterations: 300 });
  h.send({ id: 'quick1', op: 'tensor.matmul', a: { shape: [1, 2], data: [1, 2] }, b: { shape: [2, 1], data: [3, 4] } });
  h.send({ id: 'quick2', op: 'tensor.softmax', x: { shape: [3], data: [0, 0, 0] } });
  const replies = await Promise.all(ids.map((id) => h.reply(id, 60000).then((r) => (order.push(id), r))));
  assert.deepEqual(replies.map((r) => r.id), ids);
  assert.deepEqual(replies[1].result.data, [11]);
  replies[2].result.data.forEach((v) => assert.ok(close(v, 1 / 3)));
  assert.ok(replies[0].result.median_ms > 0);
  assert.equal(order[2], 'slow', `finished in order ${order}`);
  await h.close();
});

test('cancel stops a running request and frees its worker', { skip }, async () => {
  const { env } = makeHome();
  env.SOTTO_HOST_WORKERS = '1'; // so the next request can only run once the slow one stopped
  const h = new HostClient({ env });
  h.send({ id: 'slow', op: 'tensor.bench', m: 512, k: 2048, n: 2048, iterations: 1000, stream: true });
  await h.wait((m) => m.id === 'slow' && m.partial?.stage === 'bench');
  const t0 = Date.now();
  const c = await h.request({ id: 'c1', op: 'cancel', target: 'slow' });
  assert.deepEqual(c.result, { target: 'slow', cancelled: true });
  const r = await h.reply('slow');
  assert.equal(r.error.code, 'cancelled');
  const q = await h.request({ id: 'next', op: 'tensor.matmul', a: { shape: [1, 1], data: [2] }, b: { shape: [1, 1], data: [3] } });
  assert.deepEqual(q.result.data, [6]);
  const ms = Date.now() - t0;
  assert.ok(ms < 3000, `the worker was free again after ${ms} ms`);
  // Nothing more about the cancelled request after its final message.
  const final = h.messages.findIndex((m) => m.id === 'slow' && m.error);
  assert.equal(h.messages.slice(final + 1).filter((m) => m.id === 'slow').length, 0);
  // Cancelling what is not running says so.
  const c2 = await h.request({ id: 'c2', op: 'cancel', target: 'slow' });
  assert.equal(c2.result.cancelled, false);
  console.log(`# cancel to free worker: ${ms} ms`);
  await h.close();
});

test('callers not in the allow-list are refused', { skip }, async () => {
  const { env } = makeHome();
  for (const args of [['chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/'],
    ['/tmp/org.sotto.host.json', 'evil@example.com'],
    [`chrome-extension://${'a'.repeat(4000)}/`]]) {
    const h = new HostClient({ env, args });
    h.send({ id: 'x', op: 'host.hello' });
    const { code } = await h.exited;
    assert.equal(code, 1);
    assert.equal(h.messages.length, 1);
    assert.equal(h.messages[0].error.code, 'forbidden_caller');
    assert.match(h.stderr, /refused caller/);
  }
  // No allow-list at all: refused too.
  const h = new HostClient({ env: { ...env, SOTTO_HOST_ALLOWED: '/nonexistent/allowed' } });
  assert.equal((await h.exited).code, 1);
  // Firefox's form with the pinned add-on id is served.
  const ff = new HostClient({ env, args: ['/home/u/.mozilla/native-messaging-hosts/org.sotto.host.json', firefoxId] });
  assert.equal((await ff.request({ id: 1, op: 'host.hello' })).result.caller, firefoxId);
  await ff.close();
});

for (const [name, bin] of [['release', hostBin], ['ASan/UBSan', hostBinSan]]) {
  test(`hostile input is answered or closed cleanly (${name} build)`, { skip: skip || (!fs.existsSync(bin) && 'no sanitized host') }, async () => {
    const { env } = makeHome();
    const h = new HostClient({ env, bin });
    const alive = async (id) => assert.equal((await h.request({ id, op: 'host.hello' })).result.host, 'org.sotto.host');
    const nextError = async (code) => {
      const m = await h.wait((x) => x.id === null && x.error && !x.__seen);
      m.__seen = true;
      assert.equal(m.error.code, code, JSON.stringify(m));
      return m;
    };
    // A zero length.
    h.send(Buffer.alloc(4));
    await nextError('bad_frame');
    await alive('a1');
    // Not JSON, not UTF-8, not an object, bad ids.
    h.send(frame('{"id":1,'));
    await nextError('bad_json');
    h.send(frame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
    await nextError('bad_utf8');
    h.send(frame(Buffer.concat([Buffer.from('{"id":"u8","op":"host.hello","s":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])));
    assert.equal((await h.reply('u8')).error.code, 'bad_utf8');
    h.send(frame('{"id":"nul","op":"host.hello"}\u0000junk'));
    await nextError('bad_utf8');
    h.send(frame('[1,2,3]'));
    await nextError('bad_request');
    h.send(frame({ id: { x: 1 }, op: 'host.hello' }));
    await nextError('bad_request');
    h.send(frame({ id: 'x'.repeat(300), op: 'host.hello' }));
    await nextError('bad_request');
    // Wrong types and missing fields, with the id echoed.
    const expect = async (req, code) => assert.equal((await h.request(req)).error.code, code, JSON.stringify(req).slice(0, 80));
    await expect({ id: 'e1' }, 'bad_request');
    await expect({ id: 'e2', op: 5 }, 'bad_request');
    await expect({ id: 'e3', op: 'tensor.matmul', a: 'x' }, 'bad_request');
    await expect({ id: 'e4', op: 'host.models.delete', model: '../../../etc/passwd' }, 'bad_request');
    await expect({ id: 'e5', op: 'host.models.delete' }, 'bad_request');
    await expect({ id: 'e6', op: 'classify', model: '/etc/passwd', text: 'x' }, 'bad_request');
    await expect({ id: 'e7', op: 'host.models.install.chunk', model: 'none', seq: 0, data: '' }, 'no_install');
    await expect({ id: 'e8', op: 'host.models.install.begin', model: 'm', format: 'gguf', size: -1, sha256: 'a'.repeat(64) }, 'bad_request');
    await expect({ id: 'e9', op: 'cancel' }, 'bad_request');
    await expect({ id: 'e10', op: 'host.store.unlock', passphrase: 'x' }, 'bad_request');
    await expect({ id: 'e11', op: 'classify', model: 'not-installed', text: 'x' }, 'model_not_found');
    // Deep nesting: refused by the parser's depth limit, not by the stack.
    h.send(frame('['.repeat(200000) + ']'.repeat(200000)));
    await nextError('bad_json');
    assert.equal((await h.request({ id: 'deep', op: 'nope', x: JSON.parse('['.repeat(500) + ']'.repeat(500)) })).error.code, 'unknown_op');
    // A 10 MB string is over the 8 MiB limit: answered and skipped unread...
    h.send(frame({ id: 's10', op: 'host.hello', s: 'x'.repeat(10 * MB) }));
    await nextError('too_large');
    await alive('a2');
    // ... a 7 MB one is read and answered.
    assert.equal((await h.request({ id: 's7', op: 'nope', s: 'y'.repeat(7 * MB) })).error.code, 'unknown_op');
    // Many requests at once beyond the job limit: answered "busy", never dropped.
    for (let i = 0; i < 40; i++) h.send({ id: `b${i}`, op: 'tensor.bench', m: 64, k: 64, n: 64, iterations: 5 });
    const busy = await Promise.all(Array.from({ length: 40 }, (_, i) => h.reply(`b${i}`, 60000)));
    assert.ok(busy.every((r) => r.result || r.error.code === 'busy'));
    await alive('a3');
    const peak = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${h.proc.pid}/status`, 'utf8'))[1]);
    console.log(`# ${name}: peak RSS ${(peak / 1024).toFixed(1)} MiB after hostile input`);
    // A length prefix of 2^31 or more ("negative") ends the port cleanly.
    const neg = Buffer.alloc(4);
    neg.writeUInt32LE(0xfffffff0);
    h.send(neg);
    await nextError('bad_frame');
    assert.deepEqual(await h.exited, { code: 0, signal: null });
    assert.doesNotMatch(h.stderr, /AddressSanitizer|runtime error|LeakSanitizer/);
  });
}

test('ids are echoed in every chunk message as valid UTF-8; ids too long as JSON text are refused', { skip }, async () => {
  const { env } = makeHome();
  const h = new HostClient({ env: { ...env, SOTTO_HOST_MAX_OUT: '1024' } });
  // 40 control characters are 242 bytes as JSON text: allowed, and carried
  // by each chunk message of a reply longer than a message may be.
  const id = '\u0013'.repeat(40);
  const a = Array.from({ length: 30 }, (_, i) => i + 1);
  const r = await h.request({ id, op: 'tensor.matmul', a: { shape: [30, 1], data: a }, b: { shape: [1, 30], data: a } });
  assert.deepEqual(r.result.shape, [30, 30]);
  assert.ok(r.__chunks >= 2, 'sent in chunk messages');
  assert.equal(h.invalid, 0, 'every message valid UTF-8');
  assert.ok(Math.max(...h.frames) <= 1024);
  // 60 of them are 362 bytes: refused, and the port stays in step.
  h.send({ id: '\u0013'.repeat(60), op: 'host.hello' });
  assert.equal((await h.wait((m) => m.id === null && m.error)).error.code, 'bad_request');
  assert.equal((await h.request({ id: 'x', op: 'nope' })).error.code, 'unknown_op');
  await h.close();
});

test('a huge length prefix is refused before any allocation; truncated frames end cleanly', { skip }, async () => {
  const { env } = makeHome();
  // 2 GiB - 1 announced: refused at once, the rest of the stream is skipped.
  let h = new HostClient({ env });
  const huge = Buffer.alloc(4);
  huge.writeUInt32LE(0x7fffffff);
  h.send(huge);
  const m = await h.wait((x) => x.error);
  assert.equal(m.error.code, 'too_large');
  h.send(Buffer.alloc(1 << 20)); // part of the announced body
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(h.rss() < 200 * 1024 * 1024, `RSS ${h.rss()}`);
  assert.deepEqual(await h.close(), { code: 0, signal: null });
  // A body cut short, then a header cut short.
  for (const bytes of [Buffer.concat([frame({ id: 1, op: 'host.hello' }).subarray(0, 12)]), Buffer.from([5, 0])]) {
    h = new HostClient({ env });
    h.send(bytes);
    const { code, signal } = await h.close();
    assert.equal(code, 0);
    assert.equal(signal, null);
    assert.equal(h.messages.at(-1).error.code, 'bad_frame');
  }
});

test('10,000 sequential requests over one port with flat memory', { skip }, async () => {
  const { env } = makeHome();
  const h = new HostClient({ env });
  const rss = {};
  const t0 = Date.now();
  for (let i = 1; i <= 10000; i++) {
    const r = await h.request({ id: i, op: 'tensor.matmul', a: { shape: [2, 2], data: [1, 2, 3, i] }, b: { shape: [2, 1], data: [1, 1] } });
    if (r.result.data[1] !== 3 + i) assert.fail(`request ${i}: ${JSON.stringify(r)}`);
    if (i === 1000 || i === 10000) rss[i] = h.rss();
  }
  const secs = (Date.now() - t0) / 1000;
  const growth = rss[10000] - rss[1000];
  console.log(`# RSS at 1k: ${(rss[1000] / 1048576).toFixed(2)} MiB, at 10k: ${(rss[10000] / 1048576).toFixed(2)} MiB; ${(10000 / secs).toFixed(0)} requests/s`);
  assert.ok(growth < 2 * 1024 * 1024, `RSS grew by ${growth} bytes from 1k to 10k requests`);
  await h.close();
});
