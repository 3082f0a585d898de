/*
 * info.c - "capabilities" and "models.list": what this engine build can
 * do, so the extension can route a request to the browser or the native host;
 * and the one table of default models (sotto_model_default).
 */
#include <sodium.h>
#include <string.h>

#include "models/llama.h"
#include "runtime/runtime.h"
#include "tasks.h"

#ifndef __EMSCRIPTEN__
#include <cpuinfo.h>
#endif

/* The model each task uses when a request names none. */
static const sotto_task_default defaults[] = {
    {"summarize", "summarize", "extractive"},
    {"language", "classify", "lid176"},
    {"sentiment", "classify", "sentiment-en"},
};

const sotto_task_default *sotto_task_default_find(const char *task) {
  for (size_t i = 0; task && i < sizeof defaults / sizeof defaults[0]; i++)
    if (strcmp(task, defaults[i].task) == 0) return &defaults[i];
  return NULL;
}

const char *sotto_model_default(const char *task) {
  const sotto_task_default *d = sotto_task_default_find(task);
  return d ? d->model : NULL;
}

static const char *simd_name(void) {
#if defined(__wasm_simd128__)
  return "wasm-simd128";
#elif defined(__EMSCRIPTEN__)
  return "none";
#else
  if (!cpuinfo_initialize()) return "unknown";
#if defined(__x86_64__) || defined(__i386__)
  if (cpuinfo_has_x86_avx512f()) return "avx512f";
  if (cpuinfo_has_x86_avx2()) return "avx2";
  if (cpuinfo_has_x86_avx()) return "avx";
  return "sse2";
#elif defined(__aarch64__) || defined(__arm__)
  return cpuinfo_has_arm_neon() ? "neon" : "none";
#else
  return "scalar";
#endif
#endif
}

cJSON *sotto_task_capabilities(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                               sotto_error *err) {
  (void)req, (void)st, (void)err;
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "engine", "sotto");
  cJSON_AddStringToObject(r, "version", SOTTO_VERSION);
  cJSON_AddStringToObject(r, "flavour", SOTTO_BUILD_FLAVOUR);
  cJSON_AddStringToObject(r, "simd", simd_name());
  cJSON_AddNumberToObject(r, "threads", ctx->threads);
  cJSON_AddNumberToObject(r, "memory_budget", (double)ctx->memory_budget);
  cJSON *v = cJSON_AddObjectToObject(r, "versions");
  cJSON_AddStringToObject(v, "xnnpack", XNNPACK_VERSION);
  cJSON_AddStringToObject(v, "libsodium", sodium_version_string());
  cJSON_AddStringToObject(v, "cjson", cJSON_Version());
  cJSON_AddItemToObject(r, "ops", sotto_api_ops());
  cJSON *d = cJSON_AddObjectToObject(r, "defaults"); /* task -> model id */
  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
    cJSON_AddStringToObject(d, defaults[i].task, defaults[i].model);
  return r;
}

cJSON *sotto_task_models_list(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                              sotto_error *err) {
  (void)req, (void)st, (void)err;
  cJSON *list = cJSON_CreateArray();
  for (int i = 0; i < ctx->n_models; i++) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", ctx->models[i].id);
    cJSON_AddStringToObject(m, "format", ctx->models[i].format);
    cJSON_AddStringToObject(m, "arch", ctx->models[i].arch ? ctx->models[i].arch : "");
    cJSON_AddNumberToObject(m, "bytes", (double)ctx->models[i].bytes);
    const sotto_lm *lm = sotto_llama_lm(&ctx->models[i]);
    if (lm) { /* language models: what "bytes" (the estimate) is made of */
      cJSON *o = cJSON_AddObjectToObject(m, "lm");
      cJSON_AddNumberToObject(o, "weights_bytes", (double)lm->weight_bytes);
      cJSON_AddNumberToObject(o, "state_bytes",
                              (double)lm->state_bytes(lm, lm->n_ctx_default, lm->kv_default));
      cJSON_AddNumberToObject(o, "n_ctx_default", lm->n_ctx_default);
      cJSON_AddNumberToObject(o, "n_ctx_train", lm->n_ctx_train);
      cJSON_AddNumberToObject(o, "n_vocab", lm->n_vocab);
      cJSON_AddNumberToObject(o, "bytes_per_token", (double)lm->bytes_per_token);
    }
    cJSON_AddItemToArray(list, m);
  }
  cJSON *r = cJSON_CreateObject();
  cJSON_AddItemToObject(r, "models", list);
  return r;
}
