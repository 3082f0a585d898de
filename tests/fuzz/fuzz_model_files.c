/*
 * fuzz_model_files.c - libFuzzer target for what the model manager reads
 * from files it has not loaded yet: sotto_model_estimate on a prefix of any
 * bytes, and sotto_gguf_join on any set of parts. Input: one byte n (parts,
 * 1 to 4), then n times { u32 length, that many bytes }; each part's file
 * size is its length plus the low bits of the next byte (a prefix). Every
 * call must succeed or fail with a code and a message, never crash or read
 * outside its buffers; a join's layout must add up to its parts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sotto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int n = data[0] % 4 + 1;
  size_t at = 1;
  sotto_file parts[4];
  uint64_t sizes[4], start[4], pad[4];
  uint8_t *copies[4] = {0};
  int have = 0;
  for (; have < n && at + 4 <= size; have++) {
    uint32_t len;
    memcpy(&len, data + at, 4);
    at += 4;
    if (len > size - at) len = (uint32_t)(size - at);
    copies[have] = malloc(len ? len : 1); /* exactly len bytes: ASan sees overreads */
    if (!copies[have]) break;
    memcpy(copies[have], data + at, len);
    at += len;
    parts[have] = (sotto_file){"part", copies[have], len};
    sizes[have] = len + (at < size ? data[at] % 64 : 0);
  }
  for (int k = 0; k < have; k++) {
    char *json = NULL;
    sotto_error e = {0};
    if (sotto_model_estimate(parts[k].data, parts[k].size, sizes[k], &json, &e) != SOTTO_OK) {
      if (json || !e.status || !e.message[0]) abort();
    } else if (!json) {
      abort();
    }
    sotto_string_free(json);
  }
  if (have > 0) {
    uint8_t *header = NULL;
    size_t header_len = 0;
    sotto_error e = {0};
    if (sotto_gguf_join(parts, sizes, have, &header, &header_len, start, pad, &e) == SOTTO_OK) {
      if (!header || !header_len) abort();
      for (int k = 0; k < have; k++)
        if (start[k] > sizes[k] || pad[k] >= 1u << 16) abort();
    } else if (header || !e.status || !e.message[0]) {
      abort();
    }
    free(header);
  }
  for (int k = 0; k < have; k++) free(copies[k]);
  return 0;
}
