// A local server that answers as Hugging Face's file URLs do, for the model
// manager's end-to-end tests (127.0.0.1 only):
//   GET /api/models/OWNER/REPO/tree/REV[/DIR]   the file list: {type, oid,
//       size, path, lfs: {oid: sha256, size, pointerSize}} for large files
//   HEAD|GET /OWNER/REPO/resolve/REV/PATH       large (LFS) files: a 302 to
//       the CDN with X-Linked-Size and X-Linked-ETag (the sha256), as
//       huggingface.co sends them; small files: served directly
//   GET /cdn/SHA256?sig=..                      the bytes, with Range (206,
//       Content-Range), Accept-Ranges, ETag; paced in 64 KiB pieces
// plus plain pages (routes). A file can be set to drop the connection once,
// part way through (dropOnce: bytes), and a file may claim a size it does
// not have (claimSize) to test a download too large for the quota. Every
// request is logged ({method, path, range}) so a test can check that nothing
// was downloaded before the user agreed. A file's paceMs slows its download.
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';

const CH = 64 * 1024;
const LFS_FROM = 10 * 1024; // files from this size are LFS files
const EXPOSE = 'Content-Length, Content-Range, Accept-Ranges, ETag, X-Linked-Size, X-Linked-ETag, X-Repo-Commit';

export async function startHfServer({ repos = {}, routes = {}, paceMs = 2 } = {}) {
  // repos: { 'owner/name': { 'file.gguf': { file | bytes, dropOnce?, claimSize? } } }
  const files = new Map(); // "repo/path" -> {bytes, sha256, size, lfs, ...}
  const bySha = new Map();
  const add = (repo, p, spec) => {
    const bytes = spec.bytes ?? fs.readFileSync(spec.file);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const f = { ...spec, bytes, sha256, size: spec.claimSize ?? bytes.length, lfs: bytes.length >= LFS_FROM || /\.(gguf|safetensors)$/.test(p), drops: 0 };
    files.set(`${repo}/${p}`, f);
    bySha.set(sha256, f);
    return f;
  };
  for (const [repo, list] of Object.entries(repos)) for (const [p, spec] of Object.entries(list)) add(repo, p, spec);
  const log = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    log.push({ method: req.method, path: url.pathname, range: req.headers.range ?? null, t: Date.now() });
    const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSE, 'cross-origin-resource-policy': 'cross-origin', 'cache-control': 'no-store' };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-headers': 'range', 'access-control-allow-methods': 'GET, HEAD' });
      return res.end();
    }
    const route = routes[url.pathname];
    if (route) {
      const body = typeof route === 'function' ? route(url) : fs.readFileSync(route);
      res.writeHead(200, { ...cors, 'content-type': url.pathname.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream', 'content-length': body.length });
      return res.end(body);
    }
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)\/?(.*)$/.exec(url.pathname);
    if (m) {
      const [, repo, , dir] = m.map(decodeURIComponent);
      if (!repos[repo]) return notFound(res, cors);
      const list = [...files].filter(([k]) => k.startsWith(`${repo}/${dir ? `${dir}/` : ''}`)).map(([k, f]) => {
        const p = k.slice(repo.length + 1);
        return { type: 'file', oid: crypto.createHash('sha1').update(f.bytes).digest('hex'), size: f.lfs ? 134 : f.size, path: p,
          ...(f.lfs ? { lfs: { oid: f.sha256, size: f.size, pointerSize: 134 } } : {}) };
      });
      const body = Buffer.from(JSON.stringify(list));
      res.writeHead(200, { ...cors, 'content-type': 'application/json', 'content-length': body.length });
      return res.end(body);
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      const [, repo, , p] = m.map(decodeURIComponent);
      const f = files.get(`${repo}/${p}`);
      if (!f) return notFound(res, cors);
      if (f.lfs) {
        res.writeHead(302, { ...cors, location: `/cdn/${f.sha256}?sig=${crypto.randomBytes(6).toString('hex')}`, 'x-linked-size': f.size,
          'x-linked-etag': `"${f.sha256}"`, 'x-repo-commit': '0'.repeat(40), 'content-length': 0 });
        return res.end();
      }
      return serve(req, res, f, cors);
    }
    m = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (m && bySha.has(m[1])) return serve(req, res, bySha.get(m[1]), cors);
    return notFound(res, cors);
  });

  function notFound(res, cors) {
    res.writeHead(404, { ...cors, 'content-type': 'text/plain' });
    res.end('not found');
  }

  function serve(req, res, f, cors) {
    const total = f.bytes.length;
    let from = 0;
    const r = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const headers = { ...cors, 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', etag: `"${f.sha256}"` };
    if (f.claimSize) { // a size it does not have: only the metadata is ever asked for
      res.writeHead(200, { ...headers, 'content-length': 0 });
      return res.end();
    }
    if (r) {
      from = Number(r[1]);
      const to = r[2] ? Math.min(Number(r[2]), total - 1) : total - 1;
      if (from >= total) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${total}` });
        return res.end();
      }
      res.writeHead(206, { ...headers, 'content-range': `bytes ${from}-${to}/${total}`, 'content-length': to - from + 1 });
      if (req.method === 'HEAD') return res.end();
      return pace(res, f, from, to + 1);
    }
    res.writeHead(200, { ...headers, 'content-length': total });
    if (req.method === 'HEAD') return res.end();
    return pace(res, f, 0, total);
  }

  // Sends bytes [from, to) in paced pieces; a file set to drop once cuts
  // the connection when it reaches dropOnce bytes.
  function pace(res, f, from, to) {
    let off = from;
    const wait = f.paceMs ?? paceMs;
    const dropAt = f.dropOnce && f.drops === 0 && from < f.dropOnce ? f.dropOnce : Infinity;
    const next = () => {
      if (off >= dropAt) {
        f.drops++;
        res.socket?.destroy();
        return;
      }
      if (off >= to) return res.end();
      const end = Math.min(off + CH, to, dropAt);
      const part = f.bytes.subarray(off, end);
      off = end;
      if (res.write(part)) setTimeout(next, wait); else res.once('drain', () => setTimeout(next, wait));
    };
    next();
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base, log, files,
    url: (repo, p) => `${base}/${repo}/resolve/main/${p}`,
    // GETs of a large file's bytes (at the CDN) since log index i
    downloads: (sha256, since = 0) => log.slice(since).filter((e) => e.method === 'GET' && e.path === `/cdn/${sha256}`),
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}
