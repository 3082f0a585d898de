/*
 * context.c - the engine context: thread pool, memory budget and the table
 * of registered models (loading them is models/registry.c's job).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#ifndef __EMSCRIPTEN__
#include <cpuinfo.h>
#endif
#ifdef __EMSCRIPTEN__
#include <emscripten/threading.h>
/* Workers the wasm glue spawns up front (-sPTHREAD_POOL_SIZE): a thread
 * beyond them would need the browser's event loop, which a blocked engine
 * worker never returns to. */
#define SOTTO_WASM_POOL 4
#endif
#define SOTTO_MAX_THREADS 64
#define SOTTO_MODELS_INITIAL 8 /* table slots; doubled as needed */

static int default_threads(void) {
#if defined(__EMSCRIPTEN__) && defined(__EMSCRIPTEN_PTHREADS__)
  int n = emscripten_num_logical_cores();
  return n < 1 ? 1 : n > SOTTO_WASM_POOL + 1 ? SOTTO_WASM_POOL + 1 : n;
#elif defined(__EMSCRIPTEN__)
  return 1;
#else
  /* physical cores: a second thread on a core's SMT sibling slows
   * memory-bound work (LLM decoding) rather than speeding it up */
  long n = cpuinfo_initialize() ? (long)cpuinfo_get_cores_count() : 0;
  if (n < 1) n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > SOTTO_MAX_THREADS ? SOTTO_MAX_THREADS : (int)n;
#endif
}

sotto_context *sotto_context_new(const sotto_config *config) {
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

void sotto_context_set_memory_budget(sotto_context *ctx, size_t bytes) {
  if (ctx) ctx->memory_budget = bytes;
}

void sotto_context_destroy(sotto_context *ctx) {
  if (!ctx) return;
  for (int i = 0; i < ctx->n_models; i++) sotto_model_free(&ctx->models[i]);
  free(ctx->models);
  if (ctx->pool) pthreadpool_destroy(ctx->pool);
  free(ctx);
}

void sotto_blob_release(sotto_blob *b) {
  if (b && b->release) b->release(b);
  if (b) memset(b, 0, sizeof *b);
}

void sotto_model_free(sotto_model *m) {
  if (!m) return;
  if (m->destroy) m->destroy(m->impl);
  sotto_blob_release(&m->file);
  m->impl = NULL, m->destroy = NULL;
}

sotto_model *sotto_model_find(sotto_context *ctx, const char *id) {
  for (int i = 0; id && i < ctx->n_models; i++)
    if (strcmp(ctx->models[i].id, id) == 0) return &ctx->models[i];
  return NULL;
}

sotto_model *sotto_model_get(sotto_context *ctx, const char *id, sotto_error *err) {
  sotto_model *m = sotto_model_find(ctx, id);
  if (!m) sotto_error_set(err, SOTTO_MODEL_NOT_FOUND, "model \"%.100s\" is not loaded", id);
  return m;
}

sotto_status sotto_model_remove(sotto_context *ctx, const char *id) {
  sotto_model *m = ctx && id ? sotto_model_find(ctx, id) : NULL;
  if (!m) return SOTTO_MODEL_NOT_FOUND;
  sotto_model_free(m);
  int i = (int)(m - ctx->models);
  memmove(m, m + 1, (size_t)(ctx->n_models - i - 1) * sizeof *m);
  ctx->n_models--;
  return SOTTO_OK;
}

sotto_status sotto_model_insert(sotto_context *ctx, sotto_model *m, sotto_error *err) {
  sotto_model_remove(ctx, m->id); /* replacing a model under the same id */
  if (ctx->n_models == ctx->cap_models) {
    int cap = ctx->cap_models ? ctx->cap_models * 2 : SOTTO_MODELS_INITIAL;
    sotto_model *grown = realloc(ctx->models, (size_t)cap * sizeof *grown);
    if (!grown) {
      sotto_model_free(m);
      sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
      return SOTTO_OUT_OF_MEMORY;
    }
    ctx->models = grown;
    ctx->cap_models = cap;
  }
  ctx->models[ctx->n_models++] = *m;
  return SOTTO_OK;
}

double sotto_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *sotto_version(void) { return SOTTO_VERSION; }

void sotto_string_free(char *s) { free(s); }
