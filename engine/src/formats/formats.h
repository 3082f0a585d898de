/*
 * formats/ - model files and sealed files as bytes: recognising a file by
 * its content, reading and writing each format, and the encrypted store
 * (sotto_store_*, sotto.h). Readers take untrusted bytes: every count,
 * offset and size is checked against the buffer before use, and a damaged
 * file is SOTTO_BAD_MODEL with the reason. May include core/ and ops/.
 */
#ifndef SOTTO_FORMATS_H
#define SOTTO_FORMATS_H

#include "core/core.h"

/* The format registry: each known format, told apart by its first bytes. */
typedef struct sotto_format {
  const char *name;                                /* "fasttext", "gguf" */
  int (*sniff)(const uint8_t *data, size_t size);  /* 1 when the bytes are this format */
} sotto_format;

/* The format of data, or NULL when it is none sotto reads. */
const sotto_format *sotto_format_find(const void *data, size_t size);

/* fastText's magic number, the first 4 bytes of .bin and .ftz files. */
#define SOTTO_FASTTEXT_MAGIC 793712314
int sotto_fasttext_sniff(const uint8_t *data, size_t size);

#endif /* SOTTO_FORMATS_H */
