/*
 * convert.c - Hugging Face model folders to GGUF (sotto_convert), in
 * llama.cpp's conventions, so files sotto writes load in llama.cpp and
 * behave as the files llama.cpp's own tools write.
 *
 * Sources followed (llama.cpp, the version node-llama-cpp 3.21.1 bundles):
 * convert_hf_to_gguf.py with conversion/{bert,llama,qwen,gemma,base}.py
 * (tensor names, metadata keys, per-tensor transforms, the f32/f16/bf16
 * type rules), gguf-py/gguf/{constants,tensor_mapping}.py (names and keys)
 * and src/llama-quant.cpp (llama-quantize's type mixes and fallbacks, for
 * every quantized type). Tensor data are converted row by row through
 * f32 with the reference quantizers of ops/quant.h, which give ggml's
 * bytes.
 *
 * Families and their HF classes:
 *   bert   BertModel, BertForSequenceClassification, DistilBertModel,
 *          DistilBertForSequenceClassification, RobertaModel,
 *          RobertaForSequenceClassification, XLMRobertaModel,
 *          XLMRobertaForSequenceClassification (all as llama.cpp's "bert")
 *   llama  LlamaForCausalLM;  qwen2 Qwen2ForCausalLM;  qwen3 Qwen3ForCausalLM;
 *   gemma3 Gemma3ForCausalLM
 *
 * Transforms of the data (each as upstream does it):
 *   - llama: the rows of q_proj and k_proj (weights and biases) are
 *     permuted per head, row h*hd + 2j + i <- row h*hd + i*hd/2 + j
 *     (LlamaModel.permute): llama.cpp rotates interleaved pairs, HF rotates
 *     halves. qwen2, qwen3 and gemma3 use llama.cpp's NeoX rope: no permute.
 *   - roberta, xlm-roberta: position_embd drops its first pad_token_id + 1
 *     rows and context_length shrinks by as many, so positions count from
 *     0 as in BERT (RobertaModel.modify_tensors).
 *   - gemma3: every *norm.weight gets + 1 (Gemma3RMSNorm multiplies by
 *     1 + weight); token_embd keeps only the tokenizer's rows.
 *   - llama with rope_scaling llama3: rope_freqs.weight, the per-frequency
 *     factors (LlamaModel.generate_extra_tensors), is added.
 *   - old BERT checkpoints' LayerNorm .gamma/.beta are .weight/.bias.
 * Dropped as upstream drops them: embeddings.position_ids, rotary inv_freq,
 * masked-LM and next-sentence heads; the BERT pooler of embedding models.
 *
 * Where sotto differs from upstream, on purpose:
 *   - BertForSequenceClassification keeps its pooler as cls.weight/bias
 *     (upstream drops it, so its classifier sees the raw [CLS] state);
 *     llama.cpp applies cls with tanh, exactly BERT's pooler.
 *   - classifier.output_labels are in id order (upstream sorts the id
 *     strings, so "10" comes before "2"), and HF's default LABEL_0/LABEL_1
 *     are kept (upstream drops them and then misnames the classifier).
 *   - keys llama.cpp does not read but sotto's encoder needs:
 *     bert.hidden_activation (upstream's key, the config's hidden_act),
 *     sotto.classifier.activation ("tanh", or "relu" for DistilBERT's
 *     pre_classifier) and sotto.classifier.problem_type (the config's).
 *
 * Tensor types: f32/f16/bf16 as convert_hf_to_gguf.py --outtype (2-D
 * weights in the type; 1-D tensors, norms, position_embd and token_types
 * in f32); the quantized types as llama-quantize on that f32 file (see
 * sotto_convert_types).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "formats/safetensors.h"
#include "tokenizers/tokenizer.h"

/* ---- file types and llama-quantize's mixes ---- */

static const struct { const char *name; sotto_ftype ftype; sotto_dtype base; } ftypes[] = {
    {"f32", SOTTO_FTYPE_F32, SOTTO_DTYPE_F32},       {"f16", SOTTO_FTYPE_F16, SOTTO_DTYPE_F16},
    {"bf16", SOTTO_FTYPE_BF16, SOTTO_DTYPE_BF16},    {"q8_0", SOTTO_FTYPE_Q8_0, SOTTO_DTYPE_Q8_0},
    {"q4_0", SOTTO_FTYPE_Q4_0, SOTTO_DTYPE_Q4_0},    {"q4_1", SOTTO_FTYPE_Q4_1, SOTTO_DTYPE_Q4_1},
    {"q5_0", SOTTO_FTYPE_Q5_0, SOTTO_DTYPE_Q5_0},    {"q5_1", SOTTO_FTYPE_Q5_1, SOTTO_DTYPE_Q5_1},
    {"q4_k", SOTTO_FTYPE_Q4_K_S, SOTTO_DTYPE_Q4_K},  {"q4_k_s", SOTTO_FTYPE_Q4_K_S, SOTTO_DTYPE_Q4_K},
    {"q4_k_m", SOTTO_FTYPE_Q4_K_M, SOTTO_DTYPE_Q4_K}, {"q5_k", SOTTO_FTYPE_Q5_K_S, SOTTO_DTYPE_Q5_K},
    {"q5_k_s", SOTTO_FTYPE_Q5_K_S, SOTTO_DTYPE_Q5_K}, {"q5_k_m", SOTTO_FTYPE_Q5_K_M, SOTTO_DTYPE_Q5_K},
    {"q6_k", SOTTO_FTYPE_Q6_K, SOTTO_DTYPE_Q6_K},
};
#define N_FTYPES (int)(sizeof ftypes / sizeof ftypes[0])

int sotto_ftype_from_name(const char *name) {
  for (int i = 0; name && i < N_FTYPES; i++)
    if (strcmp(ftypes[i].name, name) == 0) return (int)ftypes[i].ftype;
  return -1;
}

static sotto_dtype ftype_base(sotto_ftype f) {
  for (int i = 0; i < N_FTYPES; i++)
    if (ftypes[i].ftype == f) return ftypes[i].base;
  return SOTTO_DTYPE_F32;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* tensor_allows_quantization (llama-quant.cpp), for the tensors these
 * families have; convert_hf_to_gguf.py keeps the same ones in f32. */
static int quantizable(const char *name, int n_dims) {
  return n_dims >= 2 && ends_with(name, "weight") && !strstr(name, "_norm.weight") &&
         strcmp(name, "position_embd.weight") != 0 && strcmp(name, "token_types.weight") != 0;
}

enum category { CAT_OTHER, CAT_OUTPUT, CAT_TOKEN_EMBD, CAT_ATTN_V, CAT_FFN_DOWN };

/* tensor_get_category, reduced to the categories these mixes use. */
static enum category category(const char *name) {
  if (strcmp(name, "output.weight") == 0) return CAT_OUTPUT;
  if (strcmp(name, "token_embd.weight") == 0) return CAT_TOKEN_EMBD;
  if (strstr(name, "attn_qkv.weight") || strstr(name, "attn_kv_b.weight") ||
      strstr(name, "attn_v.weight"))
    return CAT_ATTN_V;
  if (strstr(name, "attn_k.weight") || strstr(name, "attn_q.weight") ||
      strstr(name, "attn_output.weight") || strstr(name, "ffn_up") || strstr(name, "ffn_gate"))
    return CAT_OTHER;
  if (strstr(name, "ffn_down")) return CAT_FFN_DOWN;
  return CAT_OTHER;
}

/* use_more_bits (llama_tensor_get_type_impl). */
static int more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* tensor_type_fallback: a type whose blocks fit the rows. */
static sotto_dtype fallback(sotto_dtype t, int64_t ne0) {
  if (ne0 % sotto_dtype_get(t)->block == 0) return t;
  if (t == SOTTO_DTYPE_Q4_K) t = SOTTO_DTYPE_Q5_0;
  else if (t == SOTTO_DTYPE_Q5_K) t = SOTTO_DTYPE_Q5_1;
  else if (t == SOTTO_DTYPE_Q6_K) t = SOTTO_DTYPE_Q8_0;
  return ne0 % sotto_dtype_get(t)->block ? SOTTO_DTYPE_F16 : t;
}

void sotto_convert_types(sotto_ftype ftype, const char *const *names, const int *n_dims,
                         const int64_t *ne0, int n, int n_layer, sotto_dtype *types) {
  sotto_dtype base = ftype_base(ftype);
  int quantized = base != SOTTO_DTYPE_F32 && base != SOTTO_DTYPE_F16 && base != SOTTO_DTYPE_BF16;
  int tied = 1, n_attn_v = 0, i_attn_v = 0, i_ffn_down = 0;
  for (int i = 0; i < n; i++) {
    if (category(names[i]) == CAT_OUTPUT) tied = 0;
    if (category(names[i]) == CAT_ATTN_V) n_attn_v++;
  }
  for (int i = 0; i < n; i++) {
    if (!quantizable(names[i], n_dims[i])) {
      types[i] = SOTTO_DTYPE_F32;
      continue;
    }
    if (!quantized) {
      types[i] = base;
      continue;
    }
    /* llama_tensor_get_type_impl for these file types */
    sotto_dtype t = base;
    enum category cat = category(names[i]);
    if (cat == CAT_OUTPUT || (tied && cat == CAT_TOKEN_EMBD)) {
      if (ne0[i] % sotto_dtype_get(base)->block) t = SOTTO_DTYPE_Q8_0;
      else if (t != SOTTO_DTYPE_Q8_0) t = SOTTO_DTYPE_Q6_K;
    } else if (cat == CAT_ATTN_V) {
      if ((ftype == SOTTO_FTYPE_Q4_K_M || ftype == SOTTO_FTYPE_Q5_K_M) &&
          more_bits(i_attn_v, n_attn_v))
        t = SOTTO_DTYPE_Q6_K;
      else if (ftype == SOTTO_FTYPE_Q4_K_S && i_attn_v < 4)
        t = SOTTO_DTYPE_Q5_K;
      i_attn_v++;
    } else if (cat == CAT_FFN_DOWN) {
      if ((ftype == SOTTO_FTYPE_Q4_K_M || ftype == SOTTO_FTYPE_Q5_K_M) &&
          more_bits(i_ffn_down, n_layer))
        t = SOTTO_DTYPE_Q6_K;
      else if (ftype == SOTTO_FTYPE_Q4_K_S && i_ffn_down < n_layer / 8)
        t = SOTTO_DTYPE_Q5_K;
      i_ffn_down++;
    }
    types[i] = fallback(t, ne0[i]);
  }
}

/* ---- families ---- */

typedef enum family { FAM_BERT, FAM_DISTILBERT, FAM_ROBERTA, FAM_LLAMA, FAM_QWEN2, FAM_QWEN3,
                      FAM_GEMMA3 } family;

static const struct hf_class {
  const char *name;
  family fam;
  int classifier;
} hf_classes[] = {
    {"BertModel", FAM_BERT, 0},
    {"BertForSequenceClassification", FAM_BERT, 1},
    {"DistilBertModel", FAM_DISTILBERT, 0},
    {"DistilBertForSequenceClassification", FAM_DISTILBERT, 1},
    {"RobertaModel", FAM_ROBERTA, 0},
    {"RobertaForSequenceClassification", FAM_ROBERTA, 1},
    {"XLMRobertaModel", FAM_ROBERTA, 0},
    {"XLMRobertaForSequenceClassification", FAM_ROBERTA, 1},
    {"LlamaForCausalLM", FAM_LLAMA, 0},
    {"Qwen2ForCausalLM", FAM_QWEN2, 0},
    {"Qwen3ForCausalLM", FAM_QWEN3, 0},
    {"Gemma3ForCausalLM", FAM_GEMMA3, 0},
};

static const char *const arch_names[] = {"bert", "bert", "bert", "llama", "qwen2", "qwen3", "gemma3"};

/* HF tensor names (without .weight/.bias, {N} = block) to GGUF names. */
typedef struct name_map {
  const char *hf, *gguf;
} name_map;

static const name_map bert_names[] = {
    {"embeddings.word_embeddings", "token_embd"},
    {"embeddings.token_type_embeddings", "token_types"},
    {"embeddings.position_embeddings", "position_embd"},
    {"embeddings.LayerNorm", "token_embd_norm"},
    {"encoder.layer.{N}.attention.self.query", "blk.{N}.attn_q"},
    {"encoder.layer.{N}.attention.self.key", "blk.{N}.attn_k"},
    {"encoder.layer.{N}.attention.self.value", "blk.{N}.attn_v"},
    {"encoder.layer.{N}.attention.output.dense", "blk.{N}.attn_output"},
    {"encoder.layer.{N}.attention.output.LayerNorm", "blk.{N}.attn_output_norm"},
    {"encoder.layer.{N}.intermediate.dense", "blk.{N}.ffn_up"},
    {"encoder.layer.{N}.output.dense", "blk.{N}.ffn_down"},
    {"encoder.layer.{N}.output.LayerNorm", "blk.{N}.layer_output_norm"},
    {"transformer.layer.{N}.attention.q_lin", "blk.{N}.attn_q"},
    {"transformer.layer.{N}.attention.k_lin", "blk.{N}.attn_k"},
    {"transformer.layer.{N}.attention.v_lin", "blk.{N}.attn_v"},
    {"transformer.layer.{N}.attention.out_lin", "blk.{N}.attn_output"},
    {"transformer.layer.{N}.sa_layer_norm", "blk.{N}.attn_output_norm"},
    {"transformer.layer.{N}.ffn.lin1", "blk.{N}.ffn_up"},
    {"transformer.layer.{N}.ffn.lin2", "blk.{N}.ffn_down"},
    {"transformer.layer.{N}.output_layer_norm", "blk.{N}.layer_output_norm"},
    {"classifier.dense", "cls"},      /* RobertaClassificationHead */
    {"classifier.out_proj", "cls.output"},
    {"pre_classifier", "cls"},        /* DistilBERT */
    {"classifier", "cls.output"},     /* BERT, DistilBERT */
    {"pooler.dense", "cls"},          /* BERT classifiers only (see above) */
    {NULL, NULL},
};

static const name_map decoder_names[] = {
    {"model.embed_tokens", "token_embd"},
    {"model.norm", "output_norm"},
    {"lm_head", "output"},
    {"model.layers.{N}.input_layernorm", "blk.{N}.attn_norm"},
    {"model.layers.{N}.self_attn.q_proj", "blk.{N}.attn_q"},
    {"model.layers.{N}.self_attn.k_proj", "blk.{N}.attn_k"},
    {"model.layers.{N}.self_attn.v_proj", "blk.{N}.attn_v"},
    {"model.layers.{N}.self_attn.o_proj", "blk.{N}.attn_output"},
    {"model.layers.{N}.self_attn.q_norm", "blk.{N}.attn_q_norm"},
    {"model.layers.{N}.self_attn.k_norm", "blk.{N}.attn_k_norm"},
    {"model.layers.{N}.post_attention_layernorm", "blk.{N}.ffn_norm"},
    {"model.layers.{N}.mlp.gate_proj", "blk.{N}.ffn_gate"},
    {"model.layers.{N}.mlp.up_proj", "blk.{N}.ffn_up"},
    {"model.layers.{N}.mlp.down_proj", "blk.{N}.ffn_down"},
    {NULL, NULL},
};

/* Gemma 3's four norms per block. */
static const name_map gemma3_names[] = {
    {"model.layers.{N}.post_attention_layernorm", "blk.{N}.post_attention_norm"},
    {"model.layers.{N}.pre_feedforward_layernorm", "blk.{N}.ffn_norm"},
    {"model.layers.{N}.post_feedforward_layernorm", "blk.{N}.post_ffw_norm"},
    {NULL, NULL},
};

/* Source tensors that are not part of the converted model. */
static int dropped(family fam, int classifier, const char *base) {
  static const char *const prefixes[] = {"cls.predictions", "cls.seq_relationship", "lm_head.",
                                         "vocab_transform", "vocab_layer_norm", "vocab_projector"};
  if (strcmp(base, "embeddings.position_ids") == 0 || ends_with(base, "rotary_emb.inv_freq"))
    return 1;
  if (fam > FAM_ROBERTA) return 0;
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0) return 1;
  return strcmp(base, "pooler.dense") == 0 && !(fam == FAM_BERT && classifier);
}

/* Matches base against pattern (one optional {N}); the block in *block. */
static int match(const char *pattern, const char *base, int *block) {
  const char *n = strstr(pattern, "{N}");
  *block = -1;
  if (!n) return strcmp(pattern, base) == 0;
  size_t pre = (size_t)(n - pattern);
  if (strncmp(pattern, base, pre) != 0) return 0;
  const char *p = base + pre;
  if (*p < '0' || *p > '9') return 0;
  long v = 0;
  while (*p >= '0' && *p <= '9' && v < 100000) v = v * 10 + (*p++ - '0');
  if (strcmp(p, n + 3) != 0) return 0;
  *block = (int)v;
  return 1;
}

/* The GGUF name of base (a GGUF pattern with {N} filled); 0 when none. */
static int map_name(const name_map *maps, const char *base, char *out, size_t cap, int *block) {
  for (const name_map *m = maps; m->hf; m++) {
    if (!match(m->hf, base, block)) continue;
    const char *n = strstr(m->gguf, "{N}");
    if (n) snprintf(out, cap, "%.*s%d%s", (int)(n - m->gguf), m->gguf, *block, n + 3);
    else snprintf(out, cap, "%s", m->gguf);
    return 1;
  }
  return 0;
}

/* ---- the conversion ---- */

enum op { OP_COPY, OP_PERMUTE, OP_PLUS_ONE };

typedef struct out_tensor {
  char name[64];
  const sotto_st_tensor *src; /* NULL for generated values */
  const float *values;
  int n_dims;
  int64_t ne[SOTTO_GGUF_MAX_DIMS];
  int64_t row0;               /* first source row used */
  enum op op;
  int heads;                  /* OP_PERMUTE */
  int block;                  /* -1: outside the blocks */
  sotto_dtype type;
} out_tensor;

typedef struct conv {
  const sotto_convert_options *opt;
  cJSON *config;
  family fam;
  int classifier;
  const char *arch;
  sotto_safetensors *st[64];
  int n_st;
  out_tensor *t;
  int n_t;
  int64_t n_layer, n_embd, n_head, n_head_kv, head_dim, n_vocab_tok;
  float *rope_freqs;
  pthreadpool_t pool; /* NULL: one thread */
  double done, total;
  sotto_progress_fn progress;
  void *user;
  sotto_write_fn write;
} conv;

/* The first of keys present in the config as a number. 1 found, 0
 * absent, -1 with *err when present but not a number. */
static int cfg_num(const conv *c, const char *const *keys, double *out, sotto_error *err) {
  for (; *keys; keys++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->config, *keys);
    if (!v || cJSON_IsNull(v)) continue;
    if (!cJSON_IsNumber(v))
      return sotto_error_set(err, SOTTO_BAD_MODEL, "config.json: \"%s\" must be a number", *keys);
    *out = v->valuedouble;
    return 1;
  }
  return 0;
}

/* A whole number from 1 to max (or 0 when zero_ok) under one of keys;
 * required ones fail when absent. */
static int cfg_int(const conv *c, const char *const *keys, int required, int64_t max,
                   int64_t *out, sotto_error *err) {
  double v;
  int rc = cfg_num(c, keys, &v, err);
  if (rc < 0) return -1;
  if (rc == 0) {
    if (required)
      return sotto_error_set(err, SOTTO_BAD_MODEL, "config.json: \"%s\" is missing", keys[0]);
    return 0;
  }
  if (!(v >= 1 && v <= (double)max) || v != floor(v))
    return sotto_error_set(err, SOTTO_BAD_MODEL,
                           "config.json: \"%s\" must be a whole number from 1 to %lld", keys[0],
                           (long long)max);
  *out = (int64_t)v;
  return 1;
}

static const char *cfg_str(const conv *c, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->config, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const sotto_file *find_file(const sotto_file *files, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (files[i].name && strcmp(files[i].name, name) == 0) return &files[i];
  return NULL;
}

static const sotto_st_tensor *find_tensor(const conv *c, const char *name) {
  for (int i = 0; i < c->n_st; i++) {
    const sotto_st_tensor *t = sotto_safetensors_find(c->st[i], name);
    if (t) return t;
  }
  return NULL;
}

/* Adds an output tensor for source s named name (in HF's row-major shape,
 * reversed into GGUF's ne). */
static out_tensor *add_out(conv *c, const char *name, const sotto_st_tensor *s, int block,
                           sotto_error *err) {
  out_tensor *o = &c->t[c->n_t++];
  memset(o, 0, sizeof *o);
  snprintf(o->name, sizeof o->name, "%.63s", name);
  o->src = s;
  o->block = block;
  if (s) {
    if (s->n_dims < 1 || s->n_dims > SOTTO_GGUF_MAX_DIMS)
      return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "tensor %.100s has %d dimensions",
                             s->name, s->n_dims),
             NULL;
    o->n_dims = s->n_dims;
    for (int d = 0; d < SOTTO_GGUF_MAX_DIMS; d++)
      o->ne[d] = d < s->n_dims ? s->shape[s->n_dims - 1 - d] : 1;
    /* trailing dimensions of 1 are dropped, as ggml_n_dims counts them */
    while (o->n_dims > 1 && o->ne[o->n_dims - 1] == 1) o->n_dims--;
    if (s->dtype != SOTTO_ST_F32 && s->dtype != SOTTO_ST_F16 && s->dtype != SOTTO_ST_BF16)
      return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                             "tensor %.100s has dtype %s; sotto converts F32, F16 and BF16 weights",
                             s->name, sotto_st_dtype_name(s->dtype)),
             NULL;
  }
  return o;
}

/* Maps every source tensor to its output tensor, with its transform. */
static int plan_tensors(conv *c, sotto_error *err) {
  int64_t total = 0;
  for (int i = 0; i < c->n_st; i++) total += sotto_safetensors_n_tensors(c->st[i]);
  c->t = calloc((size_t)total + 2, sizeof *c->t);
  if (!c->t) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "convert: out of memory");
  int encoder = c->fam <= FAM_ROBERTA;
  for (int f = 0; f < c->n_st; f++) {
    for (int64_t i = 0; i < sotto_safetensors_n_tensors(c->st[f]); i++) {
      const sotto_st_tensor *s = sotto_safetensors_at(c->st[f], i);
      char base[256], gguf[96], name[128];
      const char *suffix = NULL, *nm = s->name;
      static const char *const strip[] = {"bert.", "distilbert.", "roberta."};
      for (size_t k = 0; encoder && k < 3; k++)
        if (strncmp(nm, strip[k], strlen(strip[k])) == 0) nm += strlen(strip[k]);
      snprintf(base, sizeof base, "%s", nm);
      char *dot = strrchr(base, '.');
      if (dot && (!strcmp(dot, ".weight") || !strcmp(dot, ".gamma"))) suffix = "weight";
      if (dot && (!strcmp(dot, ".bias") || !strcmp(dot, ".beta"))) suffix = "bias";
      if (suffix) *dot = 0;
      if (dropped(c->fam, c->classifier, suffix ? base : nm)) continue;
      int block = -1;
      int found = suffix && ((c->fam == FAM_GEMMA3 && map_name(gemma3_names, base, gguf,
                                                               sizeof gguf, &block)) ||
                             map_name(encoder ? bert_names : decoder_names, base, gguf,
                                      sizeof gguf, &block));
      if (!found)
        return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                               "tensor %.100s is not part of a %s model sotto knows", s->name,
                               arch_names[c->fam]);
      if (block >= c->n_layer)
        return sotto_error_set(err, SOTTO_BAD_MODEL,
                               "tensor %.100s belongs to block %d, but the config has %lld",
                               s->name, block, (long long)c->n_layer);
      snprintf(name, sizeof name, "%s.%s", gguf, suffix);
      if (!strcmp(gguf, "cls") && !c->classifier) continue;
      out_tensor *o = add_out(c, name, s, block, err);
      if (!o) return -1;
      /* the transforms (see the header) */
      if (c->fam == FAM_ROBERTA && !strcmp(name, "position_embd.weight")) {
        double pad = 1;
        if (cfg_num(c, KEYS("pad_token_id"), &pad, err) < 0) return -1;
        o->row0 = (int64_t)pad + 1;
        if (o->n_dims != 2 || o->row0 < 0 || o->row0 >= o->ne[1])
          return sotto_error_set(err, SOTTO_BAD_MODEL,
                                 "position embeddings too short for pad_token_id %g", pad);
        o->ne[1] -= o->row0;
      }
      if (c->fam == FAM_GEMMA3 && ends_with(name, "norm.weight")) o->op = OP_PLUS_ONE;
      if (c->fam == FAM_GEMMA3 && !strcmp(name, "token_embd.weight") && c->n_vocab_tok > 0 &&
          c->n_vocab_tok < o->ne[1])
        o->ne[1] = c->n_vocab_tok;
      if (c->fam == FAM_LLAMA && (strstr(name, "attn_q.") || strstr(name, "attn_k."))) {
        o->op = OP_PERMUTE;
        o->heads = (int)(strstr(name, "attn_q.") ? c->n_head : c->n_head_kv);
        int64_t rows = o->n_dims == 1 ? o->ne[0] : o->ne[1];
        if (rows % (2 * o->heads))
          return sotto_error_set(err, SOTTO_BAD_MODEL,
                                 "tensor %.100s has %lld rows, not a whole number of rope pairs "
                                 "for %d heads",
                                 s->name, (long long)rows, o->heads);
      }
    }
  }
  if (c->rope_freqs) {
    out_tensor *o = add_out(c, "rope_freqs.weight", NULL, -1, err);
    o->values = c->rope_freqs;
    o->n_dims = 1;
    o->ne[0] = c->head_dim / 2;
    o->ne[1] = o->ne[2] = o->ne[3] = 1;
  }
  return 0;
}

/* llama.cpp's tensor order (weight_name_comparer in llama-model-loader.h,
 * the order llama-quantize writes): tensors outside the blocks first, then
 * block by block, each by name. */
static int cmp_out(const void *a, const void *b) {
  const out_tensor *x = a, *y = b;
  if (x->block != y->block) return x->block - y->block;
  return strcmp(x->name, y->name);
}

/* rope_freqs of rope_scaling {"rope_type": "llama3"}, computed in float32
 * as LlamaModel.generate_extra_tensors does with torch. */
static int llama3_rope_freqs(conv *c, const cJSON *rs, double base, sotto_error *err) {
  const cJSON *v;
  double factor = 8, lo = 1, hi = 4, old_ctx = 8192;
#define RS(key, var) \
  if ((v = cJSON_GetObjectItemCaseSensitive(rs, key)) && cJSON_IsNumber(v)) var = v->valuedouble;
  RS("factor", factor) RS("low_freq_factor", lo) RS("high_freq_factor", hi)
  RS("original_max_position_embeddings", old_ctx)
#undef RS
  int64_t dim = c->head_dim;
  c->rope_freqs = malloc((size_t)(dim / 2 + 1) * sizeof(float));
  if (!c->rope_freqs) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "convert: out of memory");
  float lo_wavelen = (float)(old_ctx / lo), hi_wavelen = (float)(old_ctx / hi);
  for (int64_t i = 0; i < dim / 2; i++) {
    float freq = 1.0f / powf((float)base, (float)(2 * i) / (float)dim);
    float wavelen = (float)(2 * 3.141592653589793) / freq;
    float f;
    if (wavelen < hi_wavelen) f = 1;
    else if (wavelen > lo_wavelen) f = (float)factor;
    else {
      float smooth = ((float)old_ctx / wavelen - (float)lo) / (float)(hi - lo);
      f = 1 / ((1 - smooth) / (float)factor + smooth);
    }
    c->rope_freqs[i] = f;
  }
  return 0;
}

/* A tensor's rows, converted in chunks of FILL_ROWS by the pool's threads. */
#define FILL_ROWS 32
typedef struct fill_job {
  const out_tensor *o;
  uint8_t *dst;
  int64_t rows, cols, hd;
  size_t row_bytes;
  _Atomic int failed;
} fill_job;

static void fill_rows(void *ctx, size_t chunk) {
  fill_job *j = ctx;
  const out_tensor *o = j->o;
  float *row = malloc((size_t)j->cols * sizeof *row);
  sotto_error err;
  if (!row) {
    j->failed = 1;
    return;
  }
  int64_t end = (int64_t)(chunk + 1) * FILL_ROWS < j->rows ? (int64_t)(chunk + 1) * FILL_ROWS : j->rows;
  for (int64_t r = (int64_t)chunk * FILL_ROWS; r < end; r++) {
    int64_t src = r;
    if (o->op == OP_PERMUTE) { /* row h*hd + 2j + i <- row h*hd + i*hd/2 + j */
      int64_t h = r / j->hd, k = r % j->hd;
      src = h * j->hd + (k % 2) * (j->hd / 2) + k / 2;
    }
    if (o->values) memcpy(row, o->values + src * j->cols, (size_t)j->cols * sizeof(float));
    else if (sotto_st_read_f32(o->src, (o->row0 + src) * j->cols, j->cols, row, &err))
      j->failed = 1;
    if (o->op == OP_PLUS_ONE)
      for (int64_t i = 0; i < j->cols; i++) row[i] += 1;
    sotto_quantize_row(o->type, row, j->dst + r * j->row_bytes, j->cols);
  }
  free(row);
}

/* Writes the converted rows of tensor index into dst (the writer's fill). */
static int fill(void *user, int64_t index, void *dst, size_t bytes, sotto_error *err) {
  conv *c = user;
  const out_tensor *o = &c->t[index];
  fill_job j = {.o = o, .dst = dst, .cols = o->ne[0], .rows = o->ne[1] * o->ne[2] * o->ne[3]};
  j.row_bytes = sotto_dtype_row_bytes(o->type, j.cols);
  if (o->op == OP_PERMUTE && o->n_dims == 1) j.cols = 1, j.rows = o->ne[0], j.row_bytes = 4;
  j.hd = o->op == OP_PERMUTE ? j.rows / o->heads : 0;
  pthreadpool_parallelize_1d(c->pool, fill_rows, &j, (size_t)((j.rows + FILL_ROWS - 1) / FILL_ROWS),
                             0);
  (void)bytes;
  if (j.failed) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "convert: out of memory");
  c->done += (double)j.rows * (double)j.cols;
  if (c->progress && c->progress(c->user, c->total > 0 ? c->done / c->total : 1, "convert"))
    return sotto_error_set(err, SOTTO_CANCELLED, "conversion cancelled");
  return 0;
}

static int sink(void *user, const void *data, size_t len) {
  const conv *c = user;
  return c->write(c->user, data, len);
}

/* ---- metadata ---- */

typedef struct kbuf {
  char s[128];
} kbuf;

static const char *key(kbuf *k, const conv *c, const char *suffix) {
  snprintf(k->s, sizeof k->s, "%s.%s", c->arch, suffix);
  return k->s;
}

static int set_labels(conv *c, sotto_gguf_writer *w, sotto_error *err) {
  const cJSON *id2label = cJSON_GetObjectItemCaseSensitive(c->config, "id2label");
  int n = cJSON_GetArraySize(id2label);
  if (!cJSON_IsObject(id2label) || n < 1)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "config.json: a classifier needs \"id2label\"");
  const char **labels = calloc((size_t)n, sizeof *labels);
  if (!labels) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "convert: out of memory");
  int rc = 0;
  for (const cJSON *it = id2label->child; it && !rc; it = it->next) {
    char *end;
    long id = strtol(it->string, &end, 10);
    if (*end || end == it->string || id < 0 || id >= n || labels[id] || !cJSON_IsString(it))
      rc = sotto_error_set(err, SOTTO_BAD_MODEL,
                           "config.json: id2label must map the ids 0..%d to label strings", n - 1);
    else
      labels[id] = it->valuestring;
  }
  kbuf k;
  if (!rc && sotto_gguf_set_arr_str(w, key(&k, c, "classifier.output_labels"), labels, NULL,
                                    (uint64_t)n))
    rc = sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "convert: out of memory");
  free(labels);
  return rc;
}

/* sentence-transformers' pooling (TextModel._try_set_pooling_type). */
static int pooling_type(const sotto_file *files, int n_files) {
  const sotto_file *m = find_file(files, n_files, "modules.json");
  if (!m) return -1;
  cJSON *mods = cJSON_ParseWithLength(m->data, m->size);
  char path[300] = "";
  const cJSON *it;
  cJSON_ArrayForEach(it, mods) {
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "type"));
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "path"));
    if (type && p && ends_with(type, "Pooling") && !path[0])
      snprintf(path, sizeof path, "%s/config.json", p);
  }
  cJSON_Delete(mods);
  const sotto_file *pf = path[0] ? find_file(files, n_files, path) : NULL;
  cJSON *pc = pf ? cJSON_ParseWithLength(pf->data, pf->size) : NULL;
  int type = -1;
  const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pc, "pooling_mode"));
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pc, "pooling_mode_mean_tokens")) ||
      (mode && !strcmp(mode, "mean")))
    type = 1;
  else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pc, "pooling_mode_cls_token")) ||
           (mode && !strcmp(mode, "cls")))
    type = 2;
  else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pc, "pooling_mode_lasttoken")) ||
           (mode && !strcmp(mode, "lasttoken")))
    type = 3;
  cJSON_Delete(pc);
  return type;
}

static int set_metadata(conv *c, sotto_gguf_writer *w, const sotto_file *files, int n_files,
                        sotto_error *err) {
  kbuf k;
  int64_t n_ctx = 0, n_ff = 0, v = 0;
  double d;
  int bad = sotto_gguf_set_str(w, "general.architecture", c->arch, strlen(c->arch)) ||
            sotto_gguf_set_str(w, "general.type", "model", 5);
  const char *name = c->opt && c->opt->name ? c->opt->name : cfg_str(c, "_name_or_path");
  if (name && *name) {
    const char *slash = strrchr(name, '/');
    if (!(c->opt && c->opt->name) && slash && slash[1]) name = slash + 1;
    bad = bad || sotto_gguf_set_str(w, "general.name", name, strlen(name));
  }
  if (cfg_int(c, KEYS("max_position_embeddings", "n_ctx", "n_positions"), c->fam != FAM_GEMMA3,
              1 << 30, &n_ctx, err) < 0 ||
      cfg_int(c, KEYS("intermediate_size", "hidden_dim", "n_inner"), 1, 1 << 30, &n_ff, err) < 0)
    return -1;
  if (c->fam == FAM_GEMMA3 && !n_ctx) n_ctx = 131072;
  if (c->fam == FAM_ROBERTA) {
    double pad = 1;
    cfg_num(c, KEYS("pad_token_id"), &pad, err);
    n_ctx -= (int64_t)pad + 1;
  }
  bad = bad || sotto_gguf_set_u32(w, key(&k, c, "block_count"), (uint32_t)c->n_layer) ||
        sotto_gguf_set_u32(w, key(&k, c, "context_length"), (uint32_t)n_ctx) ||
        sotto_gguf_set_u32(w, key(&k, c, "embedding_length"), (uint32_t)c->n_embd) ||
        sotto_gguf_set_u32(w, key(&k, c, "feed_forward_length"), (uint32_t)n_ff) ||
        sotto_gguf_set_u32(w, key(&k, c, "attention.head_count"), (uint32_t)c->n_head);
  if (c->fam <= FAM_ROBERTA) {
    d = 1e-12;
    if (c->fam != FAM_DISTILBERT && cfg_num(c, KEYS("layer_norm_eps"), &d, err) < 0) return -1;
    const char *act = cfg_str(c, c->fam == FAM_DISTILBERT ? "activation" : "hidden_act");
    bad = bad || sotto_gguf_set_f32(w, key(&k, c, "attention.layer_norm_epsilon"), (float)d) ||
          sotto_gguf_set_bool(w, key(&k, c, "attention.causal"), 0) ||
          (act && sotto_gguf_set_str(w, key(&k, c, "hidden_activation"), act, strlen(act)));
    int pool = pooling_type(files, n_files);
    if (pool >= 0) bad = bad || sotto_gguf_set_u32(w, key(&k, c, "pooling_type"), (uint32_t)pool);
    if (c->classifier) {
      const char *pt = cfg_str(c, "problem_type");
      const char *act_cls = c->fam == FAM_DISTILBERT ? "relu" : "tanh";
      if (set_labels(c, w, err)) return -1;
      bad = bad || sotto_gguf_set_str(w, "sotto.classifier.activation", act_cls, 4) ||
            (pt && sotto_gguf_set_str(w, "sotto.classifier.problem_type", pt, strlen(pt)));
    }
  } else {
    bad = bad || sotto_gguf_set_u32(w, key(&k, c, "attention.head_count_kv"), (uint32_t)c->n_head_kv);
    d = 1e-6;
    if (cfg_num(c, KEYS("rms_norm_eps"), &d, err) < 0) return -1;
    bad = bad || sotto_gguf_set_f32(w, key(&k, c, "attention.layer_norm_rms_epsilon"), (float)d);
    d = c->fam == FAM_GEMMA3 ? 1000000.0 : 10000.0;
    int has_theta = cfg_num(c, KEYS("rope_theta"), &d, err);
    if (has_theta < 0) return -1;
    if (has_theta || c->fam == FAM_GEMMA3)
      bad = bad || sotto_gguf_set_f32(w, key(&k, c, "rope.freq_base"), (float)d);
    if (cJSON_GetObjectItemCaseSensitive(c->config, "head_dim") || c->fam == FAM_GEMMA3)
      bad = bad || sotto_gguf_set_u32(w, key(&k, c, "attention.key_length"), (uint32_t)c->head_dim) ||
            sotto_gguf_set_u32(w, key(&k, c, "attention.value_length"), (uint32_t)c->head_dim);
    if (c->fam == FAM_LLAMA) {
      if (cfg_int(c, KEYS("vocab_size"), 1, 1 << 30, &v, err) < 0) return -1;
      bad = bad || sotto_gguf_set_u32(w, key(&k, c, "vocab_size"), (uint32_t)v) ||
            sotto_gguf_set_u32(w, key(&k, c, "rope.dimension_count"), (uint32_t)c->head_dim);
    }
    /* rope scaling (TextModel.set_gguf_parameters) */
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(c->config, "rope_scaling");
    const char *rt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rs, "rope_type"));
    if (!rt) rt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rs, "type"));
    const cJSON *factor = cJSON_GetObjectItemCaseSensitive(rs, "factor");
    if (rt && !strcmp(rt, "linear") && cJSON_IsNumber(factor))
      bad = bad || sotto_gguf_set_str(w, key(&k, c, "rope.scaling.type"), "linear", 6) ||
            sotto_gguf_set_f32(w, key(&k, c, "rope.scaling.factor"), (float)factor->valuedouble);
    else if (rt && !strcmp(rt, "yarn") && cJSON_IsNumber(factor)) {
      const cJSON *orig = cJSON_GetObjectItemCaseSensitive(rs, "original_max_position_embeddings");
      if (cJSON_IsNumber(orig) && !(orig->valuedouble >= 1 && orig->valuedouble <= (1 << 30) &&
                                    orig->valuedouble == (double)(int32_t)orig->valuedouble))
        return sotto_error_set(err, SOTTO_BAD_MODEL, "config.json: rope_scaling's "
                               "original_max_position_embeddings must be a whole number from 1 to 2^30");
      bad = bad || sotto_gguf_set_str(w, key(&k, c, "rope.scaling.type"), "yarn", 4) ||
            sotto_gguf_set_f32(w, key(&k, c, "rope.scaling.factor"), (float)factor->valuedouble) ||
            (cJSON_IsNumber(orig) &&
             sotto_gguf_set_u32(w, key(&k, c, "rope.scaling.original_context_length"),
                                (uint32_t)orig->valuedouble));
    } else if (rt && strcmp(rt, "llama3") && strcmp(rt, "default"))
      return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                             "config.json: rope scaling \"%.40s\" is not supported", rt);
    if (c->fam == FAM_GEMMA3) {
      double sw = 0, pattern = 6, softcap = 0, local = 10000;
      if (cfg_num(c, KEYS("sliding_window"), &sw, err) < 0 ||
          cfg_num(c, KEYS("sliding_window_pattern"), &pattern, err) < 0 ||
          cfg_num(c, KEYS("final_logit_softcapping"), &softcap, err) < 0)
        return -1;
      if (pattern != 1 && sw > 0)
        bad = bad || sotto_gguf_set_u32(w, key(&k, c, "attention.sliding_window"), (uint32_t)sw);
      if (softcap > 0)
        bad = bad || sotto_gguf_set_f32(w, key(&k, c, "final_logit_softcapping"), (float)softcap);
      if (cfg_num(c, KEYS("rope_local_base_freq"), &local, err) > 0)
        bad = bad || sotto_gguf_set_f32(w, key(&k, c, "rope.freq_base_swa"), (float)local);
    }
  }
  sotto_ftype ft = (sotto_ftype)sotto_ftype_from_name(c->opt && c->opt->type ? c->opt->type : "f16");
  bad = bad || sotto_gguf_set_u32(w, "general.quantization_version", 2) ||
        sotto_gguf_set_u32(w, "general.file_type", (uint32_t)ft);
  if (bad) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "convert: out of memory");
  return 0;
}

/* The tokenizer's keys (tokenizers/), or tokenizer.ggml.model "none". */
static int set_tokenizer(conv *c, sotto_gguf_writer *w, const sotto_file *files, int n_files,
                         sotto_error *err) {
  const sotto_file *tj = find_file(files, n_files, "tokenizer.json");
  const sotto_file *tc = find_file(files, n_files, "tokenizer_config.json");
  if (!tj) {
    if (!(c->opt && c->opt->weights_only))
      return sotto_error_set(err, SOTTO_BAD_REQUEST,
                             "the model folder has no tokenizer.json (--weights-only converts "
                             "the weights alone)");
    int64_t v = 0;
    kbuf k;
    if (cfg_int(c, KEYS("vocab_size"), 0, 1 << 30, &v, err) < 0) return -1;
    if (sotto_gguf_set_str(w, "tokenizer.ggml.model", "none", 4) ||
        (v && c->fam != FAM_LLAMA &&
         sotto_gguf_set_u32(w, key(&k, c, "vocab_size"), (uint32_t)v)))
      return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "convert: out of memory");
  } else {
    /* the token list as long as the embedding (get_vocab_base's vocab_size);
     * Gemma 3's embedding is cut to the tokens instead (see the transforms) */
    int64_t rows = 0;
    if (c->fam != FAM_GEMMA3 && cfg_int(c, KEYS("vocab_size"), 0, 1 << 30, &rows, err) < 0) return -1;
    sotto_tokenizer *tok = sotto_tokenizer_from_json(tj->data, tj->size, tc ? tc->data : NULL,
                                                     tc ? tc->size : 0, err);
    if (tok && rows > 2 * (int64_t)sotto_tokenizer_n_vocab(tok) + 1024) {
      sotto_error_set(err, SOTTO_BAD_MODEL, "config.json: vocab_size %lld is far beyond the "
                      "tokenizer's %d tokens", (long long)rows, sotto_tokenizer_n_vocab(tok));
      sotto_tokenizer_free(tok);
      return -1;
    }
    if (!tok || sotto_tokenizer_to_gguf(tok, rows, w, err)) {
      sotto_tokenizer_free(tok);
      return -1;
    }
    c->n_vocab_tok = sotto_tokenizer_n_vocab(tok);
    sotto_tokenizer_free(tok);
  }
  if (c->fam <= FAM_ROBERTA) { /* BertModel.set_vocab: the token type count */
    int64_t types = 1;
    if (c->fam != FAM_DISTILBERT &&
        cfg_int(c, KEYS("type_vocab_size"), 0, 1 << 20, &types, err) < 0)
      return -1;
    if (sotto_gguf_set_u32(w, "tokenizer.ggml.token_type_count", (uint32_t)types))
      return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "convert: out of memory");
  }
  return 0;
}

/* Reads config.json: the family and the shape. */
static int read_config(conv *c, const sotto_file *files, int n_files, sotto_error *err) {
  const sotto_file *cf = find_file(files, n_files, "config.json");
  if (!cf) return sotto_error_set(err, SOTTO_BAD_REQUEST, "the model folder has no config.json");
  c->config = cJSON_ParseWithLength(cf->data, cf->size);
  if (!cJSON_IsObject(c->config))
    return sotto_error_set(err, SOTTO_BAD_MODEL, "config.json is not a JSON object");
  const cJSON *archs = cJSON_GetObjectItemCaseSensitive(c->config, "architectures");
  const char *cls = cJSON_GetStringValue(cJSON_GetArrayItem(archs, 0));
  if (!cls)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "config.json has no \"architectures\" class");
  size_t i = 0;
  while (i < sizeof hf_classes / sizeof hf_classes[0] && strcmp(hf_classes[i].name, cls)) i++;
  if (i == sizeof hf_classes / sizeof hf_classes[0])
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                           "%.80s models cannot be converted (sotto converts BERT, DistilBERT, "
                           "RoBERTa, XLM-RoBERTa, Llama, Qwen2, Qwen3 and Gemma 3)",
                           cls);
  c->fam = hf_classes[i].fam;
  c->classifier = hf_classes[i].classifier;
  c->arch = arch_names[c->fam];
  if (cfg_int(c, KEYS("num_hidden_layers", "n_layers", "n_layer"), 1, 100000, &c->n_layer, err) < 0 ||
      cfg_int(c, KEYS("hidden_size", "dim", "n_embd"), 1, 1 << 20, &c->n_embd, err) < 0 ||
      cfg_int(c, KEYS("num_attention_heads", "n_heads", "n_head"), c->fam != FAM_GEMMA3, 1 << 16,
              &c->n_head, err) < 0)
    return -1;
  if (c->fam == FAM_GEMMA3 && !c->n_head) c->n_head = 8;
  c->n_head_kv = c->fam == FAM_GEMMA3 ? 4 : c->n_head;
  if (cfg_int(c, KEYS("num_key_value_heads"), 0, c->n_head, &c->n_head_kv, err) < 0) return -1;
  c->head_dim = c->fam == FAM_GEMMA3 ? 256 : c->n_embd / c->n_head;
  if (cfg_int(c, KEYS("head_dim"), 0, 1 << 16, &c->head_dim, err) < 0) return -1;
  if (c->n_head % c->n_head_kv || (c->fam <= FAM_ROBERTA && c->n_embd % c->n_head) ||
      (c->fam > FAM_ROBERTA && (c->head_dim < 2 || c->head_dim % 2)))
    return sotto_error_set(err, SOTTO_BAD_MODEL,
                           "config.json: %lld attention heads, %lld key/value heads and head size "
                           "%lld do not fit together",
                           (long long)c->n_head, (long long)c->n_head_kv, (long long)c->head_dim);
  if (c->fam == FAM_LLAMA) {
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(c->config, "rope_scaling");
    const char *rt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rs, "rope_type"));
    double theta = 10000;
    if (cfg_num(c, KEYS("rope_theta"), &theta, err) < 0) return -1;
    if (rt && !strcmp(rt, "llama3") && llama3_rope_freqs(c, rs, theta, err)) return -1;
  }
  return 0;
}

sotto_status sotto_convert(const sotto_file *files, int n_files,
                           const sotto_convert_options *options, sotto_write_fn write,
                           sotto_progress_fn progress, void *user, sotto_error *err) {
  sotto_error local = {0};
  if (!err) err = &local;
  err->status = SOTTO_OK;
  conv c = {.opt = options, .progress = progress, .user = user, .write = write};
  sotto_gguf_writer *w = NULL;
  const char *type = options && options->type ? options->type : "f16";
  int ftype = sotto_ftype_from_name(type);
  if (ftype < 0 || !write || (!files && n_files)) {
    sotto_error_set(err, SOTTO_BAD_REQUEST,
                    ftype < 0 ? "unknown type \"%.20s\" (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, "
                                "q5_1, q4_k, q4_k_m, q5_k, q5_k_m, q6_k)"
                              : "convert needs files and an output (%.20s)",
                    type);
    return err->status;
  }
  if (read_config(&c, files, n_files, err)) goto done;
  for (int i = 0; i < n_files; i++) {
    const char *nm = files[i].name ? files[i].name : "";
    if (!ends_with(nm, ".safetensors") || strchr(nm, '/')) continue;
    if (c.n_st == (int)(sizeof c.st / sizeof c.st[0])) {
      sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "more than 64 safetensors files");
      goto done;
    }
    c.st[c.n_st] = sotto_safetensors_open(files[i].data, files[i].size, nm, err);
    if (!c.st[c.n_st]) goto done;
    c.n_st++;
  }
  if (!c.n_st) {
    sotto_error_set(err, SOTTO_BAD_REQUEST,
                    "the model folder has no model.safetensors (sotto converts safetensors "
                    "weights, not pytorch_model.bin)");
    goto done;
  }
#if !defined(__EMSCRIPTEN__) /* in the browser, conversion runs on the caller's thread */
  if (options && options->threads > 1) c.pool = pthreadpool_create((size_t)options->threads);
#endif
  w = sotto_gguf_writer_create();
  if (!w) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "convert: out of memory");
    goto done;
  }
  if (set_metadata(&c, w, files, n_files, err) || set_tokenizer(&c, w, files, n_files, err) ||
      plan_tensors(&c, err))
    goto done;
  if (c.fam > FAM_ROBERTA && !find_tensor(&c, "lm_head.weight")) {
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(c.config, "tie_word_embeddings");
    if (cJSON_IsFalse(tie)) {
      sotto_error_set(err, SOTTO_BAD_MODEL,
                      "config.json says the embeddings are not tied, but there is no lm_head.weight");
      goto done;
    }
  }
  qsort(c.t, (size_t)c.n_t, sizeof *c.t, cmp_out);
  for (int i = 1; i < c.n_t; i++)
    if (!strcmp(c.t[i - 1].name, c.t[i].name)) {
      const char *a = c.t[i - 1].src ? c.t[i - 1].src->name : "?";
      const char *b = c.t[i].src ? c.t[i].src->name : "?";
      if (!strcmp(a, b))
        sotto_error_set(err, SOTTO_BAD_MODEL, "tensor %.100s is in two of the weight files", a);
      else
        sotto_error_set(err, SOTTO_BAD_MODEL, "tensors %.100s and %.100s both become %s", a, b,
                        c.t[i].name);
      goto done;
    }
  /* the tensor types, then the tensors in file order */
  const char **names = calloc((size_t)c.n_t + 1, sizeof *names);
  int *dims = calloc((size_t)c.n_t + 1, sizeof *dims);
  int64_t *ne0 = calloc((size_t)c.n_t + 1, sizeof *ne0);
  sotto_dtype *types = calloc((size_t)c.n_t + 1, sizeof *types);
  int bad = !names || !dims || !ne0 || !types;
  for (int i = 0; !bad && i < c.n_t; i++) {
    names[i] = c.t[i].name, dims[i] = c.t[i].n_dims, ne0[i] = c.t[i].ne[0];
    c.total += (double)c.t[i].ne[0] * (double)(c.t[i].ne[1] * c.t[i].ne[2] * c.t[i].ne[3]);
  }
  if (!bad) sotto_convert_types((sotto_ftype)ftype, names, dims, ne0, c.n_t, (int)c.n_layer, types);
  for (int i = 0; !bad && i < c.n_t; i++) {
    c.t[i].type = types[i];
    bad = sotto_gguf_add_tensor_fill(w, c.t[i].name, types[i], c.t[i].n_dims, c.t[i].ne, fill, &c);
  }
  free(names), free(dims), free(ne0), free(types);
  if (bad) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "convert: out of memory");
    goto done;
  }
  if (progress && progress(user, 0, "convert")) {
    sotto_error_set(err, SOTTO_CANCELLED, "conversion cancelled");
    goto done;
  }
  sotto_gguf_write(w, sink, &c, err);
done:
  sotto_gguf_writer_free(w);
  for (int i = 0; i < c.n_st; i++) sotto_safetensors_close(c.st[i]);
  cJSON_Delete(c.config);
  free(c.t);
  free(c.rope_freqs);
  if (c.pool) pthreadpool_destroy(c.pool);
  return err->status;
}
