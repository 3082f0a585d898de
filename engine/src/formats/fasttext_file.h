/*
 * fasttext_file.h - the fastText model file (.bin and quantized .ftz), as
 * fastText 0.9.2 writes it: arguments, dictionary, pruned n-gram index and
 * the two matrices, read from a buffer into plain arrays and checked, so the
 * model code (models/fasttext.c) only computes.
 *
 * Also the dictionary's lookups fastText defines (its hash, word ids,
 * pruned buckets) and adding a matrix row to a vector, which both the file
 * reader and prediction need.
 */
#ifndef SOTTO_FORMATS_FASTTEXT_FILE_H
#define SOTTO_FORMATS_FASTTEXT_FILE_H

#include "formats.h"

#define SOTTO_FASTTEXT_KSUB 256 /* centroids per sub-quantizer (8-bit codes) */

/* args.loss and args.model, as fastText numbers them */
enum { SOTTO_FASTTEXT_LOSS_HS = 1, SOTTO_FASTTEXT_LOSS_NS, SOTTO_FASTTEXT_LOSS_SOFTMAX,
       SOTTO_FASTTEXT_LOSS_OVA };
enum { SOTTO_FASTTEXT_CBOW = 1, SOTTO_FASTTEXT_SKIPGRAM, SOTTO_FASTTEXT_SUPERVISED };

/* fastText's "infinite" count, also its Huffman tree's "not built yet". */
#define SOTTO_FASTTEXT_MAX_COUNT 1000000000000000LL

/* A matrix: dense, or product-quantized (QuantMatrix). */
typedef struct sotto_fasttext_matrix {
  int64_t rows, cols;
  float *dense;          /* rows x cols; NULL when quantized */
  uint8_t *codes;        /* rows x nsubq */
  float *centroids;      /* cols x KSUB, in fastText's layout */
  int32_t nsubq, dsub, lastdsub;
  uint8_t *norm_codes;   /* rows, when norms are quantized apart */
  float norm_centroids[SOTTO_FASTTEXT_KSUB];
} sotto_fasttext_matrix;

/* The arguments prediction uses (the file has 12 int32 and a float64). */
typedef struct sotto_fasttext_args {
  int32_t dim, word_ngrams, loss, model, bucket, minn, maxn;
} sotto_fasttext_args;

typedef struct sotto_fasttext_file {
  int32_t version;
  sotto_fasttext_args args;
  /* dictionary: words first, then labels */
  int32_t size, nwords, nlabels;
  char *strings;                /* every entry's word, NUL-terminated */
  uint32_t *word_off, *word_len, *word_hash;
  uint8_t *word_type;           /* 0 word, 1 label */
  int64_t *label_counts;        /* nlabels */
  uint32_t *table;              /* open addressing: entry id + 1, 0 = empty */
  uint32_t table_mask;
  /* pruned index: n-gram bucket -> input row, open addressing with key -1
   * for empty (one cache line per probe: most n-grams are not in it) */
  int64_t prune_size;           /* < 0: not pruned; 0: no n-grams kept */
  struct sotto_fasttext_prune { int32_t key, row; } *prune;
  uint32_t prune_mask;
  sotto_fasttext_matrix in, out;
  size_t bytes;                 /* memory held by the arrays above */
} sotto_fasttext_file;

/* Reads and checks a whole file. Nothing in it is trusted: every count is
 * checked against the bytes that are left before anything is allocated,
 * and every input row prediction can reach is proven to exist. A damaged
 * file is SOTTO_BAD_MODEL with the reason and the byte offset. On failure
 * *f holds nothing (no need to free). */
int sotto_fasttext_file_read(sotto_fasttext_file *f, const uint8_t *data, size_t size,
                             sotto_error *err);
void sotto_fasttext_file_free(sotto_fasttext_file *f);

/* FNV-1a as fastText computes it: each byte goes through a signed char
 * (its released models were trained that way), so bytes >= 0x80 are
 * sign-extended before the xor. */
#define SOTTO_FASTTEXT_FNV_OFFSET 2166136261u
#define SOTTO_FASTTEXT_FNV_PRIME 16777619u
static inline uint32_t sotto_fasttext_hash_step(uint32_t h, uint8_t c) {
  uint32_t sext = (0u - (uint32_t)(c >> 7)) & 0xFFFFFF00u; /* c < 0x80 ? 0 : 0xFFFFFF00 */
  return (h ^ ((uint32_t)c | sext)) * SOTTO_FASTTEXT_FNV_PRIME;
}
uint32_t sotto_fasttext_hash(const char *s, size_t n);

/* Dictionary::getId: the entry of word w (n bytes, hash h), or -1. */
int32_t sotto_fasttext_word(const sotto_fasttext_file *f, const char *w, size_t n, uint32_t h);

/* The input row (among those after the words) of n-gram bucket key in a
 * pruned dictionary, or -1 when pruning dropped it. */
int32_t sotto_fasttext_pruned_row(const sotto_fasttext_file *f, int64_t key);

/* x += row i of m, as DenseMatrix / QuantMatrix::addRowToVector do. */
void sotto_fasttext_add_row(const sotto_fasttext_matrix *m, int64_t i, float *x);

#endif /* SOTTO_FORMATS_FASTTEXT_FILE_H */
