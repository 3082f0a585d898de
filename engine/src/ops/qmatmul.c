/*
 * qmatmul.c - matrix products over weights in GGUF tensor types
 * (qmatmul.h): kernel choice, activation preparation and the tiling over
 * threads (pthreadpool).
 */
#define _GNU_SOURCE /* mremap */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <sys/mman.h>
#endif

#include "ops/qkernels.h"
#include "ops/qmatmul.h"

#if defined(__x86_64__)
#include <cpuinfo.h>
#endif

/* Weight rows per task: enough tasks to balance two to eight threads on a
 * GEMV, and a block of weights that stays in L1/L2 while every activation
 * row passes over it in a GEMM. */
#define QM_TILE_ROWS 16
#define QM_TILE_ACTS 4 /* activation rows per kernel call (qk_dot_fn's nr) */
#define QM_GEMM_ACTS 256 /* activation rows per GEMM kernel call */

static qk_table table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void) {
  qk_fill_scalar(&table);
#if defined(__wasm_simd128__)
  qk_fill_wasm(&table);
#elif defined(__x86_64__)
  /* "scalar", "avx2", "avx512" (no AMX): to compare kernels */
  const char *want = getenv("SOTTO_ISA");
  if (want && strcmp(want, "scalar") == 0) return;
  if (!cpuinfo_initialize()) return;
  if (cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_f16c())
    qk_fill_avx2(&table);
  if (want && strcmp(want, "avx2") == 0) return;
  if (cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() && cpuinfo_has_x86_avx512vl() &&
      cpuinfo_has_x86_avx512vnni() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_f16c()) {
    qk_fill_avx512(&table);
    if (cpuinfo_has_x86_gfni()) qk_fill_avx512_gfni(&table);
  } else {
    return;
  }
  if (want && strcmp(want, "avx512") == 0) return;
  if (cpuinfo_has_x86_amx_tile() && cpuinfo_has_x86_amx_int8()) qk_fill_amx(&table);
#endif
}

static const qk_table *kernels(void) {
  pthread_once(&table_once, table_init);
  return &table;
}

const char *sotto_qmatmul_isa(void) { return kernels()->isa; }

int sotto_qmat_init(sotto_qmat *m, sotto_dtype type, const void *data, int64_t n_in,
                    int64_t n_out, sotto_error *err) {
  const sotto_dtype_info *info = sotto_dtype_get(type);
  const int act = qk_act_of(type);
  if (!info || act < 0 || !kernels()->dot[type])
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "no kernels for tensor type %s",
                           info ? info->name : "(unknown)");
  const int block = act == QK_ACT_Q8K ? SOTTO_QK_K : act == QK_ACT_Q8A ? SOTTO_QK : 1;
  if (n_in <= 0 || n_out <= 0 || n_in % info->block || n_in % block)
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                           "a %s matrix needs rows of a multiple of %d values (has %lld)",
                           info->name, block > info->block ? block : info->block, (long long)n_in);
  m->type = type;
  m->data = data;
  m->n_in = n_in;
  m->n_out = n_out;
  m->row_bytes = sotto_dtype_row_bytes(type, n_in);
  m->packed = 0;
  return 0;
}

/* Bytes of one spread row (none where the kernels do not spread). */
static size_t spread_bytes(int64_t max_n) {
  return (size_t)(max_n / SOTTO_QK) * kernels()->spread8_bytes;
}

size_t sotto_qact_bytes(int64_t max_n, size_t max_rows) {
  /* Q8A and Q8_K buffers; F32 inputs are used as they are. The spread row
   * of wasm builds (8.5 bytes a value, one row) is left out, so that every
   * build estimates a model alike. */
  return max_rows * (qk_act_row_bytes(QK_ACT_Q8A, max_n) +
                     qk_act_row_bytes(QK_ACT_Q8K, max_n + SOTTO_QK_K));
}

int sotto_qact_init(sotto_qact *a, int64_t max_n, size_t max_rows, sotto_error *err) {
  memset(a, 0, sizeof *a);
  a->max_n = max_n;
  a->max_rows = max_rows;
  for (int f = QK_ACT_Q8A; f < QK_ACT_COUNT; f++) {
    /* Q8_K rows are allocated for a whole number of super-blocks. */
    a->buf[f] = malloc(max_rows * qk_act_row_bytes(f, max_n + SOTTO_QK_K) + 64);
    if (!a->buf[f]) {
      sotto_qact_free(a);
      return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory for activations");
    }
  }
  if (spread_bytes(max_n) && !(a->spread = malloc(spread_bytes(max_n)))) {
    sotto_qact_free(a);
    return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory for activations");
  }
  return 0;
}

void sotto_qact_free(sotto_qact *a) {
  for (int f = 0; f < QK_ACT_COUNT; f++) free(a->buf[f]);
  free(a->spread);
  memset(a, 0, sizeof *a);
}

void sotto_qact_set(sotto_qact *a, const float *x, size_t rows, int64_t n) {
  a->x = x;
  a->rows = rows;
  a->n = n;
  a->ready = 0;
}

typedef struct {
  const qk_table *k;
  const sotto_qmat *w;
  const void *x;
  size_t x_stride;
  float *y;
  const void *spread; /* the one input row spread for gemv8, or NULL */
} qm_job;

/* Activation rows [i0, i1) by weight rows [j0, j1): tile_m weight rows
 * against one activation row where the kernels have it, else QM_TILE_ACTS
 * activation rows per kernel call. */
static void qm_dots(const qm_job *job, size_t i0, size_t i1, size_t j0, size_t j1, qk_dot_fn dot) {
  const sotto_qmat *w = job->w;
  const size_t n_out = (size_t)w->n_out, tm = (size_t)job->k->tile_m;
  const qk_tile_fn tile1 = job->k->tile1[w->type];
  size_t jt = j0;
  if (tile1 && j1 - j0 >= tm) {
    jt = j0 + (j1 - j0) / tm * tm;
    for (size_t i = i0; i < i1; i++)
      for (size_t j = j0; j < jt; j += tm)
        tile1(w->n_in, (const uint8_t *)w->data + j * w->row_bytes, w->row_bytes,
              (const uint8_t *)job->x + i * job->x_stride, job->x_stride, job->y + i * n_out + j, n_out);
  }
  float out[QM_TILE_ACTS];
  for (size_t i = i0; i < i1; i += QM_TILE_ACTS) {
    const int nr = (int)(i1 - i < QM_TILE_ACTS ? i1 - i : QM_TILE_ACTS);
    const uint8_t *x = (const uint8_t *)job->x + i * job->x_stride;
    for (size_t j = jt; j < j1; j++) {
      dot(w->n_in, (const uint8_t *)w->data + j * w->row_bytes, x, job->x_stride, nr, out);
      for (int r = 0; r < nr; r++) job->y[(i + (size_t)r) * n_out + j] = out[r];
    }
  }
}

typedef struct {
  qk_quant_fn quant;
  const sotto_qact *a;
  void *out;
  size_t stride;
} qm_prep;

static void qm_prepare_row(void *ctx, size_t r) {
  const qm_prep *p = ctx;
  p->quant(p->a->x + r * (size_t)p->a->n, (uint8_t *)p->out + r * p->stride, p->a->n);
}

/* The same for weights packed by 8 rows; the rows past the last whole 8
 * (left in the plain layout) by dots. */
static void qm_tile8(const qm_job *job, size_t j0, size_t i0, size_t nj, size_t ni) {
  const sotto_qmat *w = job->w;
  const qk_tile8_fn tile8 = job->k->tile8[w->type];
  const size_t n_out = (size_t)w->n_out, j_packed = n_out / 8 * 8;
  size_t j = j0;
  if (job->spread)
    for (; j + 8 <= j0 + nj && j + 8 <= j_packed; j += 8)
      job->k->gemv8[w->type](w->n_in, (const uint8_t *)w->data + j * w->row_bytes, job->spread,
                             (n_out - j) * w->row_bytes, 1, job->y + j, n_out);
  for (; j + 8 <= j0 + nj && j + 8 <= j_packed; j += 8)
    for (size_t i = i0; i < i0 + ni; i += QM_TILE_ACTS) {
      const int nr = (int)(i0 + ni - i < QM_TILE_ACTS ? i0 + ni - i : QM_TILE_ACTS);
      tile8(w->n_in, (const uint8_t *)w->data + j * w->row_bytes,
            (const uint8_t *)job->x + i * job->x_stride, job->x_stride, nr, job->y + i * n_out + j,
            n_out);
    }
  if (j < j0 + nj) qm_dots(job, i0, i0 + ni, j, j0 + nj, job->k->dot[w->type]);
}

/* One tile: weight rows [j0, j0 + nj) by activation rows [i0, i0 + ni):
 * GEMM tiles where the kernels have them, dots of up to QM_TILE_ACTS rows
 * for the rest. */
static void qm_tile(void *ctx, size_t j0, size_t i0, size_t nj, size_t ni) {
  const qm_job *job = ctx;
  const sotto_qmat *w = job->w;
  const qk_dot_fn dot = job->k->dot[w->type];
  const qk_tile_fn tile = job->k->tile[w->type];
  const size_t n_out = (size_t)w->n_out, tm = (size_t)job->k->tile_m, tn = (size_t)job->k->tile_n;
  size_t i = i0, j_end = j0;
  if (w->packed) {
    qm_tile8(job, j0, i0, nj, ni);
    return;
  }
  if (tile && ni >= tn && nj >= tm) {
    j_end = j0 + nj / tm * tm;
    for (; i + tn <= i0 + ni; i += tn)
      for (size_t j = j0; j < j_end; j += tm)
        tile(w->n_in, (const uint8_t *)w->data + j * w->row_bytes, w->row_bytes,
             (const uint8_t *)job->x + i * job->x_stride, job->x_stride, job->y + i * n_out + j,
             n_out);
    /* the weight rows left over, for the tiled activation rows */
    qm_dots(job, i0, i, j_end, j0 + nj, dot);
    j_end = j0;
  }
  qm_dots(job, i, i0 + ni, j_end, j0 + nj, dot);
}

/* The same with the GEMM kernels (AMX): QK_GEMM_N weight rows by the
 * activation rows in multiples of QK_GEMM_M; the rest as qm_tile does it. */
static void qm_gemm(void *ctx, size_t j0, size_t i0, size_t nj, size_t ni) {
  const qm_job *job = ctx;
  const sotto_qmat *w = job->w;
  const qk_gemm_fn gemm = w->packed ? job->k->gemm8[w->type] : job->k->gemm[w->type];
  const size_t m = ni / QK_GEMM_M * QK_GEMM_M, n_out = (size_t)w->n_out;
  if (nj < QK_GEMM_N || !m) {
    qm_tile(ctx, j0, i0, nj, ni);
    return;
  }
  gemm(w->n_in, (const uint8_t *)w->data + j0 * w->row_bytes, w->row_bytes,
       (const uint8_t *)job->x + i0 * job->x_stride, job->x_stride, m, job->y + i0 * n_out + j0, n_out);
  if (m < ni) qm_tile(ctx, j0, i0 + m, nj, ni - m);
}

/* The job of w on a's rows in the activation format w takes (quantized
 * once per input and format). */
static qm_job qm_job_of(const qk_table *k, pthreadpool_t pool, const sotto_qmat *w, sotto_qact *a,
                        float *y) {
  const int f = qk_act_of(w->type);
  qm_job job = {k, w, a->x, qk_act_row_bytes(f, a->n), y, NULL};
  if (f != QK_ACT_F32) {
    if (!(a->ready & (1u << f))) {
      qm_prep p = {k->quant[f], a, a->buf[f], job.x_stride};
      pthreadpool_parallelize_1d(a->rows > 1 ? pool : NULL, qm_prepare_row, &p, a->rows, 0);
      a->ready |= 1u << f;
    }
    job.x = a->buf[f];
  }
  return job;
}

/* One input row by packed weights whose kernels take it spread (wasm's
 * gemv8): the row spread once per input (kept in a, like its quantized
 * formats) and shared by every group of 8 rows of every such product. */
#define QM_SPREAD_READY (1u << QK_ACT_COUNT)
static void qm_spread(const qk_table *k, sotto_qact *a, qm_job *job) {
  if (a->rows != 1 || !a->spread || !job->w->packed || !k->gemv8[job->w->type]) return;
  if (!(a->ready & QM_SPREAD_READY)) {
    k->spread8(a->n, job->x, a->spread);
    a->ready |= QM_SPREAD_READY;
  }
  job->spread = a->spread;
}

void sotto_qmatmul(pthreadpool_t pool, const sotto_qmat *w, sotto_qact *a, float *y) {
  const qk_table *k = kernels();
  qm_job job = qm_job_of(k, pool, w, a, y);
  if ((w->packed ? k->gemm8[w->type] : k->gemm[w->type]) && a->rows >= QK_GEMM_M) {
    pthreadpool_parallelize_2d_tile_2d(pool, qm_gemm, &job, (size_t)w->n_out, a->rows,
                                       QK_GEMM_N, QM_GEMM_ACTS, 0);
    return;
  }
  /* act rows in tiles of a multiple of QM_TILE_ACTS: a whole GEMM's rows
   * per weight tile keeps the weights hot; split when there are few weight
   * tiles to share out. */
  size_t act_tile = a->rows;
  if (act_tile > 64) act_tile = 64;
  qm_spread(k, a, &job);
  pthreadpool_parallelize_2d_tile_2d(pool, qm_tile, &job, (size_t)w->n_out, a->rows,
                                     QM_TILE_ROWS, act_tile, 0);
}

/* Several matrices on one input as one parallel loop over all their
 * weight tiles (QM_TILE_ROWS rows of one matrix each): one wake-up of the
 * pool instead of one per matrix. */
typedef struct {
  qm_job job[SOTTO_QMATMUL_MANY_MAX];
  size_t first[SOTTO_QMATMUL_MANY_MAX + 1]; /* each matrix's first tile */
  size_t rows;
} qm_many;

static void qm_many_tile(void *ctx, size_t t) {
  qm_many *m = ctx;
  int i = 0;
  while (t >= m->first[i + 1]) i++;
  const size_t j0 = (t - m->first[i]) * QM_TILE_ROWS, n_out = (size_t)m->job[i].w->n_out;
  qm_tile(&m->job[i], j0, 0, n_out - j0 < QM_TILE_ROWS ? n_out - j0 : QM_TILE_ROWS, m->rows);
}

void sotto_qmatmul_many(pthreadpool_t pool, const sotto_qmat *const *w, float *const *y, int n,
                        sotto_qact *a) {
  /* inputs of GEMM size: each matrix by itself, as sotto_qmatmul tiles it */
  if (a->rows > QM_TILE_ACTS || n > SOTTO_QMATMUL_MANY_MAX) {
    for (int i = 0; i < n; i++) sotto_qmatmul(pool, w[i], a, y[i]);
    return;
  }
  const qk_table *k = kernels();
  qm_many m = {.rows = a->rows};
  for (int i = 0; i < n; i++) {
    m.job[i] = qm_job_of(k, pool, w[i], a, y[i]);
    qm_spread(k, a, &m.job[i]);
    m.first[i + 1] = m.first[i] + ((size_t)w[i]->n_out + QM_TILE_ROWS - 1) / QM_TILE_ROWS;
  }
  pthreadpool_parallelize_1d(pool, qm_many_tile, &m, m.first[n], 0);
}

/* ---- packing by 8 rows (qkernels.h's layout) ---- */

/* A block's layout: bytes of high bits (Q5_0's qh) and of quants after the
 * half scale, and the value added to each stored quant byte. */
static int pack_layout(sotto_dtype t, int *qh, int *bias) {
  *qh = t == SOTTO_DTYPE_Q5_0 ? 4 : 0;
  *bias = t == SOTTO_DTYPE_Q8_0 ? 128 : 0;
  return t == SOTTO_DTYPE_Q8_0 ? SOTTO_QK : SOTTO_QK / 2;
}

int sotto_qmat_packable(const sotto_qmat *m) {
  return kernels()->tile8[m->type] && m->n_out >= 8;
}

/* Bit b of high-bit word h (qkernels.h) is the fifth bit of row *r's value
 * (the bit of its qh) returned. QK_QH_ROWS8: bit 4r + t of word h is value
 * 16 * (h & 1) + 4 * (h >> 1) + t; QK_QH_ROWS4: bit 8t + 4 * hi + i of word
 * 2k + h is row 4h + i's value 16 * hi + 4k + t. */
static int pack_qh_source_bit(int layout, int h, int b, int *r) {
  if (layout == QK_QH_ROWS4) {
    *r = 4 * (h & 1) + b % 4;
    return 16 * ((b >> 2) & 1) + 4 * (h >> 1) + b / 8;
  }
  *r = b / 4;
  return 16 * (h & 1) + 4 * (h >> 1) + b % 4;
}

/* K-quant super-blocks (qkernels.h): each of the 8 rows' blocks 4 bytes at
 * a time, word w of the 8 rows side by side; a last 2 bytes (Q6_K's d) as
 * the 8 rows' halves. */
static int is_k_quant(sotto_dtype t) { return qk_act_of(t) == QK_ACT_Q8K; }

static void pack_words8(const uint8_t *const src[8], size_t bb, uint8_t *o) {
  size_t w = 0;
  for (; w + 4 <= bb; w += 4, o += 32)
    for (int r = 0; r < 8; r++) memcpy(o + 4 * r, src[r] + w, 4);
  for (int r = 0; w < bb && r < 8; r++) memcpy(o + 2 * r, src[r] + w, 2);
}

static void unpack_words8(const uint8_t *g, size_t bb, int r, uint8_t *blk) {
  size_t w = 0;
  for (; w + 4 <= bb; w += 4, g += 32) memcpy(blk + w, g + 4 * r, 4);
  if (w < bb) memcpy(blk + w, g + 2 * r, 2);
}

/* One block of 8 rows (src[r]: row r's block, bb bytes) into the packed layout. */
static void pack_block8(sotto_dtype type, const uint8_t *const src[8], size_t bb, uint8_t *o) {
  if (is_k_quant(type)) {
    pack_words8(src, bb, o);
    return;
  }
  int qh, bias;
  const int qs = pack_layout(type, &qh, &bias);
  for (int r = 0; r < 8; r++, o += 2) memcpy(o, src[r], 2);
  const int layout = kernels()->q5_0_qh;
  uint32_t bits[8];
  for (int r = 0; qh && r < 8; r++) memcpy(&bits[r], src[r] + 2, 4); /* little-endian, as the file's qh */
  for (int h = 0; h < 8 * qh / 4; h++, o += 4) {
    uint32_t word = 0;
    for (int b = 0; b < 32; b++) {
      int r;
      const int s = pack_qh_source_bit(layout, h, b, &r);
      word |= ((bits[r] >> s) & 1u) << b;
    }
    memcpy(o, &word, 4);
  }
  for (int k = 0; k < qs / 4; k++)
    for (int r = 0; r < 8; r++)
      for (int t = 0; t < 4; t++) *o++ = (uint8_t)(src[r][2 + qh + 4 * k + t] + bias);
}

/* Row r of a packed block of 8 rows back in the plain layout. */
static void unpack_block8(sotto_dtype type, const uint8_t *g, size_t bb, int r, uint8_t *blk) {
  if (is_k_quant(type)) {
    unpack_words8(g, bb, r, blk);
    return;
  }
  int qh, bias;
  const int qs = pack_layout(type, &qh, &bias);
  memcpy(blk, g + 2 * r, 2);
  g += 16;
  if (qh) {
    const int layout = kernels()->q5_0_qh;
    uint32_t bits = 0;
    for (int h = 0; h < 8; h++) {
      uint32_t word;
      memcpy(&word, g + 4 * h, 4);
      for (int b = 0; b < 32; b++) {
        int rb;
        const int s = pack_qh_source_bit(layout, h, b, &rb);
        if (rb == r) bits |= ((word >> b) & 1u) << s;
      }
    }
    memcpy(blk + 2, &bits, 4);
    g += 32;
  }
  for (int k = 0; k < qs / 4; k++)
    for (int t = 0; t < 4; t++) blk[2 + qh + 4 * k + t] = (uint8_t)(g[32 * k + 4 * r + t] - bias);
}

/* Decoding streams every weight from memory once per token; on 4 KiB pages
 * the hardware prefetchers stop at each page's end and each page costs a
 * page walk, on 2 MiB pages one core reads markedly faster. So the whole
 * 2 MiB pages inside [p, p + n) (the model's bytes, mapped from its file
 * copy-on-write or allocated) are swapped for anonymous memory that may be
 * backed by transparent huge pages (madvise MADV_HUGEPAGE), holding the same
 * bytes: a fresh 2 MiB-aligned mapping is filled, then moved over the old
 * pages (mremap). The owner unmaps or frees the range as before. Where
 * anything fails, the pages stay as they were. */
#define QM_HUGE_PAGE ((uintptr_t)2 << 20)
static void qm_huge_pages(void *p, size_t n) {
#if defined(__linux__) && !defined(__EMSCRIPTEN__) && defined(MADV_HUGEPAGE) && defined(MREMAP_FIXED)
  uintptr_t a = ((uintptr_t)p + QM_HUGE_PAGE - 1) & ~(QM_HUGE_PAGE - 1);
  const uintptr_t end = ((uintptr_t)p + n) & ~(QM_HUGE_PAGE - 1);
  for (; a < end; a += QM_HUGE_PAGE) {
    uint8_t *q = mmap(NULL, 2 * QM_HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED) return;
    /* the 2 MiB-aligned half of the 4 MiB */
    uint8_t *h = (uint8_t *)(((uintptr_t)q + QM_HUGE_PAGE - 1) & ~(QM_HUGE_PAGE - 1));
    if (h > q) munmap(q, (size_t)(h - q));
    if (h + QM_HUGE_PAGE < q + 2 * QM_HUGE_PAGE)
      munmap(h + QM_HUGE_PAGE, (size_t)(q + 2 * QM_HUGE_PAGE - (h + QM_HUGE_PAGE)));
    madvise(h, QM_HUGE_PAGE, MADV_HUGEPAGE);
    memcpy(h, (const void *)a, QM_HUGE_PAGE);
    if (mremap(h, QM_HUGE_PAGE, QM_HUGE_PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)a) == MAP_FAILED) {
      munmap(h, QM_HUGE_PAGE);
      return;
    }
  }
#else
  (void)p, (void)n;
#endif
}

int sotto_qmat_pack(sotto_qmat *m, void *dst, sotto_error *err) {
  const sotto_dtype_info *info = sotto_dtype_get(m->type);
  const size_t bb = info->bytes; /* bytes of a block */
  const size_t group = 8 * m->row_bytes;
  uint8_t *tmp = malloc(group);
  if (!tmp) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  for (int64_t g = 0; g < m->n_out / 8; g++) {
    memcpy(tmp, (const uint8_t *)m->data + (size_t)g * group, group);
    uint8_t *o = (uint8_t *)dst + (size_t)g * group;
    for (int64_t b = 0; b < m->n_in / info->block; b++, o += 8 * bb) {
      const uint8_t *src[8];
      for (int r = 0; r < 8; r++) src[r] = tmp + (size_t)r * m->row_bytes + (size_t)b * bb;
      pack_block8(m->type, src, bb, o);
    }
  }
  free(tmp);
  const size_t tail = (size_t)(m->n_out % 8) * m->row_bytes; /* rows left plain */
  if (tail && dst != m->data)
    memcpy((uint8_t *)dst + (size_t)(m->n_out / 8) * group,
           (const uint8_t *)m->data + (size_t)(m->n_out / 8) * group, tail);
  m->data = dst;
  m->packed = 1;
  return 0;
}

int sotto_qmat_pack_all(sotto_qmat *const *m, int n, sotto_error *err) {
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (int i = 0; i < n; i++)
    if (sotto_qmat_packable(m[i])) {
      const uintptr_t a = (uintptr_t)m[i]->data, e = a + (size_t)m[i]->n_out * m[i]->row_bytes;
      lo = a < lo ? a : lo, hi = e > hi ? e : hi;
    }
  if (lo < hi) qm_huge_pages((void *)lo, (size_t)(hi - lo));
  for (int i = 0; i < n; i++)
    if (sotto_qmat_packable(m[i]) && sotto_qmat_pack(m[i], (void *)m[i]->data, err)) return -1;
  return 0;
}

void sotto_qmat_row(const sotto_qmat *w, int64_t i, float *out) {
  if (!w->packed || i >= w->n_out / 8 * 8) {
    sotto_dequantize_row(w->type, (const uint8_t *)w->data + (size_t)i * w->row_bytes, out, w->n_in);
    return;
  }
  /* row i % 8 of its group, back in the plain layout, block by block */
  const uint8_t *g = (const uint8_t *)w->data + (size_t)(i / 8) * 8 * w->row_bytes;
  const sotto_dtype_info *info = sotto_dtype_get(w->type);
  const size_t bb = info->bytes;
  uint8_t blk[sizeof(sotto_block_q6_k)]; /* the largest packed block */
  for (int64_t b = 0; b < w->n_in / info->block; b++, g += 8 * bb) {
    unpack_block8(w->type, g, bb, (int)(i % 8), blk);
    sotto_dequantize_row(w->type, blk, out + b * info->block, info->block);
  }
}

void sotto_vec_dots(sotto_dtype type, const void *rows, size_t stride, int64_t n_rows, int64_t n,
                    const float *x, int nx, float *out) {
  const qk_table *k = kernels();
  const qk_dot_fn dot = k->dot[type];
  /* Q8_0 rows: the inputs as Q8A blocks, as ggml quantizes a query for a
   * Q8_0 key cache */
  sotto_block_q8a xq[QM_TILE_ACTS * SOTTO_VEC_DOTS_MAX_Q8 / SOTTO_QK];
  const int quant = type == SOTTO_DTYPE_Q8_0;
  if (quant && n > SOTTO_VEC_DOTS_MAX_Q8) return;
  const size_t xs = quant ? qk_act_row_bytes(QK_ACT_Q8A, n) : (size_t)n * sizeof(float);
  float o[QM_TILE_ACTS];
  for (int i = 0; i < nx; i += QM_TILE_ACTS) {
    const int nr = nx - i < QM_TILE_ACTS ? nx - i : QM_TILE_ACTS;
    const void *xi = x + (size_t)i * (size_t)n;
    if (quant) {
      for (int j = 0; j < nr; j++)
        k->quant[QK_ACT_Q8A](x + (size_t)(i + j) * (size_t)n, (uint8_t *)xq + (size_t)j * xs, n);
      xi = xq;
    }
    for (int64_t r = 0; r < n_rows; r++) {
      dot(n, (const uint8_t *)rows + (size_t)r * stride, xi, xs, nr, o);
      for (int k = 0; k < nr; k++) out[(size_t)(i + k) * (size_t)n_rows + (size_t)r] = o[k];
    }
  }
}
