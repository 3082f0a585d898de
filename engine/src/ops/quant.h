/*
 * quant.h - the tensor element types of GGUF files (ggml's ggml_type, same
 * numbers, same block layouts), and the row-level conversions every user
 * of them shares: the size of a row, dequantizing a row to f32, and
 * quantizing a row the way ggml's reference quantizers do
 * (ggml-quants.c, quantize_row_*_ref), so sotto writes files llama.cpp reads
 * and reads the files llama.cpp writes.
 *
 * Blocks: a row of n values is n / block consecutive blocks; n must be a
 * multiple of the block size. Half floats are IEEE binary16 bit patterns.
 *
 *   type  id block bytes  layout
 *   F32    0     1     4
 *   F16    1     1     2
 *   Q4_0   2    32    18  d; 32 x 4-bit (low nibbles: values 0..15, high: 16..31)
 *   Q4_1   3    32    20  d, m; 32 x 4-bit
 *   Q5_0   6    32    22  d; qh[4] (5th bits); qs[16]
 *   Q5_1   7    32    24  d, m; qh[4]; qs[16]
 *   Q8_0   8    32    34  d; 32 x int8
 *   Q8_1   9    32    36  d, s (= d * sum of qs); 32 x int8
 *   Q4_K  12   256   144  d, dmin; scales[12] (8 x 6-bit scale + 6-bit min); qs[128]
 *   Q5_K  13   256   176  d, dmin; scales[12]; qh[32]; qs[128]
 *   Q6_K  14   256   210  ql[128]; qh[64]; int8 scales[16]; d
 *   Q8_K  15   256   292  float d; int8 qs[256]; int16 bsums[16] (dot-product helper)
 *   BF16  30     1     2
 */
#ifndef SOTTO_QUANT_H
#define SOTTO_QUANT_H

#include <stddef.h>
#include <stdint.h>

typedef enum sotto_dtype {
  SOTTO_DTYPE_F32 = 0,
  SOTTO_DTYPE_F16 = 1,
  SOTTO_DTYPE_Q4_0 = 2,
  SOTTO_DTYPE_Q4_1 = 3,
  SOTTO_DTYPE_Q5_0 = 6,
  SOTTO_DTYPE_Q5_1 = 7,
  SOTTO_DTYPE_Q8_0 = 8,
  SOTTO_DTYPE_Q8_1 = 9,
  SOTTO_DTYPE_Q4_K = 12,
  SOTTO_DTYPE_Q5_K = 13,
  SOTTO_DTYPE_Q6_K = 14,
  SOTTO_DTYPE_Q8_K = 15,
  SOTTO_DTYPE_BF16 = 30,
  SOTTO_DTYPE_LIMIT = 64 /* ggml type ids are below this */
} sotto_dtype;

#define SOTTO_QK 32    /* values per block of the 32-blocks (QK4_0, QK8_0, ...) */
#define SOTTO_QK_K 256 /* values per K-quant super-block (QK_K) */
#define SOTTO_K_SCALE_BYTES 12

typedef uint16_t sotto_half; /* IEEE binary16 bits */

typedef struct { sotto_half d; uint8_t qs[SOTTO_QK / 2]; } sotto_block_q4_0;
typedef struct { sotto_half d, m; uint8_t qs[SOTTO_QK / 2]; } sotto_block_q4_1;
typedef struct { sotto_half d; uint8_t qh[4]; uint8_t qs[SOTTO_QK / 2]; } sotto_block_q5_0;
typedef struct { sotto_half d, m; uint8_t qh[4]; uint8_t qs[SOTTO_QK / 2]; } sotto_block_q5_1;
typedef struct { sotto_half d; int8_t qs[SOTTO_QK]; } sotto_block_q8_0;
typedef struct { sotto_half d, s; int8_t qs[SOTTO_QK]; } sotto_block_q8_1;
typedef struct {
  sotto_half d, dmin;
  uint8_t scales[SOTTO_K_SCALE_BYTES];
  uint8_t qs[SOTTO_QK_K / 2];
} sotto_block_q4_k;
typedef struct {
  sotto_half d, dmin;
  uint8_t scales[SOTTO_K_SCALE_BYTES];
  uint8_t qh[SOTTO_QK_K / 8];
  uint8_t qs[SOTTO_QK_K / 2];
} sotto_block_q5_k;
typedef struct {
  uint8_t ql[SOTTO_QK_K / 2];
  uint8_t qh[SOTTO_QK_K / 4];
  int8_t scales[SOTTO_QK_K / 16];
  sotto_half d;
} sotto_block_q6_k;
typedef struct {
  float d;
  int8_t qs[SOTTO_QK_K];
  int16_t bsums[SOTTO_QK_K / 16];
} sotto_block_q8_k;

typedef struct sotto_dtype_info {
  const char *name;  /* "q4_K", as ggml names it */
  int block;         /* values per block */
  size_t bytes;      /* bytes per block */
} sotto_dtype_info;

/* The type's block size and bytes; NULL for a type id sotto cannot read. */
const sotto_dtype_info *sotto_dtype_get(uint32_t type);
/* The type whose ggml name is name (case-insensitive: "q4_k", "Q8_0");
 * -1 when none. */
int sotto_dtype_from_name(const char *name);
/* Bytes of a row of n values; 0 when n is not a multiple of the block. */
size_t sotto_dtype_row_bytes(sotto_dtype type, int64_t n);

float sotto_half_to_float(sotto_half h);
sotto_half sotto_float_to_half(float f);   /* round to nearest even */
float sotto_bf16_to_float(uint16_t b);
uint16_t sotto_float_to_bf16(float f);     /* round to nearest even, as ggml */

/* dst[0..n) = the values of a row (reference code, any type above). */
void sotto_dequantize_row(sotto_dtype type, const void *src, float *dst, int64_t n);
/* Writes n values as a row of type (reference quantizers, as ggml's
 * quantize_row_*_ref); returns the bytes written, 0 when the type or n is
 * not supported. */
size_t sotto_quantize_row(sotto_dtype type, const float *src, void *dst, int64_t n);

#endif /* SOTTO_QUANT_H */
