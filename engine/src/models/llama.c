/*
 * llama.c - the llama family of decoder-only transformers from GGUF: llama
 * (Llama 2/3, SmolLM2, TinyLlama), qwen2 (biases on q, k, v), qwen3
 * (RMSNorm of each query and key head) and gemma3 (scaled embeddings,
 * norms after attention and FFN, GeGLU, sliding-window layers with their
 * own RoPE base). One forward pass behind config switches, in the manner of
 * llama2.c: config, weights and run state, then the pass top to bottom.
 *
 * Metadata keys and tensor names are llama.cpp's (src/llama-arch.cpp,
 * llama-model.cpp: llm_build_llama, llm_build_qwen2, llm_build_qwen3,
 * llm_build_gemma3_iswa). Weights are used in place from the file
 * (ops/qmatmul.h); only 1-D tensors (norms, biases) are copied to floats.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "models/llama.h"
#include "ops/attention.h"
#include "ops/qmatmul.h"
#include "ops/vecmath.h"
#include "runtime/runtime.h"
#include "tokenizers/tokenizer.h"

#define LLAMA_BATCH 64         /* prompt tokens per forward pass */
#define LLAMA_CTX_DEFAULT 4096  /* the context memory estimates assume */
#define LLAMA_MAX_LAYERS 512
#define LLAMA_MAX_GROUP 4       /* query heads per kernel call (qk_dot_fn nr) */

typedef enum { FAMILY_LLAMA, FAMILY_QWEN2, FAMILY_QWEN3, FAMILY_GEMMA3 } llama_family;

static const struct {
  const char *arch;
  llama_family family;
  int rope_neox; /* NeoX RoPE (halves) rather than interleaved pairs */
} families[] = {
    {"llama", FAMILY_LLAMA, 0},
    {"qwen2", FAMILY_QWEN2, 1},
    {"qwen3", FAMILY_QWEN3, 1},
    {"gemma3", FAMILY_GEMMA3, 1},
};

typedef struct {
  llama_family family;
  char arch[16];
  int dim, n_layers, n_heads, n_kv_heads, head_dim, ffn_dim, vocab, ctx_train;
  int q_dim, kv_dim, n_rot;
  float norm_eps;
  int rope_neox;
  float rope_base, rope_scale;         /* scale multiplies positions */
  float rope_base_swa, rope_scale_swa; /* gemma3's sliding-window layers */
  int swa_window, swa_pattern;         /* layer l slides when (l + 1) % pattern != 0 */
  float attn_scale;
  float embd_scale;                    /* gemma: sqrt(dim) */
  int geglu;
} llama_config;

typedef struct {
  sotto_qmat wq, wk, wv, wo, w_gate, w_up, w_down;
  float *attn_norm, *ffn_norm, *q_norm, *k_norm, *post_attn_norm, *post_ffn_norm;
  float *bq, *bk, *bv;
} llama_layer;

typedef struct {
  sotto_qmat tok_embd, output;
  float *output_norm;
  float *rope_freqs; /* n_rot / 2 divisors of the frequencies (Llama 3.1+), or NULL */
  llama_layer *layers;
} llama_weights;

typedef struct {
  int32_t n_ctx;
  sotto_dtype kv_type; /* F32, F16 or Q8_0 */
  size_t kv_row;       /* bytes of one position's keys (or values) in a layer */
  float *x, *xb, *xb2, *q, *k, *v, *att, *hb, *hb2;
  float *scores;   /* per thread: scores_floats */
  size_t n_threads;
  void *k_cache;   /* [layer][pos][kv_dim] */
  void *v_cache;   /* F32, F16: [layer][kv head][head_dim][pos], transposed so
                      that attention's weighted sum is a dot per dimension;
                      Q8_0: [layer][pos][kv_dim] (blocks of 32 dimensions), a
                      weighted sum of rows, as llama.cpp's flash attention */
  float *kf, *vf;  /* F16 caches: one layer's keys and values as floats, in
                      the cache's layout, for reading a prompt */
  sotto_qact act_dim, act_q, act_ffn;
  float *rope_inv; /* [2][n_rot / 2]: inverse frequencies, global and sliding */
} llama_state;

typedef struct {
  sotto_lm lm; /* first: the model is its own sotto_lm */
  llama_config c;
  llama_weights w;
  llama_state s;
  int busy;
  sotto_gguf *g;
  sotto_tokenizer *tok;
  size_t weight_bytes;
} llama_model;

/* ---- loading ---- */

static int key_u32(const sotto_gguf *g, const char *arch, const char *key, int required,
                   int dflt, int *out, sotto_error *err) {
  char name[128];
  snprintf(name, sizeof name, "%s.%s", arch, key);
  uint32_t v = 0;
  const int r = sotto_gguf_get_u32(g, name, &v, err);
  if (r < 0) return -1;
  if (r == 0) {
    if (required) return sotto_error_set(err, SOTTO_BAD_MODEL, "GGUF key %s is missing", name);
    *out = dflt;
    return 0;
  }
  if (v == 0 || v > (1u << 24))
    return sotto_error_set(err, SOTTO_BAD_MODEL, "GGUF key %s is out of range (%u)", name, v);
  *out = (int)v;
  return 0;
}

static int key_f32(const sotto_gguf *g, const char *arch, const char *key, float dflt,
                   float *out, sotto_error *err) {
  char name[128];
  snprintf(name, sizeof name, "%s.%s", arch, key);
  float v = dflt;
  if (sotto_gguf_get_f32(g, name, &v, err) < 0) return -1;
  if (!isfinite(v)) return sotto_error_set(err, SOTTO_BAD_MODEL, "GGUF key %s is not finite", name);
  *out = v;
  return 0;
}

static int read_config(const sotto_gguf *g, llama_config *c, sotto_error *err) {
  sotto_gguf_string a;
  if (sotto_gguf_get_str(g, "general.architecture", &a, err) != 1)
    return err->status ? -1 : sotto_error_set(err, SOTTO_BAD_MODEL, "general.architecture is missing");
  size_t fi = 0;
  for (; fi < sizeof families / sizeof families[0]; fi++)
    if (strlen(families[fi].arch) == a.len && memcmp(families[fi].arch, a.data, a.len) == 0) break;
  if (fi == sizeof families / sizeof families[0])
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "architecture \"%.*s\" is not supported",
                           (int)(a.len > 40 ? 40 : a.len), a.data);
  c->family = families[fi].family;
  c->rope_neox = families[fi].rope_neox;
  snprintf(c->arch, sizeof c->arch, "%s", families[fi].arch);
  const char *ar = c->arch;
  if (key_u32(g, ar, "embedding_length", 1, 0, &c->dim, err) ||
      key_u32(g, ar, "block_count", 1, 0, &c->n_layers, err) ||
      key_u32(g, ar, "feed_forward_length", 1, 0, &c->ffn_dim, err) ||
      key_u32(g, ar, "attention.head_count", 1, 0, &c->n_heads, err) ||
      key_u32(g, ar, "attention.head_count_kv", 0, c->n_heads, &c->n_kv_heads, err) ||
      key_u32(g, ar, "context_length", 0, 2048, &c->ctx_train, err))
    return -1;
  if (c->n_layers > LLAMA_MAX_LAYERS)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "%d layers is more than %d", c->n_layers,
                           LLAMA_MAX_LAYERS);
  if (c->dim % c->n_heads || c->n_heads % c->n_kv_heads)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "head counts %d/%d do not divide the model",
                           c->n_heads, c->n_kv_heads);
  if (key_u32(g, ar, "attention.key_length", 0, c->dim / c->n_heads, &c->head_dim, err)) return -1;
  int v_len = 0;
  if (key_u32(g, ar, "attention.value_length", 0, c->head_dim, &v_len, err)) return -1;
  if (v_len != c->head_dim)
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "key and value heads of different sizes");
  if (key_u32(g, ar, "rope.dimension_count", 0, c->head_dim, &c->n_rot, err)) return -1;
  if (c->n_rot > c->head_dim || c->n_rot % 2 || c->head_dim % 2)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "RoPE over %d of %d dimensions", c->n_rot,
                           c->head_dim);
  c->q_dim = c->n_heads * c->head_dim;
  c->kv_dim = c->n_kv_heads * c->head_dim;
  c->norm_eps = 1e-5f;
  if (key_f32(g, ar, "attention.layer_norm_rms_epsilon", 1e-5f, &c->norm_eps, err) ||
      key_f32(g, ar, "rope.freq_base", 10000.0f, &c->rope_base, err))
    return -1;
  c->rope_scale = 1;
  char name[128];
  snprintf(name, sizeof name, "%s.rope.scaling.type", ar);
  sotto_gguf_string st = {0};
  if (sotto_gguf_get_str(g, name, &st, err) < 0) return -1;
  float factor = 1;
  if (key_f32(g, ar, "rope.scaling.factor", 1, &factor, err)) return -1;
  if (st.len == 6 && memcmp(st.data, "linear", 6) == 0 && factor > 0) {
    c->rope_scale = 1 / factor;
  } else if (st.len && !(st.len == 4 && memcmp(st.data, "none", 4) == 0) && factor != 1) {
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "RoPE scaling \"%.*s\" is not supported",
                           (int)(st.len > 20 ? 20 : st.len), st.data);
  }
  c->rope_base_swa = c->rope_base, c->rope_scale_swa = c->rope_scale;
  c->attn_scale = 1 / sqrtf((float)c->head_dim);
  if (key_f32(g, ar, "attention.scale", c->attn_scale, &c->attn_scale, err)) return -1;
  c->embd_scale = 1;
  if (c->family == FAMILY_GEMMA3) {
    /* llama.cpp's gemma3: local layers use base 10000 unscaled, every 6th
     * layer is global */
    c->embd_scale = sqrtf((float)c->dim);
    c->geglu = 1;
    c->rope_base_swa = 10000.0f, c->rope_scale_swa = 1;
    if (key_u32(g, ar, "attention.sliding_window", 0, 512, &c->swa_window, err) ||
        key_u32(g, ar, "attention.sliding_window_pattern", 0, 6, &c->swa_pattern, err))
      return -1;
  }
  return 0;
}

static const sotto_gguf_tensor *tensor(const sotto_gguf *g, const char *name, int layer) {
  char full[96];
  if (layer >= 0) snprintf(full, sizeof full, "blk.%d.%s", layer, name);
  else snprintf(full, sizeof full, "%s", name);
  return sotto_gguf_tensor_find(g, full);
}

static int load_matrix(const sotto_gguf *g, const char *name, int layer, int64_t n_in,
                       int64_t n_out, sotto_qmat *m, size_t *bytes, sotto_error *err) {
  const sotto_gguf_tensor *t = tensor(g, name, layer);
  if (!t) return sotto_error_set(err, SOTTO_BAD_MODEL, "tensor %s of layer %d is missing", name, layer);
  if (t->ne[0] != n_in || t->ne[1] != n_out || t->ne[2] != 1 || t->ne[3] != 1)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "tensor %.*s has shape %lldx%lld, expected %lldx%lld",
                           (int)t->name.len, t->name.data, (long long)t->ne[0],
                           (long long)t->ne[1], (long long)n_in, (long long)n_out);
  if (sotto_qmat_init(m, t->type, t->data, n_in, n_out, err)) return -1;
  *bytes += t->bytes;
  return 0;
}

/* A 1-D tensor of n values as floats (a copy); NULL with *err unset when
 * absent and optional. */
static float *load_vector(const sotto_gguf *g, const char *name, int layer, int64_t n,
                          int required, sotto_error *err) {
  const sotto_gguf_tensor *t = tensor(g, name, layer);
  if (!t) {
    if (required) sotto_error_set(err, SOTTO_BAD_MODEL, "tensor %s of layer %d is missing", name, layer);
    return NULL;
  }
  if (t->ne[0] != n || t->ne[1] * t->ne[2] * t->ne[3] != 1 ||
      (t->type != SOTTO_DTYPE_F32 && t->type != SOTTO_DTYPE_F16 && t->type != SOTTO_DTYPE_BF16)) {
    sotto_error_set(err, SOTTO_BAD_MODEL, "tensor %.*s: expected %lld floats", (int)t->name.len,
                    t->name.data, (long long)n);
    return NULL;
  }
  float *v = malloc((size_t)n * sizeof *v);
  if (!v) sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  else sotto_dequantize_row(t->type, t->data, v, n);
  return v;
}

#define VEC(field, name, layer, n, req)                                   \
  do {                                                                    \
    field = load_vector(g, name, layer, n, req, err);                     \
    if (!field && err->status) return -1;                                 \
  } while (0)

static int load_weights(const sotto_gguf *g, const llama_config *c, llama_weights *w,
                        size_t *bytes, sotto_error *err) {
  if (load_matrix(g, "token_embd.weight", -1, c->dim, c->vocab, &w->tok_embd, bytes, err)) return -1;
  if (tensor(g, "output.weight", -1)) {
    if (load_matrix(g, "output.weight", -1, c->dim, c->vocab, &w->output, bytes, err)) return -1;
  } else {
    w->output = w->tok_embd; /* tied */
  }
  VEC(w->output_norm, "output_norm.weight", -1, c->dim, 1);
  VEC(w->rope_freqs, "rope_freqs.weight", -1, c->n_rot / 2, 0);
  w->layers = calloc((size_t)c->n_layers, sizeof *w->layers);
  if (!w->layers) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  for (int l = 0; l < c->n_layers; l++) {
    llama_layer *L = &w->layers[l];
    if (load_matrix(g, "attn_q.weight", l, c->dim, c->q_dim, &L->wq, bytes, err) ||
        load_matrix(g, "attn_k.weight", l, c->dim, c->kv_dim, &L->wk, bytes, err) ||
        load_matrix(g, "attn_v.weight", l, c->dim, c->kv_dim, &L->wv, bytes, err) ||
        load_matrix(g, "attn_output.weight", l, c->q_dim, c->dim, &L->wo, bytes, err) ||
        load_matrix(g, "ffn_gate.weight", l, c->dim, c->ffn_dim, &L->w_gate, bytes, err) ||
        load_matrix(g, "ffn_up.weight", l, c->dim, c->ffn_dim, &L->w_up, bytes, err) ||
        load_matrix(g, "ffn_down.weight", l, c->ffn_dim, c->dim, &L->w_down, bytes, err))
      return -1;
    VEC(L->attn_norm, "attn_norm.weight", l, c->dim, 1);
    VEC(L->ffn_norm, "ffn_norm.weight", l, c->dim, 1);
    const int qk_norm = c->family == FAMILY_QWEN3 || c->family == FAMILY_GEMMA3;
    VEC(L->q_norm, "attn_q_norm.weight", l, c->head_dim, qk_norm);
    VEC(L->k_norm, "attn_k_norm.weight", l, c->head_dim, qk_norm);
    VEC(L->bq, "attn_q.bias", l, c->q_dim, c->family == FAMILY_QWEN2);
    VEC(L->bk, "attn_k.bias", l, c->kv_dim, c->family == FAMILY_QWEN2);
    VEC(L->bv, "attn_v.bias", l, c->kv_dim, c->family == FAMILY_QWEN2);
    const int post = c->family == FAMILY_GEMMA3;
    VEC(L->post_attn_norm, "post_attention_norm.weight", l, c->dim, post);
    VEC(L->post_ffn_norm, "post_ffw_norm.weight", l, c->dim, post);
  }
  return 0;
}

/* Matrices the kernels multiply faster packed by 8 rows are packed in
 * place (the model's bytes are its own: models/registry.c). */
static int pack_weights(llama_weights *w, const llama_config *c, sotto_error *err) {
  const int tied = w->output.data == w->tok_embd.data;
  sotto_qmat *all[2 + 7 * LLAMA_MAX_LAYERS];
  int n = 0;
  all[n++] = &w->tok_embd;
  if (!tied) all[n++] = &w->output;
  for (int l = 0; l < c->n_layers; l++) {
    llama_layer *L = &w->layers[l];
    sotto_qmat *mats[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
    for (int i = 0; i < 7; i++) all[n++] = mats[i];
  }
  if (sotto_qmat_pack_all(all, n, err)) return -1;
  if (tied) w->output = w->tok_embd;
  return 0;
}

/* ---- the run state ---- */

/* Each thread's attention scores: a group of query heads of one token
 * (decoding), or SOTTO_ATTN_ROWS rows of a prompt over the whole context. */
static size_t scores_floats(const llama_config *c, int32_t n_ctx) {
  const size_t one = LLAMA_MAX_GROUP * (size_t)n_ctx;
  const size_t rows = sotto_attn_scratch((size_t)n_ctx, (size_t)c->head_dim);
  return one > rows ? one : rows;
}

static size_t state_bytes(const llama_config *c, int32_t n_ctx, sotto_dtype kv, size_t threads) {
  const size_t B = LLAMA_BATCH;
  const size_t kv_bytes = 2 * (size_t)c->n_layers * (size_t)n_ctx * sotto_dtype_row_bytes(kv, c->kv_dim);
  const size_t floats = B * (3 * (size_t)c->dim + 2 * (size_t)c->q_dim + 2 * (size_t)c->kv_dim +
                             2 * (size_t)c->ffn_dim) +
                        threads * scores_floats(c, n_ctx) + (size_t)c->n_rot +
                        (kv == SOTTO_DTYPE_F16 ? 2 * (size_t)n_ctx * (size_t)c->kv_dim : 0);
  return kv_bytes + floats * sizeof(float) + sotto_qact_bytes(c->dim, B) +
         sotto_qact_bytes(c->q_dim, B) + sotto_qact_bytes(c->ffn_dim, B);
}

static void state_free(llama_state *s) {
  free(s->x), free(s->xb), free(s->xb2), free(s->q), free(s->k), free(s->v), free(s->att);
  free(s->hb), free(s->hb2), free(s->scores), free(s->k_cache), free(s->v_cache);
  free(s->kf), free(s->vf);
  free(s->rope_inv);
  sotto_qact_free(&s->act_dim), sotto_qact_free(&s->act_q), sotto_qact_free(&s->act_ffn);
  memset(s, 0, sizeof *s);
}

static int state_alloc(llama_model *m, int32_t n_ctx, sotto_dtype kv, sotto_error *err) {
  const llama_config *c = &m->c;
  llama_state *s = &m->s;
  memset(s, 0, sizeof *s);
  const size_t B = LLAMA_BATCH;
  s->n_ctx = n_ctx;
  s->kv_type = kv;
  s->kv_row = sotto_dtype_row_bytes(kv, c->kv_dim);
  s->n_threads = 2; /* grown by lm_eval for larger pools: scores are per thread */
  const size_t kv_size = (size_t)c->n_layers * (size_t)n_ctx * s->kv_row;
  s->x = malloc(B * (size_t)c->dim * sizeof(float));
  s->xb = malloc(B * (size_t)c->dim * sizeof(float));
  s->xb2 = malloc(B * (size_t)c->dim * sizeof(float));
  s->q = malloc(B * (size_t)c->q_dim * sizeof(float));
  s->att = malloc(B * (size_t)c->q_dim * sizeof(float));
  s->k = malloc(B * (size_t)c->kv_dim * sizeof(float));
  s->v = malloc(B * (size_t)c->kv_dim * sizeof(float));
  s->hb = malloc(B * (size_t)c->ffn_dim * sizeof(float));
  s->hb2 = malloc(B * (size_t)c->ffn_dim * sizeof(float));
  s->scores = malloc(s->n_threads * scores_floats(c, n_ctx) * sizeof(float));
  s->k_cache = calloc(1, kv_size);
  s->v_cache = calloc(1, kv_size);
  if (kv == SOTTO_DTYPE_F16) {
    s->kf = malloc((size_t)n_ctx * (size_t)c->kv_dim * sizeof(float));
    s->vf = malloc((size_t)n_ctx * (size_t)c->kv_dim * sizeof(float));
  }
  s->rope_inv = malloc((size_t)c->n_rot * sizeof(float));
  if (!s->x || !s->xb || !s->xb2 || !s->q || !s->att || !s->k || !s->v || !s->hb || !s->hb2 ||
      !s->scores || !s->k_cache || !s->v_cache || !s->rope_inv ||
      (kv == SOTTO_DTYPE_F16 && (!s->kf || !s->vf)) ||
      sotto_qact_init(&s->act_dim, c->dim, B, err) || sotto_qact_init(&s->act_q, c->q_dim, B, err) ||
      sotto_qact_init(&s->act_ffn, c->ffn_dim, B, err)) {
    state_free(s);
    return sotto_error_set(err, SOTTO_OUT_OF_MEMORY,
                           "out of memory for a context of %d tokens (%zu bytes)", (int)n_ctx,
                           state_bytes(c, n_ctx, kv, 2));
  }
  /* inverse frequencies, as Hugging Face's default RoPE init computes them:
   * 1 / base^(2i / n_rot), divided by rope_freqs where the file has them */
  for (int set = 0; set < 2; set++) {
    const double base = set ? c->rope_base_swa : c->rope_base;
    for (int i = 0; i < c->n_rot / 2; i++) {
      double f = 1.0 / pow(base, 2.0 * i / c->n_rot);
      if (!set && m->w.rope_freqs) f /= m->w.rope_freqs[i];
      s->rope_inv[set * (c->n_rot / 2) + i] = (float)f;
    }
  }
  return 0;
}

/* ---- the forward pass's pieces ---- */

static void rmsnorm(float *o, const float *x, const float *w, int n, float eps) {
  double ss = 0;
  for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
  const float r = 1.0f / sqrtf((float)(ss / n) + eps);
  for (int i = 0; i < n; i++) o[i] = x[i] * r * w[i];
}

/* cs[2i], cs[2i + 1]: the cosine and sine of pair i's angle at pos. */
static void rope_angles(float *cs, int n_rot, float pos, const float *inv) {
  for (int i = 0; i < n_rot / 2; i++) {
    const float a = pos * inv[i];
    cs[2 * i] = cosf(a), cs[2 * i + 1] = sinf(a);
  }
}

static void rope(float *v, int n_heads, int head_dim, int n_rot, int neox, const float *cs) {
  for (int h = 0; h < n_heads; h++) {
    float *x = v + h * head_dim;
    for (int i = 0; i < n_rot / 2; i++) {
      const float c = cs[2 * i], s = cs[2 * i + 1];
      const int i0 = neox ? i : 2 * i, i1 = neox ? i + n_rot / 2 : 2 * i + 1;
      const float x0 = x[i0], x1 = x[i1];
      x[i0] = x0 * c - x1 * s;
      x[i1] = x0 * s + x1 * c;
    }
  }
}

/* o[h * hd + d] = sum over positions p < n of w[h * n + p] * row p's value d,
 * h < nh: rows of hd values in a quantized type, stride bytes apart (as
 * llama.cpp's flash attention: each row to floats, then a weighted add). */
static void weighted_rows(sotto_dtype type, const uint8_t *rows, size_t stride, int n, int hd,
                          const float *w, int nh, float *o) {
  float v[512];
  memset(o, 0, (size_t)nh * (size_t)hd * sizeof *o);
  for (int p = 0; p < n; p++) {
    sotto_dequantize_row(type, rows + (size_t)p * stride, v, hd);
    for (int h = 0; h < nh; h++) {
      const float wp = w[(size_t)h * n + p];
      float *oh = o + (size_t)h * hd;
      for (int d = 0; d < hd; d++) oh[d] += wp * v[d];
    }
  }
}

/* The first position a query at position p of this layer sees: 0, or the
 * start of the sliding window on gemma3's local layers. */
static int first_visible(const llama_config *c, int layer, int p) {
  const int swa = c->swa_pattern && (layer + 1) % c->swa_pattern != 0;
  return swa && p - c->swa_window + 1 > 0 ? p - c->swa_window + 1 : 0;
}

typedef struct {
  llama_model *m;
  int layer, n, pos;
} attn_job;

/* Attention of token t's query heads in group g (those sharing kv head g)
 * over the cached positions it may see. */
static void attn_task(void *ctx, size_t thread, size_t t, size_t g) {
  const attn_job *j = ctx;
  const llama_config *c = &j->m->c;
  llama_state *s = &j->m->s;
  const int group = c->n_heads / c->n_kv_heads, hd = c->head_dim;
  const int p = j->pos + (int)t; /* this token's position */
  const int start = first_visible(c, j->layer, p);
  const int n_keys = p + 1 - start;
  const int rows = s->kv_type == SOTTO_DTYPE_Q8_0; /* values by position, not transposed */
  const size_t es = rows ? 0 : sotto_dtype_row_bytes(s->kv_type, 1);
  const size_t head = sotto_dtype_row_bytes(s->kv_type, (int64_t)g * hd); /* bytes before head g */
  const uint8_t *kc = (const uint8_t *)s->k_cache + ((size_t)j->layer * s->n_ctx + start) * s->kv_row + head;
  const uint8_t *vc = (const uint8_t *)s->v_cache +
                      (rows ? ((size_t)j->layer * s->n_ctx + start) * s->kv_row + head
                            : ((((size_t)j->layer * c->n_kv_heads + g) * hd) * s->n_ctx + start) * es);
  float *scores = s->scores + thread * scores_floats(c, s->n_ctx);
  for (int h0 = 0; h0 < group; h0 += LLAMA_MAX_GROUP) {
    const int nh = group - h0 < LLAMA_MAX_GROUP ? group - h0 : LLAMA_MAX_GROUP;
    const float *q = s->q + t * c->q_dim + (size_t)(g * group + h0) * hd;
    sotto_vec_dots(s->kv_type, kc, s->kv_row, n_keys, hd, q, nh, scores);
    for (int h = 0; h < nh; h++) {
      float *sc = scores + (size_t)h * n_keys, mx = -INFINITY, sum = 0;
      for (int i = 0; i < n_keys; i++) {
        sc[i] *= c->attn_scale;
        mx = sc[i] > mx ? sc[i] : mx;
      }
      sum = sotto_vexp(sc, n_keys, mx);
      for (int i = 0; i < n_keys; i++) sc[i] /= sum;
    }
    /* the weighted sum of values: one dot per dimension over positions */
    float out[LLAMA_MAX_GROUP * 512];
    float *o = hd <= 512 ? out : NULL;
    if (!o) continue; /* head sizes above 512 are refused at load */
    if (rows)
      weighted_rows(s->kv_type, vc, s->kv_row, n_keys, hd, scores, nh, o);
    else
      sotto_vec_dots(s->kv_type, vc, (size_t)s->n_ctx * es, hd, n_keys, scores, nh, o);
    float *dst = s->att + t * c->q_dim + (size_t)(g * group + h0) * hd;
    for (int h = 0; h < nh; h++) memcpy(dst + (size_t)h * hd, o + (size_t)h * hd, (size_t)hd * sizeof(float));
  }
}

typedef struct {
  llama_model *m;
  int layer, n, pos;
  const float *k, *v; /* the layer's keys [pos][kv_dim], values [kv head][dim][pos] */
} prompt_attn_job;

/* Attention of the prompt's query rows of kv head g (token-major: row r is
 * token r / group's head r % group of the group), SOTTO_ATTN_ROWS rows from
 * row blk * SOTTO_ATTN_ROWS. */
static void prompt_attn_task(void *ctx, size_t thread, size_t g, size_t blk) {
  const prompt_attn_job *j = ctx;
  const llama_config *c = &j->m->c;
  llama_state *s = &j->m->s;
  const int group = c->n_heads / c->n_kv_heads, hd = c->head_dim;
  const float *q[SOTTO_ATTN_ROWS];
  float *o[SOTTO_ATTN_ROWS];
  int lo[SOTTO_ATTN_ROWS], hi[SOTTO_ATTN_ROWS], rows = 0;
  for (int r = (int)blk * SOTTO_ATTN_ROWS; r < j->n * group && rows < SOTTO_ATTN_ROWS; r++, rows++) {
    const int t = r / group, p = j->pos + t;
    const size_t at = (size_t)t * c->q_dim + (size_t)((int)g * group + r % group) * hd;
    q[rows] = s->q + at;
    o[rows] = s->att + at;
    lo[rows] = first_visible(c, j->layer, p);
    hi[rows] = p;
  }
  sotto_attn_rows(j->k + g * (size_t)hd, (size_t)c->kv_dim, j->v + g * (size_t)hd * s->n_ctx,
                  (size_t)s->n_ctx, hd, c->attn_scale, q, o, lo, hi, rows,
                  s->scores + thread * scores_floats(c, s->n_ctx));
}

/* F16 caches: value row i (a kv head's dimension) and a share of the keys
 * of positions 0..n to floats. */
static void kv_to_float_task(void *ctx, size_t i) {
  const prompt_attn_job *j = ctx;
  const llama_config *c = &j->m->c;
  llama_state *s = &j->m->s;
  const size_t n = (size_t)(j->pos + j->n), layer = (size_t)j->layer * s->n_ctx;
  const size_t row = ((size_t)j->layer * c->kv_dim + i) * s->n_ctx;
  sotto_dequantize_row(SOTTO_DTYPE_F16, (const sotto_half *)s->v_cache + row,
                       s->vf + i * s->n_ctx, (int64_t)n);
  const size_t all = n * c->kv_dim, k0 = all * i / c->kv_dim, k1 = all * (i + 1) / c->kv_dim;
  sotto_dequantize_row(SOTTO_DTYPE_F16, (const sotto_half *)s->k_cache + layer * c->kv_dim + k0,
                       s->kf + k0, (int64_t)(k1 - k0));
}

/* Attention of n > 1 prompt tokens over an F32 or F16 cache. */
static void prompt_attention(llama_model *m, pthreadpool_t pool, int layer, int n, int pos) {
  const llama_config *c = &m->c;
  llama_state *s = &m->s;
  prompt_attn_job job = {m, layer, n, pos, s->kf, s->vf};
  if (s->kv_type == SOTTO_DTYPE_F16) {
    pthreadpool_parallelize_1d(pool, kv_to_float_task, &job, (size_t)c->kv_dim, 0);
  } else {
    job.k = (const float *)s->k_cache + (size_t)layer * s->n_ctx * c->kv_dim;
    job.v = (const float *)s->v_cache + (size_t)layer * c->kv_dim * s->n_ctx;
  }
  const size_t rows = (size_t)n * (size_t)(c->n_heads / c->n_kv_heads);
  pthreadpool_parallelize_2d_with_thread(pool, prompt_attn_task, &job, (size_t)c->n_kv_heads,
                                         (rows + SOTTO_ATTN_ROWS - 1) / SOTTO_ATTN_ROWS, 0);
}

/* Token t's keys and values into the cache at position pos + t. */
static void store_kv(llama_model *m, int layer, int t, int pos) {
  const llama_config *c = &m->c;
  llama_state *s = &m->s;
  const size_t p = (size_t)pos + (size_t)t;
  const float *k = s->k + (size_t)t * c->kv_dim, *v = s->v + (size_t)t * c->kv_dim;
  const size_t kbase = ((size_t)layer * s->n_ctx + p) * c->kv_dim;
  if (s->kv_type == SOTTO_DTYPE_Q8_0) { /* both by position, as llama.cpp quantizes them */
    const size_t at = ((size_t)layer * s->n_ctx + p) * s->kv_row;
    sotto_quantize_row(SOTTO_DTYPE_Q8_0, k, (uint8_t *)s->k_cache + at, c->kv_dim);
    sotto_quantize_row(SOTTO_DTYPE_Q8_0, v, (uint8_t *)s->v_cache + at, c->kv_dim);
    return;
  }
  for (int i = 0; i < c->kv_dim; i++) {
    /* v: [layer][kv head][dim][pos] */
    const size_t vi = (((size_t)layer * c->n_kv_heads + i / c->head_dim) * c->head_dim +
                       i % c->head_dim) * s->n_ctx + p;
    if (s->kv_type == SOTTO_DTYPE_F32) {
      ((float *)s->k_cache)[kbase + i] = k[i];
      ((float *)s->v_cache)[vi] = v[i];
    } else {
      ((sotto_half *)s->k_cache)[kbase + i] = sotto_float_to_half(k[i]);
      ((sotto_half *)s->v_cache)[vi] = sotto_float_to_half(v[i]);
    }
  }
}

/* The per-token steps between the matrix products, one task per token. */
typedef struct {
  llama_model *m;
  const llama_layer *L;
  int layer, pos;
} token_job;

/* Before attention: x's norm into xb. */
static void attn_norm_task(void *ctx, size_t t) {
  const token_job *j = ctx;
  const llama_config *c = &j->m->c;
  llama_state *s = &j->m->s;
  rmsnorm(s->xb + t * c->dim, s->x + t * c->dim, j->L->attn_norm, c->dim, c->norm_eps);
}

/* q, k, v: biases, head norms, RoPE; k and v into the cache. */
static void qkv_task(void *ctx, size_t t) {
  const token_job *j = ctx;
  const llama_config *c = &j->m->c;
  const llama_layer *L = j->L;
  llama_state *s = &j->m->s;
  float *q = s->q + t * c->q_dim, *k = s->k + t * c->kv_dim, *v = s->v + t * c->kv_dim;
  if (L->bq) {
    for (int i = 0; i < c->q_dim; i++) q[i] += L->bq[i];
    for (int i = 0; i < c->kv_dim; i++) k[i] += L->bk[i], v[i] += L->bv[i];
  }
  if (L->q_norm) {
    for (int h = 0; h < c->n_heads; h++)
      rmsnorm(q + h * c->head_dim, q + h * c->head_dim, L->q_norm, c->head_dim, c->norm_eps);
    for (int h = 0; h < c->n_kv_heads; h++)
      rmsnorm(k + h * c->head_dim, k + h * c->head_dim, L->k_norm, c->head_dim, c->norm_eps);
  }
  const int swa = c->swa_pattern && (j->layer + 1) % c->swa_pattern != 0;
  float cs[1024]; /* n_rot <= head_dim <= 512 */
  rope_angles(cs, c->n_rot, (float)(j->pos + (int)t) * (swa ? c->rope_scale_swa : c->rope_scale),
              s->rope_inv + (swa ? c->n_rot / 2 : 0));
  rope(q, c->n_heads, c->head_dim, c->n_rot, c->rope_neox, cs);
  rope(k, c->n_kv_heads, c->head_dim, c->n_rot, c->rope_neox, cs);
  store_kv(j->m, j->layer, (int)t, j->pos);
}

/* After attention: x += (normed) output, its norm into xb for the FFN. */
static void attn_residual_task(void *ctx, size_t t) {
  const token_job *j = ctx;
  const llama_config *c = &j->m->c;
  llama_state *s = &j->m->s;
  float *x = s->x + t * c->dim, *o = s->xb2 + t * c->dim;
  if (j->L->post_attn_norm) rmsnorm(o, o, j->L->post_attn_norm, c->dim, c->norm_eps);
  for (int i = 0; i < c->dim; i++) x[i] += o[i];
  rmsnorm(s->xb + t * c->dim, x, j->L->ffn_norm, c->dim, c->norm_eps);
}

/* The FFN's gate: act(gate) * up. */
static void ffn_act_task(void *ctx, size_t t) {
  const token_job *j = ctx;
  const llama_config *c = &j->m->c;
  llama_state *s = &j->m->s;
  float *a = s->hb + t * c->ffn_dim, *b = s->hb2 + t * c->ffn_dim;
  if (c->geglu) sotto_vgelu_mul(a, b, c->ffn_dim);
  else sotto_vsilu_mul(a, b, c->ffn_dim);
}

/* After the FFN: x += (normed) output. */
static void ffn_residual_task(void *ctx, size_t t) {
  const token_job *j = ctx;
  const llama_config *c = &j->m->c;
  llama_state *s = &j->m->s;
  float *x = s->x + t * c->dim, *o = s->xb2 + t * c->dim;
  if (j->L->post_ffn_norm) rmsnorm(o, o, j->L->post_ffn_norm, c->dim, c->norm_eps);
  for (int i = 0; i < c->dim; i++) x[i] += o[i];
}

/* The forward pass over n <= LLAMA_BATCH tokens at positions pos..;
 * logits of the last one when asked. */
static int forward(llama_model *m, pthreadpool_t pool, const int32_t *tokens, int n, int pos,
                   float *logits, sotto_stream *st) {
  const llama_config *c = &m->c;
  const llama_weights *w = &m->w;
  llama_state *s = &m->s;
  const int dim = c->dim;
  const size_t nt = (size_t)n;

  for (int t = 0; t < n; t++) {
    float *x = s->x + (size_t)t * dim;
    sotto_qmat_row(&w->tok_embd, tokens[t], x);
    if (c->embd_scale != 1)
      for (int i = 0; i < dim; i++) x[i] *= c->embd_scale;
  }

  for (int l = 0; l < c->n_layers; l++) {
    const llama_layer *L = &w->layers[l];
    token_job tj = {m, L, l, pos};
    if (sotto_stream_cancelled(st)) return 1;

    /* attention */
    pthreadpool_parallelize_1d(pool, attn_norm_task, &tj, nt, 0);
    sotto_qact_set(&s->act_dim, s->xb, nt, dim);
    const sotto_qmat *qkv[] = {&L->wq, &L->wk, &L->wv};
    sotto_qmatmul_many(pool, qkv, (float *const[]){s->q, s->k, s->v}, 3, &s->act_dim);
    pthreadpool_parallelize_1d(pool, qkv_task, &tj, nt, 0);
    if (n > 1 && s->kv_type != SOTTO_DTYPE_Q8_0) {
      prompt_attention(m, pool, l, n, pos);
    } else {
      attn_job job = {m, l, n, pos};
      pthreadpool_parallelize_2d_with_thread(pool, attn_task, &job, nt, (size_t)c->n_kv_heads, 0);
    }
    sotto_qact_set(&s->act_q, s->att, nt, c->q_dim);
    sotto_qmatmul(pool, &L->wo, &s->act_q, s->xb2);

    /* feed-forward: down(act(gate(x)) * up(x)) */
    pthreadpool_parallelize_1d(pool, attn_residual_task, &tj, nt, 0);
    sotto_qact_set(&s->act_dim, s->xb, nt, dim);
    const sotto_qmat *gate_up[] = {&L->w_gate, &L->w_up};
    sotto_qmatmul_many(pool, gate_up, (float *const[]){s->hb, s->hb2}, 2, &s->act_dim);
    pthreadpool_parallelize_1d(pool, ffn_act_task, &tj, nt, 0);
    sotto_qact_set(&s->act_ffn, s->hb, nt, c->ffn_dim);
    sotto_qmatmul(pool, &L->w_down, &s->act_ffn, s->xb2);
    pthreadpool_parallelize_1d(pool, ffn_residual_task, &tj, nt, 0);
  }

  if (logits) {
    float *x = s->x + (size_t)(n - 1) * dim;
    rmsnorm(s->xb, x, w->output_norm, dim, c->norm_eps);
    sotto_qact_set(&s->act_dim, s->xb, 1, dim);
    sotto_qmatmul(pool, &w->output, &s->act_dim, logits);
  }
  return 0;
}

/* ---- sotto_lm ---- */

static int lm_begin(sotto_lm *lm, int32_t n_ctx, sotto_dtype kv_type, sotto_error *err) {
  llama_model *m = (llama_model *)lm;
  if (m->busy) return sotto_error_set(err, SOTTO_BUSY, "the model is generating for another request");
  if (kv_type != SOTTO_DTYPE_F32 && kv_type != SOTTO_DTYPE_F16 && kv_type != SOTTO_DTYPE_Q8_0)
    return sotto_error_set(err, SOTTO_BAD_REQUEST, "the KV cache is F32, F16 or Q8_0");
  if (kv_type == SOTTO_DTYPE_Q8_0 && m->c.head_dim % SOTTO_QK)
    return sotto_error_set(err, SOTTO_BAD_REQUEST,
                           "a Q8_0 KV cache needs attention heads of a multiple of %d dimensions (has %d)",
                           SOTTO_QK, m->c.head_dim);
  if (state_alloc(m, n_ctx, kv_type, err)) return -1;
  m->busy = 1;
  return 0;
}

static int lm_eval(sotto_lm *lm, pthreadpool_t pool, const int32_t *tokens, int32_t n,
                   int32_t pos, float *logits, sotto_stream *st, sotto_error *err) {
  llama_model *m = (llama_model *)lm;
  if (pos < 0 || n < 0 || pos + n > m->s.n_ctx)
    return sotto_error_set(err, SOTTO_TOO_LARGE, "%d tokens do not fit the context of %d",
                           (int)(pos + n), (int)m->s.n_ctx);
  for (int32_t i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= m->c.vocab)
      return sotto_error_set(err, SOTTO_BAD_REQUEST, "token id %d is outside the vocabulary (%d)",
                             (int)tokens[i], m->c.vocab);
  const size_t threads = pthreadpool_get_threads_count(pool);
  if (threads > m->s.n_threads) {
    float *sc = realloc(m->s.scores, threads * scores_floats(&m->c, m->s.n_ctx) * sizeof(float));
    if (!sc) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    m->s.scores = sc;
    m->s.n_threads = threads;
  }
  for (int32_t i = 0; i < n; i += LLAMA_BATCH) {
    const int b = n - i < LLAMA_BATCH ? n - i : LLAMA_BATCH;
    const int r = forward(m, pool, tokens + i, b, pos + i, i + b == n ? logits : NULL, st);
    if (r) return r;
  }
  return 0;
}

static void lm_end(sotto_lm *lm) {
  llama_model *m = (llama_model *)lm;
  state_free(&m->s);
  m->busy = 0;
}

static size_t lm_state_bytes(const sotto_lm *lm, int32_t n_ctx, sotto_dtype kv_type) {
  return state_bytes(&((const llama_model *)lm)->c, n_ctx, kv_type, 2);
}

static void llama_destroy(void *impl) {
  llama_model *m = impl;
  if (!m) return;
  state_free(&m->s);
  llama_weights *w = &m->w;
  free(w->output_norm), free(w->rope_freqs);
  for (int l = 0; w->layers && l < m->c.n_layers; l++) {
    llama_layer *L = &w->layers[l];
    free(L->attn_norm), free(L->ffn_norm), free(L->q_norm), free(L->k_norm);
    free(L->post_attn_norm), free(L->post_ffn_norm), free(L->bq), free(L->bk), free(L->bv);
  }
  free(w->layers);
  sotto_tokenizer_free(m->tok);
  sotto_gguf_close(m->g);
  free(m);
}

int sotto_llama_load(sotto_model *sm, sotto_gguf *g, sotto_error *err) {
  llama_model *m = calloc(1, sizeof *m);
  if (!m) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  if (read_config(g, &m->c, err)) goto fail;
  if (m->c.head_dim > 512) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "attention heads of %d dimensions", m->c.head_dim);
    goto fail;
  }
  const sotto_gguf_tensor *emb = sotto_gguf_tensor_find(g, "token_embd.weight");
  if (!emb || emb->ne[1] < 1 || emb->ne[1] > (1 << 24)) {
    sotto_error_set(err, SOTTO_BAD_MODEL, "token_embd.weight is missing or malformed");
    goto fail;
  }
  m->c.vocab = (int)emb->ne[1];
  if (load_weights(g, &m->c, &m->w, &m->weight_bytes, err) || pack_weights(&m->w, &m->c, err))
    goto fail;
  m->tok = sotto_tokenizer_from_gguf(g, err);
  if (!m->tok) goto fail;
  if (sotto_tokenizer_n_vocab(m->tok) > m->c.vocab) {
    sotto_error_set(err, SOTTO_BAD_MODEL, "the tokenizer has %d tokens, the embeddings %d",
                    (int)sotto_tokenizer_n_vocab(m->tok), m->c.vocab);
    goto fail;
  }
  m->g = g;
  m->lm.n_vocab = m->c.vocab;
  m->lm.n_ctx_train = m->c.ctx_train;
  m->lm.n_ctx_default = m->c.ctx_train < LLAMA_CTX_DEFAULT ? m->c.ctx_train : LLAMA_CTX_DEFAULT;
  m->lm.tok = m->tok;
  m->lm.begin = lm_begin;
  m->lm.eval = lm_eval;
  m->lm.end = lm_end;
  m->lm.state_bytes = lm_state_bytes;
  sm->impl = m;
  sm->destroy = llama_destroy;
  sm->arch = families[m->c.family].arch;
  m->lm.weight_bytes = m->weight_bytes;
  /* decoding reads every matrix but the embeddings, of which one row (unless
   * they are the output matrix too) */
  m->lm.bytes_per_token = m->weight_bytes;
  if (m->w.output.data != m->w.tok_embd.data)
    m->lm.bytes_per_token -= (size_t)m->c.vocab * m->w.tok_embd.row_bytes;
  m->lm.kv_default = m->w.layers[0].wq.type == SOTTO_DTYPE_F32 ? SOTTO_DTYPE_F32 : SOTTO_DTYPE_F16;
  sm->bytes = m->weight_bytes + lm_state_bytes(&m->lm, m->lm.n_ctx_default, m->lm.kv_default);
  return 0;
fail:
  m->g = NULL; /* the caller closes it */
  llama_destroy(m);
  return -1;
}

int sotto_llama_estimate(const sotto_gguf *g, sotto_lm_estimate *out, sotto_error *err) {
  llama_config c;
  memset(&c, 0, sizeof c);
  if (read_config(g, &c, err)) return -1;
  /* the matrices load_weights uses in place, as it counts them */
  static const char *const per_layer[] = {"attn_q.weight", "attn_k.weight", "attn_v.weight",
                                          "attn_output.weight", "ffn_gate.weight",
                                          "ffn_up.weight", "ffn_down.weight"};
  uint64_t weights = 0;
  const sotto_gguf_tensor *emb = tensor(g, "token_embd.weight", -1), *t;
  if (!emb) return sotto_error_set(err, SOTTO_BAD_MODEL, "token_embd.weight is missing");
  weights += emb->bytes;
  if ((t = tensor(g, "output.weight", -1)) != NULL) weights += t->bytes;
  for (int l = 0; l < c.n_layers; l++)
    for (size_t i = 0; i < sizeof per_layer / sizeof per_layer[0]; i++)
      if ((t = tensor(g, per_layer[i], l)) != NULL) weights += t->bytes;
  const sotto_gguf_tensor *wq = tensor(g, "attn_q.weight", 0);
  const sotto_dtype kv = wq && wq->type == SOTTO_DTYPE_F32 ? SOTTO_DTYPE_F32 : SOTTO_DTYPE_F16;
  out->n_ctx_default = c.ctx_train < LLAMA_CTX_DEFAULT ? c.ctx_train : LLAMA_CTX_DEFAULT;
  out->n_ctx_train = c.ctx_train;
  out->weights_bytes = weights;
  out->state_bytes = state_bytes(&c, out->n_ctx_default, kv, 2);
  snprintf(out->arch, sizeof out->arch, "%s", c.arch);
  return 0;
}

sotto_lm *sotto_llama_lm(sotto_model *m) {
  return m && m->destroy == llama_destroy ? &((llama_model *)m->impl)->lm : NULL;
}
