/*
 * llama.h - the llama family of decoder-only transformers from GGUF
 * (llama, qwen2, qwen3, gemma3; llama.c). A loaded model is a sotto_lm
 * (runtime/runtime.h): m->impl points at one.
 */
#ifndef SOTTO_MODELS_LLAMA_H
#define SOTTO_MODELS_LLAMA_H

#include "models/models.h"

struct sotto_gguf;
/* Loads the model of an open GGUF file g (m->file's bytes); on success the
 * model owns g. */
int sotto_llama_load(sotto_model *m, struct sotto_gguf *g, sotto_error *err);

/* The language model of a registered model, or NULL when m is no llama-family model. */
struct sotto_lm;
struct sotto_lm *sotto_llama_lm(sotto_model *m);

/* What a model will need once loaded, from its GGUF header alone (tensor
 * infos and metadata; sotto_gguf_open_header): the bytes of the matrices it
 * uses in place and its run state (KV cache and scratch) at the default
 * context, as sotto_llama_load will count them. */
typedef struct sotto_lm_estimate {
  char arch[16];
  uint64_t weights_bytes, state_bytes;
  int32_t n_ctx_default, n_ctx_train;
} sotto_lm_estimate;
int sotto_llama_estimate(const struct sotto_gguf *g, sotto_lm_estimate *out, sotto_error *err);

#endif /* SOTTO_MODELS_LLAMA_H */
