/*
 * llama_ref.h - llama.cpp's own libraries as the reference in C tests:
 * the prebuilt linux-x64 ggml and llama shared libraries that the npm
 * package node-llama-cpp (pinned in package.json; `npm ci`) ships, loaded
 * with dlopen. Only the few C functions the tests call are declared here,
 * with ggml's signatures (ggml.h, gguf.h, llama.h of the bundled source).
 */
#ifndef SOTTO_LLAMA_REF_H
#define SOTTO_LLAMA_REF_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define LLAMA_REF_DIR "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"

/* dlopen()s lib (e.g. "libggml-base.so") from the package; NULL with a
 * message when it is not installed. */
static inline void *llama_ref_open(const char *lib) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s/%s", SOTTO_SOURCE_DIR, LLAMA_REF_DIR, lib);
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) fprintf(stderr, "llama.cpp reference library missing (run npm ci): %s\n", dlerror());
  return h;
}

/* A symbol as a function pointer of type T (NULL when absent). */
#define LLAMA_REF_SYM(h, T, name) ((T)(uintptr_t)dlsym((h), (name)))

/* ggml.h / gguf.h */
typedef size_t (*ggml_quantize_chunk_fn)(int type, const float *src, void *dst, int64_t start,
                                         int64_t nrows, int64_t n_per_row, const float *imatrix);
typedef void (*ggml_quantize_row_fn)(const float *x, void *y, int64_t k);
typedef void (*ggml_dequantize_row_fn)(const void *x, float *y, int64_t k);
typedef uint16_t (*ggml_fp32_to_fp16_fn)(float f);

struct gguf_context;
struct gguf_init_params {
  bool no_alloc;
  void **ctx; /* struct ggml_context ** */
};
typedef struct gguf_context *(*gguf_init_from_file_fn)(const char *fname,
                                                       struct gguf_init_params params);
typedef void (*gguf_free_fn)(struct gguf_context *ctx);
typedef int64_t (*gguf_get_n_fn)(const struct gguf_context *ctx);
typedef int64_t (*gguf_find_fn)(const struct gguf_context *ctx, const char *name);
typedef const char *(*gguf_get_name_fn)(const struct gguf_context *ctx, int64_t id);
typedef int (*gguf_get_type_fn)(const struct gguf_context *ctx, int64_t id);
typedef size_t (*gguf_get_size_fn)(const struct gguf_context *ctx, int64_t id);
typedef size_t (*gguf_get_offset_fn)(const struct gguf_context *ctx);
typedef const void *(*gguf_get_data_fn)(const struct gguf_context *ctx, int64_t id);
typedef const char *(*gguf_get_arr_str_fn)(const struct gguf_context *ctx, int64_t key_id,
                                           size_t i);
typedef const char *(*gguf_get_val_str_fn)(const struct gguf_context *ctx, int64_t key_id);

/* llama.h */
struct llama_model;
typedef struct llama_model_quantize_params {
  int32_t nthread;
  int ftype;                  /* enum llama_ftype */
  int output_tensor_type;     /* enum ggml_type */
  int token_embedding_type;   /* enum ggml_type */
  bool allow_requantize, quantize_output_tensor, only_copy, pure, keep_split, dry_run;
  const void *imatrix, *kv_overrides, *tt_overrides;
  const int32_t *prune_layers;
  size_t max_buf_size;
} llama_model_quantize_params;
typedef llama_model_quantize_params (*llama_model_quantize_default_params_fn)(void);
typedef uint32_t (*llama_model_quantize_fn)(const char *in, const char *out,
                                            const llama_model_quantize_params *params);
struct llama_model_params {
  void *devices;
  const void *tensor_buft_overrides;
  int32_t n_gpu_layers;
  int split_mode, load_mode, lazy_mode;
  int32_t main_gpu;
  const float *tensor_split;
  bool (*progress_callback)(float progress, void *user);
  void *progress_callback_user_data;
  const void *kv_overrides;
  bool vocab_only, check_tensors, use_extra_bufts, no_host, no_alloc, load_mtp;
};
typedef struct llama_model_params (*llama_model_default_params_fn)(void);
typedef struct llama_model *(*llama_model_load_from_file_fn)(const char *path,
                                                             struct llama_model_params params);
typedef void (*llama_model_free_fn)(struct llama_model *model);
typedef void (*llama_void_fn)(void);
struct llama_context;
struct llama_context_params {
  uint32_t n_ctx, n_batch, n_ubatch, n_seq_max, n_rs_seq, n_outputs_max, n_outputs_max_per_seq;
  int32_t n_threads, n_threads_batch;
  int ctx_type, rope_scaling_type, pooling_type, attention_type, flash_attn_type;
  float rope_freq_base, rope_freq_scale, yarn_ext_factor, yarn_attn_factor, yarn_beta_fast,
      yarn_beta_slow;
  uint32_t yarn_orig_ctx;
  float defrag_thold;
  void *cb_eval, *cb_eval_user_data;
  int type_k, type_v;
  void *abort_callback, *abort_callback_data;
  bool embeddings, offload_kqv, no_perf, op_offload, swa_full, kv_unified;
  void *samplers;
  size_t n_samplers;
  struct llama_context *ctx_other;
};
typedef struct llama_batch {
  int32_t n_tokens;
  int32_t *token;
  float *embd;
  int32_t *pos;
  int32_t *n_seq_id;
  int32_t **seq_id;
  int8_t *logits;
} llama_batch;
typedef struct llama_context_params (*llama_context_default_params_fn)(void);
typedef struct llama_context *(*llama_init_from_model_fn)(struct llama_model *m,
                                                          struct llama_context_params p);
typedef void (*llama_free_fn)(struct llama_context *ctx);
typedef llama_batch (*llama_batch_get_one_fn)(int32_t *tokens, int32_t n);
typedef int32_t (*llama_decode_fn)(struct llama_context *ctx, llama_batch batch);
typedef float *(*llama_get_ith_fn)(struct llama_context *ctx, int32_t i);
typedef void (*llama_log_set_fn)(void (*cb)(int level, const char *text, void *user), void *user);

#endif
