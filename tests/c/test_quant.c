/*
 * test_quant.c - the tensor types of ops/quant.h: the type table, half
 * and bfloat16 conversions (against the compiler's _Float16 and ggml's
 * own), error bounds of every quantizer, and byte-exact agreement with
 * ggml's reference quantizers and dequantizers (llama.cpp's libggml-base
 * from node-llama-cpp) on the same f32 data.
 */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "llama_ref.h"
#include "ops/quant.h"

static uint32_t rng = 12345;
static float uniform(void) { /* [0, 1) */
  rng = rng * 1664525u + 1013904223u;
  return (float)(rng >> 8) / 16777216.0f;
}
static float gauss(void) {
  float u = uniform() + 1e-7f, v = uniform();
  return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static float flt(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static const sotto_dtype all_types[] = {
    SOTTO_DTYPE_F32,  SOTTO_DTYPE_F16,  SOTTO_DTYPE_BF16, SOTTO_DTYPE_Q4_0, SOTTO_DTYPE_Q4_1,
    SOTTO_DTYPE_Q5_0, SOTTO_DTYPE_Q5_1, SOTTO_DTYPE_Q8_0, SOTTO_DTYPE_Q8_1, SOTTO_DTYPE_Q4_K,
    SOTTO_DTYPE_Q5_K, SOTTO_DTYPE_Q6_K, SOTTO_DTYPE_Q8_K};
#define N_TYPES (int)(sizeof all_types / sizeof all_types[0])

static void test_table(void) {
  static const struct { sotto_dtype t; const char *name; int block; size_t bytes; } want[] = {
      {SOTTO_DTYPE_F32, "f32", 1, 4},        {SOTTO_DTYPE_F16, "f16", 1, 2},
      {SOTTO_DTYPE_BF16, "bf16", 1, 2},      {SOTTO_DTYPE_Q4_0, "q4_0", 32, 18},
      {SOTTO_DTYPE_Q4_1, "q4_1", 32, 20},    {SOTTO_DTYPE_Q5_0, "q5_0", 32, 22},
      {SOTTO_DTYPE_Q5_1, "q5_1", 32, 24},    {SOTTO_DTYPE_Q8_0, "q8_0", 32, 34},
      {SOTTO_DTYPE_Q8_1, "q8_1", 32, 36},    {SOTTO_DTYPE_Q4_K, "q4_K", 256, 144},
      {SOTTO_DTYPE_Q5_K, "q5_K", 256, 176},  {SOTTO_DTYPE_Q6_K, "q6_K", 256, 210},
      {SOTTO_DTYPE_Q8_K, "q8_K", 256, 292},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const sotto_dtype_info *t = sotto_dtype_get(want[i].t);
    CHECK(t && strcmp(t->name, want[i].name) == 0 && t->block == want[i].block &&
              t->bytes == want[i].bytes,
          "type %d table entry", want[i].t);
    CHECK(sotto_dtype_from_name(want[i].name) == (int)want[i].t, "from_name %s", want[i].name);
    CHECK(sotto_dtype_row_bytes(want[i].t, 512) == 512 / (size_t)want[i].block * want[i].bytes,
          "row bytes of %s", want[i].name);
  }
  CHECK(sotto_dtype_from_name("Q4_k") == SOTTO_DTYPE_Q4_K, "names are case-insensitive");
  CHECK(sotto_dtype_from_name("q3_K") == -1 && sotto_dtype_from_name("") == -1 &&
            sotto_dtype_from_name(NULL) == -1,
        "unknown names");
  for (uint32_t t = 0; t < 200; t++) {
    int known = 0;
    for (int i = 0; i < N_TYPES; i++) known |= all_types[i] == (sotto_dtype)t;
    CHECK((sotto_dtype_get(t) != NULL) == known, "type %u known iff in the table", t);
  }
  CHECK(sotto_dtype_row_bytes(SOTTO_DTYPE_Q4_K, 896) == 0, "896 is no whole number of q4_K blocks");
  CHECK(sotto_dtype_row_bytes(SOTTO_DTYPE_Q8_0, 33) == 0, "33 is no whole number of q8_0 blocks");
  CHECK(sotto_dtype_row_bytes((sotto_dtype)11, 256) == 0, "q3_K is not supported");
}

static void test_half(void) {
  /* Every half value converts to float and back to itself (nan stays nan). */
  int bad = 0;
  for (uint32_t h = 0; h < 65536; h++) {
    float f = sotto_half_to_float((sotto_half)h);
    int is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
    if (is_nan ? !isnan(f) : sotto_float_to_half(f) != h) bad++;
#ifdef __FLT16_MAX__
    _Float16 r;
    uint16_t hh = (uint16_t)h;
    memcpy(&r, &hh, 2);
    if (!is_nan && bits((float)r) != bits(f)) bad++;
#endif
  }
  CHECK(bad == 0, "%d half values convert wrongly", bad);
#ifdef __FLT16_MAX__
  /* float -> half rounds as the compiler's _Float16 does (nearest even),
   * on random bit patterns and on every tie between two halves. */
  bad = 0;
  for (int i = 0; i < 2000000; i++) {
    rng = rng * 1664525u + 1013904223u;
    uint32_t u = rng;
    if (i & 1) u = (u & 0x87ffffff) | 0x38000000; /* near the half range */
    float f;
    memcpy(&f, &u, 4);
    if (isnan(f)) continue;
    _Float16 r = (_Float16)f;
    uint16_t want;
    memcpy(&want, &r, 2);
    if (sotto_float_to_half(f) != want) bad++;
  }
  for (uint32_t h = 0; h < 0x7c00; h++) {
    float mid = (sotto_half_to_float((sotto_half)h) + sotto_half_to_float((sotto_half)(h + 1))) / 2;
    _Float16 r = (_Float16)mid;
    uint16_t want;
    memcpy(&want, &r, 2);
    if (sotto_float_to_half(mid) != want || sotto_float_to_half(-mid) != (want | 0x8000)) bad++;
  }
  CHECK(bad == 0, "%d floats round to a different half than _Float16", bad);
#endif
  CHECK(sotto_float_to_half(65504.f) == 0x7bff && sotto_float_to_half(65520.f) == 0x7c00 &&
            sotto_float_to_half(INFINITY) == 0x7c00 && sotto_float_to_half(-INFINITY) == 0xfc00,
        "half overflow");
  CHECK((sotto_float_to_half(NAN) & 0x7fff) > 0x7c00, "nan stays nan");
  CHECK(sotto_float_to_half(5.9604645e-8f) == 1 && sotto_float_to_half(2.9802322e-8f) == 0 &&
            sotto_float_to_half(2.9802326e-8f) == 1,
        "smallest subnormal and the tie below it");
  /* bfloat16 */
  CHECK(sotto_float_to_bf16(1.0f) == 0x3f80 && sotto_bf16_to_float(0x3f80) == 1.0f, "bf16 one");
  CHECK(sotto_float_to_bf16(flt(0x3f808000)) == 0x3f80 &&
            sotto_float_to_bf16(flt(0x3f818000)) == 0x3f82 &&
            sotto_float_to_bf16(flt(0x3f808001)) == 0x3f81,
        "bf16 ties to even");
}

/* The rms error relative to the rms of x, over n values. */
static void errors(const float *x, const float *y, int64_t n, double *rel_rms) {
  double se = 0, sx = 0;
  for (int64_t i = 0; i < n; i++) se += (x[i] - y[i]) * (double)(x[i] - y[i]), sx += x[i] * (double)x[i];
  *rel_rms = sx > 0 ? sqrt(se / sx) : sqrt(se);
}

static void test_round_trip(void) {
  enum { N = 256 * 64 };
  static float x[N], y[N];
  static uint8_t q[N * 4 + 1024];
  /* rms error / rms of gaussian data of two scales: each quantizer's
   * known quality, 1.3x the measured (q4_0 0.087, q4_K 0.071, q6_K 0.018,
   * q8_0 0.0054). */
  static const struct { sotto_dtype t; double bound; } bounds[] = {
      {SOTTO_DTYPE_F32, 0},        {SOTTO_DTYPE_F16, 3e-4},     {SOTTO_DTYPE_BF16, 2.2e-3},
      {SOTTO_DTYPE_Q4_0, 0.113},   {SOTTO_DTYPE_Q4_1, 0.102},   {SOTTO_DTYPE_Q5_0, 0.056},
      {SOTTO_DTYPE_Q5_1, 0.05},    {SOTTO_DTYPE_Q8_0, 0.007},   {SOTTO_DTYPE_Q8_1, 0.007},
      {SOTTO_DTYPE_Q4_K, 0.093},   {SOTTO_DTYPE_Q5_K, 0.048},   {SOTTO_DTYPE_Q6_K, 0.023},
      {SOTTO_DTYPE_Q8_K, 0.0092},
  };
  for (int64_t i = 0; i < N; i++) x[i] = gauss() * (i % 4096 < 2048 ? 0.02f : 1.5f);
  for (size_t k = 0; k < sizeof bounds / sizeof bounds[0]; k++) {
    sotto_dtype t = bounds[k].t;
    size_t bytes = sotto_quantize_row(t, x, q, N);
    CHECK(bytes == sotto_dtype_row_bytes(t, N), "%s: bytes written", sotto_dtype_get(t)->name);
    sotto_dequantize_row(t, q, y, N);
    double rel;
    errors(x, y, N, &rel);
    CHECK(rel <= bounds[k].bound, "%s: relative rms error %.5f over %.5f",
          sotto_dtype_get(t)->name, rel, bounds[k].bound);
    printf("round trip %-5s relative rms error %.5f\n", sotto_dtype_get(t)->name, rel);
  }
  /* Per-value bounds of the 8-bit types: |x - y| <= d/2 (+ half rounding of d). */
  sotto_quantize_row(SOTTO_DTYPE_Q8_0, x, q, N);
  sotto_dequantize_row(SOTTO_DTYPE_Q8_0, q, y, N);
  int bad = 0;
  for (int64_t b = 0; b < N / 32; b++) {
    float amax = 0;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b * 32 + j]));
    for (int j = 0; j < 32; j++)
      if (fabsf(x[b * 32 + j] - y[b * 32 + j]) > amax / 127 * 0.5f + amax * 1e-3f) bad++;
  }
  CHECK(bad == 0, "q8_0: %d values off by more than half a step", bad);
  /* Zero rows stay zero; sizes that are not whole blocks are refused. */
  memset(x, 0, sizeof x);
  for (int k = 0; k < N_TYPES; k++) {
    sotto_quantize_row(all_types[k], x, q, 512);
    for (int i = 0; i < 512; i++) y[i] = 1;
    sotto_dequantize_row(all_types[k], q, y, 512);
    int nz = 0;
    for (int i = 0; i < 512; i++) nz += y[i] != 0;
    CHECK(nz == 0, "%s: a zero row dequantizes to zeros", sotto_dtype_get(all_types[k])->name);
    if (sotto_dtype_get(all_types[k])->block > 1)
      CHECK(sotto_quantize_row(all_types[k], x, q, 512 + 16) == 0, "%s: partial block refused",
            sotto_dtype_get(all_types[k])->name);
  }
}

/* Rows that exercise the edge cases of the quantizers. */
static void fill_row(float *x, int64_t n, int kind) {
  for (int64_t i = 0; i < n; i++) {
    switch (kind) {
      case 0: x[i] = gauss(); break;
      case 1: x[i] = gauss() * 1e-3f + 0.01f; break;          /* all positive: min > 0 */
      case 2: x[i] = -fabsf(gauss()) * 40.0f; break;          /* all negative, large */
      case 3: x[i] = (i % 37 == 0) ? 3.0f : 0.0f; break;      /* sparse */
      case 4: x[i] = (float)((int)(gauss() * 4)) * 0.25f; break; /* many ties */
      case 5: x[i] = gauss() * 1e-6f; break;                  /* half subnormal scales */
      case 6: x[i] = (i / 32 % 3 == 0) ? 0.0f : gauss() * (float)(1 + i % 7); break;
      case 7: x[i] = 1.0f; break;                             /* constant */
      default: x[i] = uniform() * 2 - 1; break;
    }
  }
}
#define N_KINDS 9

static void test_against_ggml(void) {
  void *h = llama_ref_open("libggml-base.so");
  CHECK(h != NULL, "llama.cpp's libggml-base.so loads");
  if (!h) return;
  static const struct { sotto_dtype t; const char *q, *dq; } fns[] = {
      {SOTTO_DTYPE_Q4_0, "quantize_row_q4_0_ref", "dequantize_row_q4_0"},
      {SOTTO_DTYPE_Q4_1, "quantize_row_q4_1_ref", "dequantize_row_q4_1"},
      {SOTTO_DTYPE_Q5_0, "quantize_row_q5_0_ref", "dequantize_row_q5_0"},
      {SOTTO_DTYPE_Q5_1, "quantize_row_q5_1_ref", "dequantize_row_q5_1"},
      {SOTTO_DTYPE_Q8_0, "quantize_row_q8_0_ref", "dequantize_row_q8_0"},
      {SOTTO_DTYPE_Q8_1, "quantize_row_q8_1_ref", NULL},
      {SOTTO_DTYPE_Q4_K, "quantize_row_q4_K_ref", "dequantize_row_q4_K"},
      {SOTTO_DTYPE_Q5_K, "quantize_row_q5_K_ref", "dequantize_row_q5_K"},
      {SOTTO_DTYPE_Q6_K, "quantize_row_q6_K_ref", "dequantize_row_q6_K"},
      {SOTTO_DTYPE_Q8_K, "quantize_row_q8_K_ref", "dequantize_row_q8_K"},
  };
  enum { N = 256 * 16 };
  static float x[N], y_ours[N], y_ref[N];
  static uint8_t ours[N * 2], ref[N * 2];
  for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
    const sotto_dtype_info *info = sotto_dtype_get(fns[k].t);
    ggml_quantize_row_fn q = LLAMA_REF_SYM(h, ggml_quantize_row_fn, fns[k].q);
    ggml_dequantize_row_fn dq =
        fns[k].dq ? LLAMA_REF_SYM(h, ggml_dequantize_row_fn, fns[k].dq) : NULL;
    CHECK(q && (dq || !fns[k].dq), "ggml has %s", fns[k].q);
    if (!q) continue;
    int diff_q = 0, diff_dq = 0;
    for (int kind = 0; kind < N_KINDS; kind++) {
      for (int rep = 0; rep < 4; rep++) {
        fill_row(x, N, kind);
        size_t bytes = sotto_quantize_row(fns[k].t, x, ours, N);
        memset(ref, 0, bytes);
        q(x, ref, N);
        if (fns[k].t == SOTTO_DTYPE_Q8_K) { /* ggml leaves bsums of zero blocks unset */
          for (size_t b = 0; b < bytes / info->bytes; b++) {
            sotto_block_q8_k *r = (sotto_block_q8_k *)ref + b;
            if (r->d == 0) memset(r->bsums, 0, sizeof r->bsums);
          }
        }
        if (memcmp(ours, ref, bytes) != 0) diff_q++;
        if (dq) {
          sotto_dequantize_row(fns[k].t, ref, y_ours, N);
          dq(ref, y_ref, N);
          for (int i = 0; i < N; i++) diff_dq += bits(y_ours[i]) != bits(y_ref[i]);
        }
      }
    }
    CHECK(diff_q == 0, "%s: %d of %d rows quantize to other bytes than ggml's %s", info->name,
          diff_q, N_KINDS * 4, fns[k].q);
    CHECK(diff_dq == 0, "%s: %d values dequantize differently from ggml", info->name, diff_dq);
  }
  /* Whole tensors through ggml_quantize_chunk, as llama-quantize calls it
   * without an importance matrix, and f16 / bf16 rows. */
  ggml_quantize_chunk_fn chunk = LLAMA_REF_SYM(h, ggml_quantize_chunk_fn, "ggml_quantize_chunk");
  CHECK(chunk != NULL, "ggml_quantize_chunk");
  static const sotto_dtype chunk_types[] = {SOTTO_DTYPE_F16,  SOTTO_DTYPE_BF16, SOTTO_DTYPE_Q4_0,
                                            SOTTO_DTYPE_Q4_1, SOTTO_DTYPE_Q5_0, SOTTO_DTYPE_Q5_1,
                                            SOTTO_DTYPE_Q8_0, SOTTO_DTYPE_Q4_K, SOTTO_DTYPE_Q5_K,
                                            SOTTO_DTYPE_Q6_K};
  for (size_t k = 0; chunk && k < sizeof chunk_types / sizeof chunk_types[0]; k++) {
    sotto_dtype t = chunk_types[k];
    int64_t rows = 16, per_row = N / rows;
    fill_row(x, N, (int)k % N_KINDS);
    x[5] = 1e-9f, x[6] = -70000.0f, x[7] = 3.0e-5f; /* half subnormal, overflow */
    size_t want = (size_t)rows * sotto_dtype_row_bytes(t, per_row);
    size_t got = chunk((int)t, x, ref, 0, rows, per_row, NULL);
    for (int64_t r = 0; r < rows; r++)
      sotto_quantize_row(t, x + r * per_row, ours + r * sotto_dtype_row_bytes(t, per_row), per_row);
    CHECK(got == want && memcmp(ours, ref, want) == 0,
          "%s: a tensor quantizes to other bytes than ggml_quantize_chunk's",
          sotto_dtype_get(t)->name);
  }
  ggml_fp32_to_fp16_fn to_half = LLAMA_REF_SYM(h, ggml_fp32_to_fp16_fn, "ggml_fp32_to_fp16");
  int bad = 0;
  for (int i = 0; to_half && i < 1000000; i++) {
    rng = rng * 1664525u + 1013904223u;
    uint32_t u = (rng & 0x8fffffff) | 0x30000000;
    float f;
    memcpy(&f, &u, 4);
    if (sotto_float_to_half(f) != to_half(f)) bad++;
  }
  CHECK(to_half && bad == 0, "%d floats convert to another half than ggml_fp32_to_fp16's", bad);
  dlclose(h);
}

int main(void) {
  test_table();
  test_half();
  test_round_trip();
  test_against_ggml();
  return check_finish();
}
