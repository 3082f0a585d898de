/*
 * fuzz_store.c - libFuzzer target for the encrypted store layer.
 *
 * First byte even: the rest is a store file, opened under a fixed key with
 * the buffer API and with the incremental API in input-chosen pieces. It
 * must be refused with an error code (or open, for the seeds, which are real
 * files sealed under that key), and both APIs must agree. Never a crash, a
 * leak or a read out of bounds.
 *
 * First byte odd: the rest is a plaintext. It is sealed (in small chunks),
 * must open to exactly itself, and the sealed file with one byte changed at
 * an input-chosen place must be refused: the store's integrity promise, as a
 * property.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sotto.h"

/* The seeds script seals its files with this key too. */
static const uint8_t key[SOTTO_STORE_KEYBYTES] = "sotto fuzz key, 32 bytes long!!";

static int open_buffer(const uint8_t *p, size_t n, uint8_t **plain, size_t *pn) {
  char *manifest = NULL;
  sotto_error err = {0};
  int rc = sotto_store_open(key, p, n, plain, pn, &manifest, &err);
  /* a refusal says why and gives nothing */
  if (rc != 0 && (!err.status || !err.message[0] || *plain || manifest)) abort();
  if (rc == 0 && (!manifest || !*plain)) abort();
  free(manifest);
  return rc;
}

static int open_pieces(const uint8_t *p, size_t n, size_t step, size_t *out_n) {
  sotto_store *s = sotto_store_open_begin(key);
  if (!s) abort();
  int rc = 0;
  *out_n = 0;
  for (size_t i = 0; i < n && rc == 0; i += step) {
    rc = sotto_store_update(s, p + i, n - i < step ? n - i : step);
    size_t k;
    sotto_store_output(s, &k);
    *out_n += k;
  }
  if (rc == 0) rc = sotto_store_finish(s);
  if (rc != 0 && (!sotto_store_error(s)->status || !sotto_store_error(s)->message[0])) abort();
  sotto_store_free(s);
  return rc;
}

static void open_any(const uint8_t *p, size_t n, size_t step) {
  uint8_t *plain = NULL;
  size_t pn = 0, qn = 0;
  int a = open_buffer(p, n, &plain, &pn);
  int b = open_pieces(p, n, step, &qn);
  if ((a == 0) != (b == 0) || (a == 0 && pn != qn)) abort();
  free(plain);
}

static void round_trip(const uint8_t *p, size_t n, size_t where) {
  char hex[65], manifest[256];
  uint8_t d[32];
  crypto_hash_sha256(d, p, n);
  sodium_bin2hex(hex, sizeof hex, d, sizeof d);
  snprintf(manifest, sizeof manifest,
           "{\"id\":\"fuzz\",\"format\":\"gguf\",\"size\":%zu,\"sha256\":\"%s\"}", n, hex);
  sotto_store *s = sotto_store_seal_begin(key, manifest, 64, NULL);
  if (!s) abort();
  size_t cap = n + n / 64 * 17 + 512, len = 0, k;
  uint8_t *sealed = malloc(cap);
  const uint8_t *o = sotto_store_output(s, &k);
  memcpy(sealed, o, k), len = k;
  if (sotto_store_update(s, p, n) != 0 || sotto_store_finish(s) != 0) abort();
  o = sotto_store_output(s, &k);
  if (len + k > cap) abort();
  memcpy(sealed + len, o, k), len += k;
  sotto_store_free(s);

  uint8_t *plain = NULL;
  size_t pn = 0;
  if (open_buffer(sealed, len, &plain, &pn) != 0 || pn != n || (n && memcmp(plain, p, n) != 0))
    abort();
  free(plain);
  sealed[where % len] ^= (uint8_t)(1 + where / len % 255);
  plain = NULL;
  if (open_buffer(sealed, len, &plain, &pn) == 0) abort(); /* tampering went unnoticed */
  free(sealed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1) {
    size_t where = size > 1 ? (size_t)data[size - 1] * 131 + size : 0;
    round_trip(data + 1, size - 1, where);
  } else {
    open_any(data + 1, size - 1, (size_t)(data[0] >> 1) * 13 + 1);
  }
  return 0;
}
