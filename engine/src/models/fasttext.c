/*
 * fasttext.c - fastText supervised classifiers, read from a buffer and
 * run exactly the way fastText 0.9.2 predicts, so a model gives the same
 * labels and probabilities here as with the `fasttext` command.
 *
 * The file is fastText's in-memory structures written out in order, all
 * little-endian:
 *   int32 magic 793712314, int32 version (11 or 12)
 *   args: int32 dim ws epoch minCount neg wordNgrams loss model bucket minn
 *         maxn lrUpdateRate, float64 t
 *   dictionary: int32 size nwords nlabels, int64 ntokens pruneidx_size,
 *     size x {word NUL, int64 count, int8 type (0 word, 1 label)},
 *     pruneidx_size x {int32 n-gram bucket, int32 row among the kept ones}
 *   bool quantized input, input matrix, bool quantized output, output matrix
 *   dense matrix: int64 rows cols, rows x cols float32
 *   quantized matrix: bool qnorm, int64 rows cols, int32 codesize, codes,
 *     product quantizer, and with qnorm: rows norm codes + a 1-d quantizer
 *   product quantizer: int32 dim nsubq dsub lastdsub, dim x 256 float32
 *
 * Nothing in the file is trusted: every count is checked against the bytes
 * that are left before anything is allocated, and every index prediction
 * can compute is proven in range at load time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "models/fasttext.h"
#include "ops/ops.h"

#define FT_KSUB 256 /* centroids per sub-quantizer (8-bit codes) */
#define FT_MAX_DIM 65536
#define FT_MAX_WORD_NGRAMS 1000
#define FT_MAX_COUNT 1000000000000000LL /* fastText's "infinite" tree count */
#define FT_MAX_TREE_DEPTH 1024
/* Output layers of at least this many weights run through XNNPACK; smaller
 * ones (lid.176 has 176 x 16) in plain C, in fastText's summation order, so
 * even near-ties between labels come out as fastText orders them. */
#define FT_XNN_MIN (1 << 16)
#define FT_MAX_ENTRIES (1 << 26) /* fastText's vocabulary tops out at 30M */

enum { LOSS_HS = 1, LOSS_NS = 2, LOSS_SOFTMAX = 3, LOSS_OVA = 4 };
enum { MODEL_CBOW = 1, MODEL_SG = 2, MODEL_SUP = 3 };

static const char EOS[] = "</s>";
static const char LABEL_PREFIX[] = "__label__"; /* fastText's default -label */

typedef struct {
  int64_t rows, cols;
  float *dense;          /* rows x cols; NULL when quantized */
  uint8_t *codes;        /* rows x nsubq */
  float *centroids;      /* cols x FT_KSUB, in fastText's layout */
  int32_t nsubq, dsub, lastdsub;
  uint8_t *norm_codes;   /* rows, when norms are quantized apart */
  float norm_centroids[FT_KSUB];
} ft_matrix;

struct sotto_fasttext {
  int32_t dim, word_ngrams, loss, bucket, minn, maxn;
  int32_t size, nwords, nlabels;
  int64_t prune_size;           /* < 0: not pruned; 0: no n-grams kept */
  char *strings;                /* every entry's word, NUL-terminated */
  uint32_t *word_off, *word_len, *word_hash;
  uint8_t *word_type;           /* 0 word, 1 label */
  uint32_t *table;              /* open addressing: entry id + 1, 0 = empty */
  uint32_t table_mask;
  /* pruned index: n-gram bucket -> input row, open addressing with key -1
   * for empty (one cache line per probe: most n-grams are not in it) */
  struct ft_prune { int32_t key, row; } *prune;
  uint32_t prune_mask;
  ft_matrix in, out;
  float *out_scale;             /* per output row: the quantized norm, or NULL */
  sotto_linear *out_linear;     /* large output layers only (see FT_XNN_MIN) */
  int32_t *tree_left, *tree_right; /* hierarchical softmax: Huffman tree */
  float sigmoid_table[513];     /* fastText's table sigmoid (ova, ns) */
  size_t bytes;
};

/* ---- reading the buffer ---- */

typedef struct {
  const uint8_t *p;
  size_t size, off;
  sotto_error *err;
  int failed;
} reader;

static int bad(reader *r, const char *fmt, const char *what, long long v) {
  if (!r->failed) {
    char msg[256];
    snprintf(msg, sizeof msg, fmt, what, v);
    sotto_error_set(r->err, SOTTO_BAD_MODEL, "fastText model: %s (at byte %zu)", msg, r->off);
  }
  r->failed = 1;
  return -1;
}

static size_t left(const reader *r) { return r->size - r->off; }

static const uint8_t *take(reader *r, size_t n, const char *what) {
  if (r->failed) return NULL;
  if (n > left(r)) {
    bad(r, "truncated: %s needs %lld more bytes than the file has", what,
        (long long)(n - left(r)));
    return NULL;
  }
  const uint8_t *p = r->p + r->off;
  r->off += n;
  return p;
}

static uint64_t le(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* Two's complement without implementation-defined conversions. */
static int32_t as_i32(uint32_t u) { return u <= INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1; }

static int32_t rd_i32(reader *r, const char *what) {
  const uint8_t *p = take(r, 4, what);
  return p ? as_i32((uint32_t)le(p, 4)) : 0;
}

static int64_t rd_i64(reader *r, const char *what) {
  const uint8_t *p = take(r, 8, what);
  uint64_t u = p ? le(p, 8) : 0;
  return u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static int rd_bool(reader *r, const char *what) {
  const uint8_t *p = take(r, 1, what);
  if (p && *p > 1) return bad(r, "%s flag is %lld, not 0 or 1", what, *p);
  return p ? *p : -1;
}

/* Weights must be finite: a NaN or infinity can only come from a damaged
 * file, and would turn every probability into NaN. */
static void rd_floats(reader *r, float *dst, size_t n) {
  const uint8_t *p = take(r, n * 4, "float data");
  for (size_t i = 0; p && i < n; i++) {
    uint32_t u = (uint32_t)le(p + 4 * i, 4);
    memcpy(&dst[i], &u, 4);
    if (!isfinite(dst[i])) {
      r->off -= (n - i) * 4;
      bad(r, "%s: weight %lld is not a finite number", "matrix", (long long)i);
      return;
    }
  }
}

/* ---- fastText's hashing and tokenization ---- */

/* FNV-1a as fastText computes it: each byte goes through a signed char
 * (its released models were trained that way), so bytes >= 0x80 are
 * sign-extended before the xor. */
static uint32_t fnv_step(uint32_t h, uint8_t c) {
  return (h ^ (c < 0x80 ? c : (uint32_t)c | 0xFFFFFF00u)) * 16777619u;
}
#define FNV_OFFSET 2166136261u

static uint32_t ft_hash(const char *s, size_t n) {
  uint32_t h = FNV_OFFSET;
  for (size_t i = 0; i < n; i++) h = fnv_step(h, (uint8_t)s[i]);
  return h;
}

static int32_t ft_find(const sotto_fasttext *ft, const char *w, size_t n, uint32_t h) {
  for (uint32_t i = h & ft->table_mask;; i = (i + 1) & ft->table_mask) {
    uint32_t e = ft->table[i];
    if (!e) return -1;
    e--;
    if (ft->word_hash[e] == h && ft->word_len[e] == n &&
        memcmp(ft->strings + ft->word_off[e], w, n) == 0)
      return (int32_t)e;
  }
}

/* Dictionary::readWord's separators. */
static int is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == 0;
}

/* ---- building the model ---- */

static void ft_free(void *impl) {
  sotto_fasttext *ft = impl;
  if (!ft) return;
  free(ft->strings), free(ft->word_off), free(ft->word_len), free(ft->word_hash);
  free(ft->word_type), free(ft->table), free(ft->prune);
  ft_matrix *m[2] = {&ft->in, &ft->out};
  for (int i = 0; i < 2; i++)
    free(m[i]->dense), free(m[i]->codes), free(m[i]->centroids), free(m[i]->norm_codes);
  free(ft->out_scale);
  sotto_linear_destroy(ft->out_linear);
  free(ft->tree_left), free(ft->tree_right);
  free(ft);
}

static void *ft_alloc(sotto_fasttext *ft, reader *r, size_t n, size_t elem) {
  if (r->failed) return NULL;
  void *p = n ? calloc(n, elem) : malloc(1);
  if (!p) {
    sotto_error_set(r->err, SOTTO_OUT_OF_MEMORY, "fastText model: out of memory for %zu x %zu bytes",
                    n, elem);
    r->failed = 1;
  }
  ft->bytes += n * elem;
  return p;
}

/* A product quantizer as ProductQuantizer(dim, dsub) would make it; fastText
 * does not check these, but every offset it computes depends on them. */
static int read_pq(reader *r, int64_t dim, int32_t *nsubq, int32_t *dsub, int32_t *lastdsub,
                   const char *what) {
  int32_t pdim = rd_i32(r, what), ns = rd_i32(r, what), ds = rd_i32(r, what);
  int32_t last = rd_i32(r, what);
  if (r->failed) return -1;
  if (pdim != dim) return bad(r, "%s quantizer has dimension %lld", what, pdim);
  if (ds < 1 || ds > pdim) return bad(r, "%s quantizer has sub-vector size %lld", what, ds);
  int32_t want_ns = pdim / ds + (pdim % ds != 0), want_last = pdim % ds ? pdim % ds : ds;
  if (ns != want_ns || last != want_last)
    return bad(r, "%s quantizer's sub-vector counts do not add up (%lld)", what, ns);
  *nsubq = ns, *dsub = ds, *lastdsub = last;
  return 0;
}

static const float *centroid(const ft_matrix *m, int32_t sub, uint8_t code) {
  if (sub == m->nsubq - 1)
    return m->centroids + (size_t)sub * FT_KSUB * m->dsub + (size_t)code * m->lastdsub;
  return m->centroids + ((size_t)sub * FT_KSUB + code) * m->dsub;
}

static int read_matrix(sotto_fasttext *ft, reader *r, ft_matrix *m, int quantized,
                       const char *what) {
  int qnorm = quantized ? rd_bool(r, what) : 0;
  m->rows = rd_i64(r, what);
  m->cols = rd_i64(r, what);
  if (r->failed) return -1;
  if (m->cols != ft->dim)
    return bad(r, "%s matrix has %lld columns, not the model's dimension", what, m->cols);
  if (m->rows < 0 || m->rows > INT32_MAX)
    return bad(r, "%s matrix has %lld rows", what, m->rows);
  size_t rows = (size_t)m->rows, cols = (size_t)m->cols;
  if (!quantized) {
    if (rows > left(r) / 4 / cols)
      return bad(r, "truncated: %s matrix declares %lld rows", what, m->rows);
    m->dense = ft_alloc(ft, r, rows * cols, sizeof(float));
    if (m->dense) rd_floats(r, m->dense, rows * cols);
    return r->failed ? -1 : 0;
  }
  int32_t codesize = rd_i32(r, what);
  if (r->failed) return -1;
  if (codesize < 0 || (size_t)codesize > left(r))
    return bad(r, "truncated: %s matrix declares %lld code bytes", what, codesize);
  size_t code_at = r->off;
  take(r, (size_t)codesize, what);
  if (read_pq(r, m->cols, &m->nsubq, &m->dsub, &m->lastdsub, what) != 0) return -1;
  if ((uint64_t)codesize != (uint64_t)rows * (uint64_t)m->nsubq)
    return bad(r, "%s matrix has %lld code bytes, not one per row and sub-vector", what,
               codesize);
  if (cols * FT_KSUB > left(r) / 4)
    return bad(r, "truncated: %s quantizer needs %lld centroid values", what,
               (long long)(cols * FT_KSUB));
  m->codes = ft_alloc(ft, r, (size_t)codesize, 1);
  m->centroids = ft_alloc(ft, r, cols * FT_KSUB, sizeof(float));
  if (r->failed) return -1;
  memcpy(m->codes, r->p + code_at, (size_t)codesize);
  rd_floats(r, m->centroids, cols * FT_KSUB);
  if (qnorm) {
    const uint8_t *nc = take(r, rows, "norm codes");
    int32_t ns, ds, last;
    if (read_pq(r, 1, &ns, &ds, &last, "norm") != 0) return -1;
    m->norm_codes = ft_alloc(ft, r, rows, 1);
    if (r->failed) return -1;
    memcpy(m->norm_codes, nc, rows);
    rd_floats(r, m->norm_centroids, FT_KSUB);
  }
  return r->failed ? -1 : 0;
}

/* x += row i of m, as DenseMatrix / QuantMatrix::addRowToVector do. */
static void add_row(const ft_matrix *m, int64_t i, float *x) {
  size_t cols = (size_t)m->cols;
  if (m->dense) {
    const float *w = m->dense + (size_t)i * cols;
    for (size_t j = 0; j < cols; j++) x[j] += w[j];
    return;
  }
  float alpha = m->norm_codes ? m->norm_centroids[m->norm_codes[i]] : 1.0f;
  const uint8_t *code = m->codes + (size_t)i * (size_t)m->nsubq;
  for (int32_t s = 0; s < m->nsubq; s++) {
    const float *c = centroid(m, s, code[s]);
    int32_t d = s == m->nsubq - 1 ? m->lastdsub : m->dsub;
    float *xs = x + (size_t)s * (size_t)m->dsub;
    for (int32_t j = 0; j < d; j++) xs[j] += alpha * c[j];
  }
}

/* The quantized output layer is small (labels x dim): decode it once into
 * centroid values, keeping each row's norm apart because fastText's
 * QuantMatrix::dotRow scales the finished dot product. */
static int densify(sotto_fasttext *ft, reader *r, ft_matrix *m) {
  if (m->dense) return 0;
  size_t n = (size_t)m->rows * (size_t)m->cols;
  float *w = ft_alloc(ft, r, n, sizeof(float));
  if (m->norm_codes) ft->out_scale = ft_alloc(ft, r, (size_t)m->rows, sizeof(float));
  if (r->failed) {
    free(w);
    return -1;
  }
  uint8_t *norm_codes = m->norm_codes;
  m->norm_codes = NULL; /* add_row then adds the plain centroids */
  for (int64_t i = 0; i < m->rows; i++) {
    add_row(m, i, w + (size_t)i * (size_t)m->cols);
    if (norm_codes) ft->out_scale[i] = m->norm_centroids[norm_codes[i]];
  }
  ft->bytes -= (size_t)m->rows * (size_t)m->nsubq + (size_t)m->cols * FT_KSUB * sizeof(float) +
                (norm_codes ? (size_t)m->rows : 0);
  free(m->codes), free(m->centroids), free(norm_codes);
  m->codes = NULL, m->centroids = NULL;
  m->dense = w;
  return 0;
}

/* Slot of n-gram bucket key in the pruned index (bucket ids are hashes
 * already, but consecutive ones must not crowd one stretch of the table). */
static uint32_t prune_slot(const sotto_fasttext *ft, int64_t key) {
  uint32_t h = (uint32_t)key * 0x9E3779B1u;
  for (h = (h ^ h >> 15) & ft->prune_mask;; h = (h + 1) & ft->prune_mask)
    if (ft->prune[h].key < 0 || ft->prune[h].key == key) return h;
}

static int64_t sat_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

/* HierarchicalSoftmaxLoss::buildTree: a Huffman tree over the label counts,
 * leaves 0..n-1, internal nodes n..2n-2, the root last. Counts below
 * FT_MAX_COUNT (fastText's marker for "not built yet") keep every node's
 * children among the nodes built before it. Returns the tree's depth. */
static int32_t build_tree(sotto_fasttext *ft, const int64_t *counts, int64_t *count,
                          int32_t *depth) {
  int32_t n = ft->nlabels, total = 2 * n - 1, max_depth = 0;
  for (int32_t i = 0; i < total; i++) {
    ft->tree_left[i] = ft->tree_right[i] = -1;
    count[i] = i < n ? counts[i] : FT_MAX_COUNT;
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

static int parse(sotto_fasttext *ft, reader *r) {
  int32_t magic = rd_i32(r, "header"), version = rd_i32(r, "header");
  if (r->failed) return -1;
  if (magic != SOTTO_FASTTEXT_MAGIC) return bad(r, "%s: wrong magic number %lld, not a fastText file", "header", magic);
  if (version != 11 && version != 12)
    return bad(r, "%s: unsupported version %lld (11 and 12 are known)", "header", version);

  int32_t a[12];
  for (int i = 0; i < 12; i++) a[i] = rd_i32(r, "arguments");
  take(r, 8, "arguments"); /* t, the sampling threshold: training only */
  if (r->failed) return -1;
  ft->dim = a[0], ft->word_ngrams = a[5], ft->loss = a[6];
  int32_t model = a[7];
  ft->bucket = a[8], ft->minn = a[9], ft->maxn = a[10];
  if (version == 11 && model == MODEL_SUP) ft->maxn = 0; /* as fastText: no char n-grams */
  if (ft->dim < 1 || ft->dim > FT_MAX_DIM) return bad(r, "%s: dimension %lld", "arguments", ft->dim);
  if (ft->loss < LOSS_HS || ft->loss > LOSS_OVA) return bad(r, "%s: unknown loss %lld", "arguments", ft->loss);
  if (model < MODEL_CBOW || model > MODEL_SUP) return bad(r, "%s: unknown model type %lld", "arguments", model);
  if (ft->word_ngrams < 0 || ft->word_ngrams > FT_MAX_WORD_NGRAMS)
    return bad(r, "%s: wordNgrams %lld", "arguments", ft->word_ngrams);
  if (ft->bucket < 0) return bad(r, "%s: bucket %lld", "arguments", ft->bucket);
  /* fastText divides by bucket whenever it hashes an n-gram */
  if (ft->bucket == 0 && ((ft->maxn >= 1 && ft->maxn >= ft->minn) || ft->word_ngrams > 1))
    return bad(r, "%s: n-grams with %lld hash buckets", "arguments", 0);

  ft->size = rd_i32(r, "dictionary");
  ft->nwords = rd_i32(r, "dictionary");
  ft->nlabels = rd_i32(r, "dictionary");
  rd_i64(r, "dictionary"); /* ntokens: training only */
  ft->prune_size = rd_i64(r, "dictionary");
  if (r->failed) return -1;
  /* Each entry takes at least 10 bytes: NUL, count, type. */
  if (ft->size < 0 || ft->size > FT_MAX_ENTRIES || (size_t)ft->size > left(r) / 10)
    return bad(r, "%s: %lld entries cannot fit in the file", "dictionary", ft->size);
  if (ft->nwords < 0 || ft->nlabels < 0 || (int64_t)ft->nwords + ft->nlabels != ft->size)
    return bad(r, "%s: %lld words and labels do not add up to its size", "dictionary",
               (long long)ft->nwords + ft->nlabels);
  if (ft->prune_size > FT_MAX_ENTRIES || (ft->prune_size > 0 && (uint64_t)ft->prune_size > left(r) / 8))
    return bad(r, "%s: %lld pruned n-grams cannot fit in the file", "dictionary", ft->prune_size);

  /* Entries: first pass measures the words, second copies them. */
  size_t at = r->off, chars = 0;
  for (int32_t i = 0; i < ft->size; i++) {
    const uint8_t *w = r->p + r->off, *nul = memchr(w, 0, left(r));
    if (!nul) return bad(r, "truncated: %s entry %lld has no end", "dictionary", i);
    size_t n = (size_t)(nul - w);
    if (n >= UINT32_MAX / 2) return bad(r, "%s entry %lld is too long", "dictionary", i);
    chars += n + 1;
    take(r, n + 1, "dictionary word");
    int64_t count = rd_i64(r, "dictionary count");
    const uint8_t *type = take(r, 1, "dictionary type");
    if (r->failed) return -1;
    if (*type != (i >= ft->nwords))
      return bad(r, "%s entry %lld: words must come before labels", "dictionary", i);
    if (count < 0 || count >= FT_MAX_COUNT)
      return bad(r, "%s entry %lld has a bad count", "dictionary", i);
  }
  if (chars > UINT32_MAX) return bad(r, "%s: words too long (%lld bytes)", "dictionary", (long long)chars);
  ft->strings = ft_alloc(ft, r, chars, 1);
  ft->word_off = ft_alloc(ft, r, (size_t)ft->size, sizeof(uint32_t));
  ft->word_len = ft_alloc(ft, r, (size_t)ft->size, sizeof(uint32_t));
  ft->word_hash = ft_alloc(ft, r, (size_t)ft->size, sizeof(uint32_t));
  ft->word_type = ft_alloc(ft, r, (size_t)ft->size, 1);
  int64_t *counts = ft_alloc(ft, r, (size_t)ft->nlabels, sizeof(int64_t));
  uint32_t cap = 16;
  while (cap < 2u * (uint32_t)ft->size) cap *= 2;
  ft->table = ft_alloc(ft, r, cap, sizeof(uint32_t));
  ft->table_mask = cap - 1;
  if (r->failed) {
    free(counts);
    return -1;
  }
  size_t pos = 0;
  for (int32_t i = 0; i < ft->size; i++) {
    const char *w = (const char *)r->p + at;
    size_t n = strlen(w);
    memcpy(ft->strings + pos, w, n + 1);
    ft->word_off[i] = (uint32_t)pos, ft->word_len[i] = (uint32_t)n;
    ft->word_hash[i] = ft_hash(w, n);
    ft->word_type[i] = r->p[at + n + 9];
    if (i >= ft->nwords) counts[i - ft->nwords] = (int64_t)le(r->p + at + n + 1, 8);
    pos += n + 1, at += n + 10;
    /* A repeated word maps to its last entry, as in fastText's word2int. */
    int32_t e = ft_find(ft, w, n, ft->word_hash[i]);
    uint32_t slot = ft->word_hash[i] & ft->table_mask;
    if (e >= 0) {
      while (ft->table[slot] != (uint32_t)e + 1) slot = (slot + 1) & ft->table_mask;
    } else {
      while (ft->table[slot]) slot = (slot + 1) & ft->table_mask;
    }
    ft->table[slot] = (uint32_t)i + 1;
  }

  if (ft->prune_size > 0) {
    size_t n = (size_t)ft->prune_size, kept = 0;
    uint32_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    ft->prune = ft_alloc(ft, r, cap, sizeof *ft->prune);
    ft->prune_mask = cap - 1;
    if (r->failed) {
      free(counts);
      return -1;
    }
    for (uint32_t i = 0; i < cap; i++) ft->prune[i].key = -1;
    for (size_t i = 0; i < n; i++) {
      int32_t key = rd_i32(r, "pruned n-grams"), row = rd_i32(r, "pruned n-grams");
      /* A repeated bucket keeps its last row, as fastText's map does. */
      if (key < 0) continue; /* n-gram buckets are never negative */
      uint32_t slot = prune_slot(ft, key);
      kept += ft->prune[slot].key < 0;
      ft->prune[slot] = (struct ft_prune){key, row};
    }
    ft->prune_size = (int64_t)kept;
  }

  int qin = rd_bool(r, "input");
  if (qin < 0 || read_matrix(ft, r, &ft->in, qin, "input") != 0) goto fail;
  if (!qin && ft->prune_size >= 0) {
    bad(r, "%s: a pruned dictionary with a dense input matrix (%lld)", "input", ft->prune_size);
    goto fail;
  }
  int qout = rd_bool(r, "output");
  if (qout < 0 || read_matrix(ft, r, &ft->out, qin && qout, "output") != 0) goto fail;
  if (left(r) != 0) {
    bad(r, "%s: %lld bytes after the output matrix", "file", (long long)left(r));
    goto fail;
  }

  /* Every row prediction can reach must exist. */
  if (ft->in.rows < ft->nwords) {
    bad(r, "%s matrix has fewer rows than the %lld words", "input", ft->nwords);
    goto fail;
  }
  if (ft->prune_size < 0 && ft->in.rows - ft->nwords < ft->bucket) {
    bad(r, "%s matrix lacks rows for the %lld hash buckets", "input", ft->bucket);
    goto fail;
  }
  for (uint32_t i = 0; ft->prune && i <= ft->prune_mask; i++) {
    int32_t row = ft->prune[i].row;
    if (ft->prune[i].key >= 0 && (row < 0 || row >= ft->in.rows - ft->nwords)) {
      bad(r, "%s: pruned n-gram row %lld out of range", "dictionary", row);
      goto fail;
    }
  }
  if (model != MODEL_SUP) {
    sotto_error_set(r->err, SOTTO_UNSUPPORTED_MODEL,
                    "fastText model: a word-vector model (%s), not a classifier",
                    model == MODEL_CBOW ? "cbow" : "skipgram");
    goto fail;
  }
  if (ft->nlabels < 1) {
    bad(r, "%s: a classifier with %lld labels", "dictionary", 0);
    goto fail;
  }
  if (ft->out.rows != ft->nlabels) {
    bad(r, "%s matrix has %lld rows, not one per label", "output", ft->out.rows);
    goto fail;
  }
  if (densify(ft, r, &ft->out) != 0) goto fail;

  if (ft->loss == LOSS_HS) {
    ft->tree_left = ft_alloc(ft, r, 2 * (size_t)ft->nlabels - 1, sizeof(int32_t));
    ft->tree_right = ft_alloc(ft, r, 2 * (size_t)ft->nlabels - 1, sizeof(int32_t));
    if (r->failed) goto fail;
    size_t total = 2 * (size_t)ft->nlabels - 1;
    int64_t *count = malloc(total * sizeof *count);
    int32_t *depth = malloc(total * sizeof *depth);
    int32_t tree_depth = count && depth ? build_tree(ft, counts, count, depth) : -1;
    free(count), free(depth);
    if (tree_depth < 0) {
      sotto_error_set(r->err, SOTTO_OUT_OF_MEMORY, "fastText model: out of memory");
      goto fail;
    }
    /* Real label counts give trees a few dozen levels deep; the search
     * recurses once per level. */
    if (tree_depth > FT_MAX_TREE_DEPTH) {
      bad(r, "%s: label counts make a tree %lld levels deep", "dictionary", tree_depth);
      goto fail;
    }
  } else if ((size_t)ft->nlabels * (size_t)ft->dim >= FT_XNN_MIN) {
    /* XNNPACK packs its own copy of the weights, norms applied. */
    size_t n = (size_t)ft->nlabels * (size_t)ft->dim;
    float *w = malloc(n * sizeof(float));
    if (!w) {
      sotto_error_set(r->err, SOTTO_OUT_OF_MEMORY, "fastText model: out of memory");
      goto fail;
    }
    for (size_t i = 0; i < n; i++)
      w[i] = ft->out.dense[i] * (ft->out_scale ? ft->out_scale[i / (size_t)ft->dim] : 1.0f);
    ft->out_linear = sotto_linear_create(w, NULL, (size_t)ft->dim, (size_t)ft->nlabels, r->err);
    free(w);
    if (!ft->out_linear) goto fail;
    ft->bytes += n * sizeof(float);
  }
  /* Loss::Loss's table: sigmoid sampled at 512 steps over [-8, 8]. */
  for (int i = 0; i <= 512; i++) {
    float x = (float)(i * 2 * 8) / 512 - 8;
    ft->sigmoid_table[i] = (float)(1.0 / (1.0 + (double)expf(-x)));
  }
  free(counts);
  return 0;
fail:
  r->failed = 1;
  free(counts);
  return -1;
}

int sotto_fasttext_load(sotto_model *model, sotto_error *err) {
  sotto_fasttext *ft = calloc(1, sizeof *ft);
  if (!ft) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  reader r = {model->file.data, model->file.size, 0, err, 0};
  if (parse(ft, &r) != 0) {
    if (err && !err->status) sotto_error_set(err, SOTTO_BAD_MODEL, "fastText model: cannot load");
    ft_free(ft);
    return -1;
  }
  sotto_blob_release(&model->file); /* everything prediction needs is copied */
  model->arch = "fasttext";
  model->impl = ft;
  model->destroy = ft_free;
  model->bytes = ft->bytes + sizeof *ft;
  return 0;
}

/* ---- prediction ---- */

int sotto_fasttext_labels(const sotto_fasttext *ft) { return ft->nlabels; }

int sotto_fasttext_has_word(const sotto_fasttext *ft, const char *w, size_t n) {
  int32_t e = ft_find(ft, w, n, ft_hash(w, n));
  return e >= 0 && ft->word_type[e] == 0;
}

const char *sotto_fasttext_label(const sotto_fasttext *ft, int i) {
  if (i < 0 || i >= ft->nlabels) return "";
  return ft->strings + ft->word_off[ft->nwords + i];
}

typedef struct {
  const sotto_fasttext *ft;
  float *hidden;
  int64_t n; /* rows summed into hidden */
} accum;

/* Dictionary::pushHash: an n-gram bucket becomes an input row. */
static void push_hash(accum *a, int64_t id) {
  const sotto_fasttext *ft = a->ft;
  if (ft->prune_size == 0 || id < 0) return;
  if (ft->prune_size > 0) {
    uint32_t slot = prune_slot(ft, id);
    if (ft->prune[slot].key < 0) return;
    id = ft->prune[slot].row;
  }
  add_row(&ft->in, ft->nwords + id, a->hidden);
  a->n++;
}

/* Dictionary::computeSubwords over "<word>": every run of minn..maxn UTF-8
 * characters, except the lone "<" and ">". */
static void add_subwords(accum *a, const char *w, size_t n) {
  const sotto_fasttext *ft = a->ft;
  for (size_t i = 0; i < n; i++) {
    if (((uint8_t)w[i] & 0xC0) == 0x80) continue;
    uint32_t h = FNV_OFFSET;
    size_t j = i;
    for (int32_t len = 1; j < n && len <= ft->maxn; len++) {
      h = fnv_step(h, (uint8_t)w[j++]);
      while (j < n && ((uint8_t)w[j] & 0xC0) == 0x80) h = fnv_step(h, (uint8_t)w[j++]);
      if (len >= ft->minn && !(len == 1 && (i == 0 || j == n)))
        push_hash(a, (int64_t)(h % (uint32_t)ft->bucket));
    }
  }
}

static float std_log(float x) { return (float)log((double)x + 1e-5); }

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
  const float *w = ft->out.dense + (size_t)row * (size_t)ft->dim;
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
  if (!(x >= -8)) return 0.0f; /* NaN too: it has no table index */
  if (x > 8) return 1.0f;
  return ft->sigmoid_table[(int64_t)((x + 8) * 512 / 8 / 2)];
}

/* Loss::computeOutput for softmax, one-vs-all and negative sampling. */
static int output_layer(const sotto_fasttext *ft, pthreadpool_t pool, const float *hidden,
                        float *out, sotto_error *err) {
  int32_t n = ft->nlabels;
  if (ft->out_linear) {
    if (sotto_linear_run(ft->out_linear, pool, hidden, 1, out, err) != 0) return -1;
    if (ft->loss == LOSS_SOFTMAX) return sotto_softmax(pool, out, out, 1, (size_t)n, err);
  } else {
    for (int32_t i = 0; i < n; i++) out[i] = dot_row(ft, i, hidden);
    if (ft->loss == LOSS_SOFTMAX) {
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
  if (ft->loss != LOSS_SOFTMAX)
    for (int32_t i = 0; i < n; i++) out[i] = table_sigmoid(ft, out[i]);
  return 0;
}

int sotto_fasttext_predict(sotto_fasttext *ft, pthreadpool_t pool, const char *text, size_t len,
                           int k, float threshold, sotto_fasttext_pred *out, sotto_error *err) {
  if (k < 1) return sotto_error_set(err, SOTTO_BAD_REQUEST, "k must be at least 1");
  if (k > ft->nlabels) k = ft->nlabels;
  size_t max_tokens = len / 2 + 2;
  float *hidden = calloc((size_t)ft->dim, sizeof(float));
  float *scores = ft->loss == LOSS_HS ? NULL : malloc((size_t)ft->nlabels * sizeof(float));
  uint32_t *hashes = malloc(max_tokens * sizeof(uint32_t));
  char *word = malloc(len + sizeof EOS + 2);
  scored *heap = malloc(((size_t)k + 1) * sizeof *heap);
  if (!hidden || !hashes || !word || !heap || (ft->loss != LOSS_HS && !scores)) {
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
    uint32_t h = ft_hash(tok, n);
    int32_t wid = ft_find(ft, tok, n, h);
    int is_label = wid >= 0 ? ft->word_type[wid] == 1
                            : n >= sizeof LABEL_PREFIX - 1 &&
                                  memcmp(tok, LABEL_PREFIX, sizeof LABEL_PREFIX - 1) == 0;
    if (!is_label) {
      /* Dictionary::addSubwords: the word's own row, then its n-grams. */
      if (wid >= 0) {
        add_row(&ft->in, wid, hidden);
        a.n++;
      }
      if (!eos && (wid < 0 || ft->maxn > 0)) {
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
  for (size_t i = 0; ft->word_ngrams > 1 && i < n_hashes; i++) {
    uint64_t h = (uint64_t)(int64_t)as_i32(hashes[i]);
    for (size_t j = i + 1; j < n_hashes && j < i + (size_t)ft->word_ngrams; j++) {
      h = h * 116049371u + (uint64_t)(int64_t)as_i32(hashes[j]);
      push_hash(&a, (int64_t)(h % (uint64_t)ft->bucket));
    }
  }
  int got = 0;
  if (a.n > 0) {
    /* Model::computeHidden: the mean of the rows (times a float 1/n). */
    float inv = (float)(1.0 / (double)a.n);
    for (int32_t j = 0; j < ft->dim; j++) hidden[j] *= inv;
    topk t = {heap, 0, k};
    if (ft->loss == LOSS_HS) {
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
