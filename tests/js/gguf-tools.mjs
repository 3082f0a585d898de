// gguf-tools.mjs - GGUF files read and rewritten by the spec (ggml's
// docs/gguf.md), independently of the engine's reader, for tests that need
// files the converter does not write: llama.cpp's gguf-split parts, a model
// padded past 2 GB.
import assert from 'node:assert/strict';

export function readGguf(buf) {
  let p = 0;
  const u32 = () => { const v = buf.readUInt32LE(p); p += 4; return v; };
  const u64 = () => { const v = Number(buf.readBigUInt64LE(p)); p += 8; return v; };
  const str = () => { const n = u64(); const s = buf.subarray(p, p + n); p += n; return s; };
  const SIZES = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];
  const skipValue = (t) => {
    if (t === 8) return void str();
    if (t === 9) {
      const et = u32(), n = u64();
      for (let i = 0; i < n; i++) skipValue(et);
      return;
    }
    p += SIZES[t];
  };
  assert.equal(buf.subarray(0, 4).toString(), 'GGUF');
  p = 4;
  const version = u32(), nT = u64(), nKv = u64();
  const kvs = [];
  for (let i = 0; i < nKv; i++) {
    const at = p, key = str().toString(), t = u32();
    skipValue(t);
    kvs.push({ key, bytes: buf.subarray(at, p) });
  }
  const tensors = [];
  for (let i = 0; i < nT; i++) {
    const at = p, name = str().toString(), nd = u32();
    for (let d = 0; d < nd; d++) u64();
    const infoEnd = p + 4; // name, dims and type; the offset follows
    const type = u32(), offset = u64();
    tensors.push({ name, info: buf.subarray(at, infoEnd), type, offset });
  }
  const align = 32;
  const infosEnd = p;
  const dataStart = Math.ceil(p / align) * align;
  for (let i = 0; i < nT; i++) tensors[i].end = i + 1 < nT ? tensors[i + 1].offset : buf.length - dataStart;
  return { version, kvs, tensors, dataStart, infosEnd, align };
}

// llama.cpp's gguf-split layout: part k holds its tensors (each padded),
// every part split.no (u16), split.count (u16) and split.tensors.count
// (i32), the first part all the metadata too.
export function splitGguf(buf, n) {
  const g = readGguf(buf);
  const per = Math.ceil(g.tensors.length / n);
  const kvU16 = (key, v) => { const k = Buffer.from(key); const b = Buffer.alloc(8 + k.length + 4 + 2); b.writeBigUInt64LE(BigInt(k.length)); k.copy(b, 8); b.writeUInt32LE(2, 8 + k.length); b.writeUInt16LE(v, 12 + k.length); return b; };
  const kvI32 = (key, v) => { const k = Buffer.from(key); const b = Buffer.alloc(8 + k.length + 4 + 4); b.writeBigUInt64LE(BigInt(k.length)); k.copy(b, 8); b.writeUInt32LE(5, 8 + k.length); b.writeInt32LE(v, 12 + k.length); return b; };
  const parts = [];
  for (let k = 0; k < n; k++) {
    const ts = g.tensors.slice(k * per, (k + 1) * per);
    const kvs = [...(k === 0 ? g.kvs.map((x) => x.bytes) : []), kvU16('split.no', k), kvU16('split.count', n), kvI32('split.tensors.count', g.tensors.length)];
    const head = [Buffer.from('GGUF'), Buffer.alloc(4), Buffer.alloc(8), Buffer.alloc(8)];
    head[1].writeUInt32LE(3);
    head[2].writeBigUInt64LE(BigInt(ts.length));
    head[3].writeBigUInt64LE(BigInt(kvs.length));
    const data = [];
    let off = 0;
    const infos = ts.map((t) => {
      const o = Buffer.alloc(8);
      o.writeBigUInt64LE(BigInt(off));
      const bytes = buf.subarray(g.dataStart + t.offset, g.dataStart + t.end); // padded as in the source
      data.push(bytes);
      off += bytes.length;
      return Buffer.concat([t.info, o]);
    });
    let header = Buffer.concat([...head, ...kvs, ...infos]);
    header = Buffer.concat([header, Buffer.alloc((g.align - (header.length % g.align)) % g.align)]);
    parts.push(Buffer.concat([header, ...data]));
  }
  return parts;
}


// The same model with one more tensor, "sotto.padding" (F32, never read by
// the model), of padBytes bytes after the others: returns the new header and
// where the original data goes; the file is header + data, then zeros up to
// the returned size (write them sparse).
export function padGguf(buf, padBytes) {
  const g = readGguf(buf);
  const name = Buffer.from('sotto.padding');
  const n = padBytes / 4;
  const dataLen = buf.length - g.dataStart; // already padded to the alignment
  const info = Buffer.alloc(8 + name.length + 4 + 8 + 4 + 8);
  let p = 0;
  info.writeBigUInt64LE(BigInt(name.length), p); p += 8;
  name.copy(info, p); p += name.length;
  info.writeUInt32LE(1, p); p += 4;
  info.writeBigUInt64LE(BigInt(n), p); p += 8;
  info.writeUInt32LE(0, p); p += 4; // F32
  info.writeBigUInt64LE(BigInt(Math.ceil(dataLen / g.align) * g.align), p);
  const counts = Buffer.alloc(8);
  counts.writeBigUInt64LE(BigInt(g.tensors.length + 1));
  const head = Buffer.concat([buf.subarray(0, 8), counts, buf.subarray(16, g.infosEnd), info]);
  const header = Buffer.concat([head, Buffer.alloc((g.align - (head.length % g.align)) % g.align)]);
  const data = buf.subarray(g.dataStart);
  return { header, data, size: header.length + Math.ceil(dataLen / g.align) * g.align + padBytes };
}
