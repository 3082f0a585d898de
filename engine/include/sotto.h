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

/* ==== status codes =====================================================
 *
 * One list for every layer: the engine's C API, its JSON replies
 * ({"error":{"code":"bad_request","message":"..."}}), the native host and
 * the extension all report failures with these codes, so the same bad input
 * gives the same code wherever it runs. The string form (sotto_status_code)
 * is the stable one that programs match on; the numbers may grow.
 */
#define SOTTO_STATUS_LIST(X)                                                          \
  X(SOTTO_OK, "ok")                                                                     \
  /* requests */                                                                        \
  X(SOTTO_BAD_JSON, "bad_json")                 /* the request is not JSON */           \
  X(SOTTO_BAD_REQUEST, "bad_request")           /* a field is missing or wrong */       \
  X(SOTTO_UNKNOWN_OP, "unknown_op")                                                     \
  X(SOTTO_EMPTY_TEXT, "empty_text")             /* nothing to work on */                \
  X(SOTTO_TOO_LARGE, "too_large")               /* input over a stated limit */         \
  X(SOTTO_CANCELLED, "cancelled")                                                       \
  /* models */                                                                          \
  X(SOTTO_MODEL_NOT_FOUND, "model_not_found")   /* no model under that id */            \
  X(SOTTO_BAD_MODEL, "bad_model")               /* damaged or inconsistent file */      \
  X(SOTTO_UNSUPPORTED_MODEL, "unsupported_model") /* valid, but not for this */         \
  X(SOTTO_UNSUPPORTED_FORMAT, "unsupported_format") /* not a format sotto reads */      \
  X(SOTTO_OVER_BUDGET, "over_budget")           /* over the memory budget */            \
  /* resources */                                                                       \
  X(SOTTO_OUT_OF_MEMORY, "out_of_memory")                                               \
  X(SOTTO_IO_ERROR, "io_error")                                                         \
  X(SOTTO_NO_SPACE, "no_space")                                                         \
  X(SOTTO_BUSY, "busy")                         /* too many requests at once */         \
  /* the encrypted store (sotto_store_*) */                                             \
  X(SOTTO_NOT_A_STORE_FILE, "not_a_store_file")                                         \
  X(SOTTO_UNSUPPORTED_VERSION, "unsupported_version")                                   \
  X(SOTTO_WRONG_KEY, "wrong_key")                                                       \
  X(SOTTO_TAMPERED, "tampered")                                                         \
  X(SOTTO_TRUNCATED, "truncated")                                                       \
  X(SOTTO_SHA256_MISMATCH, "sha256_mismatch")                                           \
  X(SOTTO_SIZE_MISMATCH, "size_mismatch")                                               \
  /* the native host's store and protocol */                                            \
  X(SOTTO_STORE_LOCKED, "store_locked")         /* passphrase not given yet */          \
  X(SOTTO_WRONG_PASSPHRASE, "wrong_passphrase")                                         \
  X(SOTTO_BAD_KEY_FILE, "bad_key_file")                                                 \
  X(SOTTO_KEY_EXISTS, "key_exists")                                                     \
  X(SOTTO_BAD_FRAME, "bad_frame")               /* a native message cut or oversized */ \
  X(SOTTO_BAD_UTF8, "bad_utf8")                                                         \
  X(SOTTO_BAD_SEQUENCE, "bad_sequence")         /* install chunks out of order */       \
  X(SOTTO_NO_INSTALL, "no_install")             /* no install of that id under way */   \
  X(SOTTO_DUPLICATE_ID, "duplicate_id")         /* a request id already running */      \
  X(SOTTO_FORBIDDEN_CALLER, "forbidden_caller") /* not in the host's allow-list */      \
  /* the extension (never produced by the engine itself) */                            \
  X(SOTTO_NO_TEXT, "no_text")                   /* the page or selection has none */    \
  X(SOTTO_NO_MODEL, "no_model")                 /* nothing installed for the task */    \
  X(SOTTO_NO_ROUTE, "no_route")                 /* the routing policy rules it out */   \
  X(SOTTO_MODEL_NOT_INSTALLED, "model_not_installed")                                   \
  X(SOTTO_CACHE_LOCKED, "cache_locked")                                                 \
  X(SOTTO_HOST_MISSING, "host_missing")                                                 \
  X(SOTTO_HOST_FORBIDDEN, "host_forbidden")                                             \
  X(SOTTO_HOST_FAILED, "host_failed")                                                   \
  X(SOTTO_ENGINE_FAILED, "engine_failed")                                               \
  X(SOTTO_INTERNAL, "internal")                 /* a bug: please report it */

typedef enum sotto_status {
#define SOTTO_STATUS_ENUM(name, code) name,
  SOTTO_STATUS_LIST(SOTTO_STATUS_ENUM)
#undef SOTTO_STATUS_ENUM
  SOTTO_STATUS_COUNT
} sotto_status;

/* The stable code of a status, e.g. "bad_request" ("internal" when out of
 * range). */
const char *sotto_status_code(sotto_status status);
/* The status of a code string; SOTTO_INTERNAL when unknown. */
sotto_status sotto_status_from_code(const char *code);

#define SOTTO_ERROR_MESSAGE_BYTES 512

/* A failure: its status and a message for people (never parsed). */
typedef struct sotto_error {
  sotto_status status;
  char message[SOTTO_ERROR_MESSAGE_BYTES];
} sotto_error;

/* Sets *e (when e is not NULL) and returns -1, so callers can write
 * `return sotto_error_set(e, SOTTO_BAD_REQUEST, "text must be a string");` */
int sotto_error_set(sotto_error *e, sotto_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ==== context and requests ============================================= */

typedef struct sotto_context sotto_context;

typedef struct sotto_config {
  int threads;            /* worker threads; 0 = one per core, 1 = no pool */
  size_t memory_budget;   /* bytes models may use; 0 = no limit */
} sotto_config;

/* Creates an engine context (NULL config = defaults). Returns NULL only when
 * memory or XNNPACK initialisation fails. */
sotto_context *sotto_context_create(const sotto_config *config);
void sotto_context_destroy(sotto_context *ctx);
/* Changes the budget that later model loads are checked against (0 = no
 * limit); a model over it is refused with SOTTO_OVER_BUDGET. */
void sotto_context_set_memory_budget(sotto_context *ctx, size_t bytes);

/* Runs one JSON request and returns the JSON response. Never returns NULL
 * except when out of memory; malformed requests get an error response. The
 * caller frees the result with sotto_string_free(). */
char *sotto_request(sotto_context *ctx, const char *json);

/* Streaming variant. on_partial receives each partial message
 * ({"id":..,"partial":{"progress":..,"stage":..}} or
 * {"id":..,"partial":{"token":..,"text":..}}) as it is produced, and is also
 * called with json == NULL at cancellation checkpoints while the request
 * works (often enough that a cancel takes effect within milliseconds).
 * Returning nonzero cancels the request: the final response then carries
 * error code "cancelled". */
typedef int (*sotto_stream_fn)(void *user, const char *json);
char *sotto_request_stream(sotto_context *ctx, const char *json,
                           sotto_stream_fn on_partial, void *user);

void sotto_string_free(char *s);

/* ==== models ===========================================================
 *
 * A model is registered under an id from the bytes of its file; the format
 * is recognised from the content (sotto_format_detect), never from a file
 * name. With SOTTO_MODEL_COPY the engine copies what it needs and the caller
 * keeps its buffer; with SOTTO_MODEL_TAKE the buffer came from malloc() and
 * now belongs to the engine, which may use it in place (no second copy) and
 * frees it, also on failure. */
#define SOTTO_MODEL_ID_BYTES 128 /* longest id + 1 */
#define SOTTO_MODEL_COPY 0u
#define SOTTO_MODEL_TAKE 1u

/* "fasttext", "gguf", or NULL when the bytes are no model format sotto
 * reads. Looks at the first bytes only. */
const char *sotto_format_detect(const void *data, size_t size);

sotto_status sotto_model_add(sotto_context *ctx, const char *id, void *data, size_t size,
                             unsigned flags, sotto_error *err);
/* Native builds: maps the file read-only and loads it in place. */
sotto_status sotto_model_add_file(sotto_context *ctx, const char *id, const char *path,
                                  sotto_error *err);
sotto_status sotto_model_remove(sotto_context *ctx, const char *id);

/* What a model file will need once loaded, from its first bytes: for GGUF
 * its header (metadata and tensor infos), for other formats its first bytes
 * only. *json (freed with sotto_string_free) gets
 *   {"format","arch","file_bytes","header_bytes","weights_bytes","state_bytes",
 *    "bytes","resident_bytes","n_ctx_default","n_ctx_train","exact"}
 * where "bytes" (weights used in place + KV cache and scratch at the
 * default context) is what "models.list" reports once the model is loaded,
 * and "resident_bytes" adds the rest of the file the engine keeps; "exact"
 * is false where the family's run state is not known (then the estimate is
 * the weights, or twice the file for models copied on load). Fails with
 * SOTTO_TRUNCATED when the bytes end inside the header: call again with
 * more of the file; SOTTO_UNSUPPORTED_FORMAT, SOTTO_UNSUPPORTED_MODEL or
 * SOTTO_BAD_MODEL as loading would. */
sotto_status sotto_model_estimate(const void *data, size_t size, uint64_t file_size, char **json,
                                  sotto_error *err);

/* The model a task uses when a request names none: "summarize" ->
 * "extractive", "language" -> "lid176", "sentiment" -> "sentiment-en";
 * NULL for a task the engine does not know. This is the one table of
 * defaults: "capabilities" publishes it as "defaults", the native host and
 * the CLI load these ids, and the extension uses them unless the user chose
 * another model. */
const char *sotto_model_default(const char *task);

const char *sotto_version(void);

/* ==== converting Hugging Face models to GGUF ===========================
 *
 * A Hugging Face model folder, given as its files' bytes (names relative
 * to the folder: "config.json", "model.safetensors" or its shards
 * "model-00001-of-00002.safetensors", "tokenizer.json",
 * "tokenizer_config.json", and for sentence-transformers "modules.json"
 * and "1_Pooling/config.json"), is converted to one GGUF file written in
 * order to write(user, bytes, len) (nonzero stops with io_error), with
 * progress(user, done 0..1, stage) between tensors (nonzero cancels).
 * Families: BERT, DistilBERT, RoBERTa, XLM-RoBERTa (*Model and
 * *ForSequenceClassification) and Llama, Qwen2, Qwen3, Gemma 3
 * (*ForCausalLM), in llama.cpp's GGUF conventions. Peak memory is the
 * input plus one converted tensor. */
typedef struct sotto_file {
  const char *name;
  const void *data;
  size_t size;
} sotto_file;

typedef struct sotto_convert_options {
  /* "f32", "f16" (default), "bf16", "q8_0", "q4_0", "q4_1", "q5_0",
   * "q5_1", "q4_k" (= "q4_k_s"), "q4_k_m", "q5_k" (= "q5_k_s"), "q5_k_m",
   * "q6_k": llama-quantize's type mixes for the quantized ones. */
  const char *type;
  const char *name;   /* general.name; NULL: the config's _name_or_path */
  int weights_only;   /* no tokenizer files needed: tokenizer.ggml.model "none" */
  int threads;        /* native builds: threads converting rows; 0 or 1 = one */
} sotto_convert_options;

typedef int (*sotto_write_fn)(void *user, const void *data, size_t len);
typedef int (*sotto_progress_fn)(void *user, double done, const char *stage);

sotto_status sotto_convert(const sotto_file *files, int n_files,
                           const sotto_convert_options *options, sotto_write_fn write,
                           sotto_progress_fn progress, void *user, sotto_error *err);

/* ==== split GGUF files =================================================
 *
 * llama.cpp's gguf-split writes a large model as NAME-00001-of-0000N.gguf:
 * N GGUF files, each with its own header and some of the tensors, the first
 * with all the metadata. sotto_gguf_join plans the one GGUF file they make
 * without holding their data: heads[k] holds the first bytes of part k (at
 * least its header; .name is used in messages) and sizes[k] its size.
 * *header (malloc'd, freed with free()) gets the joined file's header; the
 * joined file is that header followed, for each part k in order, by the
 * part's bytes from data_start[k] to its end and pad[k] zero bytes.
 * SOTTO_TRUNCATED when a head ends inside its part's header (give more);
 * SOTTO_BAD_MODEL for parts that are not one model's gguf-split parts in
 * order. */
sotto_status sotto_gguf_join(const sotto_file *heads, const uint64_t *sizes, int n,
                             uint8_t **header, size_t *header_len, uint64_t *data_start,
                             uint64_t *pad, sotto_error *err);

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
 * writes belong to the caller. They fail with SOTTO_BAD_REQUEST,
 * SOTTO_NOT_A_STORE_FILE, SOTTO_UNSUPPORTED_VERSION, SOTTO_WRONG_KEY,
 * SOTTO_TAMPERED, SOTTO_TRUNCATED, SOTTO_SHA256_MISMATCH, SOTTO_SIZE_MISMATCH
 * or SOTTO_OUT_OF_MEMORY.
 */
#define SOTTO_STORE_KEYBYTES 32
#define SOTTO_STORE_SALTBYTES 16
#define SOTTO_STORE_CHECKBYTES 16
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
void sotto_store_key_check(const uint8_t key[SOTTO_STORE_KEYBYTES], uint8_t check[SOTTO_STORE_CHECKBYTES]);

/* Incremental sealing: manifest_json must hold "id", "format", "size" and
 * "sha256" (64 hex digits of the plaintext); "task", "source" and other
 * string fields are kept. Exactly "size" bytes are then fed with
 * sotto_store_update(); sotto_store_finish() fails when their sha256 differs.
 * chunk_bytes 0 = SOTTO_STORE_CHUNK_DEFAULT. */
sotto_store *sotto_store_seal_begin(const uint8_t key[SOTTO_STORE_KEYBYTES],
                                    const char *manifest_json, uint32_t chunk_bytes,
                                    sotto_error *err);

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

/* The last error (status SOTTO_OK when none). */
const sotto_error *sotto_store_error(const sotto_store *s);
void sotto_store_free(sotto_store *s);

/* Whole-buffer forms. Results are freed with sotto_string_free(); *err (when
 * err is not NULL) gets the failure. */
int sotto_store_seal(const uint8_t key[SOTTO_STORE_KEYBYTES], const char *manifest_json,
                     const void *plain, size_t plain_len, uint8_t **sealed, size_t *sealed_len,
                     sotto_error *err);
int sotto_store_open(const uint8_t key[SOTTO_STORE_KEYBYTES], const void *sealed,
                     size_t sealed_len, uint8_t **plain, size_t *plain_len, char **manifest_json,
                     sotto_error *err);

#ifdef __cplusplus
}
#endif
#endif /* SOTTO_H */
