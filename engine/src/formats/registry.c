/*
 * registry.c - recognises a model file by its content, never by its name:
 * fastText files start with the int32 magic 793712314 (little-endian),
 * GGUF files with the bytes "GGUF".
 */
#include <string.h>

#include "formats.h"
#include "gguf.h"

int sotto_fasttext_sniff(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  uint32_t magic = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                   (uint32_t)data[3] << 24;
  return magic == SOTTO_FASTTEXT_MAGIC;
}

static const sotto_format formats[] = {
    {"fasttext", sotto_fasttext_sniff},
    {"gguf", sotto_gguf_sniff},
};

const sotto_format *sotto_format_find(const void *data, size_t size) {
  for (size_t i = 0; data && i < sizeof formats / sizeof formats[0]; i++)
    if (formats[i].sniff(data, size)) return &formats[i];
  return NULL;
}

const char *sotto_format_detect(const void *data, size_t size) {
  const sotto_format *f = sotto_format_find(data, size);
  return f ? f->name : NULL;
}
