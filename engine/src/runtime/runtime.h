/*
 * runtime/ - what text generation needs beyond one forward pass: the
 * language-model interface a model family implements, sampling, and the
 * generation loop (prefill in batches, decoding, stop strings, maximum
 * tokens, cancellation, streaming whole UTF-8 pieces). May include
 * tokenizers/, formats/, ops/ and core/; models/ implements sotto_lm.
 */
#ifndef SOTTO_RUNTIME_H
#define SOTTO_RUNTIME_H

#include "core/core.h"
#include "ops/quant.h"
#include "tokenizers/tokenizer.h"

/* ---- a causal language model, as generation sees it ---- */
typedef struct sotto_lm sotto_lm;
struct sotto_lm {
  int32_t n_vocab;
  int32_t n_ctx_train;   /* the context the model was trained for */
  int32_t n_ctx_default; /* the context memory estimates assume */
  sotto_dtype kv_default; /* F32 for F32 weights (exact greedy), else F16 */
  size_t weight_bytes;    /* tensors used in place */
  size_t bytes_per_token; /* weight bytes one decoded token reads */
  const sotto_tokenizer *tok;
  /* Starts a sequence with room for n_ctx positions, its KV cache of type
   * kv_type (F32, F16 or Q8_0). */
  int (*begin)(sotto_lm *lm, int32_t n_ctx, sotto_dtype kv_type, sotto_error *err);
  /* Runs tokens[0..n) at positions pos.. (in batches), storing their keys
   * and values; logits (n_vocab floats, may be NULL) gets the last
   * position's. Checks st for cancellation between layers: returns 1 when
   * cancelled, 0 when done, -1 with *err set. */
  int (*eval)(sotto_lm *lm, pthreadpool_t pool, const int32_t *tokens, int32_t n, int32_t pos,
              float *logits, sotto_stream *st, sotto_error *err);
  void (*end)(sotto_lm *lm); /* frees the sequence's state */
  /* Bytes of the KV cache and scratch at n_ctx positions. */
  size_t (*state_bytes)(const sotto_lm *lm, int32_t n_ctx, sotto_dtype kv_type);
};

/* ---- sampling (sample.c) ---- */
typedef struct sotto_sampling {
  float temperature;     /* <= 0: greedy (argmax, ties to the lowest id) */
  int32_t top_k;         /* 0: off */
  float top_p;           /* 1: off */
  float min_p;           /* 0: off */
  float repeat_penalty;  /* 1: off */
  int32_t repeat_last_n; /* tokens the penalty looks back over */
  uint64_t seed;
} sotto_sampling;

#define SOTTO_SAMPLING_DEFAULTS {0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0}

typedef struct sotto_sampler sotto_sampler;
sotto_sampler *sotto_sampler_create(const sotto_sampling *p, int32_t n_vocab);
void sotto_sampler_free(sotto_sampler *s);
/* Picks the next token from logits (modified in place); history holds the
 * ids so far (prompt and generated) for the repetition penalty. */
int32_t sotto_sampler_pick(sotto_sampler *s, float *logits, const int32_t *history, int64_t n);

/* ---- generation (generate.c) ---- */
#define SOTTO_MAX_STOPS 16

typedef struct sotto_gen_params {
  int32_t max_tokens;
  int32_t n_ctx;               /* 0: prompt + max_tokens (at most the trained context) */
  sotto_dtype kv_type;         /* F32, F16 or Q8_0 */
  sotto_sampling sampling;
  const char *stops[SOTTO_MAX_STOPS];
  int n_stops;
  int stop_at_eos;             /* end at the model's end-of-sequence tokens */
} sotto_gen_params;

typedef enum { SOTTO_FINISH_STOP, SOTTO_FINISH_LENGTH, SOTTO_FINISH_CANCELLED } sotto_finish;

typedef struct sotto_gen_result {
  char *text;                  /* generated text (stop string excluded), malloc'd */
  size_t text_len;
  int32_t *tokens;             /* generated ids, malloc'd */
  int32_t n_tokens;
  sotto_finish finish;
  double prefill_ms, decode_ms;
  int32_t n_prompt;
  int32_t n_decoded;           /* tokens run through the model after the prompt */
} sotto_gen_result;

/* Receives each generated token with the text it completes (whole UTF-8
 * sequences; may be empty while a sequence or a possible stop string is
 * held back). Returns nonzero to cancel. */
typedef int (*sotto_gen_token_fn)(void *user, int32_t id, const char *text, size_t len);

int sotto_generate(sotto_lm *lm, pthreadpool_t pool, const int32_t *prompt, int32_t n_prompt,
                   const sotto_gen_params *p, sotto_gen_token_fn on_token, void *user,
                   sotto_stream *st, sotto_gen_result *out, sotto_error *err);
void sotto_gen_result_free(sotto_gen_result *r);
/* 0 when all n logits are numbers; else -1 with a bad_model error (a model
 * with damaged weights computes NaN or infinities, which neither sampling
 * nor a JSON reply can carry). */
int sotto_logits_check(const float *logits, int32_t n, sotto_error *err);

/* Length of the longest prefix of s[0..len) that is whole UTF-8 sequences
 * (a cut sequence at the end is held back; invalid bytes pass). */
size_t sotto_utf8_whole(const char *s, size_t len);

#endif /* SOTTO_RUNTIME_H */
