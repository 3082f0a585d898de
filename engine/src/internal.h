/*
 * internal.h - what the engine's files share and nothing outside sees.
 *
 * Layers, top to bottom: api.c (JSON dispatch) -> task_*.c (one request op
 * family each) -> model_*.c (one file per model architecture / format) ->
 * ops.c (XNNPACK wrappers and the few kernels XNNPACK lacks).
 */
#ifndef SOTTO_INTERNAL_H
#define SOTTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cJSON.h"
#include "pthreadpool.h"
#include "sotto.h"

/* ---- errors: a stable code for programs, a message for people ---- */
typedef struct sotto_error {
  const char *code;     /* e.g. "bad_request", "model_not_found"; NULL = none */
  char message[512];
} sotto_error;

/* Sets *e (when e is not NULL) and returns -1, so callers can write
 * `return sotto_error_set(e, "bad_request", "text must be a string");` */
int sotto_error_set(sotto_error *e, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Monotonic clock in milliseconds. */
double sotto_now_ms(void);

/* ---- models registered in a context ---- */
typedef struct sotto_model {
  char id[128];
  char format[16];      /* "fasttext", "gguf" */
  size_t bytes;         /* memory the loaded model holds */
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

sotto_model *sotto_model_find(sotto_context *ctx, const char *id);

/* ---- streaming: partial results of one request ---- */
typedef struct sotto_stream {
  sotto_stream_fn fn;   /* NULL when the caller does not stream */
  void *user;
  const cJSON *id;      /* request id echoed in every message */
  int cancelled;
} sotto_stream;

/* Sends {"id":..,"partial":partial}; takes ownership of partial. Returns
 * nonzero once the caller has asked to cancel. */
int sotto_stream_emit(sotto_stream *st, cJSON *partial);

/* ---- request ops ----
 * A handler reads its fields from req and returns the "result" object, or
 * NULL with *err set. It owns nothing of req. */
typedef cJSON *(*sotto_op_fn)(sotto_context *ctx, const cJSON *req,
                              sotto_stream *st, sotto_error *err);

/* Field readers: return the value, the default when the field is absent,
 * and set *err (returning the default) when it is present with a wrong type
 * or out of range. */
const char *sotto_json_str(const cJSON *req, const char *key, const char *dflt, sotto_error *err);
double sotto_json_num(const cJSON *req, const char *key, double dflt, double lo, double hi, sotto_error *err);

/* The op names the dispatcher knows (for "capabilities"). */
cJSON *sotto_api_ops(void);

/* Op families, one per task_*.c file. */
cJSON *sotto_task_capabilities(sotto_context *ctx, const cJSON *req, sotto_stream *st, sotto_error *err);
cJSON *sotto_task_tensor(sotto_context *ctx, const cJSON *req, sotto_stream *st, sotto_error *err);
cJSON *sotto_task_models_list(sotto_context *ctx, const cJSON *req, sotto_stream *st, sotto_error *err);
cJSON *sotto_task_classify(sotto_context *ctx, const cJSON *req, sotto_stream *st, sotto_error *err);
cJSON *sotto_task_summarize(sotto_context *ctx, const cJSON *req, sotto_stream *st, sotto_error *err);

#endif /* SOTTO_INTERNAL_H */
