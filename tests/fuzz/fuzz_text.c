/*
 * fuzz_text.c - libFuzzer target: any byte string, as text, through the
 * sentence splitter, the tokenizer, the cleaner, the sentiment model's
 * normalisation and the "summarize" op.
 * Nothing may crash, leak or read outside the buffer, and the outputs keep
 * their promises: spans in order, in bounds, trimmed and bounded; tokens
 * and cleaned text valid UTF-8; a summary or a clear error for every text,
 * also given as blocks (cut at '|'), whose headings, captions, cells, code
 * and notes are never chosen.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "sotto.h"
#include "tokenizers/text.h"

static sotto_context *ctx;

/* Strict UTF-8 check, written apart from text.c's decoder on purpose. */
static int valid_utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || i + len > n || (len == 2 && c < 0xC2)) return 0;
    uint32_t v = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      v = v << 6 | (s[i + k] & 0x3F);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
      return 0;
    i += len;
  }
  return 1;
}

static int is_space_byte(unsigned char c) { return c == ' ' || (c >= 9 && c <= 13); }

static int check_token(void *user, const char *tok, size_t len) {
  (void)user;
  if (len == 0 || len > SOTTO_TOKEN_MAX || !valid_utf8((const unsigned char *)tok, len)) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ctx) {
    sotto_config cfg = {.threads = 1};
    ctx = sotto_context_create(&cfg);
    if (!ctx) abort();
  }
  /* A copy of exactly size bytes, so ASan sees any read past the end. */
  char *text = malloc(size ? size : 1);
  if (!text) return 0;
  memcpy(text, data, size);

  sotto_span *sp;
  long n = sotto_text_sentences(text, size, &sp);
  if (n < 0) abort();
  for (long i = 0; i < n; i++) {
    size_t a = sp[i].start, b = sp[i].end;
    if (a >= b || b > size || (i > 0 && a < sp[i - 1].end) || b - a > SOTTO_SENTENCE_MAX)
      abort();
    if (is_space_byte((unsigned char)text[a]) || is_space_byte((unsigned char)text[b - 1]))
      abort();
    size_t len;
    char *c = sotto_text_clean(text + a, b - a, &len);
    if (!c || len == 0 || !valid_utf8((unsigned char *)c, len) || strlen(c) != len) abort();
    free(c);
  }
  free(sp);
  sotto_text_tokens(text, size, check_token, NULL);
  size_t len;
  char *c = sotto_text_clean(text, size, &len);
  if (!c || !valid_utf8((unsigned char *)c, len)) abort();
  free(c);
  /* the sentiment model's normalisation: valid UTF-8, single spaces, trimmed */
  c = sotto_text_normalise(text, size, &len);
  if (!c || !valid_utf8((unsigned char *)c, len) || strlen(c) != len ||
      (len && (c[0] == ' ' || c[len - 1] == ' ')) || strstr(c, "  "))
    abort();
  free(c);

  /* The op, with the text up to its first NUL (JSON strings end there). */
  static const char *const styles[] = {"key-points", "tldr", "headline"};
  static const char *const lengths[] = {"short", "medium", "long"};
  char *str = malloc(size + 1);
  if (!str) {
    free(text);
    return 0;
  }
  memcpy(str, text, size);
  str[size] = 0;
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "summarize");
  cJSON_AddStringToObject(req, "text", str);
  cJSON_AddStringToObject(req, "style", styles[size % 3]);
  cJSON_AddStringToObject(req, "length", lengths[size / 3 % 3]);
  char *json = cJSON_PrintUnformatted(req);
  cJSON_Delete(req);
  char *out = json ? sotto_request(ctx, json) : NULL;
  cJSON *r = out ? cJSON_Parse(out) : NULL;
  if (json && !r) abort();
  const cJSON *res = cJSON_GetObjectItem(r, "result");
  const cJSON *code = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "code");
  if (r && !res && !(cJSON_IsString(code) && (strcmp(code->valuestring, "empty_text") == 0 ||
                                              strcmp(code->valuestring, "out_of_memory") == 0)))
    abort();
  if (res) {
    const cJSON *s = cJSON_GetObjectItem(res, "sentences");
    int k = cJSON_GetArraySize(s);
    if (k < 1 || k > 7) abort();
    for (int i = 0; i < k; i++) {
      const cJSON *t = cJSON_GetObjectItem(cJSON_GetArrayItem(s, i), "text");
      if (!cJSON_IsString(t) ||
          !valid_utf8((unsigned char *)t->valuestring, strlen(t->valuestring)))
        abort();
    }
  }
  cJSON_Delete(r);
  sotto_string_free(out);
  cJSON_free(json);

  /* The same text as blocks: cut at each '|', kinds taken in turn. */
  static const char *const kinds[] = {"paragraph", "heading", "item", "caption", "cell",
                                      "quote", "code", "note", "text"};
  req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "summarize");
  cJSON *blocks = cJSON_AddArrayToObject(req, "blocks");
  size_t k = 0;
  for (char *p = str, *bar; p; p = bar ? bar + 1 : NULL, k++) {
    bar = strchr(p, '|');
    if (bar) *bar = 0;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "kind", kinds[(k + size) % 9]);
    cJSON_AddStringToObject(b, "text", p);
    cJSON_AddItemToArray(blocks, b);
  }
  json = cJSON_PrintUnformatted(req);
  cJSON_Delete(req);
  out = json ? sotto_request(ctx, json) : NULL;
  r = out ? cJSON_Parse(out) : NULL;
  if (json && !r) abort();
  res = cJSON_GetObjectItem(r, "result");
  code = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "code");
  if (r && !res && !(cJSON_IsString(code) && (strcmp(code->valuestring, "empty_text") == 0 ||
                                              strcmp(code->valuestring, "out_of_memory") == 0)))
    abort();
  if (res) {
    const cJSON *s = cJSON_GetObjectItem(res, "sentences"), *e;
    cJSON_ArrayForEach(e, s) {
      const cJSON *t = cJSON_GetObjectItem(e, "text");
      int blk = cJSON_GetObjectItem(e, "block")->valueint;
      if (!cJSON_IsString(t) || blk < 0 || (size_t)blk >= k) abort();
      const char *kind = kinds[(blk + size) % 9];
      if (strcmp(kind, "paragraph") && strcmp(kind, "item") && strcmp(kind, "quote") &&
          strcmp(kind, "text"))
        abort(); /* headings, captions, cells, code and notes are never chosen */
    }
  }
  cJSON_Delete(r);
  sotto_string_free(out);
  cJSON_free(json);
  free(str);
  free(text);
  return 0;
}
