/*
 * test_store.c - the encrypted store layer (engine/src/store.c): round trips
 * of every size and feeding pattern, refusals when sealing, and every kind
 * of tampering refused when opening: a flipped bit in the header, manifest
 * or any chunk, truncation at every length, appended, swapped, dropped,
 * duplicated and foreign chunks, wrong key, wrong passphrase.
 *
 * Independent references: the Argon2id keys below were computed with
 * Debian's reference `argon2` tool:
 *   echo -n "correct horse battery staple" | argon2 sotto-salt-16byt -id -t 2 -m 13 -p 1 -l 32 -r
 *   (and -m 16 for libsodium's INTERACTIVE 64 MiB), and the sha256 vector
 * is FIPS 180-2's "abc".
 */
#include <sodium.h>
#include <time.h>

#include "cJSON.h"
#include "check.h"
#include "sotto.h"

#define HEADER SOTTO_STORE_HEADERBYTES
#define AB 17 /* crypto_secretstream_xchacha20poly1305_ABYTES */

static uint8_t key[32], key2[32];

static void sha_hex(const uint8_t *p, size_t n, char hex[65]) {
  uint8_t d[32];
  crypto_hash_sha256(d, p, n);
  sodium_bin2hex(hex, 65, d, 32);
}

static char *manifest_for(const char *id, const uint8_t *p, size_t n) {
  static char m[512];
  char hex[65];
  sha_hex(p, n, hex);
  snprintf(m, sizeof m,
           "{\"id\":\"%s\",\"format\":\"fasttext\",\"task\":\"language\",\"size\":%zu,"
           "\"sha256\":\"%s\",\"source\":\"test\"}",
           id, n, hex);
  return m;
}

/* Seals with the incremental API, feeding `step` bytes at a time. */
static uint8_t *seal_inc(const uint8_t *k, const char *manifest, const uint8_t *p, size_t n,
                         uint32_t chunk, size_t step, size_t *out_n) {
  sotto_error err = {0};
  sotto_store *s = sotto_store_seal_begin(k, manifest, chunk, &err);
  CHECK(s != NULL, "seal_begin: %s", err.message);
  if (!s) return NULL;
  size_t cap = n * 2 + 4096, len = 0;
  uint8_t *out = malloc(cap);
  const uint8_t *o;
  size_t on;
  o = sotto_store_output(s, &on);
  if (on) memcpy(out + len, o, on), len += on;
  for (size_t i = 0; i < n; i += step) {
    size_t k2 = n - i < step ? n - i : step;
    CHECK(sotto_store_update(s, p + i, k2) == 0, "seal update: %s", sotto_store_error(s)->message);
    o = sotto_store_output(s, &on);
    if (on) memcpy(out + len, o, on), len += on;
  }
  CHECK(sotto_store_finish(s) == 0, "seal finish: %s", sotto_store_error(s)->message);
  o = sotto_store_output(s, &on);
  if (on) memcpy(out + len, o, on), len += on;
  sotto_store_free(s);
  *out_n = len;
  return out;
}

/* Opens with the incremental API; returns the error code or "ok", and the
 * plaintext in *plain when ok. */
static const char *open_inc(const uint8_t *k, const uint8_t *c, size_t n, size_t step,
                            uint8_t **plain, size_t *plain_n) {
  static char code[64];
  sotto_store *s = sotto_store_open_begin(k);
  uint8_t *out = malloc(n + 1);
  size_t len = 0, on;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i += step) {
    rc = sotto_store_update(s, c + i, n - i < step ? n - i : step);
    const uint8_t *o = sotto_store_output(s, &on);
    if (on) memcpy(out + len, o, on), len += on;
  }
  if (rc == 0) rc = sotto_store_finish(s);
  snprintf(code, sizeof code, "%s", rc == 0 ? "ok" : sotto_status_code(sotto_store_error(s)->status));
  CHECK(rc == 0 || sotto_store_error(s)->message[0], "error has a message");
  sotto_store_free(s);
  if (rc == 0 && plain) {
    *plain = out, *plain_n = len;
  } else {
    free(out);
  }
  return code;
}

/* Opens with the buffer API; "ok" or the error code. Checks that a refused
 * file yields no plaintext at all. */
static const char *open_buf(const uint8_t *k, const uint8_t *c, size_t n) {
  static char code[64];
  uint8_t *plain = (uint8_t *)"x";
  size_t pn = 7;
  char *manifest = NULL;
  sotto_error err = {0};
  int rc = sotto_store_open(k, c, n, &plain, &pn, &manifest, &err);
  if (rc == 0) {
    snprintf(code, sizeof code, "ok");
  } else {
    CHECK(plain == NULL && pn == 0 && manifest == NULL, "refused file gives no plaintext");
    CHECK(err.status != SOTTO_OK && err.message[0], "refusal has a message");
    snprintf(code, sizeof code, "%s", sotto_status_code(err.status));
  }
  free(plain == (uint8_t *)"x" ? NULL : plain);
  free(manifest);
  return code;
}

static int one_of(const char *code, const char *a, const char *b, const char *c, const char *d) {
  return strcmp(code, a) == 0 || (b && strcmp(code, b) == 0) || (c && strcmp(code, c) == 0) ||
         (d && strcmp(code, d) == 0);
}

static void test_ids_and_keys(void) {
  const char *good[] = {"a", "0", "lid176", "sentiment-en", "a.b_c-d",
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
  const char *bad[] = {"", "A", "-a", ".a", "_a", "a/b", "../x", "a b", "a\\b", "\xc3\xa9", "a\n",
                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    CHECK(sotto_store_id_valid(good[i]), "valid id %s", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK(!sotto_store_id_valid(bad[i]), "invalid id \"%s\"", bad[i]);
  CHECK(!sotto_store_id_valid(NULL), "NULL id");

  uint8_t c1[16], c2[16], c3[16];
  sotto_store_key_check(key, c1);
  sotto_store_key_check(key, c2);
  sotto_store_key_check(key2, c3);
  CHECK(memcmp(c1, c2, 16) == 0 && memcmp(c1, c3, 16) != 0, "key check is a function of the key");

  /* Argon2id against Debian's reference argon2 tool. */
  const char *pass = "correct horse battery staple";
  const uint8_t *salt = (const uint8_t *)"sotto-salt-16byt";
  uint8_t k[32];
  char hex[65];
  CHECK(sotto_store_key_from_passphrase(k, pass, strlen(pass), salt, 2, 8192) == 0, "pwhash 8 MiB");
  sodium_bin2hex(hex, sizeof hex, k, 32);
  CHECK(strcmp(hex, "b1d8cac68ac017ec621dc0f891d41e2b223f7e83a9e2a12007cce47462c5398f") == 0,
        "argon2id t=2 m=8MiB matches the reference: %s", hex);
  CHECK(sotto_store_key_from_passphrase(k, pass, strlen(pass), salt, 0, 0) == 0, "pwhash default");
  sodium_bin2hex(hex, sizeof hex, k, 32);
  CHECK(strcmp(hex, "68e4fa7ecf3903f8b2919830585586ee704868aaeb24ffd4f971917cfefdaa35") == 0,
        "argon2id INTERACTIVE matches the reference: %s", hex);
  CHECK(sotto_store_key_from_passphrase(k, pass, strlen(pass), salt, 0, 4) != 0, "memlimit too small");

  sha_hex((const uint8_t *)"abc", 3, hex);
  CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0, "sha256");
}

static void test_round_trips(void) {
  size_t sizes[] = {0, 1, 63, 64, 65, 1000, 1024, 1025, 5000};
  uint32_t chunks[] = {64, 1024};
  size_t steps[] = {1, 7, 1000, 1 << 20};
  uint8_t *data = malloc(5000);
  randombytes_buf_deterministic(data, 5000, (const uint8_t *)"sotto test data seed 32 bytes!!!");
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
    for (size_t ci = 0; ci < 2; ci++)
      for (size_t fi = 0; fi < 4; fi++) {
        size_t n = sizes[si], cn;
        const char *m = manifest_for("round-trip", data, n);
        uint8_t *c = seal_inc(key, m, data, n, chunks[ci], steps[fi], &cn);
        if (!c) continue;
        size_t nchunks = n ? (n + chunks[ci] - 1) / chunks[ci] : 1;
        CHECK(cn == HEADER + strlen(m) + AB + n + nchunks * AB,
              "sealed size of %zu bytes in chunks of %u: %zu", n, chunks[ci], cn);
        for (size_t oi = 0; oi < 4; oi += 1 + (fi & 1)) {
          uint8_t *p = NULL;
          size_t pn = 0;
          const char *code = open_inc(key, c, cn, steps[oi] == 1000 ? 13 : steps[oi], &p, &pn);
          CHECK(strcmp(code, "ok") == 0 && pn == n && (n == 0 || memcmp(p, data, n) == 0),
                "round trip %zu/%u/%zu: %s", n, chunks[ci], steps[fi], code);
          free(p);
        }
        CHECK(strcmp(open_buf(key, c, cn), "ok") == 0, "buffer open %zu", n);
        free(c);
      }

  /* The buffer API at the default chunk size, over several chunks. */
  size_t big = 3 * SOTTO_STORE_CHUNK_DEFAULT + 5;
  uint8_t *b = malloc(big), *sealed = NULL, *plain = NULL;
  randombytes_buf_deterministic(b, big, (const uint8_t *)"another seed of thirty-two bytes");
  size_t sn = 0, pn = 0;
  char *manifest = NULL;
  sotto_error err = {0};
  CHECK(sotto_store_seal(key, manifest_for("big", b, big), b, big, &sealed, &sn, &err) == 0,
        "seal 3 MiB: %s", err.message);
  CHECK(sn == HEADER + strlen(manifest_for("big", b, big)) + AB + big + 4 * AB, "4 chunks");
  CHECK(sotto_store_open(key, sealed, sn, &plain, &pn, &manifest, &err) == 0, "open 3 MiB");
  CHECK(pn == big && plain && memcmp(plain, b, big) == 0, "3 MiB round trip");
  cJSON *mj = cJSON_Parse(manifest);
  CHECK(mj && strcmp(cJSON_GetObjectItem(mj, "id")->valuestring, "big") == 0 &&
            cJSON_GetObjectItem(mj, "size")->valuedouble == (double)big &&
            strcmp(cJSON_GetObjectItem(mj, "task")->valuestring, "language") == 0,
        "manifest kept: %s", manifest ? manifest : "(null)");
  cJSON_Delete(mj);
  /* The manifest is available after the header and manifest alone. */
  sotto_store *s = sotto_store_open_begin(key);
  size_t head = HEADER + strlen(manifest) + AB;
  CHECK(sotto_store_update(s, sealed, head - 1) == 0 && sotto_store_manifest(s) == NULL, "no manifest yet");
  CHECK(sotto_store_update(s, sealed + head - 1, 1) == 0 && sotto_store_manifest(s) != NULL, "manifest");
  sotto_store_free(s);
  /* Sealing is randomised: the same input never gives the same file. */
  uint8_t *again = NULL;
  size_t an = 0;
  sotto_store_seal(key, manifest_for("big", b, big), b, big, &again, &an, NULL);
  CHECK(an == sn && memcmp(again, sealed, HEADER) != 0, "fresh nonce per file");
  free(again), free(b), free(sealed), free(plain), free(manifest);
  free(data);
}

static void test_seal_refusals(void) {
  uint8_t d[100];
  memset(d, 7, sizeof d);
  char m[512], hex[65];
  sotto_error err = {0};
  sha_hex(d, sizeof d, hex);
  struct { const char *manifest; const char *why; } bad[] = {
      {"", "empty"},
      {"[]", "not an object"},
      {"{\"format\":\"gguf\",\"size\":100,\"sha256\":\"%s\"}", "no id"},
      {"{\"id\":\"../etc\",\"format\":\"gguf\",\"size\":100,\"sha256\":\"%s\"}", "path id"},
      {"{\"id\":\"Big\",\"format\":\"gguf\",\"size\":100,\"sha256\":\"%s\"}", "uppercase id"},
      {"{\"id\":\"m\",\"size\":100,\"sha256\":\"%s\"}", "no format"},
      {"{\"id\":\"m\",\"format\":\"gguf\",\"sha256\":\"%s\"}", "no size"},
      {"{\"id\":\"m\",\"format\":\"gguf\",\"size\":-1,\"sha256\":\"%s\"}", "negative size"},
      {"{\"id\":\"m\",\"format\":\"gguf\",\"size\":1.5,\"sha256\":\"%s\"}", "fractional size"},
      {"{\"id\":\"m\",\"format\":\"gguf\",\"size\":100}", "no sha256"},
      {"{\"id\":\"m\",\"format\":\"gguf\",\"size\":100,\"sha256\":\"abc\"}", "short sha256"},
      {"{\"id\":\"m\",\"format\":\"gguf\",\"size\":100,\"sha256\":\"%s\",\"x\":[1]}", "non-string member"},
      {"{\"id\":\"m\",\"format\":\"gguf\",\"size\":100,\"sha256\":\"%s\"} x", "trailing text"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    snprintf(m, sizeof m, bad[i].manifest, hex);
    sotto_store *s = sotto_store_seal_begin(key, m, 0, &err);
    CHECK(s == NULL && err.status == SOTTO_BAD_REQUEST && err.message[0],
          "refuses manifest: %s (%s)", bad[i].why, s ? "accepted" : err.message);
    sotto_store_free(s);
    err = (sotto_error){0};
  }
  snprintf(m, sizeof m, "{\"id\":\"m\",\"format\":\"gguf\",\"size\":100,\"sha256\":\"%s\"}", hex);
  CHECK(sotto_store_seal_begin(key, m, 10, NULL) == NULL, "chunk size too small");
  CHECK(sotto_store_seal_begin(key, NULL, 0, NULL) == NULL, "no manifest");
  uint8_t *out = NULL;
  size_t on = 0;
  CHECK(sotto_store_seal(key, m, d, 99, &out, &on, &err) != 0 && err.status == SOTTO_SIZE_MISMATCH,
        "too little data: %s", err.message);
  err = (sotto_error){0};
  sotto_store *s = sotto_store_seal_begin(key, m, 64, NULL);
  CHECK(sotto_store_update(s, d, 100) == 0 && sotto_store_update(s, d, 1) != 0 &&
            sotto_store_error(s)->status == SOTTO_SIZE_MISMATCH, "too much data");
  sotto_store_free(s);
  d[50] ^= 1; /* the data no longer matches the manifest's sha256 */
  CHECK(sotto_store_seal(key, m, d, 100, &out, &on, &err) != 0 && out == NULL &&
            err.status == SOTTO_SHA256_MISMATCH, "sha256 checked: %s", err.message);
}

/* Offsets of the frames of a file: [0] header end, then manifest end, then
 * the end of each chunk. */
static size_t frames(const char *manifest, size_t n, uint32_t chunk, size_t *ends) {
  size_t k = 0, pos = HEADER + strlen(manifest) + AB;
  ends[k++] = HEADER;
  ends[k++] = pos;
  for (size_t left = n; left || k == 2; left -= left < chunk ? left : chunk) {
    pos += (left < chunk ? left : chunk) + AB;
    ends[k++] = pos;
    if (!left) break;
  }
  return k;
}

static void test_tampering(void) {
  enum { N = 4500, CHUNK = 1024 }; /* five chunks: 4 x 1024 + 404 */
  uint8_t *data = malloc(N), *other = malloc(N);
  randombytes_buf_deterministic(data, N, (const uint8_t *)"tamper test data seed, 32 bytes.");
  randombytes_buf_deterministic(other, N, (const uint8_t *)"another file's data seed 32 byte");
  char m[512];
  snprintf(m, sizeof m, "%s", manifest_for("victim", data, N));
  size_t n, on;
  uint8_t *c = seal_inc(key, m, data, N, CHUNK, N, &n);
  /* Another file, same key, same id and layout (only the data differs). */
  char m2[512];
  snprintf(m2, sizeof m2, "%s", manifest_for("victim", other, N));
  uint8_t *o = seal_inc(key, m2, other, N, CHUNK, N, &on);
  size_t ends[16];
  size_t nf = frames(m, N, CHUNK, ends);
  CHECK(nf == 7 && ends[nf - 1] == n && on == n, "layout: %zu frames, %zu bytes", nf, n);
  CHECK(strcmp(open_buf(key, c, n), "ok") == 0, "untouched file opens");
  uint8_t *t = malloc(n + 2 * CHUNK);

  /* A bit flip anywhere in the header. */
  int all = 1;
  for (size_t i = 0; i < HEADER; i++) {
    memcpy(t, c, n);
    t[i] ^= (uint8_t)(1u << (i % 8));
    const char *code = open_buf(key, t, n);
    if (!one_of(code, "not_a_store_file", "unsupported_version", "tampered", "wrong_key")) {
      all = 0;
      CHECK(0, "header byte %zu flipped: %s", i, code);
    }
    if (i >= 44 && strcmp(code, "tampered") != 0) CHECK(0, "nonce byte %zu: %s", i, code);
  }
  CHECK(all, "every header bit flip refused");
  /* ... in the manifest, and in the first, middle and last byte of each chunk. */
  for (size_t f = 1; f < nf; f++) {
    size_t at[3] = {ends[f - 1], (ends[f - 1] + ends[f]) / 2, ends[f] - 1};
    for (int k = 0; k < 3; k++) {
      memcpy(t, c, n);
      t[at[k]] ^= 0x80;
      const char *code = open_buf(key, t, n);
      CHECK(strcmp(code, "tampered") == 0, "frame %zu byte %zu flipped: %s", f, at[k], code);
      code = open_inc(key, t, n, 100, NULL, NULL);
      CHECK(strcmp(code, "tampered") == 0, "frame %zu byte %zu flipped (streaming): %s", f, at[k], code);
    }
  }
  /* Every byte of the manifest. */
  all = 1;
  for (size_t i = ends[0]; i < ends[1]; i++) {
    memcpy(t, c, n);
    t[i] ^= 0x01;
    if (strcmp(open_buf(key, t, n), "tampered") != 0) all = 0;
  }
  CHECK(all, "every manifest byte flip refused");
  /* Truncation at every length. */
  all = 1;
  for (size_t len = 0; len < n; len++) {
    const char *code = open_buf(key, c, len);
    if (!one_of(code, "truncated", "not_a_store_file", "tampered", NULL)) {
      all = 0;
      CHECK(0, "truncated to %zu bytes: %s", len, code);
    }
  }
  CHECK(all, "truncation at every length refused");
  for (size_t f = 0; f < nf - 1; f++)
    CHECK(strcmp(open_buf(key, c, ends[f]), "truncated") == 0 || ends[f] == 0,
          "cut after frame %zu: truncated", f);
  /* Appended bytes. */
  memcpy(t, c, n);
  t[n] = 0;
  CHECK(strcmp(open_buf(key, t, n + 1), "tampered") == 0, "one byte appended");
  memcpy(t + n, c + ends[2], ends[3] - ends[2]);
  CHECK(strcmp(open_buf(key, t, n + (ends[3] - ends[2])), "tampered") == 0, "a chunk appended");
  /* Swapped chunks 1 and 2 (same size). */
  size_t cl = ends[3] - ends[2];
  memcpy(t, c, n);
  memcpy(t + ends[2], c + ends[3], cl);
  memcpy(t + ends[3], c + ends[2], cl);
  CHECK(strcmp(open_buf(key, t, n), "tampered") == 0, "chunks swapped");
  /* Chunk 2 dropped; chunk 1 duplicated in its place. */
  memcpy(t, c, ends[3]);
  memcpy(t + ends[3], c + ends[4], n - ends[4]);
  CHECK(one_of(open_buf(key, t, n - cl), "tampered", "truncated", NULL, NULL), "chunk dropped");
  memcpy(t, c, n);
  memcpy(t + ends[3], c + ends[2], cl);
  CHECK(strcmp(open_buf(key, t, n), "tampered") == 0, "chunk duplicated");
  /* A chunk, the manifest, or the header taken from another file. */
  memcpy(t, c, n);
  memcpy(t + ends[3], o + ends[3], cl);
  CHECK(strcmp(open_buf(key, t, n), "tampered") == 0, "chunk from another file");
  memcpy(t, c, n);
  memcpy(t + ends[0], o + ends[0], ends[1] - ends[0]);
  CHECK(strcmp(open_buf(key, t, n), "tampered") == 0, "manifest from another file");
  memcpy(t, c, n);
  memcpy(t, o, HEADER);
  CHECK(strcmp(open_buf(key, t, n), "tampered") == 0, "header from another file");
  memcpy(t, c, n);
  memcpy(t + ends[nf - 2], o + ends[nf - 2], n - ends[nf - 2]);
  CHECK(strcmp(open_buf(key, t, n), "tampered") == 0, "final chunk from another file");
  /* Wrong key; wrong and right passphrase. */
  CHECK(strcmp(open_buf(key2, c, n), "wrong_key") == 0, "wrong key");
  CHECK(strcmp(open_inc(key2, c, n, 1, NULL, NULL), "wrong_key") == 0, "wrong key (streaming)");
  const uint8_t *salt = (const uint8_t *)"0123456789abcdef";
  uint8_t pk[32], pk2[32];
  sotto_store_key_from_passphrase(pk, "right passphrase", 16, salt, 1, 8192);
  sotto_store_key_from_passphrase(pk2, "wrong passphrase", 16, salt, 1, 8192);
  uint8_t *pc = seal_inc(pk, m, data, N, CHUNK, 999, &n);
  CHECK(strcmp(open_buf(pk2, pc, n), "wrong_key") == 0, "wrong passphrase");
  CHECK(strcmp(open_buf(pk, pc, n), "ok") == 0, "right passphrase");
  /* Not a store file at all. */
  static const uint8_t clear[] = "GGUF\3\0\0\0 a model in the clear, no header";
  CHECK(strcmp(open_buf(key, clear, sizeof clear - 1), "not_a_store_file") == 0, "plaintext file");
  CHECK(strcmp(open_buf(key, c, 0), "not_a_store_file") == 0, "empty file");
  free(pc), free(t), free(c), free(o), free(data), free(other);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Throughput of the buffer API on 64 MiB (printed, not asserted). */
static void measure(void) {
  size_t n = 64u << 20;
  uint8_t *d = malloc(n), *sealed = NULL, *plain = NULL;
  randombytes_buf_deterministic(d, n, (const uint8_t *)"throughput measurement seed 32 b");
  char m[512];
  snprintf(m, sizeof m, "%s", manifest_for("speed", d, n));
  size_t sn = 0, pn = 0;
  double t0 = now_s();
  int rc = sotto_store_seal(key, m, d, n, &sealed, &sn, NULL);
  double t1 = now_s();
  rc |= sotto_store_open(key, sealed, sn, &plain, &pn, NULL, NULL);
  double t2 = now_s();
  CHECK(rc == 0 && pn == n && memcmp(plain, d, n) == 0, "64 MiB round trip");
  printf("store: seal %.0f MB/s, open %.0f MB/s (64 MiB, sha256 included)\n", n / 1e6 / (t1 - t0),
         n / 1e6 / (t2 - t1));
  free(d), free(sealed), free(plain);
}

int main(void) {
  CHECK(sotto_store_init() == 0, "sodium_init");
  CHECK(sotto_store_keygen(key) == 0 && sotto_store_keygen(key2) == 0, "keygen");
  CHECK(memcmp(key, key2, 32) != 0, "keys differ");
  test_ids_and_keys();
  test_round_trips();
  test_seal_refusals();
  test_tampering();
  measure();
  return check_finish();
}
