// A minimal native messaging client for the host tests: spawns the real
// sotto-host binary as a browser would (origin argument, pipes), frames
// messages, and reassembles chunked replies. Every raw frame size is kept so
// tests can check the 1 MB limit.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { out } from './helpers.mjs';

export const hostBin = path.join(out, 'native/native-host/sotto-host');
export const hostBinSan = path.join(out, 'native/native-host/sotto-host-san');
export const chromeId = JSON.parse(fs.readFileSync(new URL('../../extension/ids.json', import.meta.url))).chrome;
export const firefoxId = JSON.parse(fs.readFileSync(new URL('../../extension/ids.json', import.meta.url))).firefox;
export const origin = `chrome-extension://${chromeId}/`;
export const MB = 1000 * 1000;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const homes = [];
process.on('exit', () => homes.forEach((h) => fs.rmSync(h, { recursive: true, force: true })));

// A fresh HOME with an allow-list for the pinned extension ids (removed when
// the test process exits).
export function makeHome(prefix = 'sotto-host-') {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  homes.push(home);
  const allowed = path.join(home, 'allowed');
  fs.writeFileSync(allowed, `# test allow-list\n${origin}\n${firefoxId}\n`);
  const env = {
    ...process.env, HOME: home, SOTTO_HOST_ALLOWED: allowed,
    XDG_DATA_HOME: '', XDG_CONFIG_HOME: '', SOTTO_PASSPHRASE: '',
  };
  // ASan's leak check does not work under some ptrace setups; keep errors fatal.
  env.ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=1';
  return { home, env, modelsDir: path.join(home, '.local/share/sotto/models') };
}

export function frame(json) {
  const body = Buffer.isBuffer(json) ? json : Buffer.from(typeof json === 'string' ? json : JSON.stringify(json));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length); // native order: little-endian on the machines we test
  return Buffer.concat([len, body]);
}

export class HostClient {
  constructor({ env, args = [origin], bin = hostBin } = {}) {
    this.proc = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.buf = Buffer.alloc(0);
    this.frames = []; // raw frame payload sizes
    this.invalid = 0; // frames that were not valid UTF-8
    this.messages = []; // reassembled messages, in order of arrival
    this.chunks = new Map(); // id -> [pieces]
    this.waiters = [];
    this.stderr = '';
    this.proc.stdin.on('error', () => {}); // the host may close first
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.proc.stdout.on('data', (d) => this.#data(d));
    this.exited = new Promise((resolve) => this.proc.on('close', (code, signal) => resolve({ code, signal })));
  }

  #data(d) {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 4) {
      const n = this.buf.readUInt32LE(0);
      if (this.buf.length < 4 + n) break;
      // Browsers refuse a message that is not UTF-8: count any.
      let body;
      try {
        body = UTF8.decode(this.buf.subarray(4, 4 + n));
      } catch {
        this.invalid++;
        body = this.buf.subarray(4, 4 + n).toString('utf8');
      }
      this.buf = this.buf.subarray(4 + n);
      this.frames.push(n);
      const msg = JSON.parse(body);
      if (typeof msg.chunk === 'string') {
        const key = JSON.stringify(msg.id);
        const list = this.chunks.get(key) ?? [];
        if (msg.seq !== list.length) throw new Error(`chunk seq ${msg.seq}, expected ${list.length}`);
        list.push(msg.chunk);
        this.chunks.set(key, list);
        if (!msg.last) continue;
        this.chunks.delete(key);
        const whole = JSON.parse(list.join(''));
        whole.__chunks = list.length;
        this.#deliver(whole);
      } else {
        this.#deliver(msg);
      }
    }
  }

  #deliver(msg) {
    this.messages.push(msg);
    this.waiters = this.waiters.filter((w) => !w(msg));
  }

  send(msg) { this.proc.stdin.write(Buffer.isBuffer(msg) ? msg : frame(msg)); }

  // Resolves with the first message (already received or future) matching pred.
  wait(pred, ms = 20000) {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out; stderr: ${this.stderr.slice(-2000)}`)), ms);
      this.waiters.push((m) => (pred(m) ? (clearTimeout(t), resolve(m), true) : false));
    });
  }

  // The final reply (result or error) of the request with this id.
  reply(id, ms) { return this.wait((m) => m.id === id && ('result' in m || 'error' in m), ms); }

  async request(msg, ms) {
    this.send(msg);
    return this.reply(msg.id, ms);
  }

  rss() { // resident set size of the host, bytes
    const status = fs.readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
  }

  async close() {
    this.proc.stdin.end();
    return this.exited;
  }
}

// Runs the host's command line (models add/list/...) in a test HOME.
export function hostCli(env, args, opts = {}) {
  return execFileSync(hostBin, args, { env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts });
}
