/*
 * context.c - engine context: thread pool, memory budget, registered models.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "model_fasttext.h"
#include "ops.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/threading.h>
/* Workers the wasm glue spawns up front (-sPTHREAD_POOL_SIZE): a thread
 * beyond them would need the browser's event loop, which a blocked engine
 * worker never returns to. */
#define SOTTO_WASM_POOL 4
#endif

int sotto_error_set(sotto_error *e, const char *code, const char *fmt, ...) {
  if (e) {
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static int default_threads(void) {
#if defined(__EMSCRIPTEN__) && defined(__EMSCRIPTEN_PTHREADS__)
  int n = emscripten_num_logical_cores();
  return n < 1 ? 1 : n > SOTTO_WASM_POOL + 1 ? SOTTO_WASM_POOL + 1 : n;
#elif defined(__EMSCRIPTEN__)
  return 1;
#else
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 64 ? 64 : (int)n;
#endif
}

sotto_context *sotto_context_create(const sotto_config *config) {
  if (sotto_ops_init(NULL) != 0) return NULL;
  sotto_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return NULL;
  int threads = config && config->threads > 0 ? config->threads : default_threads();
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
  threads = 1;
#elif defined(__EMSCRIPTEN__)
  if (threads > SOTTO_WASM_POOL + 1) threads = SOTTO_WASM_POOL + 1;
#endif
  if (threads > 1) {
    ctx->pool = pthreadpool_create((size_t)threads);
    if (!ctx->pool) threads = 1; /* degrade to one thread rather than fail */
  }
  ctx->threads = threads;
  ctx->memory_budget = config ? config->memory_budget : 0;
  return ctx;
}

void sotto_context_destroy(sotto_context *ctx) {
  if (!ctx) return;
  for (int i = 0; i < ctx->n_models; i++)
    if (ctx->models[i].destroy) ctx->models[i].destroy(ctx->models[i].impl);
  free(ctx->models);
  if (ctx->pool) pthreadpool_destroy(ctx->pool);
  free(ctx);
}

sotto_model *sotto_model_find(sotto_context *ctx, const char *id) {
  for (int i = 0; i < ctx->n_models; i++)
    if (strcmp(ctx->models[i].id, id) == 0) return &ctx->models[i];
  return NULL;
}

int sotto_model_remove(sotto_context *ctx, const char *id) {
  sotto_model *m = id ? sotto_model_find(ctx, id) : NULL;
  if (!m) return -1;
  if (m->destroy) m->destroy(m->impl);
  int i = (int)(m - ctx->models);
  memmove(m, m + 1, (size_t)(ctx->n_models - i - 1) * sizeof *m);
  ctx->n_models--;
  return 0;
}

/* Model loaders by format; each fills model->impl, destroy and bytes. */
typedef int (*model_loader)(sotto_model *model, const uint8_t *data, size_t size,
                            sotto_error *err);
static const struct { const char *format; model_loader load; } loaders[] = {
    {"fasttext", sotto_fasttext_load},
};

static int set_err(char **err, const sotto_error *e) {
  if (err) {
    size_t n = strlen(e->message) + strlen(e->code) + 3;
    *err = malloc(n);
    if (*err) snprintf(*err, n, "%s: %s", e->code, e->message);
  }
  return -1;
}

int sotto_model_add(sotto_context *ctx, const char *id, const char *format, const void *data,
                    size_t size, char **err) {
  sotto_error e = {0};
  if (err) *err = NULL;
  if (!id || !*id || strlen(id) >= sizeof ctx->models[0].id) {
    sotto_error_set(&e, "bad_request", "model id must be 1 to %d characters",
                    (int)sizeof ctx->models[0].id - 1);
    return set_err(err, &e);
  }
  model_loader load = NULL;
  for (size_t i = 0; format && i < sizeof loaders / sizeof loaders[0]; i++)
    if (loaders[i].format && strcmp(loaders[i].format, format) == 0) load = loaders[i].load;
  if (!load) {
    sotto_error_set(&e, "unsupported_format", "unknown model format \"%s\"",
                    format ? format : "(null)");
    return set_err(err, &e);
  }
  if (ctx->memory_budget && size > ctx->memory_budget) {
    sotto_error_set(&e, "over_budget", "model of %zu bytes exceeds the memory budget of %zu",
                    size, ctx->memory_budget);
    return set_err(err, &e);
  }
  sotto_model m = {0};
  snprintf(m.id, sizeof m.id, "%s", id);
  snprintf(m.format, sizeof m.format, "%s", format);
  if (load(&m, data, size, &e) != 0) return set_err(err, &e);
  sotto_model_remove(ctx, id); /* replacing a model under the same id */
  if (ctx->n_models == ctx->cap_models) {
    int cap = ctx->cap_models ? ctx->cap_models * 2 : 8;
    sotto_model *grown = realloc(ctx->models, (size_t)cap * sizeof *grown);
    if (!grown) {
      if (m.destroy) m.destroy(m.impl);
      sotto_error_set(&e, "out_of_memory", "out of memory");
      return set_err(err, &e);
    }
    ctx->models = grown;
    ctx->cap_models = cap;
  }
  ctx->models[ctx->n_models++] = m;
  return 0;
}

double sotto_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *sotto_version(void) { return SOTTO_VERSION; }

void sotto_string_free(char *s) { free(s); }
