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

#ifdef __cplusplus
}
#endif
#endif /* SOTTO_H */
