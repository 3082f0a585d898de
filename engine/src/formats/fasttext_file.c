/*
 * fasttext_file.c - reads a fastText model file (fastText 0.9.2's
 * FastText::saveModel: .bin, and .ftz after quantization) into the plain
 * arrays of sotto_fasttext_file, checking everything.
 *
 * The file is fastText's in-memory structures written out in order, all
 * little-endian:
 *   header: int32 magic 793712314, int32 version (11 or 12)
 *   args: int32 dim ws epoch minCount neg wordNgrams loss model bucket minn
 *         maxn lrUpdateRate, float64 t
 *   dictionary: int32 size nwords nlabels, int64 ntokens pruneidx_size,
 *     size x {word NUL, int64 count, int8 type (0 word, 1 label)},
 *   prune index: pruneidx_size x {int32 n-gram bucket, int32 row among the kept ones}
 *   matrices: bool quantized input, input matrix, bool quantized output, output matrix
 *     dense matrix: int64 rows cols, rows x cols float32
 *     quantized matrix: bool qnorm, int64 rows cols, int32 codesize, codes,
 *       product quantizer, and with qnorm: rows norm codes + a 1-d quantizer
 *     product quantizer: int32 dim nsubq dsub lastdsub, dim x 256 float32
 *
 * Nothing in the file is trusted: every count is checked against the bytes
 * that are left before anything is allocated, and every index prediction
 * can compute is proven in range here (checks).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/fasttext_file.h"

#define VERSION_MIN 11        /* FastText::checkModel accepts these two */
#define VERSION_MAX 12
#define N_ARGS 12             /* int32 arguments before the float64 t */
#define MAX_DIM 65536
#define MAX_WORD_NGRAMS 1000
#define MAX_ENTRIES (1 << 26) /* fastText's vocabulary tops out at 30M */
#define ENTRY_MIN_BYTES 10    /* NUL, int64 count, int8 type */
#define PRUNE_ENTRY_BYTES 8   /* int32 bucket, int32 row */
#define TABLE_MIN 16          /* smallest open-addressing table */
#define PRUNE_MIX 0x9E3779B1u /* golden-ratio multiplier spreading bucket ids */

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
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n == 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
  }
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
#else
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
#endif
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

static void *alloc(sotto_fasttext_file *f, reader *r, size_t n, size_t elem) {
  if (r->failed) return NULL;
  void *p = n ? calloc(n, elem) : malloc(1);
  if (!p) {
    sotto_error_set(r->err, SOTTO_OUT_OF_MEMORY, "fastText model: out of memory for %zu x %zu bytes",
                    n, elem);
    r->failed = 1;
  }
  f->bytes += n * elem;
  return p;
}

/* ---- the dictionary's lookups ---- */

uint32_t sotto_fasttext_hash(const char *s, size_t n) {
  uint32_t h = SOTTO_FASTTEXT_FNV_OFFSET;
  for (size_t i = 0; i < n; i++) h = sotto_fasttext_hash_step(h, (uint8_t)s[i]);
  return h;
}

int32_t sotto_fasttext_word(const sotto_fasttext_file *f, const char *w, size_t n, uint32_t h) {
  for (uint32_t i = h & f->table_mask;; i = (i + 1) & f->table_mask) {
    uint32_t e = f->table[i];
    if (!e) return -1;
    e--;
    if (f->word_hash[e] == h && f->word_len[e] == n &&
        memcmp(f->strings + f->word_off[e], w, n) == 0)
      return (int32_t)e;
  }
}

/* Slot of n-gram bucket key in the pruned index (bucket ids are hashes
 * already, but consecutive ones must not crowd one stretch of the table). */
static uint32_t prune_slot(const sotto_fasttext_file *f, int64_t key) {
  uint32_t h = (uint32_t)key * PRUNE_MIX;
  for (h = (h ^ h >> 15) & f->prune_mask;; h = (h + 1) & f->prune_mask)
    if (f->prune[h].key < 0 || f->prune[h].key == key) return h;
}

int32_t sotto_fasttext_pruned_row(const sotto_fasttext_file *f, int64_t key) {
  uint32_t slot = prune_slot(f, key);
  return f->prune[slot].key < 0 ? -1 : f->prune[slot].row;
}

static const float *centroid(const sotto_fasttext_matrix *m, int32_t sub, uint8_t code) {
  if (sub == m->nsubq - 1)
    return m->centroids + (size_t)sub * SOTTO_FASTTEXT_KSUB * m->dsub + (size_t)code * m->lastdsub;
  return m->centroids + ((size_t)sub * SOTTO_FASTTEXT_KSUB + code) * m->dsub;
}

void sotto_fasttext_add_row(const sotto_fasttext_matrix *m, int64_t i, float *x) {
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

/* ---- the parts of the file, in order ---- */

static int read_header(sotto_fasttext_file *f, reader *r) {
  int32_t magic = rd_i32(r, "header");
  f->version = rd_i32(r, "header");
  if (r->failed) return -1;
  if (magic != SOTTO_FASTTEXT_MAGIC)
    return bad(r, "%s: wrong magic number %lld, not a fastText file", "header", magic);
  if (f->version < VERSION_MIN || f->version > VERSION_MAX)
    return bad(r, "%s: unsupported version %lld (11 and 12 are known)", "header", f->version);
  return 0;
}

/* Args::load. */
static int read_args(sotto_fasttext_file *f, reader *r) {
  int32_t a[N_ARGS];
  for (int i = 0; i < N_ARGS; i++) a[i] = rd_i32(r, "arguments");
  take(r, 8, "arguments"); /* t, the sampling threshold: training only */
  if (r->failed) return -1;
  sotto_fasttext_args *g = &f->args;
  g->dim = a[0], g->word_ngrams = a[5], g->loss = a[6], g->model = a[7];
  g->bucket = a[8], g->minn = a[9], g->maxn = a[10];
  if (f->version == VERSION_MIN && g->model == SOTTO_FASTTEXT_SUPERVISED)
    g->maxn = 0; /* as fastText: no char n-grams */
  if (g->dim < 1 || g->dim > MAX_DIM) return bad(r, "%s: dimension %lld", "arguments", g->dim);
  if (g->loss < SOTTO_FASTTEXT_LOSS_HS || g->loss > SOTTO_FASTTEXT_LOSS_OVA)
    return bad(r, "%s: unknown loss %lld", "arguments", g->loss);
  if (g->model < SOTTO_FASTTEXT_CBOW || g->model > SOTTO_FASTTEXT_SUPERVISED)
    return bad(r, "%s: unknown model type %lld", "arguments", g->model);
  if (g->word_ngrams < 0 || g->word_ngrams > MAX_WORD_NGRAMS)
    return bad(r, "%s: wordNgrams %lld", "arguments", g->word_ngrams);
  if (g->bucket < 0) return bad(r, "%s: bucket %lld", "arguments", g->bucket);
  /* fastText divides by bucket whenever it hashes an n-gram */
  if (g->bucket == 0 && ((g->maxn >= 1 && g->maxn >= g->minn) || g->word_ngrams > 1))
    return bad(r, "%s: n-grams with %lld hash buckets", "arguments", 0);
  return 0;
}

/* Dictionary::load: the counts, then every entry; words go into one
 * arena and a hash table (a repeated word maps to its last entry, as in
 * fastText's word2int). */
static int read_dictionary(sotto_fasttext_file *f, reader *r) {
  f->size = rd_i32(r, "dictionary");
  f->nwords = rd_i32(r, "dictionary");
  f->nlabels = rd_i32(r, "dictionary");
  rd_i64(r, "dictionary"); /* ntokens: training only */
  f->prune_size = rd_i64(r, "dictionary");
  if (r->failed) return -1;
  if (f->size < 0 || f->size > MAX_ENTRIES || (size_t)f->size > left(r) / ENTRY_MIN_BYTES)
    return bad(r, "%s: %lld entries cannot fit in the file", "dictionary", f->size);
  if (f->nwords < 0 || f->nlabels < 0 || (int64_t)f->nwords + f->nlabels != f->size)
    return bad(r, "%s: %lld words and labels do not add up to its size", "dictionary",
               (long long)f->nwords + f->nlabels);
  if (f->prune_size > MAX_ENTRIES ||
      (f->prune_size > 0 && (uint64_t)f->prune_size > left(r) / PRUNE_ENTRY_BYTES))
    return bad(r, "%s: %lld pruned n-grams cannot fit in the file", "dictionary", f->prune_size);

  /* Entries: the first pass measures and checks them, the second copies. */
  size_t at = r->off, chars = 0;
  for (int32_t i = 0; i < f->size; i++) {
    const uint8_t *w = r->p + r->off, *nul = memchr(w, 0, left(r));
    if (!nul) return bad(r, "truncated: %s entry %lld has no end", "dictionary", i);
    size_t n = (size_t)(nul - w);
    if (n >= UINT32_MAX / 2) return bad(r, "%s entry %lld is too long", "dictionary", i);
    chars += n + 1;
    take(r, n + 1, "dictionary word");
    int64_t count = rd_i64(r, "dictionary count");
    const uint8_t *type = take(r, 1, "dictionary type");
    if (r->failed) return -1;
    if (*type != (i >= f->nwords))
      return bad(r, "%s entry %lld: words must come before labels", "dictionary", i);
    if (count < 0 || count >= SOTTO_FASTTEXT_MAX_COUNT)
      return bad(r, "%s entry %lld has a bad count", "dictionary", i);
  }
  if (chars > UINT32_MAX)
    return bad(r, "%s: words too long (%lld bytes)", "dictionary", (long long)chars);
  f->strings = alloc(f, r, chars, 1);
  f->word_off = alloc(f, r, (size_t)f->size, sizeof(uint32_t));
  f->word_len = alloc(f, r, (size_t)f->size, sizeof(uint32_t));
  f->word_hash = alloc(f, r, (size_t)f->size, sizeof(uint32_t));
  f->word_type = alloc(f, r, (size_t)f->size, 1);
  f->label_counts = alloc(f, r, (size_t)f->nlabels, sizeof(int64_t));
  uint32_t cap = TABLE_MIN;
  while (cap < 2u * (uint32_t)f->size) cap *= 2;
  f->table = alloc(f, r, cap, sizeof(uint32_t));
  f->table_mask = cap - 1;
  if (r->failed) return -1;
  size_t pos = 0;
  for (int32_t i = 0; i < f->size; i++) {
    const char *w = (const char *)r->p + at;
    size_t n = strlen(w);
    memcpy(f->strings + pos, w, n + 1);
    f->word_off[i] = (uint32_t)pos, f->word_len[i] = (uint32_t)n;
    f->word_hash[i] = sotto_fasttext_hash(w, n);
    f->word_type[i] = r->p[at + n + 9];
    if (i >= f->nwords) f->label_counts[i - f->nwords] = (int64_t)le(r->p + at + n + 1, 8);
    pos += n + 1, at += n + ENTRY_MIN_BYTES;
    int32_t e = sotto_fasttext_word(f, w, n, f->word_hash[i]);
    uint32_t slot = f->word_hash[i] & f->table_mask;
    if (e >= 0) {
      while (f->table[slot] != (uint32_t)e + 1) slot = (slot + 1) & f->table_mask;
    } else {
      while (f->table[slot]) slot = (slot + 1) & f->table_mask;
    }
    f->table[slot] = (uint32_t)i + 1;
  }
  return 0;
}

/* Dictionary::load's pruneidx: bucket -> row among the kept n-grams. */
static int read_prune_index(sotto_fasttext_file *f, reader *r) {
  if (f->prune_size <= 0) return 0;
  size_t n = (size_t)f->prune_size, kept = 0;
  uint32_t cap = TABLE_MIN;
  while (cap < 2 * n) cap *= 2;
  f->prune = alloc(f, r, cap, sizeof *f->prune);
  f->prune_mask = cap - 1;
  if (r->failed) return -1;
  for (uint32_t i = 0; i < cap; i++) f->prune[i].key = -1;
  for (size_t i = 0; i < n; i++) {
    int32_t key = rd_i32(r, "pruned n-grams"), row = rd_i32(r, "pruned n-grams");
    /* A repeated bucket keeps its last row, as fastText's map does. */
    if (key < 0) continue; /* n-gram buckets are never negative */
    uint32_t slot = prune_slot(f, key);
    kept += f->prune[slot].key < 0;
    f->prune[slot] = (struct sotto_fasttext_prune){key, row};
  }
  f->prune_size = (int64_t)kept;
  return r->failed ? -1 : 0;
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

/* DenseMatrix::load or QuantMatrix::load. */
static int read_matrix(sotto_fasttext_file *f, reader *r, sotto_fasttext_matrix *m,
                       int quantized, const char *what) {
  int qnorm = quantized ? rd_bool(r, what) : 0;
  m->rows = rd_i64(r, what);
  m->cols = rd_i64(r, what);
  if (r->failed) return -1;
  if (m->cols != f->args.dim)
    return bad(r, "%s matrix has %lld columns, not the model's dimension", what, m->cols);
  if (m->rows < 0 || m->rows > INT32_MAX)
    return bad(r, "%s matrix has %lld rows", what, m->rows);
  size_t rows = (size_t)m->rows, cols = (size_t)m->cols;
  if (!quantized) {
    if (rows > left(r) / 4 / cols)
      return bad(r, "truncated: %s matrix declares %lld rows", what, m->rows);
    m->dense = alloc(f, r, rows * cols, sizeof(float));
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
  if (cols * SOTTO_FASTTEXT_KSUB > left(r) / 4)
    return bad(r, "truncated: %s quantizer needs %lld centroid values", what,
               (long long)(cols * SOTTO_FASTTEXT_KSUB));
  m->codes = alloc(f, r, (size_t)codesize, 1);
  m->centroids = alloc(f, r, cols * SOTTO_FASTTEXT_KSUB, sizeof(float));
  if (r->failed) return -1;
  memcpy(m->codes, r->p + code_at, (size_t)codesize);
  rd_floats(r, m->centroids, cols * SOTTO_FASTTEXT_KSUB);
  if (qnorm) {
    const uint8_t *nc = take(r, rows, "norm codes");
    int32_t ns, ds, last;
    if (read_pq(r, 1, &ns, &ds, &last, "norm") != 0) return -1;
    m->norm_codes = alloc(f, r, rows, 1);
    if (r->failed) return -1;
    memcpy(m->norm_codes, nc, rows);
    rd_floats(r, m->norm_centroids, SOTTO_FASTTEXT_KSUB);
  }
  return r->failed ? -1 : 0;
}

/* FastText::loadModel's matrices: the output is quantized only along with
 * the input (fastText ignores the flag otherwise). */
static int read_matrices(sotto_fasttext_file *f, reader *r) {
  int qin = rd_bool(r, "input");
  if (qin < 0 || read_matrix(f, r, &f->in, qin, "input") != 0) return -1;
  if (!qin && f->prune_size >= 0)
    return bad(r, "%s: a pruned dictionary with a dense input matrix (%lld)", "input",
               f->prune_size);
  int qout = rd_bool(r, "output");
  if (qout < 0 || read_matrix(f, r, &f->out, qin && qout, "output") != 0) return -1;
  if (left(r) != 0)
    return bad(r, "%s: %lld bytes after the output matrix", "file", (long long)left(r));
  return 0;
}

/* Every input row prediction can reach must exist. */
static int check_rows(sotto_fasttext_file *f, reader *r) {
  if (f->in.rows < f->nwords)
    return bad(r, "%s matrix has fewer rows than the %lld words", "input", f->nwords);
  if (f->prune_size < 0 && f->in.rows - f->nwords < f->args.bucket)
    return bad(r, "%s matrix lacks rows for the %lld hash buckets", "input", f->args.bucket);
  for (uint32_t i = 0; f->prune && i <= f->prune_mask; i++) {
    int32_t row = f->prune[i].row;
    if (f->prune[i].key >= 0 && (row < 0 || row >= f->in.rows - f->nwords))
      return bad(r, "%s: pruned n-gram row %lld out of range", "dictionary", row);
  }
  return 0;
}

int sotto_fasttext_file_read(sotto_fasttext_file *f, const uint8_t *data, size_t size,
                             sotto_error *err) {
  memset(f, 0, sizeof *f);
  reader r = {data, size, 0, err, 0};
  if (read_header(f, &r) != 0 || read_args(f, &r) != 0 || read_dictionary(f, &r) != 0 ||
      read_prune_index(f, &r) != 0 || read_matrices(f, &r) != 0 || check_rows(f, &r) != 0) {
    if (err && !err->status) sotto_error_set(err, SOTTO_BAD_MODEL, "fastText model: cannot load");
    sotto_fasttext_file_free(f);
    return -1;
  }
  return 0;
}

static void matrix_free(sotto_fasttext_matrix *m) {
  free(m->dense), free(m->codes), free(m->centroids), free(m->norm_codes);
}

void sotto_fasttext_file_free(sotto_fasttext_file *f) {
  free(f->strings), free(f->word_off), free(f->word_len), free(f->word_hash);
  free(f->word_type), free(f->label_counts), free(f->table), free(f->prune);
  matrix_free(&f->in);
  matrix_free(&f->out);
  memset(f, 0, sizeof *f);
}
