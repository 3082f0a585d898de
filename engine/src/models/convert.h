/*
 * convert.h - Hugging Face model folders to GGUF (sotto_convert in
 * sotto.h), the engine side of `sotto convert` and of the extension's
 * converter. The type mixes it chooses are exposed for tests.
 */
#ifndef SOTTO_CONVERT_H
#define SOTTO_CONVERT_H

#include "formats/gguf.h"

/* llama.cpp's llama_ftype numbers, as general.file_type stores them. */
typedef enum sotto_ftype {
  SOTTO_FTYPE_F32 = 0, SOTTO_FTYPE_F16 = 1, SOTTO_FTYPE_Q4_0 = 2, SOTTO_FTYPE_Q4_1 = 3,
  SOTTO_FTYPE_Q8_0 = 7, SOTTO_FTYPE_Q5_0 = 8, SOTTO_FTYPE_Q5_1 = 9, SOTTO_FTYPE_Q4_K_S = 14,
  SOTTO_FTYPE_Q4_K_M = 15, SOTTO_FTYPE_Q5_K_S = 16, SOTTO_FTYPE_Q5_K_M = 17,
  SOTTO_FTYPE_Q6_K = 18, SOTTO_FTYPE_BF16 = 32,
} sotto_ftype;

/* The file type named name ("q4_k_m", "f16", ...; see sotto_convert),
 * or -1. */
int sotto_ftype_from_name(const char *name);

/* The tensor types of a model's tensors under ftype, as llama.cpp's
 * convert_hf_to_gguf.py (f32, f16, bf16) and llama-quantize (the rest)
 * choose them: names[i] with n_dims[i] dimensions and ne0[i] values per
 * row, in file order, n_layer blocks. types[i] receives the choice. */
void sotto_convert_types(sotto_ftype ftype, const char *const *names, const int *n_dims,
                         const int64_t *ne0, int n, int n_layer, sotto_dtype *types);

#endif /* SOTTO_CONVERT_H */
