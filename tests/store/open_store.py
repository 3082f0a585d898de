#!/usr/bin/python3
"""An independent reader of sotto's encrypted store format, written from the
format description in engine/src/store.c with PyNaCl (Debian python3-nacl,
which wraps Debian's own libsodium build). The tests use it to check that a
file the host sealed is exactly what the format says.

  open_store.py KEYFILE MODELFILE   prints the manifest JSON, then the sha256
                                    of the plaintext, on two lines
  open_store.py --seal KEYFILE PLAINFILE MANIFEST_JSON OUTFILE [CHUNK]
                                    writes a sealed file, for the host to open
"""
import hashlib
import json
import os
import struct
import sys

from nacl import bindings as b

ABYTES = b.crypto_secretstream_xchacha20poly1305_ABYTES
TAG_MESSAGE = b.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = b.crypto_secretstream_xchacha20poly1305_TAG_FINAL


def read_key(path):
    words = open(path).read().split()
    assert words[:3] == ["sotto-store-key", "1", "key"], "only key-file stores"
    return bytes.fromhex(words[3])


def key_check(key):
    return hashlib.blake2b(b"sotto store key check v1", digest_size=16, key=key).digest()


def open_file(key, data):
    head = data[:68]
    magic, version, chunk, size, mlen = struct.unpack("<8sIIQI", head[:28])
    assert magic == b"SOTTOSTR" and version == 1, "not a version 1 store file"
    assert head[28:44] == key_check(key), "wrong key"
    state = b.crypto_secretstream_xchacha20poly1305_state()
    b.crypto_secretstream_xchacha20poly1305_init_pull(state, head[44:68], key)
    pos = 68
    manifest, tag = b.crypto_secretstream_xchacha20poly1305_pull(
        state, data[pos:pos + mlen + ABYTES], head[:44])
    assert tag == TAG_MESSAGE
    pos += mlen + ABYTES
    n_chunks = (size + chunk - 1) // chunk if size else 1
    sha = hashlib.sha256()
    for i in range(n_chunks):
        n = min(chunk, size - i * chunk)
        plain, tag = b.crypto_secretstream_xchacha20poly1305_pull(state, data[pos:pos + n + ABYTES])
        assert tag == (TAG_FINAL if i == n_chunks - 1 else TAG_MESSAGE)
        sha.update(plain)
        pos += n + ABYTES
    assert pos == len(data), "trailing bytes"
    m = json.loads(manifest)
    assert m["size"] == size and m["sha256"] == sha.hexdigest()
    return manifest.decode(), sha.hexdigest()


def seal_file(key, plain, manifest, chunk):
    m = manifest.encode()
    head = struct.pack("<8sIIQI", b"SOTTOSTR", 1, chunk, len(plain), len(m)) + key_check(key)
    state = b.crypto_secretstream_xchacha20poly1305_state()
    header = b.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    out = [head, header, b.crypto_secretstream_xchacha20poly1305_push(state, m, head, TAG_MESSAGE)]
    n_chunks = (len(plain) + chunk - 1) // chunk if plain else 1
    for i in range(n_chunks):
        tag = TAG_FINAL if i == n_chunks - 1 else TAG_MESSAGE
        out.append(b.crypto_secretstream_xchacha20poly1305_push(
            state, plain[i * chunk:(i + 1) * chunk], None, tag))
    return b"".join(out)


if __name__ == "__main__":
    if sys.argv[1] == "--seal":
        key = read_key(sys.argv[2])
        plain = open(sys.argv[3], "rb").read()
        chunk = int(sys.argv[6]) if len(sys.argv) > 6 else 1 << 20
        with open(sys.argv[5] + ".tmp", "wb") as f:
            f.write(seal_file(key, plain, sys.argv[4], chunk))
        os.rename(sys.argv[5] + ".tmp", sys.argv[5])
    else:
        manifest, digest = open_file(read_key(sys.argv[1]), open(sys.argv[2], "rb").read())
        print(manifest)
        print(digest)
