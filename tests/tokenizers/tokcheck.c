/*
 * tokcheck.c - runs sotto's tokenizer over a file of test cases, for the
 * agreement tests (tests/js/tokenizers.test.mjs), natively and as a node
 * program built with Emscripten (both wasm flavours):
 *
 *   tokcheck TOKENIZER.json CONFIG.json|- CASES.json OUT.json
 *   tokcheck --via-gguf TOKENIZER.json CONFIG.json|- CASES.json OUT.json
 *     (written to GGUF metadata by sotto_tokenizer_to_gguf, read back)
 *   tokcheck --gguf FILE.gguf - CASES.json OUT.json
 *   tokcheck --chat TEMPLATE.txt CONVERSATIONS.json OUT.json
 *     (chat formatting: [{"messages": [{"role", "content"}], "add_generation_prompt"}]
 *     -> [{"format", "text"} or {"error"}])
 *   tokcheck --to-gguf TOKENIZER.json CONFIG.json|- OUT.gguf ARCH
 *     (a vocabulary-only GGUF: general.architecture and the tokenizer's
 *     metadata, which llama.cpp loads with vocab_only)
 *
 * CASES.json: [{"text": "..", "pair": ".."?, "max_len": N?, "special": 0|1?}, ...]
 * OUT.json:   [{"ids": [..], "type_ids": [..]}, ...] in the same order, or
 *             {"error": {"code", "message"}} when loading fails.
 * Strings are the UTF-8 bytes of the JSON strings; "text_hex" instead of
 * "text" gives raw bytes (for invalid UTF-8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "formats/gguf.h"
#include "tokenizers/chat.h"
#include "tokenizers/tokenizer.h"

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)len + 1);
  if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
    free(b);
    b = NULL;
  }
  fclose(f);
  if (b) b[len] = 0;
  *n = (size_t)len;
  return b;
}

static int write_out(const char *path, cJSON *out) {
  char *s = cJSON_PrintUnformatted(out);
  FILE *f = fopen(path, "wb");
  if (!s || !f) return 1;
  fputs(s, f);
  fclose(f);
  cJSON_free(s);
  return 0;
}

typedef struct gguf_mem {
  uint8_t *data;
  size_t len, cap;
} gguf_mem;

static int mem_sink(void *user, const void *data, size_t len) {
  gguf_mem *m = user;
  if (m->len + len > m->cap) {
    size_t cap = (m->len + len) * 2;
    uint8_t *d = realloc(m->data, cap);
    if (!d) return 1;
    m->data = d, m->cap = cap;
  }
  memcpy(m->data + m->len, data, len);
  m->len += len;
  return 0;
}

static cJSON *error_json(const sotto_error *err) {
  cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
  cJSON_AddStringToObject(e, "code", sotto_status_code(err->status));
  cJSON_AddStringToObject(e, "message", err->message);
  return o;
}

/* The bytes of a case's text: "text" or hex "text_hex". */
static char *case_text(const cJSON *c, const char *key, size_t *n) {
  char hexkey[32];
  const cJSON *s = cJSON_GetObjectItem(c, key);
  if (cJSON_IsString(s)) {
    *n = strlen(s->valuestring);
    return strdup(s->valuestring);
  }
  snprintf(hexkey, sizeof hexkey, "%s_hex", key);
  s = cJSON_GetObjectItem(c, hexkey);
  if (!cJSON_IsString(s)) return NULL;
  size_t h = strlen(s->valuestring) / 2;
  char *b = malloc(h + 1);
  for (size_t i = 0; i < h; i++) {
    unsigned v;
    sscanf(s->valuestring + 2 * i, "%2x", &v);
    b[i] = (char)v;
  }
  b[h] = 0;
  *n = h;
  return b;
}

/* --chat: each conversation rendered in the template's format. */
static int chat(const char *tpl_path, const char *convs_path, const char *out_path) {
  size_t n;
  char *tpl = slurp(tpl_path, &n), *text = slurp(convs_path, &n);
  cJSON *convs = text ? cJSON_ParseWithLength(text, n) : NULL, *c;
  free(text);
  if (!tpl || !cJSON_IsArray(convs)) return fprintf(stderr, "tokcheck: bad chat input\n"), 2;
  sotto_chat_format f = sotto_chat_detect(tpl);
  cJSON *out = cJSON_CreateArray();
  cJSON_ArrayForEach(c, convs) {
    const cJSON *ms = cJSON_GetObjectItem(c, "messages"), *m;
    int k = 0, count = cJSON_GetArraySize(ms);
    sotto_chat_message *msgs = calloc((size_t)count + 1, sizeof *msgs);
    cJSON_ArrayForEach(m, ms) {
      msgs[k].role = cJSON_GetStringValue(cJSON_GetObjectItem(m, "role"));
      msgs[k++].content = cJSON_GetStringValue(cJSON_GetObjectItem(m, "content"));
    }
    sotto_error err = {0};
    char *s = sotto_chat_apply(f, msgs, count, cJSON_IsTrue(cJSON_GetObjectItem(c, "add_generation_prompt")), &err);
    cJSON *r = s ? cJSON_CreateObject() : error_json(&err);
    if (s) {
      cJSON_AddStringToObject(r, "format", sotto_chat_format_name(f));
      cJSON_AddStringToObject(r, "text", s);
    }
    cJSON_AddItemToArray(out, r);
    free(s);
    free(msgs);
  }
  int rc = write_out(out_path, out);
  cJSON_Delete(out);
  cJSON_Delete(convs);
  free(tpl);
  return rc;
}

int main(int argc, char **argv) {
  sotto_error err = {0};
  if (argc == 5 && !strcmp(argv[1], "--chat")) return chat(argv[2], argv[3], argv[4]);
  sotto_tokenizer *t = NULL;
  const char *cases_path, *out_path;
  if (argc == 6 && !strcmp(argv[1], "--to-gguf")) { /* TOKENIZER.json CONFIG OUT.gguf ARCH */
    size_t n, cn = 0;
    gguf_mem m = {0};
    char *json = slurp(argv[2], &n), *cfg = strcmp(argv[3], "-") ? slurp(argv[3], &cn) : NULL;
    t = json ? sotto_tokenizer_from_json(json, n, cfg, cn, &err) : NULL;
    free(json);
    free(cfg);
    sotto_gguf_writer *w = sotto_gguf_writer_create();
    int rc = !t || sotto_gguf_set_str(w, "general.architecture", argv[5], strlen(argv[5])) ||
             sotto_tokenizer_to_gguf(t, 0, w, &err) || sotto_gguf_write(w, mem_sink, &m, &err);
    FILE *f = rc ? NULL : fopen(argv[4], "wb");
    if (f) fwrite(m.data, 1, m.len, f), fclose(f);
    sotto_gguf_writer_free(w);
    sotto_tokenizer_free(t);
    free(m.data);
    if (!f) fprintf(stderr, "tokcheck: %s\n", err.message);
    return f ? 0 : 1;
  }
  int mode = argc == 6 ? (!strcmp(argv[1], "--gguf") ? 1 : !strcmp(argv[1], "--via-gguf") ? 2 : -1)
                       : argc == 5 ? 0 : -1;
  char **a = argv + (mode > 0);
  gguf_mem file = {0};
  sotto_gguf *g = NULL;
  if (mode == 1) {
    file.data = (uint8_t *)slurp(a[1], &file.len);
    if (!file.data) return fprintf(stderr, "tokcheck: cannot read %s\n", a[1]), 2;
    g = sotto_gguf_open(file.data, file.len, &err);
    if (g) t = sotto_tokenizer_from_gguf(g, &err);
    cases_path = a[3], out_path = a[4];
  } else if (mode >= 0) {
    size_t n, cn = 0;
    char *json = slurp(a[1], &n), *cfg = strcmp(a[2], "-") ? slurp(a[2], &cn) : NULL;
    if (!json) return fprintf(stderr, "tokcheck: cannot read %s\n", a[1]), 2;
    t = sotto_tokenizer_from_json(json, n, cfg, cn, &err);
    free(json);
    free(cfg);
    if (t && mode == 2) { /* through GGUF metadata and back */
      sotto_gguf_writer *w = sotto_gguf_writer_create();
      int rc = sotto_tokenizer_to_gguf(t, 0, w, &err);
      if (!rc) rc = sotto_gguf_write(w, mem_sink, &file, &err);
      sotto_gguf_writer_free(w);
      sotto_tokenizer_free(t);
      t = NULL;
      if (!rc) g = sotto_gguf_open(file.data, file.len, &err);
      if (g) t = sotto_tokenizer_from_gguf(g, &err);
    }
    cases_path = a[3], out_path = a[4];
  } else {
    fprintf(stderr, "usage: tokcheck TOKENIZER.json CONFIG.json|- CASES.json OUT.json\n"
                    "       tokcheck --via-gguf TOKENIZER.json CONFIG.json|- CASES.json OUT.json\n"
                    "       tokcheck --gguf FILE.gguf - CASES.json OUT.json\n"
                    "       tokcheck --chat TEMPLATE.txt CONVERSATIONS.json OUT.json\n"
                    "       tokcheck --to-gguf TOKENIZER.json CONFIG.json|- OUT.gguf ARCH\n");
    return 2;
  }
  if (!t) {
    cJSON *e = error_json(&err);
    int rc = write_out(out_path, e);
    cJSON_Delete(e);
    sotto_gguf_close(g);
    free(file.data);
    return rc;
  }
  size_t n;
  char *cases_text = slurp(cases_path, &n);
  cJSON *cases = cases_text ? cJSON_ParseWithLength(cases_text, n) : NULL;
  free(cases_text);
  if (!cJSON_IsArray(cases)) return fprintf(stderr, "tokcheck: bad cases file\n"), 2;
  cJSON *out = cJSON_CreateArray(), *c;
  int64_t cap = 1 << 16;
  int32_t *ids = malloc((size_t)cap * sizeof *ids), *types = malloc((size_t)cap * sizeof *types);
  cJSON_ArrayForEach(c, cases) {
    size_t al = 0, bl = 0;
    char *a = case_text(c, "text", &al), *b = case_text(c, "pair", &bl);
    const cJSON *ml = cJSON_GetObjectItem(c, "max_len"), *sp = cJSON_GetObjectItem(c, "special");
    int special = cJSON_IsNumber(sp) ? sp->valueint : 1;
    int64_t k;
    for (;;) {
      if (b || cJSON_IsNumber(ml))
        k = sotto_tokenizer_encode_pair(t, a, al, b, bl, cJSON_IsNumber(ml) ? ml->valueint : 0,
                                        ids, types, cap, &err);
      else
        k = sotto_tokenizer_encode(t, a, al, special, special, ids, cap, &err);
      if (k <= cap) break;
      cap = k;
      ids = realloc(ids, (size_t)cap * sizeof *ids);
      types = realloc(types, (size_t)cap * sizeof *types);
    }
    cJSON *r = k < 0 ? error_json(&err) : cJSON_CreateObject();
    if (k >= 0) {
      cJSON *x = cJSON_AddArrayToObject(r, "ids");
      for (int64_t i = 0; i < k; i++) cJSON_AddItemToArray(x, cJSON_CreateNumber(ids[i]));
      if (b || cJSON_IsNumber(ml)) {
        x = cJSON_AddArrayToObject(r, "type_ids");
        for (int64_t i = 0; i < k; i++) cJSON_AddItemToArray(x, cJSON_CreateNumber(types[i]));
      }
    }
    cJSON_AddItemToArray(out, r);
    free(a);
    free(b);
  }
  int rc = write_out(out_path, out);
  cJSON_Delete(out);
  cJSON_Delete(cases);
  free(ids);
  free(types);
  sotto_tokenizer_free(t);
  sotto_gguf_close(g);
  free(file.data);
  return rc;
}
