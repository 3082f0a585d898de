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

#endif /* SOTTO_MODELS_LLAMA_H */
