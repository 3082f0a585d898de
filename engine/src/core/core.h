/*
 * core/ - the floor of the engine: the context, the one error type, JSON
 * field readers, request streaming and cancellation, the model table and
 * small utilities. Every other layer may include core.h; core includes
 * nothing of the engine above it.
 *
 * Engine layers, each a folder, each including only the layers below it:
 *
 *   api.c         the request envelope and the op table
 *   tasks/        JSON in and out, one file per op family; no algorithms
 *   models/       one file per model family (fastText, extractive, ...)
 *   runtime/      what generation needs beyond one forward pass
 *   tokenizers/   text to tokens: UTF-8, Unicode, sentences, words, ...
 *   formats/      model files: recognising them, reading and writing them,
 *                 the encrypted store
 *   ops/          tensor primitives: XNNPACK wrappers and own kernels
 *   core/         this folder
 */
#ifndef SOTTO_CORE_H
#define SOTTO_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "cJSON.h"
#include "pthreadpool.h"
#include "sotto.h"

/* Monotonic clock in milliseconds. */
double sotto_now_ms(void);

/* ---- bytes a model may use in place ---- */
typedef struct sotto_blob {
  const uint8_t *data;
  size_t size;
  void (*release)(struct sotto_blob *b); /* NULL: nothing to release */
  void *owner;                           /* what release frees or unmaps */
} sotto_blob;

void sotto_blob_release(sotto_blob *b);

/* ---- models registered in a context ---- */
typedef struct sotto_model {
  char id[SOTTO_MODEL_ID_BYTES];
  const char *format;   /* "fasttext", "gguf" (formats/) */
  const char *arch;     /* the family that runs it: "fasttext", ... (models/) */
  size_t bytes;         /* memory the loaded model holds */
  sotto_blob file;      /* the file's bytes, kept when used in place */
  const struct sotto_model_card *card; /* what the engine knows of this very file, or NULL */
  const struct sotto_tokenizer *tokenizer; /* the model's own, or NULL ("tokenize") */
  void *impl;
  void (*destroy)(void *impl);
} sotto_model;

struct sotto_context {
  pthreadpool_t pool;   /* NULL when single-threaded */
  int threads;
  size_t memory_budget;
  sotto_model *models;
  int n_models, cap_models;
};

/* A context with its thread pool and budget (api.c's sotto_context_create
 * initialises the ops first, as core cannot). */
sotto_context *sotto_context_new(const sotto_config *config);

sotto_model *sotto_model_find(sotto_context *ctx, const char *id);
/* The model a request names: NULL with model_not_found when no model has
 * the id. */
sotto_model *sotto_model_get(sotto_context *ctx, const char *id, sotto_error *err);
/* Adds m to the table, replacing a model with the same id; takes m's
 * contents (destroying them on failure). */
sotto_status sotto_model_insert(sotto_context *ctx, sotto_model *m, sotto_error *err);
void sotto_model_free(sotto_model *m);

/* ---- streaming and cancellation of one request ---- */
typedef struct sotto_stream {
  sotto_stream_fn fn;   /* NULL when the caller can neither stream nor cancel */
  void *user;
  const cJSON *id;      /* request id echoed in every message */
  int partials;         /* the request asked for them ("stream": true) */
  int cancelled;
} sotto_stream;

/* Sends {"id":..,"partial":partial} when the request asked for partials;
 * takes ownership of partial. Returns nonzero once the caller has asked to
 * cancel. */
int sotto_stream_emit(sotto_stream *st, cJSON *partial);
/* {"progress":done,"stage":stage}, done in 0..1. Returns nonzero once
 * cancelled. */
int sotto_stream_progress(sotto_stream *st, double done, const char *stage);
/* A cancellation checkpoint: asks the caller (fn with NULL) and returns
 * nonzero once the request is cancelled. Cheap; call it between units of
 * work (a layer, a token, a block of sentences). st may be NULL. */
int sotto_stream_cancelled(sotto_stream *st);

/* ---- request fields ----
 * Readers return the value, the default when the field is absent, and set
 * *err (returning the default) when it is present with a wrong type or out
 * of range. */
const char *sotto_json_str(const cJSON *req, const char *key, const char *dflt, sotto_error *err);
double sotto_json_num(const cJSON *req, const char *key, double dflt, double lo, double hi,
                      sotto_error *err);
/* A whole number in [lo, hi]. */
long sotto_json_int(const cJSON *req, const char *key, long dflt, long lo, long hi,
                    sotto_error *err);
int sotto_json_bool(const cJSON *req, const char *key, int dflt, sotto_error *err);
/* The index of the string field's value in names[0..count), dflt when the
 * field is absent; -1 with *err set when it is not one of them. */
int sotto_json_enum(const cJSON *req, const char *key, const char *const *names, int count,
                    int dflt, sotto_error *err);
/* The strings of an array field, as a malloc'ed array of *n pointers into
 * req (free() it); NULL with *n = 0 when absent; NULL with *err set when
 * it is not an array of 1 to max strings. */
const char **sotto_json_strings(const cJSON *req, const char *key, int max, int *n,
                                sotto_error *err);

#endif /* SOTTO_CORE_H */
