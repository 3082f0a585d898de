/*
 * bert.c - the BERT family of transformer encoders, as Hugging Face's
 * transformers defines them:
 *
 *   BERT         models/bert/modeling_bert.py (BertModel,
 *                BertForSequenceClassification)
 *   DistilBERT   models/distilbert/modeling_distilbert.py
 *   RoBERTa      models/roberta/modeling_roberta.py
 *   XLM-RoBERTa  models/xlm_roberta/ (RoBERTa's code under another name)
 *
 * read from GGUF files in llama.cpp's "bert" layout (its
 * conversion/bert.py): token_embd, token_types, position_embd,
 * token_embd_norm; per layer blk.N.attn_q/k/v (or attn_qkv), attn_output,
 * attn_output_norm, ffn_up, ffn_down, layer_output_norm; classifiers
 * cls (first dense layer) and cls.output. RoBERTa's position table is
 * stored without its first pad_token_id + 1 rows, so position i is row i
 * for every family.
 *
 * The four families differ in four switches, all read from the file:
 * token type embeddings (absent in DistilBERT), the feed-forward
 * activation (config hidden_act: exact erf "gelu", tanh "gelu_new", ...),
 * the classifier head's activation (tanh: BERT's pooler and RoBERTa's
 * classification head; relu: DistilBERT's pre_classifier) and single- vs
 * multi-label outputs.
 *
 * Every matrix product runs on XNNPACK: linear layers packed once at load
 * (f32, or int8 for quantized files), attention products as batched
 * matrix multiplies. Texts are batched without padding: the tokens of all
 * texts in a batch are rows of one matrix for the linear layers, and
 * attention runs per text over its own tokens only, which is what Hugging
 * Face's attention mask computes on a padded batch.
 */
#include <ctype.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bert.h"
#include "formats/gguf.h"
#include "ops/ops.h"
#include "ops/vecmath.h"


/* Tokens in one forward pass (several texts); a window of n_ctx always fits. */
#define BERT_BATCH_TOKENS 1024
/* Tokens a thread takes in one forward pass: more texts are run as more
 * passes (on one thread, 8 texts of 128 tokens ran 4 % faster as two passes
 * of 512 tokens than as one of 1,024; 256 were no faster than 1,024). */
#define BERT_THREAD_TOKENS 512
#define BERT_MAX_LAYERS 256
/* Multiply-adds of one layer below which a batch runs on one thread. */
#define BERT_THREADS_MIN_MACS 4e6

/* Metadata keys: llama.cpp's, and the few sotto adds for what llama.cpp
 * does not record (its BERT graph always uses the tanh GELU and a tanh
 * classifier head, and only softmax outputs). */
#define KEY_ARCH "general.architecture"
#define KEY_CTX "bert.context_length"
#define KEY_EMBD "bert.embedding_length"
#define KEY_FF "bert.feed_forward_length"
#define KEY_LAYERS "bert.block_count"
#define KEY_HEADS "bert.attention.head_count"
#define KEY_EPS "bert.attention.layer_norm_epsilon"
#define KEY_POOLING "bert.pooling_type"
#define KEY_LABELS "bert.classifier.output_labels"
#define KEY_ACT "bert.hidden_activation"             /* config hidden_act */
#define KEY_HEAD_ACT "sotto.classifier.activation"     /* "tanh" | "relu" */
#define KEY_PROBLEM "sotto.classifier.problem_type"    /* config problem_type */
#define KEY_TOKENIZER "tokenizer.ggml.model"

typedef enum {
  ACT_GELU,      /* 0.5 x (1 + erf(x / sqrt 2)), "gelu" */
  ACT_GELU_TANH, /* "gelu_new", "gelu_pytorch_tanh", "gelu_fast" */
  ACT_GELU_QUICK,
  ACT_RELU,
  ACT_SILU,
  ACT_TANH,
} bert_act;

static const struct {
  const char *name;
  bert_act act;
} act_names[] = {
    {"gelu", ACT_GELU},           {"gelu_new", ACT_GELU_TANH}, {"gelu_pytorch_tanh", ACT_GELU_TANH},
    {"gelu_fast", ACT_GELU_TANH}, {"quick_gelu", ACT_GELU_QUICK}, {"relu", ACT_RELU},
    {"silu", ACT_SILU},           {"swish", ACT_SILU},         {"tanh", ACT_TANH},
};

typedef struct {
  int n_vocab, n_embd, n_ff, n_layer, n_head, n_types, n_pos, n_labels;
  float eps;
  bert_act act;      /* feed-forward activation */
  bert_act head_act; /* after the classifier's first dense layer */
  int multi_label;
  sotto_bert_pooling pooling;
} bert_config;

/* An embedding table read in place from the file (any GGUF type). */
typedef struct {
  sotto_dtype type;
  const uint8_t *data;
  size_t row_bytes;
} bert_table;

typedef struct {
  sotto_linear *qkv, *out, *up, *down;
  const float *attn_norm_w, *attn_norm_b, *out_norm_w, *out_norm_b;
} bert_layer;

typedef struct {
  bert_table tok;      /* used in place, any type */
  const float *pos, *types; /* [n_pos x n_embd], [n_types x n_embd] in f32 */
  const float *embd_norm_w, *embd_norm_b;
  bert_layer layers[BERT_MAX_LAYERS];
  sotto_linear *cls, *cls_out; /* NULL when absent */
  float *vectors;              /* positions, types and layer norms in f32 */
} bert_weights;

/* Attention of one text on one thread: q, k, v by head (3 x [n_head x n x
 * d]) and the scores ([n_head x n x n]) for texts of up to cap tokens. */
typedef struct {
  int cap;
  float *heads, *scores;
  sotto_bmm *qk, *pv;
} bert_attn;

/* Buffers of one forward pass, allocated at the first run. */
typedef struct {
  int cap;                /* tokens */
  float *x, *y, *qkv, *ff; /* [cap x n_embd], [cap x 3 n_embd], [cap x n_ff] */
  float *first;           /* first-token rows for the classifier: [cap x n_embd] x 2 */
  void *scratch;          /* int8 layers' quantized inputs */
  size_t scratch_bytes;
  bert_attn *attn;        /* one per thread of the pool that runs attention */
  int n_attn;
} bert_state;

/* How the tokenizer frames one text and a pair: the ids it puts before,
 * between and after, and the segment (token type) of each part. */
typedef struct {
  int32_t pre[4], mid[4], post[4];
  int n_pre, n_mid, n_post;
  int32_t type_pre[4], type_mid[4], type_post[4];
  int32_t type_a, type_b;
} bert_frame;

struct sotto_bert {
  bert_config c;
  bert_weights w;
  bert_state s;
  sotto_bert_info info;
  sotto_gguf *gguf;
  sotto_tokenizer *tok;
  bert_frame single, pair;
  char **labels;
};

/* ======================================================================
 * Loading
 * ====================================================================== */

static int parse_act(const char *s, size_t len, bert_act *out) {
  for (size_t i = 0; i < sizeof act_names / sizeof act_names[0]; i++)
    if (strlen(act_names[i].name) == len && strncmp(act_names[i].name, s, len) == 0) {
      *out = act_names[i].act;
      return 0;
    }
  return -1;
}

static int get_int(const sotto_gguf *g, const char *key, int required, int lo, int hi, int *out,
                   sotto_error *err) {
  int64_t v = 0;
  int r = sotto_gguf_get_i64(g, key, &v, err);
  if (r < 0) return -1;
  if (r == 0) {
    if (!required) return 0;
    return sotto_error_set(err, SOTTO_BAD_MODEL, "GGUF key %s is missing", key);
  }
  if (v < lo || v > hi)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "GGUF key %s = %lld is out of range", key,
                           (long long)v);
  *out = (int)v;
  return 0;
}

/* The tensor name, shape-checked: [ne0 x ne1] (ne1 = 1 for vectors). NULL
 * when absent; NULL with *err set when required or of another shape. */
static const sotto_gguf_tensor *tensor(const sotto_gguf *g, const char *name, int64_t ne0,
                                       int64_t ne1, int required, sotto_error *err) {
  const sotto_gguf_tensor *t = sotto_gguf_tensor_find(g, name);
  if (!t) {
    if (required) sotto_error_set(err, SOTTO_BAD_MODEL, "tensor %s is missing", name);
    return NULL;
  }
  if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1) {
    sotto_error_set(err, SOTTO_BAD_MODEL,
                    "tensor %s is [%lld x %lld x %lld x %lld], expected [%lld x %lld]", name,
                    (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                    (long long)t->ne[3], (long long)ne0, (long long)ne1);
    return NULL;
  }
  if (!sotto_dtype_get(t->type) || sotto_dtype_row_bytes(t->type, ne0) == 0) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "tensor %s has a type sotto cannot read", name);
    return NULL;
  }
  return t;
}

/* Rows of t as f32 into dst (rows x ne0). */
static void dequantize(const sotto_gguf_tensor *t, float *dst) {
  size_t rb = sotto_dtype_row_bytes(t->type, t->ne[0]);
  for (int64_t r = 0; r < t->ne[1]; r++)
    sotto_dequantize_row(t->type, (const uint8_t *)t->data + (size_t)r * rb,
                         dst + (size_t)r * (size_t)t->ne[0], t->ne[0]);
}

static int quantized(sotto_dtype t) {
  return t != SOTTO_DTYPE_F32 && t != SOTTO_DTYPE_F16 && t != SOTTO_DTYPE_BF16;
}

/* A linear layer from weight tensors stacked by rows (attn q, k, v into one
 * qkv layer) and their biases (NULL: zero), its first scaled output rows
 * (weights and bias) multiplied by scale. Quantized files run on the int8
 * path; f32 and f16 ones in f32. */
static sotto_linear *linear(const sotto_gguf_tensor *const *w, const sotto_gguf_tensor *const *b,
                            int parts, size_t scaled, float scale, sotto_error *err) {
  size_t n_in = (size_t)w[0]->ne[0], n_out = 0;
  int int8 = 0;
  for (int i = 0; i < parts; i++) n_out += (size_t)w[i]->ne[1], int8 |= quantized(w[i]->type);
  const float *wf = NULL;
  float *own = NULL, *bias = calloc(n_out, sizeof *bias);
  if (parts == 1 && w[0]->type == SOTTO_DTYPE_F32 && !scaled) {
    wf = w[0]->data; /* used in place; XNNPACK packs its own copy */
  } else {
    own = malloc(n_in * n_out * sizeof *own);
    if (own) {
      size_t row = 0;
      for (int i = 0; i < parts; i++) {
        dequantize(w[i], own + row * n_in);
        row += (size_t)w[i]->ne[1];
      }
    }
    wf = own;
  }
  sotto_linear *l = NULL;
  if (!wf || !bias) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory converting the weights");
  } else {
    size_t row = 0;
    for (int i = 0; i < parts; i++) {
      if (b[i]) dequantize(b[i], bias + row);
      row += (size_t)w[i]->ne[1];
    }
    for (size_t r = 0; r < scaled; r++) {
      for (size_t k = 0; k < n_in; k++) own[r * n_in + k] *= scale;
      bias[r] *= scale;
    }
    l = int8 ? sotto_linear_create_int8(wf, bias, n_in, n_out, err)
             : sotto_linear_create(wf, bias, n_in, n_out, err);
  }
  free(own);
  free(bias);
  return l;
}

static int load_config(sotto_bert *b, sotto_error *err) {
  const sotto_gguf *g = b->gguf;
  bert_config *c = &b->c;
  sotto_gguf_string arch = {0};
  if (sotto_gguf_get_str(g, KEY_ARCH, &arch, err) <= 0 || arch.len != 4 ||
      memcmp(arch.data, "bert", 4) != 0)
    return err->status ? -1 : sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                                              "not a BERT-family GGUF file");
  if (get_int(g, KEY_EMBD, 1, 1, 1 << 16, &c->n_embd, err) ||
      get_int(g, KEY_FF, 1, 1, 1 << 18, &c->n_ff, err) ||
      get_int(g, KEY_LAYERS, 1, 1, BERT_MAX_LAYERS, &c->n_layer, err) ||
      get_int(g, KEY_HEADS, 1, 1, 1 << 10, &c->n_head, err) ||
      get_int(g, KEY_CTX, 1, 3, 1 << 16, &c->n_pos, err))
    return -1;
  if (c->n_embd % c->n_head)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "%d heads do not divide the embedding of %d",
                           c->n_head, c->n_embd);
  c->eps = 1e-12f;
  if (sotto_gguf_get_f32(g, KEY_EPS, &c->eps, err) < 0) return -1;
  if (!(c->eps > 0 && c->eps < 1))
    return sotto_error_set(err, SOTTO_BAD_MODEL, "layer norm epsilon %g is out of range", c->eps);

  c->act = ACT_GELU; /* llama.cpp files do not say: BERT's default */
  sotto_gguf_string s;
  int r = sotto_gguf_get_str(g, KEY_ACT, &s, err);
  if (r < 0) return -1;
  if (r && parse_act(s.data, s.len, &c->act))
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "activation \"%.*s\" is not supported",
                           (int)(s.len > 40 ? 40 : s.len), s.data);
  /* DistilBERT has no token type embeddings, and its pre_classifier is
   * followed by a ReLU; BERT's pooler and RoBERTa's head use tanh. */
  c->head_act = sotto_gguf_tensor_find(g, "token_types.weight") ? ACT_TANH : ACT_RELU;
  r = sotto_gguf_get_str(g, KEY_HEAD_ACT, &s, err);
  if (r < 0) return -1;
  if (r && parse_act(s.data, s.len, &c->head_act))
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                           "classifier activation \"%.*s\" is not supported",
                           (int)(s.len > 40 ? 40 : s.len), s.data);
  r = sotto_gguf_get_str(g, KEY_PROBLEM, &s, err);
  if (r < 0) return -1;
  c->multi_label = r && s.len == 26 && memcmp(s.data, "multi_label_classification", 26) == 0;
  int pooling = 1;
  if (get_int(g, KEY_POOLING, 0, 0, 255, &pooling, err)) return -1;
  c->pooling = pooling == 2 ? SOTTO_BERT_POOL_CLS : SOTTO_BERT_POOL_MEAN;
  return 0;
}

static int load_weights(sotto_bert *b, sotto_error *err) {
  const sotto_gguf *g = b->gguf;
  bert_config *c = &b->c;
  bert_weights *w = &b->w;
  int64_t H = c->n_embd, F = c->n_ff;
  const sotto_gguf_tensor *t = sotto_gguf_tensor_find(g, "token_embd.weight");
  if (!t) return sotto_error_set(err, SOTTO_BAD_MODEL, "tensor token_embd.weight is missing");
  if (t->ne[1] < 1 || t->ne[1] > INT32_MAX) return sotto_error_set(err, SOTTO_BAD_MODEL, "bad vocabulary size");
  c->n_vocab = (int)t->ne[1];
  if (!(t = tensor(g, "token_embd.weight", H, c->n_vocab, 1, err))) return -1;
  w->tok = (bert_table){t->type, t->data, sotto_dtype_row_bytes(t->type, H)};
  const sotto_gguf_tensor *pos = tensor(g, "position_embd.weight", H, c->n_pos, 1, err);
  if (!pos) return -1;
  c->n_types = 0;
  const sotto_gguf_tensor *types = sotto_gguf_tensor_find(g, "token_types.weight");
  if (types) {
    if (types->ne[1] < 1 || types->ne[1] > 16)
      return sotto_error_set(err, SOTTO_BAD_MODEL, "token_types.weight has %lld rows",
                             (long long)types->ne[1]);
    c->n_types = (int)types->ne[1];
    if (!(types = tensor(g, "token_types.weight", H, c->n_types, 1, err))) return -1;
  }

  /* Small tables in f32, converted once: positions, token types, and the
   * layer norms (2 vectors each, 2 per layer and one for the embeddings). */
  size_t n_vec = (size_t)c->n_pos + (size_t)c->n_types + 2 + 4 * (size_t)c->n_layer;
  w->vectors = malloc(n_vec * (size_t)H * sizeof(float));
  if (!w->vectors) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  float *v = w->vectors;
  dequantize(pos, v);
  w->pos = v;
  v += (size_t)c->n_pos * (size_t)H;
  if (types) {
    dequantize(types, v);
    w->types = v;
    v += (size_t)c->n_types * (size_t)H;
  }
  char name[96];
#define VECTOR(dst, ...)                                              \
  do {                                                                \
    snprintf(name, sizeof name, __VA_ARGS__);                         \
    const sotto_gguf_tensor *vt = tensor(g, name, H, 1, 1, err);      \
    if (!vt) return -1;                                               \
    dequantize(vt, v);                                                \
    (dst) = v;                                                        \
    v += H;                                                           \
  } while (0)
  VECTOR(w->embd_norm_w, "token_embd_norm.weight");
  VECTOR(w->embd_norm_b, "token_embd_norm.bias");
  for (int i = 0; i < c->n_layer; i++) {
    bert_layer *L = &w->layers[i];
    VECTOR(L->attn_norm_w, "blk.%d.attn_output_norm.weight", i);
    VECTOR(L->attn_norm_b, "blk.%d.attn_output_norm.bias", i);
    VECTOR(L->out_norm_w, "blk.%d.layer_output_norm.weight", i);
    VECTOR(L->out_norm_b, "blk.%d.layer_output_norm.bias", i);
  }
#undef VECTOR

  /* Linear layers: weights [n_in x n_out] in GGUF order, biases optional. */
  const sotto_gguf_tensor *wt[3], *bt[3];
#define TENSOR(dst, ne0, ne1, required, ...)                                    \
  do {                                                                          \
    snprintf(name, sizeof name, __VA_ARGS__);                                   \
    sotto_error e_ = {0};                                                       \
    (dst) = tensor(g, name, ne0, ne1, required, &e_);                           \
    if (e_.status) return sotto_error_set(err, e_.status, "%s", e_.message);    \
  } while (0)
  /* Attention's 1 / sqrt(d) scale is folded into the q rows of the qkv
   * layer (as DistilBERT scales q; the same up to rounding). */
  const float q_scale = 1.0f / sqrtf((float)(H / c->n_head));
  for (int i = 0; i < c->n_layer; i++) {
    bert_layer *L = &w->layers[i];
    TENSOR(wt[0], H, 3 * H, 0, "blk.%d.attn_qkv.weight", i);
    if (wt[0]) {
      TENSOR(bt[0], 3 * H, 1, 0, "blk.%d.attn_qkv.bias", i);
      L->qkv = linear(wt, bt, 1, (size_t)H, q_scale, err);
    } else {
      static const char *const qkv[3] = {"q", "k", "v"};
      for (int p = 0; p < 3; p++) {
        TENSOR(wt[p], H, H, 1, "blk.%d.attn_%s.weight", i, qkv[p]);
        TENSOR(bt[p], H, 1, 0, "blk.%d.attn_%s.bias", i, qkv[p]);
      }
      L->qkv = linear(wt, bt, 3, (size_t)H, q_scale, err);
    }
    if (!L->qkv) return -1;
    TENSOR(wt[0], H, H, 1, "blk.%d.attn_output.weight", i);
    TENSOR(bt[0], H, 1, 0, "blk.%d.attn_output.bias", i);
    if (!(L->out = linear(wt, bt, 1, 0, 1.0f, err))) return -1;
    TENSOR(wt[0], H, F, 1, "blk.%d.ffn_up.weight", i);
    TENSOR(bt[0], F, 1, 0, "blk.%d.ffn_up.bias", i);
    if (!(L->up = linear(wt, bt, 1, 0, 1.0f, err))) return -1;
    TENSOR(wt[0], F, H, 1, "blk.%d.ffn_down.weight", i);
    TENSOR(bt[0], H, 1, 0, "blk.%d.ffn_down.bias", i);
    if (!(L->down = linear(wt, bt, 1, 0, 1.0f, err))) return -1;
  }

  /* Classifier: cls (H -> H, then the head activation) and cls.output. */
  TENSOR(wt[0], H, H, 0, "cls.weight");
  if (wt[0]) {
    TENSOR(bt[0], H, 1, 0, "cls.bias");
    if (!(w->cls = linear(wt, bt, 1, 0, 1.0f, err))) return -1;
  }
  t = sotto_gguf_tensor_find(g, "cls.output.weight");
  if (t) {
    if (t->ne[1] < 1 || t->ne[1] > 65536)
      return sotto_error_set(err, SOTTO_BAD_MODEL, "cls.output.weight has %lld labels",
                             (long long)t->ne[1]);
    c->n_labels = (int)t->ne[1];
    TENSOR(wt[0], H, c->n_labels, 1, "cls.output.weight");
    TENSOR(bt[0], c->n_labels, 1, 0, "cls.output.bias");
    if (!(w->cls_out = linear(wt, bt, 1, 0, 1.0f, err))) return -1;
  } else if (w->cls) {
    return sotto_error_set(err, SOTTO_BAD_MODEL, "cls.weight without cls.output.weight");
  }
#undef TENSOR
  return 0;
}

static int load_labels(sotto_bert *b, sotto_error *err) {
  int n = b->c.n_labels;
  if (!n) return 0;
  b->labels = calloc((size_t)n, sizeof *b->labels);
  if (!b->labels) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  sotto_gguf_type type;
  uint64_t count = 0;
  int r = sotto_gguf_get_arr(b->gguf, KEY_LABELS, &type, &count, err);
  if (r < 0) return -1;
  if (r && (type != SOTTO_GGUF_STRING || count != (uint64_t)n))
    return sotto_error_set(err, SOTTO_BAD_MODEL, "%s must hold %d strings", KEY_LABELS, n);
  for (int i = 0; i < n; i++) {
    char buf[32];
    sotto_gguf_string s = {buf, 0};
    if (r) {
      s = sotto_gguf_arr_str(b->gguf, KEY_LABELS, (uint64_t)i);
    } else {
      s.len = (uint64_t)snprintf(buf, sizeof buf, "LABEL_%d", i);
    }
    if (s.len > 1024) return sotto_error_set(err, SOTTO_BAD_MODEL, "label %d is too long", i);
    if (!(b->labels[i] = malloc(s.len + 1)))
      return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    memcpy(b->labels[i], s.data, s.len);
    b->labels[i][s.len] = 0;
  }
  /* pipelines/zero_shot_classification.py, entailment_id: the first label
   * that starts with "entail", case-insensitively. */
  b->info.entailment = -1;
  for (int i = 0; i < n && b->info.entailment < 0; i++)
    if (strncasecmp(b->labels[i], "entail", 6) == 0) b->info.entailment = i;
  return 0;
}

/* Encodes text (no special tokens) into a malloc'ed array; *n its length. */
static int32_t *encode(const sotto_tokenizer *tok, const char *text, int add_special, int64_t *n,
                       sotto_error *err) {
  if (!tok) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                    "the model file has no tokenizer: give token ids (\"ids\")");
    return NULL;
  }
  return sotto_tokenizer_encode_alloc(tok, text, strlen(text), add_special, 0, n, err);
}

/* Learns the tokenizer's framing of a text and of a pair from probe
 * encodings, so windows of a long text get exactly the special tokens the
 * tokenizer adds (BERT: [CLS] a [SEP] b [SEP] with segments 0 and 1;
 * RoBERTa: <s> a </s></s> b </s>, all segment 0). */
static int learn_frames(sotto_bert *b, sotto_error *err) {
  static const char A[] = "a", B[] = "b";
  int64_t na = 0, nb = 0, nf = 0;
  int32_t *a = encode(b->tok, A, 0, &na, err), *bb = a ? encode(b->tok, B, 0, &nb, err) : NULL;
  int32_t *f = bb ? encode(b->tok, A, 1, &nf, err) : NULL;
  int32_t ids[64], types[64];
  int64_t np = f ? sotto_tokenizer_encode_pair(b->tok, A, 1, B, 1, 0, ids, types, 64, err) : -1;
  int rc = -1;
  if (!f || np < 0) goto done;
  bert_frame *s = &b->single, *p = &b->pair;
  /* single: pre + a + post */
  int64_t pre = 0;
  while (pre + na <= nf && memcmp(f + pre, a, (size_t)na * sizeof *a) != 0) pre++;
  if (pre + na > nf || pre > 4 || nf - pre - na > 4) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "the tokenizer's special tokens are not a frame");
    goto done;
  }
  s->n_pre = (int)pre, s->n_post = (int)(nf - pre - na);
  memcpy(s->pre, f, (size_t)pre * sizeof *f);
  memcpy(s->post, f + pre + na, (size_t)s->n_post * sizeof *f);
  /* pair: pre + a + mid + b + post */
  int64_t pa = 0;
  while (pa + na <= np && memcmp(ids + pa, a, (size_t)na * sizeof *a) != 0) pa++;
  int64_t pb = pa + na;
  while (pb + nb <= np && memcmp(ids + pb, bb, (size_t)nb * sizeof *bb) != 0) pb++;
  if (np > 64 || pb + nb > np || pa > 4 || pb - pa - na > 4 || np - pb - nb > 4) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "the tokenizer's pair framing is not supported");
    goto done;
  }
  p->n_pre = (int)pa, p->n_mid = (int)(pb - pa - na), p->n_post = (int)(np - pb - nb);
  for (int i = 0; i < p->n_pre; i++) p->pre[i] = ids[i], p->type_pre[i] = types[i];
  for (int i = 0; i < p->n_mid; i++)
    p->mid[i] = ids[pa + na + i], p->type_mid[i] = types[pa + na + i];
  for (int i = 0; i < p->n_post; i++)
    p->post[i] = ids[pb + nb + i], p->type_post[i] = types[pb + nb + i];
  p->type_a = types[pa];
  p->type_b = types[pb];
  rc = 0;
done:
  free(a);
  free(bb);
  free(f);
  return rc;
}

static void bert_free(void *impl) {
  sotto_bert *b = impl;
  if (!b) return;
  for (int i = 0; i < BERT_MAX_LAYERS; i++) {
    bert_layer *L = &b->w.layers[i];
    sotto_linear_destroy(L->qkv);
    sotto_linear_destroy(L->out);
    sotto_linear_destroy(L->up);
    sotto_linear_destroy(L->down);
  }
  sotto_linear_destroy(b->w.cls);
  sotto_linear_destroy(b->w.cls_out);
  free(b->w.vectors);
  bert_state *s = &b->s;
  free(s->x), free(s->y), free(s->qkv), free(s->ff), free(s->first), free(s->scratch);
  for (int i = 0; i < s->n_attn; i++) {
    free(s->attn[i].heads), free(s->attn[i].scores);
    sotto_bmm_destroy(s->attn[i].qk);
    sotto_bmm_destroy(s->attn[i].pv);
  }
  free(s->attn);
  for (int i = 0; b->labels && i < b->c.n_labels; i++) free(b->labels[i]);
  free(b->labels);
  sotto_tokenizer_free(b->tok);
  sotto_gguf_close(b->gguf);
  free(b);
}

static int load(sotto_bert *b, sotto_model *m, sotto_error *err);

int sotto_bert_load(sotto_model *m, sotto_gguf *g, sotto_error *err) {
  sotto_bert *b = calloc(1, sizeof *b);
  if (!b) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  m->impl = b;
  m->destroy = bert_free;
  m->arch = "bert";
  b->gguf = g;
  if (load(b, m, err) == 0) return 0;
  b->gguf = NULL; /* the caller closes g on failure */
  return -1;
}

static int load(sotto_bert *b, sotto_model *m, sotto_error *err) {
  if (load_config(b, err) || load_weights(b, err) || load_labels(b, err)) return -1;
  /* A file without a tokenizer (llama.cpp's "none" or "no_vocab") runs
   * on token ids only. */
  sotto_gguf_string tm = {0};
  if (sotto_gguf_get_str(b->gguf, KEY_TOKENIZER, &tm, err) < 0) return -1;
  int has_tok = tm.len && !(tm.len == 4 && memcmp(tm.data, "none", 4) == 0) &&
                !(tm.len == 8 && memcmp(tm.data, "no_vocab", 8) == 0);
  if (has_tok) {
    if (!(b->tok = sotto_tokenizer_from_gguf(b->gguf, err))) return -1;
    if (sotto_tokenizer_n_vocab(b->tok) > b->c.n_vocab)
      return sotto_error_set(err, SOTTO_BAD_MODEL, "the tokenizer has %d tokens, the model %d",
                             (int)sotto_tokenizer_n_vocab(b->tok), b->c.n_vocab);
    if (learn_frames(b, err)) return -1;
    m->tokenizer = b->tok;
  }
  b->info.n_embd = b->c.n_embd;
  b->info.n_ctx = b->c.n_pos;
  b->info.n_labels = b->c.n_labels;
  b->info.multi_label = b->c.multi_label || b->c.n_labels == 1;
  b->info.pooling = b->c.pooling;
  if (!b->c.n_labels) b->info.entailment = -1;
  /* Packed weights: 4 bytes a weight (1 on the int8 path) beside the file. */
  size_t H = (size_t)b->c.n_embd, F = (size_t)b->c.n_ff;
  int int8 = sotto_linear_scratch_bytes(b->w.layers[0].qkv, 1) > 0;
  m->bytes = m->file.size + (4 * H * H + 2 * H * F) * (size_t)b->c.n_layer * (int8 ? 1 : 4);
  return 0;
}

const sotto_bert_info *sotto_bert_info_of(const sotto_bert *b) { return &b->info; }
const sotto_tokenizer *sotto_bert_tokenizer(const sotto_bert *b) { return b->tok; }
const char *sotto_bert_label(const sotto_bert *b, int i) {
  return i >= 0 && i < b->c.n_labels ? b->labels[i] : NULL;
}

/* ======================================================================
 * The forward pass
 * ====================================================================== */

/* A batch of token sequences: seq i is ids[start[i] .. start[i] + len[i]). */
typedef struct {
  const int32_t *ids, *types;
  const int *start, *len;
  int n_seq, n_tok;
} bert_batch;

/* Scratch for the int8 layers' quantized inputs over rows (0 for f32
 * models), a multiple of 64 bytes so that parts of a batch can share one
 * buffer. */
static size_t scratch_bytes(const sotto_bert *b, size_t rows) {
  size_t most = 0;
  for (int i = 0; i < b->c.n_layer; i++) {
    const bert_layer *L = &b->w.layers[i];
    const sotto_linear *ls[4] = {L->qkv, L->out, L->up, L->down};
    for (int j = 0; j < 4; j++) {
      size_t n = sotto_linear_scratch_bytes(ls[j], rows);
      most = n > most ? n : most;
    }
  }
  const sotto_linear *heads[2] = {b->w.cls, b->w.cls_out};
  for (int j = 0; j < 2; j++) {
    size_t n = heads[j] ? sotto_linear_scratch_bytes(heads[j], rows) : 0;
    most = n > most ? n : most;
  }
  return (most + 63) / 64 * 64;
}

static int state_init(sotto_bert *b, sotto_error *err) {
  bert_state *s = &b->s;
  if (s->x) return 0;
  const bert_config *c = &b->c;
  size_t H = (size_t)c->n_embd, F = (size_t)c->n_ff;
  s->cap = BERT_BATCH_TOKENS > c->n_pos ? BERT_BATCH_TOKENS : c->n_pos;
  size_t T = (size_t)s->cap;
  s->x = malloc((T * H + SOTTO_PAD_FLOATS) * sizeof(float));
  s->y = malloc((T * H + SOTTO_PAD_FLOATS) * sizeof(float));
  s->qkv = malloc((T * 3 * H + SOTTO_PAD_FLOATS) * sizeof(float));
  s->ff = malloc((T * F + SOTTO_PAD_FLOATS) * sizeof(float));
  s->first = malloc((2 * T * H + SOTTO_PAD_FLOATS) * sizeof(float));
  size_t scratch = scratch_bytes(b, T);
  s->scratch_bytes = scratch;
  s->scratch = scratch ? malloc(scratch) : NULL;
  if (!s->x || !s->y || !s->qkv || !s->ff || !s->first || (scratch && !s->scratch)) {
    free(s->x), free(s->y), free(s->qkv), free(s->ff), free(s->first), free(s->scratch);
    s->x = s->y = s->qkv = s->ff = s->first = NULL, s->scratch = NULL;
    return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory for the encoder's buffers");
  }
  return 0;
}

/* Attention buffers for threads texts of up to n tokens each. */
static int attn_reserve(sotto_bert *b, int threads, int n, sotto_error *err) {
  bert_state *s = &b->s;
  if (threads > s->n_attn) {
    bert_attn *a = realloc(s->attn, (size_t)threads * sizeof *a);
    if (!a) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    memset(a + s->n_attn, 0, (size_t)(threads - s->n_attn) * sizeof *a);
    s->attn = a, s->n_attn = threads;
  }
  size_t H = (size_t)b->c.n_embd, heads = (size_t)b->c.n_head;
  for (int i = 0; i < threads; i++) {
    bert_attn *a = &s->attn[i];
    if (!a->qk && !(a->qk = sotto_bmm_create(1, err))) return -1;
    if (!a->pv && !(a->pv = sotto_bmm_create(0, err))) return -1;
    if (a->cap >= n) continue;
    free(a->heads), free(a->scores);
    a->heads = malloc((3 * (size_t)n * H + SOTTO_PAD_FLOATS) * sizeof(float));
    a->scores = malloc((heads * (size_t)n * (size_t)n + SOTTO_PAD_FLOATS) * sizeof(float));
    a->cap = a->heads && a->scores ? n : 0;
    if (!a->cap) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory for attention");
  }
  return 0;
}

/* Row-parallel loops run on the context's thread pool. */
typedef struct {
  const sotto_bert *b;
  const bert_batch *batch;
  float *x;
  const float *y, *gamma, *beta;
  size_t cols;
  bert_act act;
  const int *pos; /* position of each token in its sequence */
  /* attention's split and merge of heads h0 .. h0 + hg of one sequence */
  const float *qkv;
  float *heads, *out;
  size_t n, start, h0, hg;
} rows_job;

/* embeddings: token + position + token type, then layer norm
 * (modeling_bert.BertEmbeddings.forward). */
static void task_embed(void *ctx, size_t r) {
  const rows_job *j = ctx;
  const sotto_bert *b = j->b;
  const bert_config *c = &b->c;
  size_t H = (size_t)c->n_embd;
  float *x = j->x + r * H;
  const bert_table *tok = &b->w.tok;
  sotto_dequantize_row(tok->type, tok->data + (size_t)j->batch->ids[r] * tok->row_bytes, x, H);
  const float *pos = b->w.pos + (size_t)j->pos[r] * H;
  for (size_t i = 0; i < H; i++) x[i] += pos[i];
  if (c->n_types) {
    int type = j->batch->types ? j->batch->types[r] : 0;
    const float *tr = b->w.types + (size_t)(type < c->n_types ? type : c->n_types - 1) * H;
    for (size_t i = 0; i < H; i++) x[i] += tr[i];
  }
  sotto_vadd_layernorm(x, NULL, b->w.embd_norm_w, b->w.embd_norm_b, (int64_t)H, c->eps);
}

/* x = LayerNorm(x + y) */
static void task_add_norm(void *ctx, size_t r) {
  const rows_job *j = ctx;
  sotto_vadd_layernorm(j->x + r * j->cols, j->y + r * j->cols, j->gamma, j->beta,
                       (int64_t)j->cols, j->b->c.eps);
}

static void task_act(void *ctx, size_t r) {
  const rows_job *j = ctx;
  float *x = j->x + r * j->cols;
  size_t n = j->cols;
  switch (j->act) {
  case ACT_GELU_TANH: /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    for (size_t i = 0; i < n; i++) {
      float v = x[i];
      x[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
    break;
  case ACT_GELU_QUICK:
    for (size_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-1.702f * x[i]));
    break;
  case ACT_RELU:
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0;
    break;
  case ACT_SILU:
    for (size_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
    break;
  case ACT_TANH:
    for (size_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
    break;
  case ACT_GELU:
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.7071067811865476f));
    break;
  }
}

static int activate(pthreadpool_t pool, bert_act act, float *x, size_t rows, size_t cols,
                    sotto_error *err) {
  /* XNNPACK's vectorised kernels where it has the function exactly. */
  if (act == ACT_GELU) return sotto_unary(pool, SOTTO_UNARY_GELU, x, x, rows * cols, err);
  if (act == ACT_TANH) return sotto_unary(pool, SOTTO_UNARY_TANH, x, x, rows * cols, err);
  rows_job j = {.x = x, .cols = cols, .act = act};
  pthreadpool_parallelize_1d(pool, task_act, &j, rows, 0);
  return 0;
}

/* qkv row i [3H] of one sequence -> heads [3 n_head][n][d] */
static void task_split_heads(void *ctx, size_t i) {
  const rows_job *j = ctx;
  size_t H = (size_t)j->b->c.n_embd, d = H / (size_t)j->b->c.n_head, n = j->n, hg = j->hg;
  const float *row = j->qkv + (j->start + i) * 3 * H + j->h0 * d;
  for (size_t p = 0; p < 3; p++)
    for (size_t h = 0; h < hg; h++)
      memcpy(j->heads + ((p * hg + h) * n + i) * d, row + p * H + h * d, d * sizeof(float));
}

/* heads [hg][n][d] -> row i of out, columns of heads h0 .. h0 + hg */
static void task_merge_heads(void *ctx, size_t i) {
  const rows_job *j = ctx;
  size_t H = (size_t)j->b->c.n_embd, d = H / (size_t)j->b->c.n_head, n = j->n;
  float *row = j->out + (j->start + i) * H + j->h0 * d;
  for (size_t h = 0; h < j->hg; h++) memcpy(row + h * d, j->heads + (h * n + i) * d, d * sizeof(float));
}

/* Self-attention of one sequence (modeling_bert.BertSelfAttention), heads
 * h0 .. h0 + hg: softmax(q k^T / sqrt(d)) v per head, q already scaled by
 * the qkv layer. The heads' columns of the sequence's qkv rows are split
 * into [3][hg][n][d] for the batched products, whose result is merged
 * back into rows of out. */
static int attention(sotto_bert *b, bert_attn *a, pthreadpool_t pool, const float *qkv,
                     size_t start, size_t n, size_t h0, size_t hg, float *out, sotto_error *err) {
  size_t d = (size_t)(b->c.n_embd / b->c.n_head);
  float *q = a->heads, *k = q + hg * n * d, *v = k + hg * n * d;
  rows_job j = {.b = b, .qkv = qkv, .heads = q, .out = out, .n = n, .start = start, .h0 = h0,
                .hg = hg};
  pthreadpool_parallelize_1d(pool, task_split_heads, &j, n, 0);
  if (sotto_bmm_run(a->qk, pool, q, k, a->scores, hg, n, d, n, err)) return -1;
  if (sotto_softmax(pool, a->scores, a->scores, hg * n, n, err)) return -1;
  if (sotto_bmm_run(a->pv, pool, a->scores, v, q, hg, n, n, d, err)) return -1;
  pthreadpool_parallelize_1d(pool, task_merge_heads, &j, n, 0);
  return 0;
}

/* Attention on the pool's threads: task i is sequence i / groups, its
 * group i % groups of heads, run on one thread. */
typedef struct {
  sotto_bert *b;
  const bert_batch *bt;
  const float *qkv;
  float *out;
  size_t groups;
  sotto_error *errs; /* one per thread */
} attn_job;

static void task_attention(void *ctx, size_t thread, size_t i) {
  attn_job *j = ctx;
  if (j->errs[thread].status) return;
  size_t seq = i / j->groups, g = i % j->groups, heads = (size_t)j->b->c.n_head;
  size_t h0 = g * heads / j->groups, h1 = (g + 1) * heads / j->groups;
  attention(j->b, &j->b->s.attn[thread], NULL, j->qkv, (size_t)j->bt->start[seq],
            (size_t)j->bt->len[seq], h0, h1 - h0, j->out, &j->errs[thread]);
}

/* Self-attention of every text in the batch from its qkv rows into out.
 * With threads, each thread runs whole texts, or groups of a text's heads
 * when there are fewer texts than threads: one wake-up of the pool per
 * layer. Without, the texts run one after another with the buffers of
 * part (reserved by the caller when part > 0). */
static int attention_all(sotto_bert *b, pthreadpool_t pool, size_t part, const bert_batch *bt,
                         const float *qkv, float *out, sotto_error *err) {
  int threads = (int)pthreadpool_get_threads_count(pool), longest = 0;
  for (int i = 0; i < bt->n_seq; i++) longest = bt->len[i] > longest ? bt->len[i] : longest;
  if (threads < 2) {
    if (part == 0 && attn_reserve(b, 1, longest, err)) return -1;
    for (int i = 0; i < bt->n_seq; i++)
      if (attention(b, &b->s.attn[part], pool, qkv, (size_t)bt->start[i], (size_t)bt->len[i], 0,
                    (size_t)b->c.n_head, out, err))
        return -1;
    return 0;
  }
  size_t groups = bt->n_seq >= threads ? 1 : (size_t)((threads + bt->n_seq - 1) / bt->n_seq);
  if (groups > (size_t)b->c.n_head) groups = (size_t)b->c.n_head;
  sotto_error *errs = calloc((size_t)threads, sizeof *errs);
  if (!errs) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  int rc = attn_reserve(b, threads, longest, err);
  if (!rc) {
    attn_job j = {b, bt, qkv, out, groups, errs};
    pthreadpool_parallelize_1d_with_thread(pool, task_attention, &j, (size_t)bt->n_seq * groups, 0);
    for (int t = 0; t < threads && !rc; t++)
      if (errs[t].status) *err = errs[t], rc = -1;
  }
  free(errs);
  return rc;
}

/* Where a forward pass over some of a batch's rows works: those rows of
 * bert_state's buffers, and scratch for the int8 layers. */
typedef struct {
  float *x, *y, *qkv, *ff;
  void *scratch;
} bert_rows;

/* A linear layer on the pool, or, as one of parts threads that each run
 * their own rows, on this thread. */
static int linear_run(sotto_linear *l, pthreadpool_t pool, size_t part, size_t parts,
                      const float *x, size_t rows, float *y, void *scratch, sotto_error *err) {
  if (parts > 1) return sotto_linear_run_part(l, x, rows, y, scratch, part, parts, err);
  return sotto_linear_run_scratch(l, pool, x, rows, y, scratch, err);
}

/* Cancellation, asked before each layer by the thread that has the stream
 * (st is NULL on the others: its callback belongs to the calling thread)
 * and passed to the others through stop, which a failing part sets too. */
static int stopped(sotto_stream *st, atomic_int *stop) {
  if (st && sotto_stream_cancelled(st)) atomic_store(stop, 1);
  return atomic_load(stop);
}

/* Runs the encoder over a batch in the rows of r (the batch's first token
 * in r's first row); the last hidden states end in r->x ([n_tok x n_embd],
 * sequences one after another). With first_only, only each sequence's
 * first row (its [CLS] or <s> token) is computed through the last layer's
 * output projection and feed-forward. part / parts: see linear_run. */
static int forward_rows(sotto_bert *b, pthreadpool_t pool, size_t part, size_t parts,
                        sotto_stream *st, atomic_int *stop, const bert_batch *bt,
                        const bert_rows *r, int first_only, sotto_error *err) {
  const bert_config *c = &b->c;
  size_t T = (size_t)bt->n_tok, H = (size_t)c->n_embd, F = (size_t)c->n_ff;
  int *pos = malloc(T * sizeof *pos);
  if (!pos) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; i < bt->n_seq; i++)
    for (int k = 0; k < bt->len[i]; k++) pos[bt->start[i] + k] = k;

  rows_job j = {.b = b, .batch = bt, .x = r->x, .pos = pos, .cols = H};
  pthreadpool_parallelize_1d(pool, task_embed, &j, T, 0);
  free(pos);

  for (int l = 0; l < c->n_layer; l++) {
    const bert_layer *L = &b->w.layers[l];
    if (stopped(st, stop)) return -1;
    /* self-attention, output projection, residual + layer norm */
    if (linear_run(L->qkv, pool, part, parts, r->x, T, r->qkv, r->scratch, err)) return -1;
    if (attention_all(b, pool, part, bt, r->qkv, r->y, err)) return -1;
    if (first_only && l == c->n_layer - 1) {
      /* The rest of the last layer for each sequence's first token only:
       * its rows moved to the front (start[i] >= i), and back at the end. */
      for (size_t i = 0; i < (size_t)bt->n_seq; i++) {
        size_t from = (size_t)bt->start[i] * H;
        memmove(r->x + i * H, r->x + from, H * sizeof(float));
        memmove(r->y + i * H, r->y + from, H * sizeof(float));
      }
      T = (size_t)bt->n_seq;
    }
    if (linear_run(L->out, pool, part, parts, r->y, T, r->qkv, r->scratch, err)) return -1;
    j = (rows_job){.b = b, .x = r->x, .y = r->qkv, .gamma = L->attn_norm_w,
                   .beta = L->attn_norm_b, .cols = H};
    pthreadpool_parallelize_1d(pool, task_add_norm, &j, T, 0);
    /* feed-forward, residual + layer norm */
    if (linear_run(L->up, pool, part, parts, r->x, T, r->ff, r->scratch, err)) return -1;
    if (activate(pool, c->act, r->ff, T, F, err)) return -1;
    if (linear_run(L->down, pool, part, parts, r->ff, T, r->y, r->scratch, err)) return -1;
    j = (rows_job){.b = b, .x = r->x, .y = r->y, .gamma = L->out_norm_w, .beta = L->out_norm_b,
                   .cols = H};
    pthreadpool_parallelize_1d(pool, task_add_norm, &j, T, 0);
  }
  for (size_t i = first_only ? (size_t)bt->n_seq : 0; i-- > 0;)
    memmove(r->x + (size_t)bt->start[i] * H, r->x + i * H, H * sizeof(float));
  return 0;
}

/* Tokens of part p, texts first[p] .. first[p + 1] (one after another). */
static int part_tokens(const bert_batch *bt, const int *first, int p) {
  int last = first[p + 1] - 1;
  return bt->start[last] + bt->len[last] - bt->start[first[p]];
}

/* A batch cut into parts of whole texts, one thread each. */
typedef struct {
  sotto_bert *b;
  sotto_stream *st;
  const bert_batch *bt;
  const int *first;     /* part p: texts first[p] .. first[p + 1] */
  int *start;           /* each text's start within its part */
  const size_t *at;     /* part p's scratch: bytes at[p] .. at[p + 1] of s->scratch */
  size_t parts;
  int first_only;
  atomic_int stop;
  sotto_error *errs; /* one per part */
} parts_job;

static void task_part(void *ctx, size_t thread, size_t p) {
  parts_job *j = ctx;
  const bert_batch *bt = j->bt;
  bert_state *s = &j->b->s;
  size_t H = (size_t)j->b->c.n_embd, F = (size_t)j->b->c.n_ff;
  int s0 = j->first[p], s1 = j->first[p + 1], r0 = bt->start[s0];
  for (int i = s0; i < s1; i++) j->start[i] = bt->start[i] - r0;
  bert_batch sub = {bt->ids + r0, bt->types ? bt->types + r0 : NULL, j->start + s0, bt->len + s0,
                    s1 - s0, part_tokens(bt, j->first, (int)p)};
  bert_rows r = {s->x + r0 * H, s->y + r0 * H, s->qkv + r0 * 3 * H, s->ff + r0 * F,
                 s->scratch ? (char *)s->scratch + j->at[p] : NULL};
  if (forward_rows(j->b, NULL, p, j->parts, thread == 0 ? j->st : NULL, &j->stop, &sub, &r,
                   j->first_only, &j->errs[p]))
    atomic_store(&j->stop, 1);
}

/* Cuts a batch into parts of whole texts with about as many tokens each,
 * first[0] = 0 <= first[1] .. first[parts] = n_seq; returns the most tokens
 * of a part. */
static int cut_parts(const bert_batch *bt, int parts, int *first) {
  int p = 0, tokens = 0, most = 0, from = 0;
  first[0] = 0;
  for (int i = 0; i < bt->n_seq; i++) {
    /* a new part when this one has its share, or when every text left
     * must start one */
    if (p + 1 < parts && i > first[p] &&
        ((long)tokens * parts >= (long)(p + 1) * bt->n_tok || bt->n_seq - i == parts - 1 - p)) {
      most = tokens - from > most ? tokens - from : most;
      first[++p] = i, from = tokens;
    }
    tokens += bt->len[i];
  }
  first[parts] = bt->n_seq;
  return tokens - from > most ? tokens - from : most;
}

/* Runs the encoder over a batch into s->x (see forward_rows). With threads
 * and at least as many texts, each thread runs the whole encoder for its
 * own texts: no wake-ups of the pool between the steps of a layer, each
 * thread's rows stay in its own caches, and a thread never waits for
 * another until the end. The threads share each layer's weights a column
 * block at a time (sotto_linear_run_part). When the texts cannot be cut
 * into parts of nearly equal tokens, every step is spread over the pool. */
static int forward(sotto_bert *b, pthreadpool_t pool, sotto_stream *st, const bert_batch *bt,
                   int first_only, sotto_error *err) {
  bert_state *s = &b->s;
  int threads = (int)pthreadpool_get_threads_count(pool), parts = threads;
  atomic_int stop = 0;
  bert_rows all = {s->x, s->y, s->qkv, s->ff, s->scratch};
  int *first = threads > 1 && bt->n_seq >= threads
                   ? malloc((size_t)(threads + 1 + bt->n_seq) * sizeof *first)
                   : NULL;
  /* at most 1/8 more tokens in a part than an even share */
  if (!first || (long)cut_parts(bt, parts, first) * parts * 8 > (long)bt->n_tok * 9) {
    free(first);
    return forward_rows(b, pool, 0, 1, st, &stop, bt, &all, first_only, err);
  }
  int longest = 0, rc = 0;
  for (int i = 0; i < bt->n_seq; i++) longest = bt->len[i] > longest ? bt->len[i] : longest;
  /* each part's scratch after the ones before it */
  size_t *at = malloc((size_t)(parts + 1) * sizeof *at);
  if (!at) {
    free(first);
    return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  }
  at[0] = 0;
  for (int p = 0; p < parts; p++) at[p + 1] = at[p] + scratch_bytes(b, (size_t)part_tokens(bt, first, p));
  size_t scratch = at[parts];
  if (scratch > s->scratch_bytes) {
    free(s->scratch);
    s->scratch = malloc(scratch);
    s->scratch_bytes = s->scratch ? scratch : 0;
    if (!s->scratch) rc = sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  }
  sotto_error *errs = rc ? NULL : calloc((size_t)parts, sizeof *errs);
  if (!rc && !errs) rc = sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  if (!rc) rc = attn_reserve(b, parts, longest, err);
  if (!rc) {
    parts_job j = {b, st, bt, first, first + parts + 1, at, (size_t)parts, first_only, 0, errs};
    pthreadpool_parallelize_1d_with_thread(pool, task_part, &j, (size_t)parts, 0);
    for (int p = 0; p < parts && !rc; p++)
      if (errs[p].status) *err = errs[p], rc = -1;
    if (!rc && atomic_load(&j.stop)) rc = -1; /* cancelled */
  }
  free(errs);
  free(at);
  free(first);
  return rc;
}

/* Classifier logits of each sequence's first token into logits[n_seq x
 * n_labels]: cls + head activation (if the model has cls), then
 * cls.output. */
static int head(sotto_bert *b, pthreadpool_t pool, const bert_batch *bt, float *logits,
                sotto_error *err) {
  bert_state *s = &b->s;
  size_t H = (size_t)b->c.n_embd, S = (size_t)bt->n_seq;
  float *first = s->first, *hidden = s->first + S * H;
  for (size_t i = 0; i < S; i++)
    memcpy(first + i * H, s->x + (size_t)bt->start[i] * H, H * sizeof(float));
  if (b->w.cls) {
    if (sotto_linear_run_scratch(b->w.cls, pool, first, S, hidden, s->scratch, err)) return -1;
    if (activate(pool, b->c.head_act, hidden, S, H, err)) return -1;
    first = hidden;
  }
  return sotto_linear_run_scratch(b->w.cls_out, pool, first, S, logits, s->scratch, err);
}

/* Pooled hidden states of each sequence into out[n_seq x n_embd]
 * (sentence-transformers' Pooling: mean over the tokens, or the first). */
static void pool_rows(const sotto_bert *b, const bert_batch *bt, sotto_bert_pooling how,
                      float *out) {
  size_t H = (size_t)b->c.n_embd;
  for (int i = 0; i < bt->n_seq; i++) {
    const float *x = b->s.x + (size_t)bt->start[i] * H;
    float *o = out + (size_t)i * H;
    if (how == SOTTO_BERT_POOL_CLS) {
      memcpy(o, x, H * sizeof(float));
      continue;
    }
    for (size_t k = 0; k < H; k++) {
      double sum = 0;
      for (int t = 0; t < bt->len[i]; t++) sum += x[(size_t)t * H + k];
      o[k] = (float)(sum / bt->len[i]);
    }
  }
}

/* ======================================================================
 * Texts to windows to batches
 * ====================================================================== */

/* Sequences to run: framed windows of the texts' tokens, each remembering
 * the text (or pair) it came from. */
typedef struct {
  int32_t *ids, *types;
  int n_tok, cap_tok;
  int *start, *len, *owner;
  int n_seq, cap_seq;
} bert_jobs;

static void jobs_free(bert_jobs *q) {
  free(q->ids), free(q->types), free(q->start), free(q->len), free(q->owner);
}

static int jobs_reserve(bert_jobs *q, int tokens, sotto_error *err) {
  if (q->n_seq == q->cap_seq) {
    int cap = q->cap_seq ? 2 * q->cap_seq : 16;
    int *s = realloc(q->start, (size_t)cap * sizeof *s);
    if (s) q->start = s;
    int *l = realloc(q->len, (size_t)cap * sizeof *l);
    if (l) q->len = l;
    int *o = realloc(q->owner, (size_t)cap * sizeof *o);
    if (o) q->owner = o;
    if (!s || !l || !o) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    q->cap_seq = cap;
  }
  if (q->n_tok + tokens > q->cap_tok) {
    int cap = q->cap_tok ? q->cap_tok : 1024;
    while (cap < q->n_tok + tokens) cap *= 2;
    int32_t *i = realloc(q->ids, (size_t)cap * sizeof *i);
    if (i) q->ids = i;
    int32_t *t = realloc(q->types, (size_t)cap * sizeof *t);
    if (t) q->types = t;
    if (!i || !t) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    q->cap_tok = cap;
  }
  return 0;
}

static void jobs_put(bert_jobs *q, const int32_t *ids, int n, int32_t type) {
  memcpy(q->ids + q->n_tok, ids, (size_t)n * sizeof *ids);
  for (int i = 0; i < n; i++) q->types[q->n_tok + i] = type;
  q->n_tok += n;
}

/* Adds the windows of tokens a[0..na) (each framed, with b[0..nb) as the
 * second text of a pair when b is not NULL) for owner; returns the window
 * count or -1. Windows hold at most room tokens of a and overlap by a
 * quarter of that. */
static int jobs_add(bert_jobs *q, const sotto_bert *m, const int32_t *a, int na,
                    const int32_t *b, int nb, int room, int owner, sotto_error *err) {
  const bert_frame *f = b ? &m->pair : &m->single;
  int count = na <= room ? 1 : 1 + (na - room + (room - room / 4) - 1) / (room - room / 4);
  for (int w = 0; w < count; w++) {
    int from = w * (room - room / 4), n = na < room ? na : room;
    if (from + n > na) from = na - n;
    int total = f->n_pre + n + f->n_mid + (b ? nb : 0) + f->n_post;
    if (total == 0) return sotto_error_set(err, SOTTO_EMPTY_TEXT, "the text has no tokens");
    if (jobs_reserve(q, total, err)) return -1;
    q->start[q->n_seq] = q->n_tok;
    q->len[q->n_seq] = total;
    q->owner[q->n_seq] = owner;
    q->n_seq++;
    for (int i = 0; i < f->n_pre; i++) jobs_put(q, &f->pre[i], 1, b ? f->type_pre[i] : 0);
    jobs_put(q, a + from, n, b ? f->type_a : 0);
    if (b) {
      for (int i = 0; i < f->n_mid; i++) jobs_put(q, &f->mid[i], 1, f->type_mid[i]);
      jobs_put(q, b, nb, f->type_b);
    }
    for (int i = 0; i < f->n_post; i++) jobs_put(q, &f->post[i], 1, b ? f->type_post[i] : 0);
  }
  return count;
}

/* Runs every queued sequence in batches of at most cap tokens; per
 * sequence writes pooled (n_embd floats) and/or logits (n_labels). */
static int jobs_run(sotto_bert *b, pthreadpool_t pool, sotto_stream *st, const bert_jobs *q,
                    sotto_bert_pooling pooling, float *pooled, float *logits, sotto_error *err) {
  if (state_init(b, err)) return -1;
  size_t H = (size_t)b->c.n_embd, L = (size_t)b->c.n_labels;
  int done = 0, *start = malloc((size_t)q->n_seq * sizeof *start);
  if (!start) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  int most = BERT_THREAD_TOKENS * (int)pthreadpool_get_threads_count(pool);
  most = most > b->s.cap ? b->s.cap : most < b->c.n_pos ? b->c.n_pos : most;
  for (int i = 0; i < q->n_seq;) {
    int k = i, tokens = 0;
    while (k < q->n_seq && tokens + q->len[k] <= most) tokens += q->len[k++];
    for (int s = i; s < k; s++) start[s - i] = q->start[s] - q->start[i];
    bert_batch bt = {q->ids + q->start[i], q->types + q->start[i], start, q->len + i, k - i,
                     tokens};
    /* Small batches run on the calling thread: waking the pool's threads
     * for a few microseconds of work costs more than it saves. */
    double macs = (double)tokens * (4.0 * H * H + 2.0 * H * (double)b->c.n_ff);
    pthreadpool_t p = macs < BERT_THREADS_MIN_MACS ? NULL : pool;
    /* Classifier heads and CLS pooling read each sequence's first token
     * only. */
    int first_only = !pooled || pooling == SOTTO_BERT_POOL_CLS;
    int rc = forward(b, p, st, &bt, first_only, err);
    if (!rc && pooled) pool_rows(b, &bt, pooling, pooled + (size_t)i * H);
    if (!rc && logits) rc = head(b, p, &bt, logits + (size_t)i * L, err);
    if (!rc && (!sotto_vfinite(pooled ? pooled + (size_t)i * H : NULL, (int64_t)(k - i) * (int64_t)H) ||
                !sotto_vfinite(logits ? logits + (size_t)i * L : NULL, (int64_t)(k - i) * (int64_t)L)))
      rc = sotto_error_set(err, SOTTO_BAD_MODEL,
                           "the model computes values that are not numbers (damaged weights)");
    if (rc) {
      free(start);
      return -1;
    }
    done += tokens;
    if (sotto_stream_progress(st, (double)done / q->n_tok, "encoding")) {
      free(start);
      return -1;
    }
    i = k;
  }
  free(start);
  return 0;
}

static int room_for(const sotto_bert *b, const bert_frame *f, int extra) {
  return b->c.n_pos - f->n_pre - f->n_mid - f->n_post - extra;
}

int sotto_bert_embed(sotto_bert *b, pthreadpool_t pool, sotto_stream *st,
                     const char *const *texts, int n, sotto_bert_pooling pooling, int normalize,
                     float *out, int *windows, sotto_error *err) {
  bert_jobs q = {0};
  float *pooled = NULL;
  int rc = -1, most = 0;
  size_t H = (size_t)b->c.n_embd;
  for (int i = 0; i < n; i++) {
    int64_t nt = 0;
    int32_t *ids = encode(b->tok, texts[i], 0, &nt, err);
    if (!ids) goto done;
    int w = jobs_add(&q, b, ids, (int)nt, NULL, 0, room_for(b, &b->single, 0), i, err);
    free(ids);
    if (w < 0) goto done;
    most = w > most ? w : most;
  }
  if (!(pooled = malloc((size_t)q.n_seq * H * sizeof *pooled))) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  if (jobs_run(b, pool, st, &q, pooling, pooled, NULL, err)) goto done;
  /* mean of each text's windows, then the L2 norm
   * (torch.nn.functional.normalize, eps 1e-12) */
  memset(out, 0, (size_t)n * H * sizeof *out);
  int *count = calloc((size_t)n, sizeof *count);
  if (!count) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  for (int s = 0; s < q.n_seq; s++) {
    count[q.owner[s]]++;
    for (size_t k = 0; k < H; k++) out[(size_t)q.owner[s] * H + k] += pooled[(size_t)s * H + k];
  }
  for (int i = 0; i < n; i++) {
    float *o = out + (size_t)i * H;
    double norm = 0;
    for (size_t k = 0; k < H; k++) o[k] /= (float)count[i], norm += (double)o[k] * o[k];
    norm = sqrt(norm);
    if (normalize)
      for (size_t k = 0; k < H; k++) o[k] = (float)(o[k] / (norm > 1e-12 ? norm : 1e-12));
  }
  free(count);
  if (windows) *windows = most;
  rc = 0;
done:
  free(pooled);
  jobs_free(&q);
  return rc;
}

/* softmax (or sigmoid) of a row of logits, in double */
static void probabilities(const float *logits, int n, int sigmoid, double *p) {
  if (sigmoid) {
    for (int i = 0; i < n; i++) p[i] = 1.0 / (1.0 + exp(-(double)logits[i]));
    return;
  }
  double mx = logits[0], sum = 0;
  for (int i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
  for (int i = 0; i < n; i++) sum += (p[i] = exp(logits[i] - mx));
  for (int i = 0; i < n; i++) p[i] /= sum;
}

int sotto_bert_classify(sotto_bert *b, pthreadpool_t pool, sotto_stream *st, const char *text,
                        const char *b_text, float *probs, int *windows, sotto_error *err) {
  int L = b->c.n_labels;
  if (!L)
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "the model has no classifier head");
  bert_jobs q = {0};
  int64_t na = 0, nb = 0;
  int32_t *a = encode(b->tok, text, 0, &na, err), *bb = NULL;
  float *logits = NULL;
  double *p = malloc((size_t)L * sizeof *p);
  int rc = -1, w = -1;
  if (!a || !p) goto done;
  if (b_text && !(bb = encode(b->tok, b_text, 0, &nb, err))) goto done;
  const bert_frame *f = b_text ? &b->pair : &b->single;
  int room = room_for(b, f, (int)nb);
  if (room < b->c.n_pos / 4) {
    sotto_error_set(err, SOTTO_TOO_LARGE, "the second text is too long for the model's window");
    goto done;
  }
  if ((w = jobs_add(&q, b, a, (int)na, bb, (int)nb, room, 0, err)) < 0) goto done;
  if (!(logits = malloc((size_t)q.n_seq * L * sizeof *logits))) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  if (jobs_run(b, pool, st, &q, SOTTO_BERT_POOL_CLS, NULL, logits, err)) goto done;
  for (int i = 0; i < L; i++) probs[i] = 0;
  for (int s = 0; s < q.n_seq; s++) {
    probabilities(logits + (size_t)s * L, L, b->info.multi_label, p);
    for (int i = 0; i < L; i++) probs[i] += (float)(p[i] / q.n_seq);
  }
  if (windows) *windows = w;
  rc = 0;
done:
  free(a), free(bb), free(p), free(logits);
  jobs_free(&q);
  return rc;
}

int sotto_bert_zero_shot(sotto_bert *b, pthreadpool_t pool, sotto_stream *st, const char *text,
                         const char *const *hypotheses, int n, int multi_label, float *scores,
                         int *windows, sotto_error *err) {
  int L = b->c.n_labels, ent = b->info.entailment;
  if (L < 2)
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                           "zero-shot labels need an NLI classifier (entailment, ...)");
  /* pipelines/zero_shot_classification.py: entailment_id -1 when no label
   * says "entail" (the last logit); contradiction is logit 0 unless
   * entailment is. */
  int e = ent >= 0 ? ent : L - 1, contra = e == 0 ? L - 1 : 0;
  bert_jobs q = {0};
  int64_t na = 0;
  int32_t *a = encode(b->tok, text, 0, &na, err);
  int32_t **h = calloc((size_t)n, sizeof *h);
  int64_t *nh = calloc((size_t)n, sizeof *nh);
  float *logits = NULL;
  double *per = NULL;
  int rc = -1, w = 0, longest = 0;
  if (!a || !h || !nh) goto fail;
  for (int i = 0; i < n; i++) {
    if (!(h[i] = encode(b->tok, hypotheses[i], 0, &nh[i], err))) goto fail;
    longest = nh[i] > longest ? (int)nh[i] : longest;
  }
  /* The same windows of the text for every label: room for the longest
   * hypothesis. */
  int room = room_for(b, &b->pair, longest);
  if (room < b->c.n_pos / 4) {
    sotto_error_set(err, SOTTO_TOO_LARGE, "a hypothesis is too long for the model's window");
    goto fail;
  }
  for (int i = 0; i < n; i++)
    if ((w = jobs_add(&q, b, a, (int)na, h[i], (int)nh[i], room, i, err)) < 0) goto fail;
  if (!(logits = malloc((size_t)q.n_seq * L * sizeof *logits)) ||
      !(per = malloc((size_t)n * sizeof *per))) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto fail;
  }
  if (jobs_run(b, pool, st, &q, SOTTO_BERT_POOL_CLS, NULL, logits, err)) goto fail;
  /* sequences are label-major: label i's window k is sequence i * w + k */
  for (int i = 0; i < n; i++) scores[i] = 0;
  for (int k = 0; k < w; k++) {
    if (multi_label) {
      for (int i = 0; i < n; i++) {
        const float *lg = logits + ((size_t)i * w + k) * L;
        double m = lg[e] > lg[contra] ? lg[e] : lg[contra];
        double pe = exp(lg[e] - m), pc = exp(lg[contra] - m);
        scores[i] += (float)(pe / (pe + pc) / w);
      }
    } else {
      double mx = -INFINITY, sum = 0;
      for (int i = 0; i < n; i++) {
        per[i] = logits[((size_t)i * w + k) * L + e];
        mx = per[i] > mx ? per[i] : mx;
      }
      for (int i = 0; i < n; i++) sum += (per[i] = exp(per[i] - mx));
      for (int i = 0; i < n; i++) scores[i] += (float)(per[i] / sum / w);
    }
  }
  if (windows) *windows = w;
  rc = 0;
fail:
  for (int i = 0; h && i < n; i++) free(h[i]);
  free(h), free(nh), free(a), free(logits), free(per);
  jobs_free(&q);
  return rc;
}

int sotto_bert_similarity(sotto_bert *b, pthreadpool_t pool, sotto_stream *st, const char *text,
                          const char *const *labels, int n, float *similarity, int *windows,
                          sotto_error *err) {
  size_t H = (size_t)b->c.n_embd;
  const char **texts = malloc(((size_t)n + 1) * sizeof *texts);
  float *e = malloc(((size_t)n + 1) * H * sizeof *e);
  int rc = -1;
  if (!texts || !e) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  texts[0] = text;
  memcpy(texts + 1, labels, (size_t)n * sizeof *texts);
  if (sotto_bert_embed(b, pool, st, texts, n + 1, b->c.pooling, 1, e, windows, err)) goto done;
  for (int i = 0; i < n; i++) {
    double dot = 0;
    for (size_t k = 0; k < H; k++) dot += (double)e[k] * e[(size_t)(i + 1) * H + k];
    similarity[i] = (float)dot;
  }
  rc = 0;
done:
  free(texts);
  free(e);
  return rc;
}

int sotto_bert_run(sotto_bert *b, pthreadpool_t pool, sotto_stream *st,
                   const int32_t *const *ids, const int32_t *const *types, const int *lens, int n,
                   sotto_bert_pooling pooling, int normalize, float *embeddings, float *probs,
                   sotto_error *err) {
  if (probs && !b->c.n_labels)
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "the model has no classifier head");
  bert_jobs q = {0};
  size_t H = (size_t)b->c.n_embd, L = (size_t)b->c.n_labels;
  float *logits = NULL;
  int rc = -1;
  for (int i = 0; i < n; i++) {
    if (lens[i] < 1 || lens[i] > b->c.n_pos) {
      sotto_error_set(err, lens[i] < 1 ? SOTTO_EMPTY_TEXT : SOTTO_TOO_LARGE,
                      "sequence %d has %d tokens; the model takes 1 to %d", i, lens[i], b->c.n_pos);
      goto done;
    }
    for (int k = 0; k < lens[i]; k++)
      if (ids[i][k] < 0 || ids[i][k] >= b->c.n_vocab || (types && types[i] && types[i][k] < 0)) {
        sotto_error_set(err, SOTTO_BAD_REQUEST, "token %d of sequence %d is out of range", k, i);
        goto done;
      }
    if (jobs_reserve(&q, lens[i], err)) goto done;
    q.start[q.n_seq] = q.n_tok, q.len[q.n_seq] = lens[i], q.owner[q.n_seq] = i;
    q.n_seq++;
    memcpy(q.ids + q.n_tok, ids[i], (size_t)lens[i] * sizeof **ids);
    for (int k = 0; k < lens[i]; k++) q.types[q.n_tok + k] = types && types[i] ? types[i][k] : 0;
    q.n_tok += lens[i];
  }
  if (probs && !(logits = malloc((size_t)n * L * sizeof *logits))) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  if (jobs_run(b, pool, st, &q, pooling, embeddings, logits, err)) goto done;
  for (int i = 0; embeddings && normalize && i < n; i++) {
    float *o = embeddings + (size_t)i * H;
    double norm = 0;
    for (size_t k = 0; k < H; k++) norm += (double)o[k] * o[k];
    norm = sqrt(norm);
    for (size_t k = 0; k < H; k++) o[k] = (float)(o[k] / (norm > 1e-12 ? norm : 1e-12));
  }
  double *p = probs ? malloc(L * sizeof *p) : NULL;
  if (probs && !p) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  for (int i = 0; probs && i < n; i++) {
    probabilities(logits + (size_t)i * L, (int)L, b->info.multi_label, p);
    for (size_t k = 0; k < L; k++) probs[(size_t)i * L + k] = (float)p[k];
  }
  free(p);
  rc = 0;
done:
  free(logits);
  jobs_free(&q);
  return rc;
}
