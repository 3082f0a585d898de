/*
 * store.c - sealing and opening model files for the encrypted store.
 *
 * File layout (all integers little-endian):
 *
 *   0   8  magic "SOTTOSTR"
 *   8   4  format version (1)
 *   12  4  chunk size: plaintext bytes per chunk
 *   16  8  plaintext size
 *   24  4  manifest length (plaintext bytes)
 *   28 16  key check: BLAKE2b keyed with the key over a constant
 *   44 24  crypto_secretstream_xchacha20poly1305 header
 *   68     manifest: one secretstream message (tag MESSAGE) whose additional
 *          data is bytes 0..43, so every header field is authenticated
 *          then the chunks: ceil(size / chunk) messages (one empty message
 *          when size is 0), each chunk size bytes but the last, tag
 *          MESSAGE but the last, which is tagged FINAL. Nothing follows.
 *
 * secretstream chains its messages, so a chunk that is reordered, dropped,
 * duplicated or taken from another file fails authentication; a file cut
 * anywhere lacks its FINAL message. The key check only tells a wrong key
 * from tampering in error messages: it is a PRF output and reveals nothing
 * usable about the key.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "sotto.h"

#define MAGIC "SOTTOSTR"
#define VERSION 1u
#define AD_BYTES 44u /* header bytes before the secretstream header */
#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define TAG_MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL
#define CHUNK_MIN 64u
#define SIZE_MAX_EXACT 9007199254740992.0 /* 2^53: sizes stay exact in JSON */

enum { S_HEADER, S_MANIFEST, S_CHUNKS, S_DONE, S_FAILED };

struct sotto_store {
  int sealing;
  int state;
  int whole; /* buffer form: reserve the whole plaintext once known */
  int key_matches;
  uint8_t key[SOTTO_STORE_KEYBYTES];
  crypto_secretstream_xchacha20poly1305_state ss;
  crypto_hash_sha256_state sha;
  uint8_t header[SOTTO_STORE_HEADERBYTES];
  uint8_t want_sha[32];
  uint32_t chunk_bytes, manifest_len;
  uint64_t size, done;        /* plaintext bytes declared / processed */
  uint64_t chunk, n_chunks;   /* next chunk index / chunk count */
  char *manifest;
  uint8_t *in;                /* a frame (opening) or chunk (sealing) being assembled */
  size_t in_len, in_cap;
  uint8_t *out;
  size_t out_len, out_cap;
  int out_taken;
  sotto_error err;            /* the first failure */
};

static int fail(sotto_store *s, sotto_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(sotto_store *s, sotto_status status, const char *fmt, ...) {
  if (s->state == S_FAILED) return -1; /* keep the first error */
  s->state = S_FAILED;
  s->err.status = status;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->err.message, sizeof s->err.message, fmt, ap);
  va_end(ap);
  return -1;
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

int sotto_store_init(void) { return sodium_init() < 0 ? -1 : 0; }

int sotto_store_id_valid(const char *id) {
  if (!id || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9'))) return 0;
  size_t n = 0;
  for (; id[n]; n++) {
    char c = id[n];
    if (n >= 64) return 0;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

int sotto_store_keygen(uint8_t key[SOTTO_STORE_KEYBYTES]) {
  if (sotto_store_init() != 0) return -1;
  crypto_secretstream_xchacha20poly1305_keygen(key);
  return 0;
}

int sotto_store_key_from_passphrase(uint8_t key[SOTTO_STORE_KEYBYTES], const char *passphrase,
                                    size_t passphrase_len, const uint8_t salt[SOTTO_STORE_SALTBYTES],
                                    uint32_t opslimit, uint32_t memlimit_kib) {
  if (sotto_store_init() != 0 || !key || !passphrase || !salt) return -1;
  unsigned long long ops = opslimit ? opslimit : crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
  if (sizeof(size_t) < 8 && memlimit_kib >= 4194304u) return -1; /* 4 GiB: no room in wasm32 */
  size_t mem = memlimit_kib ? (size_t)memlimit_kib * 1024u
                            : (size_t)crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
  if (ops < crypto_pwhash_argon2id_OPSLIMIT_MIN || mem < crypto_pwhash_argon2id_MEMLIMIT_MIN)
    return -1;
  return crypto_pwhash(key, SOTTO_STORE_KEYBYTES, passphrase, passphrase_len, salt, ops, mem,
                       crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0 : -1;
}

void sotto_store_key_check(const uint8_t key[SOTTO_STORE_KEYBYTES], uint8_t check[16]) {
  static const char label[] = "sotto store key check v1";
  sotto_store_init();
  crypto_generichash(check, 16, (const uint8_t *)label, sizeof label - 1, key,
                     SOTTO_STORE_KEYBYTES);
}

/* Makes room for n more output bytes. */
static int out_reserve(sotto_store *s, size_t n) {
  if (s->out && s->out_cap - s->out_len >= n) return 0;
  size_t need = s->out_len + n, cap = s->out_cap;
  if (need < n) return fail(s, SOTTO_OUT_OF_MEMORY, "out of memory");
  if (s->out_len == 0) cap = need < 4096 ? 4096 : need; /* first use: exactly what is asked */
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  uint8_t *grown = realloc(s->out, cap);
  if (!grown) return fail(s, SOTTO_OUT_OF_MEMORY, "out of memory (%zu bytes)", cap);
  s->out = grown;
  s->out_cap = cap;
  return 0;
}

static int is_hex64(const char *h) {
  if (strlen(h) != 64) return 0;
  for (int i = 0; i < 64; i++)
    if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) return 0;
  return 1;
}

/* Checks a manifest: a JSON object with a valid id, a format, an exact size
 * and a sha256; other members must be short strings. Returns the parsed
 * object or NULL with the store failed. */
static cJSON *manifest_parse(sotto_store *s, const char *json, size_t len, sotto_status code) {
  /* len includes the terminating NUL, so trailing text is refused. */
  cJSON *m = cJSON_ParseWithLengthOpts(json, len, NULL, 1);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
  const cJSON *format = cJSON_GetObjectItemCaseSensitive(m, "format");
  const cJSON *size = cJSON_GetObjectItemCaseSensitive(m, "size");
  const cJSON *sha = cJSON_GetObjectItemCaseSensitive(m, "sha256");
  const char *why = NULL;
  if (!cJSON_IsObject(m)) why = "is not a JSON object";
  else if (!cJSON_IsString(id) || !sotto_store_id_valid(id->valuestring))
    why = "needs an \"id\" matching [a-z0-9][a-z0-9._-]{0,63}";
  else if (!cJSON_IsString(format) || !sotto_store_id_valid(format->valuestring) ||
           strlen(format->valuestring) > 15)
    why = "needs a \"format\" (e.g. \"fasttext\", \"gguf\")";
  else if (!cJSON_IsNumber(size) || size->valuedouble < 0 || size->valuedouble > SIZE_MAX_EXACT ||
           size->valuedouble != (double)(uint64_t)size->valuedouble)
    why = "needs a \"size\" in bytes";
  else if (!cJSON_IsString(sha) || !is_hex64(sha->valuestring))
    why = "needs a \"sha256\" of 64 lowercase hex digits";
  const cJSON *f;
  cJSON_ArrayForEach(f, m) {
    if (why) break;
    if (f != size && !cJSON_IsString(f)) why = "may hold only strings besides \"size\"";
  }
  if (why) {
    fail(s, code, "the manifest %s", why);
    cJSON_Delete(m);
    return NULL;
  }
  return m;
}

static sotto_store *store_new(const uint8_t *key, int sealing) {
  if (sotto_store_init() != 0 || !key) return NULL;
  sotto_store *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->sealing = sealing;
  memcpy(s->key, key, SOTTO_STORE_KEYBYTES);
  crypto_hash_sha256_init(&s->sha);
  return s;
}

/* ---- sealing ---- */

static void set_err(sotto_error *err, const sotto_error *e) {
  if (err) *err = *e;
}

sotto_store *sotto_store_seal_begin(const uint8_t key[SOTTO_STORE_KEYBYTES],
                                    const char *manifest_json, uint32_t chunk_bytes, sotto_error *err) {
  sotto_store *s = store_new(key, 1);
  if (!s) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "cannot start sealing");
    return NULL;
  }
  if (!chunk_bytes) chunk_bytes = SOTTO_STORE_CHUNK_DEFAULT;
  cJSON *m = NULL;
  if (chunk_bytes < CHUNK_MIN || chunk_bytes > SOTTO_STORE_CHUNK_MAX) {
    fail(s, SOTTO_BAD_REQUEST, "chunk size must be %u to %u bytes", CHUNK_MIN, SOTTO_STORE_CHUNK_MAX);
    goto failed;
  }
  if (!manifest_json) {
    fail(s, SOTTO_BAD_REQUEST, "no manifest");
    goto failed;
  }
  m = manifest_parse(s, manifest_json, strlen(manifest_json) + 1, SOTTO_BAD_REQUEST);
  if (!m) goto failed;
  s->manifest = cJSON_PrintUnformatted(m);
  if (!s->manifest) {
    fail(s, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto failed;
  }
  size_t mlen = strlen(s->manifest);
  if (mlen > SOTTO_STORE_MANIFEST_MAX) {
    fail(s, SOTTO_BAD_REQUEST, "the manifest is over %d bytes", SOTTO_STORE_MANIFEST_MAX);
    goto failed;
  }
  s->chunk_bytes = chunk_bytes;
  s->manifest_len = (uint32_t)mlen;
  s->size = (uint64_t)cJSON_GetObjectItemCaseSensitive(m, "size")->valuedouble;
  s->n_chunks = s->size ? (s->size + chunk_bytes - 1) / chunk_bytes : 1;
  sodium_hex2bin(s->want_sha, 32, cJSON_GetObjectItemCaseSensitive(m, "sha256")->valuestring, 64,
                 NULL, NULL, NULL);
  cJSON_Delete(m);
  m = NULL;

  uint8_t *h = s->header;
  memcpy(h, MAGIC, 8);
  put32(h + 8, VERSION);
  put32(h + 12, chunk_bytes);
  put64(h + 16, s->size);
  put32(h + 24, s->manifest_len);
  sotto_store_key_check(key, h + 28);
  crypto_secretstream_xchacha20poly1305_init_push(&s->ss, h + AD_BYTES, key);
  if (out_reserve(s, SOTTO_STORE_HEADERBYTES + mlen + ABYTES) != 0) goto failed;
  memcpy(s->out, h, SOTTO_STORE_HEADERBYTES);
  crypto_secretstream_xchacha20poly1305_push(&s->ss, s->out + SOTTO_STORE_HEADERBYTES, NULL,
                                             (const uint8_t *)s->manifest, mlen, h, AD_BYTES,
                                             TAG_MESSAGE);
  s->out_len = SOTTO_STORE_HEADERBYTES + mlen + ABYTES;
  s->state = S_CHUNKS;
  return s;
failed:
  cJSON_Delete(m);
  set_err(err, &s->err);
  sotto_store_free(s);
  return NULL;
}

/* Encrypts one whole chunk of plaintext. */
static int seal_chunk(sotto_store *s, const uint8_t *p, size_t n) {
  if (out_reserve(s, n + ABYTES) != 0) return -1;
  int last = s->chunk + 1 == s->n_chunks;
  crypto_hash_sha256_update(&s->sha, p, n);
  crypto_secretstream_xchacha20poly1305_push(&s->ss, s->out + s->out_len, NULL, p, n, NULL, 0,
                                             last ? TAG_FINAL : TAG_MESSAGE);
  s->out_len += n + ABYTES;
  s->done += n;
  s->chunk++;
  if (last) s->state = S_DONE;
  return 0;
}

/* Plaintext bytes of the next chunk. */
static size_t chunk_len(const sotto_store *s) {
  uint64_t left = s->size - s->done;
  return (size_t)(left < s->chunk_bytes ? left : s->chunk_bytes);
}

static int seal_update(sotto_store *s, const uint8_t *p, size_t len) {
  if (s->state == S_DONE && len) return fail(s, SOTTO_SIZE_MISMATCH, "more data than the manifest's size");
  if (len > s->size - s->done - s->in_len)
    return fail(s, SOTTO_SIZE_MISMATCH, "more data than the manifest's size of %llu bytes",
                (unsigned long long)s->size);
  while (len > 0) {
    size_t need = chunk_len(s);
    if (s->in_len == 0 && len >= need) { /* a whole chunk in the caller's buffer */
      if (seal_chunk(s, p, need) != 0) return -1;
      p += need, len -= need;
      continue;
    }
    if (!s->in && !(s->in = malloc(s->in_cap = s->chunk_bytes)))
      return fail(s, SOTTO_OUT_OF_MEMORY, "out of memory");
    size_t take = need - s->in_len < len ? need - s->in_len : len;
    memcpy(s->in + s->in_len, p, take);
    s->in_len += take, p += take, len -= take;
    if (s->in_len == need) {
      s->in_len = 0;
      if (seal_chunk(s, s->in, need) != 0) return -1;
    }
  }
  return 0;
}

static int seal_finish(sotto_store *s) {
  if (s->size == 0 && s->state != S_DONE && seal_chunk(s, NULL, 0) != 0) return -1;
  if (s->state != S_DONE)
    return fail(s, SOTTO_SIZE_MISMATCH, "got %llu of the manifest's %llu bytes",
                (unsigned long long)(s->done + s->in_len), (unsigned long long)s->size);
  uint8_t got[32];
  crypto_hash_sha256_final(&s->sha, got);
  if (sodium_memcmp(got, s->want_sha, 32) != 0)
    return fail(s, SOTTO_SHA256_MISMATCH, "the data's sha256 differs from the manifest's");
  return 0;
}

/* ---- opening ---- */

sotto_store *sotto_store_open_begin(const uint8_t key[SOTTO_STORE_KEYBYTES]) {
  return store_new(key, 0);
}

static int open_header(sotto_store *s, const uint8_t *h) {
  memcpy(s->header, h, SOTTO_STORE_HEADERBYTES);
  if (memcmp(h, MAGIC, 8) != 0) return fail(s, SOTTO_NOT_A_STORE_FILE, "not a sotto store file");
  if (get32(h + 8) != VERSION)
    return fail(s, SOTTO_UNSUPPORTED_VERSION, "store file version %u is not supported", get32(h + 8));
  s->chunk_bytes = get32(h + 12);
  s->size = get64(h + 16);
  s->manifest_len = get32(h + 24);
  /* Unauthenticated until the manifest is opened: only bound them here. */
  if (s->chunk_bytes < CHUNK_MIN || s->chunk_bytes > SOTTO_STORE_CHUNK_MAX ||
      (double)s->size > SIZE_MAX_EXACT || s->manifest_len < 2 ||
      s->manifest_len > SOTTO_STORE_MANIFEST_MAX)
    return fail(s, SOTTO_TAMPERED, "the file header is damaged");
  uint8_t check[16];
  sotto_store_key_check(s->key, check);
  s->key_matches = sodium_memcmp(check, h + 28, 16) == 0;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&s->ss, h + AD_BYTES, s->key) != 0)
    return fail(s, SOTTO_TAMPERED, "the file header is damaged");
  s->n_chunks = s->size ? (s->size + s->chunk_bytes - 1) / s->chunk_bytes : 1;
  s->state = S_MANIFEST;
  return 0;
}

static int open_manifest(sotto_store *s, const uint8_t *c) {
  char *m = malloc(s->manifest_len + 1);
  if (!m) return fail(s, SOTTO_OUT_OF_MEMORY, "out of memory");
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(&s->ss, (uint8_t *)m, NULL, &tag, c,
                                                 s->manifest_len + ABYTES, s->header,
                                                 AD_BYTES) != 0 || tag != TAG_MESSAGE) {
    free(m);
    if (!s->key_matches)
      return fail(s, SOTTO_WRONG_KEY, "the file was sealed with another key (wrong key or passphrase)");
    return fail(s, SOTTO_TAMPERED, "the file header or manifest fails authentication");
  }
  m[s->manifest_len] = 0;
  cJSON *j = manifest_parse(s, m, (size_t)s->manifest_len + 1, SOTTO_TAMPERED);
  free(m);
  if (!j) return -1;
  const cJSON *size = cJSON_GetObjectItemCaseSensitive(j, "size");
  if ((uint64_t)size->valuedouble != s->size) {
    cJSON_Delete(j);
    return fail(s, SOTTO_TAMPERED, "the manifest's size differs from the header's");
  }
  sodium_hex2bin(s->want_sha, 32, cJSON_GetObjectItemCaseSensitive(j, "sha256")->valuestring, 64,
                 NULL, NULL, NULL);
  s->manifest = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (!s->manifest) return fail(s, SOTTO_OUT_OF_MEMORY, "out of memory");
  if (s->whole && s->size > 0) {
    if ((double)s->size > (double)(SIZE_MAX / 2)) return fail(s, SOTTO_OUT_OF_MEMORY, "model too large");
    if (out_reserve(s, (size_t)s->size) != 0) return -1;
  }
  s->state = S_CHUNKS;
  return 0;
}

static int open_chunk(sotto_store *s, const uint8_t *c, size_t clen) {
  size_t n = clen - ABYTES;
  if (out_reserve(s, n) != 0) return -1;
  unsigned char tag = 0;
  int last = s->chunk + 1 == s->n_chunks;
  if (crypto_secretstream_xchacha20poly1305_pull(&s->ss, s->out + s->out_len, NULL, &tag, c, clen,
                                                 NULL, 0) != 0)
    return fail(s, SOTTO_TAMPERED, "chunk %llu of %llu fails authentication",
                (unsigned long long)s->chunk + 1, (unsigned long long)s->n_chunks);
  if (tag != (last ? TAG_FINAL : TAG_MESSAGE))
    return fail(s, SOTTO_TAMPERED, "chunk %llu of %llu has the wrong tag",
                (unsigned long long)s->chunk + 1, (unsigned long long)s->n_chunks);
  crypto_hash_sha256_update(&s->sha, s->out + s->out_len, n);
  s->out_len += n;
  s->done += n;
  s->chunk++;
  if (last) s->state = S_DONE;
  return 0;
}

/* Size of the next frame to read. */
static size_t frame_len(const sotto_store *s) {
  switch (s->state) {
    case S_HEADER: return SOTTO_STORE_HEADERBYTES;
    case S_MANIFEST: return s->manifest_len + ABYTES;
    default: return chunk_len(s) + ABYTES;
  }
}

static int open_frame(sotto_store *s, const uint8_t *f, size_t n) {
  switch (s->state) {
    case S_HEADER: return open_header(s, f);
    case S_MANIFEST: return open_manifest(s, f);
    default: return open_chunk(s, f, n);
  }
}

static int open_update(sotto_store *s, const uint8_t *p, size_t len) {
  while (len > 0) {
    if (s->state == S_DONE) return fail(s, SOTTO_TAMPERED, "data follows the final chunk");
    size_t need = frame_len(s);
    if (s->in_len == 0 && len >= need) {
      if (open_frame(s, p, need) != 0) return -1;
      p += need, len -= need;
      continue;
    }
    if (s->in_cap < need) {
      uint8_t *grown = realloc(s->in, need);
      if (!grown) return fail(s, SOTTO_OUT_OF_MEMORY, "out of memory");
      s->in = grown, s->in_cap = need;
    }
    size_t take = need - s->in_len < len ? need - s->in_len : len;
    memcpy(s->in + s->in_len, p, take);
    s->in_len += take, p += take, len -= take;
    if (s->in_len == need) {
      s->in_len = 0;
      if (open_frame(s, s->in, need) != 0) return -1;
    }
  }
  return 0;
}

static int open_finish(sotto_store *s) {
  if (s->state == S_HEADER) {
    size_t k = s->in_len < 8 ? s->in_len : 8;
    if (!k || memcmp(s->in, MAGIC, k) != 0) return fail(s, SOTTO_NOT_A_STORE_FILE, "not a sotto store file");
    return fail(s, SOTTO_TRUNCATED, "the file ends inside its header");
  }
  if (s->state == S_MANIFEST) return fail(s, SOTTO_TRUNCATED, "the file ends inside its manifest");
  if (s->state != S_DONE)
    return fail(s, SOTTO_TRUNCATED, "the file ends after %llu of %llu chunks",
                (unsigned long long)s->chunk, (unsigned long long)s->n_chunks);
  uint8_t got[32];
  crypto_hash_sha256_final(&s->sha, got);
  if (sodium_memcmp(got, s->want_sha, 32) != 0)
    return fail(s, SOTTO_SHA256_MISMATCH, "the data's sha256 differs from the manifest's");
  return 0;
}

/* ---- both ---- */

int sotto_store_update(sotto_store *s, const void *data, size_t len) {
  if (!s) return -1;
  if (s->state == S_FAILED) return -1;
  if (!data && len) return fail(s, SOTTO_BAD_REQUEST, "no data");
  if (s->out_taken) s->out_len = 0, s->out_taken = 0;
  return s->sealing ? seal_update(s, data, len) : open_update(s, data, len);
}

int sotto_store_finish(sotto_store *s) {
  if (!s) return -1;
  if (s->state == S_FAILED) return -1;
  if (s->out_taken) s->out_len = 0, s->out_taken = 0;
  return s->sealing ? seal_finish(s) : open_finish(s);
}

const uint8_t *sotto_store_output(sotto_store *s, size_t *len) {
  if (!s) {
    if (len) *len = 0;
    return NULL;
  }
  if (s->out_taken) s->out_len = 0;
  s->out_taken = 1;
  if (len) *len = s->out_len;
  return s->out;
}

const char *sotto_store_manifest(const sotto_store *s) { return s ? s->manifest : NULL; }
const sotto_error *sotto_store_error(const sotto_store *s) {
  static const sotto_error none = {SOTTO_BAD_REQUEST, "no store"};
  return s ? &s->err : &none;
}

void sotto_store_free(sotto_store *s) {
  if (!s) return;
  sodium_memzero(s->key, sizeof s->key);
  sodium_memzero(&s->ss, sizeof s->ss);
  if (s->in) sodium_memzero(s->in, s->in_cap);
  free(s->in);
  free(s->out);
  cJSON_free(s->manifest);
  free(s);
}

/* ---- whole buffers ---- */

/* Hands the output buffer to the caller (no copy). */
static uint8_t *steal_output(sotto_store *s, size_t *len) {
  if (s->out_taken) s->out_len = 0;
  uint8_t *p = s->out ? s->out : malloc(1);
  *len = s->out_len;
  s->out = NULL;
  s->out_len = s->out_cap = 0;
  return p;
}

int sotto_store_seal(const uint8_t key[SOTTO_STORE_KEYBYTES], const char *manifest_json,
                     const void *plain, size_t plain_len, uint8_t **sealed, size_t *sealed_len,
                     sotto_error *err) {
  if (sealed) *sealed = NULL;
  if (sealed_len) *sealed_len = 0;
  sotto_store *s = sotto_store_seal_begin(key, manifest_json, 0, err);
  if (!s) return -1;
  int rc = -1;
  if (!sealed || !sealed_len) {
    fail(s, SOTTO_BAD_REQUEST, "nowhere to put the sealed bytes");
  } else if (sotto_store_update(s, plain, plain_len) == 0 && sotto_store_finish(s) == 0) {
    *sealed = steal_output(s, sealed_len);
    rc = *sealed ? 0 : fail(s, SOTTO_OUT_OF_MEMORY, "out of memory");
  }
  if (rc != 0) set_err(err, &s->err);
  sotto_store_free(s);
  return rc;
}

int sotto_store_open(const uint8_t key[SOTTO_STORE_KEYBYTES], const void *sealed,
                     size_t sealed_len, uint8_t **plain, size_t *plain_len, char **manifest_json,
                     sotto_error *err) {
  if (plain) *plain = NULL;
  if (plain_len) *plain_len = 0;
  if (manifest_json) *manifest_json = NULL;
  sotto_store *s = sotto_store_open_begin(key);
  if (!s) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "cannot start opening");
    return -1;
  }
  s->whole = 1;
  int rc = -1;
  if (!plain || !plain_len) {
    fail(s, SOTTO_BAD_REQUEST, "nowhere to put the plaintext");
  } else if (sotto_store_update(s, sealed, sealed_len) == 0 && sotto_store_finish(s) == 0) {
    *plain = steal_output(s, plain_len);
    if (manifest_json) {
      *manifest_json = malloc(strlen(s->manifest) + 1);
      if (*manifest_json) strcpy(*manifest_json, s->manifest);
    }
    rc = *plain && (!manifest_json || *manifest_json) ? 0 : fail(s, SOTTO_OUT_OF_MEMORY, "out of memory");
    if (rc != 0) {
      free(*plain), *plain = NULL, *plain_len = 0;
      if (manifest_json) free(*manifest_json), *manifest_json = NULL;
    }
  }
  if (rc != 0) set_err(err, &s->err);
  sotto_store_free(s);
  return rc;
}
