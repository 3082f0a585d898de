/*
 * check.h - the C tests' few helpers. Each test program counts checks and
 * ends with the line "N passed, N failed"; its exit code is nonzero on any
 * failure.
 */
#ifndef SOTTO_CHECK_H
#define SOTTO_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                             \
  do {                                                               \
    if (cond) {                                                      \
      check_passed++;                                                \
    } else {                                                         \
      check_failed++;                                                \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
      fprintf(stderr, __VA_ARGS__);                                  \
      fputc('\n', stderr);                                           \
    }                                                                \
  } while (0)

static inline int check_finish(void) {
  printf("%d passed, %d failed\n", check_passed, check_failed);
  return check_failed ? 1 : 0;
}

/* Reads a file below the source tree into a NUL-terminated buffer. */
static inline char *check_read_file(const char *rel, size_t *size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", SOTTO_SOURCE_DIR, rel);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) buf[n] = 0;
  if (size) *size = (size_t)n;
  return buf;
}

#endif
