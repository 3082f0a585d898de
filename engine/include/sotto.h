/*
 * sotto.h - the one public header of the sotto inference engine.
 *
 * Everything the extension, the native host and the CLI do goes through one
 * JSON request entry point, sotto_request(), so the browser (wasm) and native
 * builds speak exactly the same protocol. Models are handed to the engine as
 * plaintext byte buffers; where they came from (a bundled file, an encrypted
 * cache, a download) is the caller's business.
 *
 * Requests and responses are UTF-8 JSON objects:
 *   {"id":"r1","op":"capabilities"}
 *   -> {"id":"r1","result":{...},"stats":{"ms":0.1,"threads":2,"ran":"native"}}
 *   -> {"id":"r1","error":{"code":"bad_request","message":"..."}}
 * See README.md for the list of ops.
 */
#ifndef SOTTO_H
#define SOTTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOTTO_VERSION "0.1.0"

typedef struct sotto_context sotto_context;

typedef struct sotto_config {
  int threads;            /* worker threads; 0 = one per core, 1 = no pool */
  size_t memory_budget;   /* bytes models may use; 0 = no limit */
} sotto_config;

/* Creates an engine context (NULL config = defaults). Returns NULL only when
 * memory or XNNPACK initialisation fails. */
sotto_context *sotto_context_create(const sotto_config *config);
void sotto_context_destroy(sotto_context *ctx);

/* Runs one JSON request and returns the JSON response. Never returns NULL
 * except when out of memory; malformed requests get an error response. The
 * caller frees the result with sotto_string_free(). */
char *sotto_request(sotto_context *ctx, const char *json);

/* Streaming variant: partial results ({"id":..,"partial":..}) are passed to
 * on_partial as they are produced, before the final response is returned.
 * Returning nonzero from on_partial cancels the request (the final response
 * then carries error code "cancelled"). */
typedef int (*sotto_stream_fn)(void *user, const char *json);
char *sotto_request_stream(sotto_context *ctx, const char *json,
                           sotto_stream_fn on_partial, void *user);

void sotto_string_free(char *s);

/* Registers a model under an id from a plaintext buffer. The engine copies
 * what it needs; the buffer may be freed afterwards. format is "fasttext"
 * (.bin/.ftz) or "gguf". On failure returns nonzero and, when err is not
 * NULL, a message the caller frees with sotto_string_free(). */
int sotto_model_add(sotto_context *ctx, const char *id, const char *format,
                    const void *data, size_t size, char **err);
int sotto_model_remove(sotto_context *ctx, const char *id);

const char *sotto_version(void);

/* ==== encrypted store ==================================================
 *
 * Model files at rest (the native host's store and the extension's cache)
 * are sealed with libsodium's crypto_secretstream_xchacha20poly1305: a
 * 68-byte header, an encrypted manifest (JSON: id, format, task, size,
 * sha256 of the plaintext, source), then the plaintext in chunks (1 MiB by
 * default), each encrypted and authenticated in order, the last one marked
 * final. Opening refuses, with an error code, any file that is not exactly
 * what was sealed under this key: a flipped bit anywhere, a missing, extra,
 * reordered or foreign chunk, a wrong key.
 *
 * These functions only transform bytes; files, key storage and atomic
 * writes belong to the caller. Error codes: "bad_request", "not_a_store_file",
 * "unsupported_version", "wrong_key", "tampered", "truncated",
 * "sha256_mismatch", "size_mismatch", "out_of_memory".
 */
#define SOTTO_STORE_KEYBYTES 32
#define SOTTO_STORE_SALTBYTES 16
#define SOTTO_STORE_HEADERBYTES 68
#define SOTTO_STORE_CHUNK_DEFAULT (1u << 20)
#define SOTTO_STORE_CHUNK_MAX (16u << 20)
#define SOTTO_STORE_MANIFEST_MAX 65536

typedef struct sotto_store sotto_store; /* one sealing or opening in progress */

/* Initialises libsodium (thread-safe, idempotent); 0 on success. The other
 * sotto_store_* functions call it themselves. */
int sotto_store_init(void);

/* 1 when id is a valid model id: [a-z0-9][a-z0-9._-]{0,63}. Models are named
 * by id, never by path, so an id can never escape a store directory. */
int sotto_store_id_valid(const char *id);

/* A fresh random key. */
int sotto_store_keygen(uint8_t key[SOTTO_STORE_KEYBYTES]);

/* Derives a key from a passphrase with Argon2id (crypto_pwhash); opslimit and
 * memlimit_kib 0 select libsodium's INTERACTIVE limits. 0 on success. */
int sotto_store_key_from_passphrase(uint8_t key[SOTTO_STORE_KEYBYTES], const char *passphrase,
                                    size_t passphrase_len, const uint8_t salt[SOTTO_STORE_SALTBYTES],
                                    uint32_t opslimit, uint32_t memlimit_kib);

/* A 16-byte public check value of a key (a keyed BLAKE2b of a constant), as
 * stored in every file header: tells "wrong key" from "tampered". */
void sotto_store_key_check(const uint8_t key[SOTTO_STORE_KEYBYTES], uint8_t check[16]);

/* Incremental sealing: manifest_json must hold "id", "format", "size" and
 * "sha256" (64 hex digits of the plaintext); "task", "source" and other
 * string fields are kept. Exactly "size" bytes are then fed with
 * sotto_store_update(); sotto_store_finish() fails when their sha256 differs.
 * chunk_bytes 0 = SOTTO_STORE_CHUNK_DEFAULT. */
sotto_store *sotto_store_seal_begin(const uint8_t key[SOTTO_STORE_KEYBYTES],
                                    const char *manifest_json, uint32_t chunk_bytes, char **err);

/* Incremental opening: feed the sealed bytes in pieces of any size; plaintext
 * comes out chunk by chunk, each authenticated, but the whole is only
 * verified (all chunks, final mark, size, sha256) when sotto_store_finish()
 * returns 0: callers must not use any plaintext before that. */
sotto_store *sotto_store_open_begin(const uint8_t key[SOTTO_STORE_KEYBYTES]);

/* Feeds bytes; 0 on success, -1 on error (then see sotto_store_error). */
int sotto_store_update(sotto_store *s, const void *data, size_t len);
int sotto_store_finish(sotto_store *s);

/* Output produced since the previous call (header and ciphertext when
 * sealing, plaintext when opening). The pointer stays valid until the next
 * call on s. */
const uint8_t *sotto_store_output(sotto_store *s, size_t *len);

/* Opening: the manifest JSON once the header and manifest have been read
 * (NULL before). Sealing: the normalised manifest. */
const char *sotto_store_manifest(const sotto_store *s);

/* The last error: a code from the list above and a message; NULL if none. */
const char *sotto_store_error_code(const sotto_store *s);
const char *sotto_store_error(const sotto_store *s);
void sotto_store_free(sotto_store *s);

/* Whole-buffer forms. Results are freed with sotto_string_free(); *err (when
 * err is not NULL) gets "code: message" on failure. */
int sotto_store_seal(const uint8_t key[SOTTO_STORE_KEYBYTES], const char *manifest_json,
                     const void *plain, size_t plain_len, uint8_t **sealed, size_t *sealed_len,
                     char **err);
int sotto_store_open(const uint8_t key[SOTTO_STORE_KEYBYTES], const void *sealed,
                     size_t sealed_len, uint8_t **plain, size_t *plain_len, char **manifest_json,
                     char **err);

#ifdef __cplusplus
}
#endif
#endif /* SOTTO_H */
