/*
 * fasttext.c - fastText supervised classifiers, run exactly the way
 * fastText 0.9.2 predicts, so a model gives the same labels and
 * probabilities here as with the `fasttext` command. The file is read by
 * formats/fasttext_file.c; this file makes it ready to predict (the output
 * layer decoded, the Huffman tree of hierarchical softmax, the sigmoid
 * table) and predicts: Dictionary::getLine, Model::computeHidden,
 * Loss::predict of each loss.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/fasttext_file.h"
#include "models/fasttext.h"
#include "ops/ops.h"

#define MAX_TREE_DEPTH 1024
/* Output layers of at least this many weights run through XNNPACK; smaller
 * ones (lid.176 has 176 x 16) in plain C, in fastText's summation order, so
 * even near-ties between labels come out as fastText orders them. */
#define XNN_MIN_WEIGHTS (1 << 16)
/* Loss::Loss's sigmoid table: SIGMOID_TABLE_SIZE steps over
 * [-MAX_SIGMOID, MAX_SIGMOID]. */
#define SIGMOID_TABLE_SIZE 512
#define MAX_SIGMOID 8
#define LOG_EPSILON 1e-5           /* std_log: log(x + 1e-5) */
#define WORD_NGRAM_MULT 116049371u /* Dictionary::addWordNgrams' hash step */

static const char EOS[] = "</s>";
static const char LABEL_PREFIX[] = "__label__"; /* fastText's default -label */

struct sotto_fasttext {
  sotto_fasttext_file f;        /* dictionary and matrices, as read */
  int32_t dim, nlabels, loss;
  float *out_scale;             /* per output row: the quantized norm, or NULL */
  sotto_linear *out_linear;     /* large output layers only (see XNN_MIN_WEIGHTS) */
  int32_t *tree_left, *tree_right; /* hierarchical softmax: Huffman tree */
  float sigmoid_table[SIGMOID_TABLE_SIZE + 1]; /* table sigmoid (ova, ns) */
  size_t bytes;                 /* memory beyond f's */
};

/* Dictionary::readWord's separators. */
static int is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == 0;
}

/* Two's complement without implementation-defined conversions. */
static int32_t as_i32(uint32_t u) { return u <= INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1; }

/* ---- making a model ready to predict ---- */

static void ft_free(void *impl) {
  sotto_fasttext *ft = impl;
  if (!ft) return;
  sotto_fasttext_file_free(&ft->f);
  free(ft->out_scale);
  sotto_linear_destroy(ft->out_linear);
  free(ft->tree_left), free(ft->tree_right);
  free(ft);
}

static int fail(sotto_error *err, sotto_status status, const char *message) {
  return sotto_error_set(err, status, "fastText model: %s", message);
}

/* What fastText's predict needs: a supervised model with a row per label. */
static int check_classifier(const sotto_fasttext_file *f, sotto_error *err) {
  if (f->args.model != SOTTO_FASTTEXT_SUPERVISED)
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                           "fastText model: a word-vector model (%s), not a classifier",
                           f->args.model == SOTTO_FASTTEXT_CBOW ? "cbow" : "skipgram");
  if (f->nlabels < 1) return fail(err, SOTTO_BAD_MODEL, "dictionary: a classifier with 0 labels");
  if (f->out.rows != f->nlabels)
    return sotto_error_set(err, SOTTO_BAD_MODEL,
                           "fastText model: output matrix has %lld rows, not one per label",
                           (long long)f->out.rows);
  return 0;
}

/* The quantized output layer is small (labels x dim): decode it once into
 * centroid values, keeping each row's norm apart because fastText's
 * QuantMatrix::dotRow scales the finished dot product. */
static int densify(sotto_fasttext *ft, sotto_error *err) {
  sotto_fasttext_matrix *m = &ft->f.out;
  if (m->dense) return 0;
  size_t n = (size_t)m->rows * (size_t)m->cols;
  float *w = calloc(n ? n : 1, sizeof(float));
  if (m->norm_codes) ft->out_scale = malloc((size_t)m->rows * sizeof(float));
  if (!w || (m->norm_codes && !ft->out_scale)) {
    free(w);
    return fail(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  }
  ft->bytes += n * sizeof(float) + (m->norm_codes ? (size_t)m->rows * sizeof(float) : 0);
  uint8_t *norm_codes = m->norm_codes;
  m->norm_codes = NULL; /* add_row then adds the plain centroids */
  for (int64_t i = 0; i < m->rows; i++) {
    sotto_fasttext_add_row(m, i, w + (size_t)i * (size_t)m->cols);
    if (norm_codes) ft->out_scale[i] = m->norm_centroids[norm_codes[i]];
  }
  ft->f.bytes -= (size_t)m->rows * (size_t)m->nsubq +
                 (size_t)m->cols * SOTTO_FASTTEXT_KSUB * sizeof(float) +
                 (norm_codes ? (size_t)m->rows : 0);
  free(m->codes), free(m->centroids), free(norm_codes);
  m->codes = NULL, m->centroids = NULL;
  m->dense = w;
  return 0;
}

static int64_t sat_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

/* HierarchicalSoftmaxLoss::buildTree: a Huffman tree over the label counts,
 * leaves 0..n-1, internal nodes n..2n-2, the root last. Counts below
 * SOTTO_FASTTEXT_MAX_COUNT (fastText's marker for "not built yet") keep
 * every node's children among the nodes built before it. Returns the
 * tree's depth. */
static int32_t huffman(sotto_fasttext *ft, int64_t *count, int32_t *depth) {
  int32_t n = ft->nlabels, total = 2 * n - 1, max_depth = 0;
  for (int32_t i = 0; i < total; i++) {
    ft->tree_left[i] = ft->tree_right[i] = -1;
    count[i] = i < n ? ft->f.label_counts[i] : SOTTO_FASTTEXT_MAX_COUNT;
  }
  int32_t leaf = n - 1, node = n;
  for (int32_t i = n; i < total; i++) {
    int32_t mini[2];
    for (int j = 0; j < 2; j++)
      mini[j] = leaf >= 0 && count[leaf] < count[node] ? leaf-- : node++;
    ft->tree_left[i] = mini[0];
    ft->tree_right[i] = mini[1];
    count[i] = sat_add(count[mini[0]], count[mini[1]]);
  }
  depth[total - 1] = 0;
  for (int32_t i = total - 1; i >= n; i--) {
    depth[ft->tree_left[i]] = depth[ft->tree_right[i]] = depth[i] + 1;
    if (depth[i] + 1 > max_depth) max_depth = depth[i] + 1;
  }
  return max_depth;
}

static int build_tree(sotto_fasttext *ft, sotto_error *err) {
  size_t total = 2 * (size_t)ft->nlabels - 1;
  ft->tree_left = malloc(total * sizeof(int32_t));
  ft->tree_right = malloc(total * sizeof(int32_t));
  int64_t *count = malloc(total * sizeof *count);
  int32_t *depth = malloc(total * sizeof *depth);
  int32_t tree_depth = ft->tree_left && ft->tree_right && count && depth ? huffman(ft, count, depth) : -1;
  free(count), free(depth);
  if (tree_depth < 0) return fail(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  ft->bytes += 2 * total * sizeof(int32_t);
  /* Real label counts give trees a few dozen levels deep; the search
   * recurses once per level. */
  if (tree_depth > MAX_TREE_DEPTH)
    return sotto_error_set(err, SOTTO_BAD_MODEL,
                           "fastText model: dictionary: label counts make a tree %d levels deep",
                           (int)tree_depth);
  return 0;
}

/* XNNPACK packs its own copy of the weights, norms applied. */
static int build_linear(sotto_fasttext *ft, sotto_error *err) {
  size_t n = (size_t)ft->nlabels * (size_t)ft->dim;
  float *w = malloc(n * sizeof(float));
  if (!w) return fail(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  for (size_t i = 0; i < n; i++)
    w[i] = ft->f.out.dense[i] * (ft->out_scale ? ft->out_scale[i / (size_t)ft->dim] : 1.0f);
  ft->out_linear = sotto_linear_create(w, NULL, (size_t)ft->dim, (size_t)ft->nlabels, err);
  free(w);
  if (!ft->out_linear) return -1;
  ft->bytes += n * sizeof(float);
  return 0;
}

/* Loss::Loss's table. */
static void build_sigmoid_table(sotto_fasttext *ft) {
  for (int i = 0; i <= SIGMOID_TABLE_SIZE; i++) {
    float x = (float)(i * 2 * MAX_SIGMOID) / SIGMOID_TABLE_SIZE - MAX_SIGMOID;
    ft->sigmoid_table[i] = (float)(1.0 / (1.0 + (double)expf(-x)));
  }
}

int sotto_fasttext_load(sotto_model *model, sotto_error *err) {
  sotto_fasttext *ft = calloc(1, sizeof *ft);
  if (!ft) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  if (sotto_fasttext_file_read(&ft->f, model->file.data, model->file.size, err) != 0 ||
      check_classifier(&ft->f, err) != 0)
    goto fail;
  ft->dim = ft->f.args.dim, ft->nlabels = ft->f.nlabels, ft->loss = ft->f.args.loss;
  if (densify(ft, err) != 0) goto fail;
  if (ft->loss == SOTTO_FASTTEXT_LOSS_HS) {
    if (build_tree(ft, err) != 0) goto fail;
  } else if ((size_t)ft->nlabels * (size_t)ft->dim >= XNN_MIN_WEIGHTS) {
    if (build_linear(ft, err) != 0) goto fail;
  }
  build_sigmoid_table(ft);
  sotto_blob_release(&model->file); /* everything prediction needs is copied */
  model->arch = "fasttext";
  model->impl = ft;
  model->destroy = ft_free;
  model->bytes = ft->f.bytes + ft->bytes + sizeof *ft;
  return 0;
fail:
  if (err && !err->status) sotto_error_set(err, SOTTO_BAD_MODEL, "fastText model: cannot load");
  ft_free(ft);
  return -1;
}

/* ---- prediction ---- */

int sotto_fasttext_labels(const sotto_fasttext *ft) { return ft->nlabels; }

int sotto_fasttext_has_word(const sotto_fasttext *ft, const char *w, size_t n) {
  int32_t e = sotto_fasttext_word(&ft->f, w, n, sotto_fasttext_hash(w, n));
  return e >= 0 && ft->f.word_type[e] == 0;
}

const char *sotto_fasttext_label(const sotto_fasttext *ft, int i) {
  if (i < 0 || i >= ft->nlabels) return "";
  return ft->f.strings + ft->f.word_off[ft->f.nwords + i];
}

typedef struct {
  const sotto_fasttext *ft;
  float *hidden;
  int64_t n; /* rows summed into hidden */
} accum;

/* Dictionary::pushHash: an n-gram bucket becomes an input row. */
static void push_hash(accum *a, int64_t id) {
  const sotto_fasttext *ft = a->ft;
  const sotto_fasttext_file *f = &ft->f;
  if (f->prune_size == 0 || id < 0) return;
  if (f->prune_size > 0 && (id = sotto_fasttext_pruned_row(f, id)) < 0) return;
  sotto_fasttext_add_row(&f->in, f->nwords + id, a->hidden);
  a->n++;
}

/* Dictionary::computeSubwords over "<word>": every run of minn..maxn UTF-8
 * characters, except the lone "<" and ">". */
static void add_subwords(accum *a, const char *w, size_t n) {
  const sotto_fasttext *ft = a->ft;
  for (size_t i = 0; i < n; i++) {
    if (((uint8_t)w[i] & 0xC0) == 0x80) continue;
    uint32_t h = SOTTO_FASTTEXT_FNV_OFFSET;
    size_t j = i;
    for (int32_t len = 1; j < n && len <= ft->f.args.maxn; len++) {
      h = sotto_fasttext_hash_step(h, (uint8_t)w[j++]);
      while (j < n && ((uint8_t)w[j] & 0xC0) == 0x80) h = sotto_fasttext_hash_step(h, (uint8_t)w[j++]);
      if (len >= ft->f.args.minn && !(len == 1 && (i == 0 || j == n)))
        push_hash(a, (int64_t)(h % (uint32_t)ft->f.args.bucket));
    }
  }
}

static float std_log(float x) { return (float)log((double)x + LOG_EPSILON); }

/* fastText keeps the k best in a std::vector heap ordered by
 * comparePairs (greater score first, so the front is the worst kept). The
 * heap steps below are libstdc++'s push_heap / pop_heap / sort_heap, so
 * labels with equal scores come out in the order fastText prints them. */
typedef struct {
  float score;
  int32_t label;
} scored;

typedef struct {
  scored *h;
  int n, k;
} topk;

static int worse(scored a, scored b) { return a.score > b.score; } /* comparePairs */

static void sift_up(scored *h, int hole, int top, scored v) {
  int parent = (hole - 1) / 2;
  while (hole > top && worse(h[parent], v)) {
    h[hole] = h[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  h[hole] = v;
}

static void adjust(scored *h, int hole, int len, scored v) {
  int top = hole, child = hole;
  while (child < (len - 1) / 2) {
    child = 2 * (child + 1);
    if (worse(h[child], h[child - 1])) child--;
    h[hole] = h[child];
    hole = child;
  }
  if ((len & 1) == 0 && child == (len - 2) / 2) {
    child = 2 * (child + 1);
    h[hole] = h[child - 1];
    hole = child - 1;
  }
  sift_up(h, hole, top, v);
}

/* Moves the front to h[len - 1] and restores the heap on h[0..len-2]. */
static void pop_to_back(scored *h, int len) {
  if (len < 2) return;
  scored v = h[len - 1];
  h[len - 1] = h[0];
  adjust(h, 0, len - 1, v);
}

static void topk_push(topk *t, float score, int32_t label) {
  t->h[t->n++] = (scored){score, label};
  sift_up(t->h, t->n - 1, 0, t->h[t->n - 1]);
  if (t->n > t->k) pop_to_back(t->h, t->n--);
}

static void topk_sort(topk *t) {
  for (int len = t->n; len > 1; len--) pop_to_back(t->h, len);
}

/* DenseMatrix::dotRow / QuantMatrix::dotRow on the output layer. */
static float dot_row(const sotto_fasttext *ft, int32_t row, const float *hidden) {
  const float *w = ft->f.out.dense + (size_t)row * (size_t)ft->dim;
  float d = 0.0f;
  for (int32_t j = 0; j < ft->dim; j++) d += w[j] * hidden[j];
  return ft->out_scale ? d * ft->out_scale[row] : d;
}

/* HierarchicalSoftmaxLoss::dfs with fastText's float/double mix. */
static void hs_dfs(const sotto_fasttext *ft, topk *t, float threshold_log, int32_t node,
                   float score, const float *hidden) {
  if (score < threshold_log) return;
  if (t->n == t->k && score < t->h[0].score) return;
  if (ft->tree_left[node] == -1 && ft->tree_right[node] == -1) {
    topk_push(t, score, node);
    return;
  }
  float f = dot_row(ft, node - ft->nlabels, hidden);
  f = (float)(1.0 / (double)(1.0f + expf(-f)));
  hs_dfs(ft, t, threshold_log, ft->tree_left[node], score + std_log((float)(1.0 - f)), hidden);
  hs_dfs(ft, t, threshold_log, ft->tree_right[node], score + std_log(f), hidden);
}

static float table_sigmoid(const sotto_fasttext *ft, float x) {
  if (!(x >= -MAX_SIGMOID)) return 0.0f; /* NaN too: it has no table index */
  if (x > MAX_SIGMOID) return 1.0f;
  return ft->sigmoid_table[(int64_t)((x + MAX_SIGMOID) * SIGMOID_TABLE_SIZE / MAX_SIGMOID / 2)];
}

/* Loss::computeOutput for softmax, one-vs-all and negative sampling. */
static int output_layer(const sotto_fasttext *ft, pthreadpool_t pool, const float *hidden,
                        float *out, sotto_error *err) {
  int32_t n = ft->nlabels;
  if (ft->out_linear) {
    if (sotto_linear_run(ft->out_linear, pool, hidden, 1, out, err) != 0) return -1;
    if (ft->loss == SOTTO_FASTTEXT_LOSS_SOFTMAX) return sotto_softmax(pool, out, out, 1, (size_t)n, err);
  } else {
    for (int32_t i = 0; i < n; i++) out[i] = dot_row(ft, i, hidden);
    if (ft->loss == SOTTO_FASTTEXT_LOSS_SOFTMAX) {
      float max = out[0], z = 0.0f;
      for (int32_t i = 0; i < n; i++) max = out[i] > max ? out[i] : max;
      for (int32_t i = 0; i < n; i++) {
        out[i] = (float)exp((double)(out[i] - max));
        z += out[i];
      }
      for (int32_t i = 0; i < n; i++) out[i] /= z;
      return 0;
    }
  }
  if (ft->loss != SOTTO_FASTTEXT_LOSS_SOFTMAX)
    for (int32_t i = 0; i < n; i++) out[i] = table_sigmoid(ft, out[i]);
  return 0;
}

int sotto_fasttext_predict(sotto_fasttext *ft, pthreadpool_t pool, const char *text, size_t len,
                           int k, float threshold, sotto_fasttext_pred *out, sotto_error *err) {
  if (k < 1) return sotto_error_set(err, SOTTO_BAD_REQUEST, "k must be at least 1");
  if (k > ft->nlabels) k = ft->nlabels;
  size_t max_tokens = len / 2 + 2;
  float *hidden = calloc((size_t)ft->dim, sizeof(float));
  float *scores = ft->loss == SOTTO_FASTTEXT_LOSS_HS ? NULL : malloc((size_t)ft->nlabels * sizeof(float));
  uint32_t *hashes = malloc(max_tokens * sizeof(uint32_t));
  char *word = malloc(len + sizeof EOS + 2);
  scored *heap = malloc(((size_t)k + 1) * sizeof *heap);
  if (!hidden || !hashes || !word || !heap || (ft->loss != SOTTO_FASTTEXT_LOSS_HS && !scores)) {
    free(hidden), free(scores), free(hashes), free(word), free(heap);
    return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  }
  accum a = {ft, hidden, 0};
  size_t n_hashes = 0, pos = 0;
  /* Dictionary::getLine on "text\n": whitespace-separated tokens, then the
   * end-of-sentence token; a literal "</s>" also ends the line. */
  for (;;) {
    while (pos < len && is_space(text[pos])) pos++;
    const char *tok = EOS;
    size_t n = sizeof EOS - 1;
    if (pos < len) {
      tok = text + pos;
      while (pos < len && !is_space(text[pos])) pos++;
      n = (size_t)(text + pos - tok);
    }
    int eos = n == sizeof EOS - 1 && memcmp(tok, EOS, n) == 0;
    uint32_t h = sotto_fasttext_hash(tok, n);
    int32_t wid = sotto_fasttext_word(&ft->f, tok, n, h);
    int is_label = wid >= 0 ? ft->f.word_type[wid] == 1
                            : n >= sizeof LABEL_PREFIX - 1 &&
                                  memcmp(tok, LABEL_PREFIX, sizeof LABEL_PREFIX - 1) == 0;
    if (!is_label) {
      /* Dictionary::addSubwords: the word's own row, then its n-grams. */
      if (wid >= 0) {
        sotto_fasttext_add_row(&ft->f.in, wid, hidden);
        a.n++;
      }
      if (!eos && (wid < 0 || ft->f.args.maxn > 0)) {
        word[0] = '<';
        memcpy(word + 1, tok, n);
        word[n + 1] = '>';
        add_subwords(&a, word, n + 2);
      }
      hashes[n_hashes++] = h;
    }
    if (eos) break;
  }
  /* Dictionary::addWordNgrams: hashes go through int32 and back into
   * uint64, so negative ones sign-extend, exactly as fastText computes. */
  for (size_t i = 0; ft->f.args.word_ngrams > 1 && i < n_hashes; i++) {
    uint64_t h = (uint64_t)(int64_t)as_i32(hashes[i]);
    for (size_t j = i + 1; j < n_hashes && j < i + (size_t)ft->f.args.word_ngrams; j++) {
      h = h * WORD_NGRAM_MULT + (uint64_t)(int64_t)as_i32(hashes[j]);
      push_hash(&a, (int64_t)(h % (uint64_t)ft->f.args.bucket));
    }
  }
  int got = 0;
  if (a.n > 0) {
    /* Model::computeHidden: the mean of the rows (times a float 1/n). */
    float inv = (float)(1.0 / (double)a.n);
    for (int32_t j = 0; j < ft->dim; j++) hidden[j] *= inv;
    topk t = {heap, 0, k};
    if (ft->loss == SOTTO_FASTTEXT_LOSS_HS) {
      hs_dfs(ft, &t, std_log(threshold), 2 * ft->nlabels - 2, 0.0f, hidden);
    } else {
      got = output_layer(ft, pool, hidden, scores, err);
      /* Loss::findKBest */
      for (int32_t i = 0; got == 0 && i < ft->nlabels; i++) {
        if (scores[i] < threshold) continue;
        float score = std_log(scores[i]);
        if (t.n == k && score < t.h[0].score) continue;
        topk_push(&t, score, i);
      }
    }
    if (got == 0) {
      topk_sort(&t);
      got = t.n;
      for (int i = 0; i < got; i++) out[i] = (sotto_fasttext_pred){t.h[i].label, expf(t.h[i].score)};
      /* Finite weights can still overflow float on extreme values. */
      for (int i = 0; i < got; i++)
        if (!isfinite(out[i].prob))
          got = sotto_error_set(err, SOTTO_BAD_MODEL, "fastText model: its weights overflow on this text");
    }
  }
  free(hidden), free(scores), free(hashes), free(word), free(heap);
  return got;
}
