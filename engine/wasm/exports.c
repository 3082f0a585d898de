/*
 * exports.c - the wasm module's entry: the engine's public functions are
 * exported by name (see engine/CMakeLists.txt); this adds what only the
 * JavaScript side needs.
 */
#include <emscripten.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "sotto.h"

/* Current size of the wasm heap, for the extension's memory budget. */
EMSCRIPTEN_KEEPALIVE size_t sotto_wasm_heap_bytes(void) {
  return (size_t)__builtin_wasm_memory_size(0) * 65536u;
}

/* sotto_model_estimate with the file size as a double (exact to 2^53), so
 * JavaScript needs no 64-bit integers; returns the JSON or NULL with *err. */
EMSCRIPTEN_KEEPALIVE char *sotto_wasm_model_estimate(const void *data, size_t size, double file_size,
                                                     sotto_error *err) {
  char *json = NULL;
  if (file_size < 0 || file_size > 9007199254740992.0) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "file size out of range");
    return NULL;
  }
  sotto_model_estimate(data, size, (uint64_t)file_size, &json, err);
  return json;
}

/* Incremental SHA-256 (libsodium's) for the extension's downloads, whose
 * state is saved between parts so a download can resume after a restart:
 * the state is plain bytes, sotto_wasm_sha256_statebytes() of them. */
EMSCRIPTEN_KEEPALIVE size_t sotto_wasm_sha256_statebytes(void) {
  return sizeof(crypto_hash_sha256_state);
}
EMSCRIPTEN_KEEPALIVE int sotto_wasm_sha256_init(crypto_hash_sha256_state *st) {
  return sotto_store_init() == 0 ? crypto_hash_sha256_init(st) : -1;
}
EMSCRIPTEN_KEEPALIVE int sotto_wasm_sha256_update(crypto_hash_sha256_state *st, const uint8_t *p,
                                                  size_t n) {
  return crypto_hash_sha256_update(st, p, n);
}
EMSCRIPTEN_KEEPALIVE int sotto_wasm_sha256_final(crypto_hash_sha256_state *st, uint8_t *out) {
  return crypto_hash_sha256_final(st, out);
}

/* sotto_gguf_join with sizes as doubles; returns
 * {"parts":[{"data_start":..,"pad":..},..]} (the header in *header, to be
 * freed with free()), or NULL with *err. */
EMSCRIPTEN_KEEPALIVE char *sotto_wasm_gguf_join(const sotto_file *heads, const double *sizes, int n,
                                                uint8_t **header, size_t *header_len,
                                                sotto_error *err) {
  if (n < 1 || n > 9999) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "GGUF join: 1 to 9999 parts");
    return NULL;
  }
  uint64_t *s = malloc(3 * (size_t)n * sizeof *s), *start = s + n, *pad = s + 2 * n;
  char *json = NULL;
  if (!s) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  for (int k = 0; k < n; k++) s[k] = (uint64_t)sizes[k];
  if (sotto_gguf_join(heads, s, n, header, header_len, start, pad, err) == SOTTO_OK) {
    size_t cap = 32 + (size_t)n * 64, len = 0;
    json = malloc(cap);
    if (json) {
      len += (size_t)snprintf(json + len, cap - len, "{\"parts\":[");
      for (int k = 0; k < n; k++)
        len += (size_t)snprintf(json + len, cap - len, "%s{\"data_start\":%llu,\"pad\":%llu}", k ? "," : "",
                                (unsigned long long)start[k], (unsigned long long)pad[k]);
      snprintf(json + len, cap - len, "]}");
    } else {
      free(*header);
      *header = NULL;
      sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    }
  }
  free(s);
  return json;
}
