/*
 * load_json.c - a tokenizer from Hugging Face's tokenizer.json (the
 * serialisation of the tokenizers library: "model", "normalizer",
 * "pre_tokenizer", "post_processor", "added_tokens"), plus, when given,
 * tokenizer_config.json (transformers: bos/eos/unk/pad/sep/cls/mask
 * tokens and chat_template).
 *
 * Models: WordPiece, BPE (byte-level when a ByteLevel pre-tokeniser is
 * declared, else SentencePiece style) and Unigram. A component sotto does
 * not implement (an unknown regex, NFKC, ...) is SOTTO_UNSUPPORTED_MODEL
 * naming it, never silently different ids. Untrusted input: every id and
 * string is checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"

#define MAX_VOCAB (1 << 22)

typedef struct jload {
  sotto_tokenizer *t;
  sotto_error *err;
} jload;

static const char *jstr(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jbool(const cJSON *o, const char *key, int dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

static int bad(jload *L, sotto_status st, const char *what) {
  return sotto_error_set(L->err, st, "tokenizer.json: %s", what);
}

static int oom(jload *L) { return bad(L, SOTTO_OUT_OF_MEMORY, "out of memory"); }

/* A whole number in [0, MAX_VOCAB). */
static int jid(const cJSON *v, int32_t *id) {
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < MAX_VOCAB) ||
      v->valuedouble != (double)(int32_t)v->valuedouble)
    return -1;
  *id = (int32_t)v->valuedouble;
  return 0;
}

/* ---- base64 (the precompiled_charsmap) ---- */
static int b64val(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static uint8_t *b64decode(const char *s, size_t *out_len) {
  size_t n = strlen(s), k = 0;
  uint8_t *o = malloc(n / 4 * 3 + 3);
  if (!o) return NULL;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n && s[i] != '='; i++) {
    int v = b64val((unsigned char)s[i]);
    if (v < 0) {
      free(o);
      return NULL;
    }
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      o[k++] = (uint8_t)(acc >> bits);
    }
  }
  *out_len = k;
  return o;
}

/* ---- normalizer ---- */
static tok_norm *add_norm(jload *L, tok_norm_kind kind) {
  sotto_tokenizer *t = L->t;
  if (t->n_norm == TOK_MAX_STEPS) {
    bad(L, SOTTO_UNSUPPORTED_MODEL, "too many normalizers");
    return NULL;
  }
  tok_norm *n = &t->norm[t->n_norm++];
  memset(n, 0, sizeof *n);
  n->kind = kind;
  return n;
}

static int parse_normalizer(jload *L, const cJSON *o, int depth) {
  if (!o || cJSON_IsNull(o)) return 0;
  const char *type = jstr(o, "type");
  if (!type || depth > 4) return bad(L, SOTTO_BAD_MODEL, "normalizer without a type");
  tok_norm *n;
  if (!strcmp(type, "Sequence")) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "normalizers"), *it;
    if (!cJSON_IsArray(list)) return bad(L, SOTTO_BAD_MODEL, "Sequence without normalizers");
    cJSON_ArrayForEach(it, list) if (parse_normalizer(L, it, depth + 1)) return -1;
    return 0;
  }
  if (!strcmp(type, "BertNormalizer")) {
    if (!(n = add_norm(L, NORM_BERT))) return -1;
    n->clean_text = (uint8_t)jbool(o, "clean_text", 1);
    n->chinese = (uint8_t)jbool(o, "handle_chinese_chars", 1);
    n->lowercase = (uint8_t)jbool(o, "lowercase", 1);
    n->strip_accents = (uint8_t)jbool(o, "strip_accents", n->lowercase);
    return 0;
  }
  static const struct { const char *name; tok_norm_kind kind; } simple[] = {
      {"Lowercase", NORM_LOWERCASE}, {"StripAccents", NORM_STRIP_ACCENTS},
      {"NFD", NORM_NFD}, {"NFC", NORM_NFC}};
  for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
    if (!strcmp(type, simple[i].name)) return add_norm(L, simple[i].kind) ? 0 : -1;
  if (!strcmp(type, "Replace")) {
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    const char *content = jstr(o, "content"), *lit = jstr(pat, "String"), *re = jstr(pat, "Regex");
    if (!content || (!lit && !re)) return bad(L, SOTTO_BAD_MODEL, "Replace without pattern");
    if (re && strcmp(re, " {2,}"))
      return sotto_error_set(L->err, SOTTO_UNSUPPORTED_MODEL,
                             "tokenizer.json: Replace regex \"%.64s\" is not supported", re);
    if (!(n = add_norm(L, re ? NORM_SPACES : NORM_REPLACE))) return -1;
    if ((lit && tok_set_bytes(&n->a, &n->a_len, lit, strlen(lit))) ||
        tok_set_bytes(&n->b, &n->b_len, content, strlen(content)))
      return oom(L);
    return 0;
  }
  if (!strcmp(type, "Prepend")) {
    const char *p = jstr(o, "prepend");
    if (!p) return bad(L, SOTTO_BAD_MODEL, "Prepend without prepend");
    if (!(n = add_norm(L, NORM_PREPEND))) return -1;
    return tok_set_bytes(&n->a, &n->a_len, p, strlen(p)) ? oom(L) : 0;
  }
  if (!strcmp(type, "Strip")) {
    if (!(n = add_norm(L, NORM_STRIP))) return -1;
    n->left = (uint8_t)jbool(o, "strip_left", 1);
    n->right = (uint8_t)jbool(o, "strip_right", 1);
    return 0;
  }
  if (!strcmp(type, "Precompiled")) {
    const char *b64 = jstr(o, "precompiled_charsmap");
    if (!b64) return 0; /* null: no rules */
    if (L->t->charsmap) return bad(L, SOTTO_UNSUPPORTED_MODEL, "two precompiled charsmaps");
    size_t len;
    uint8_t *map = b64decode(b64, &len);
    if (!map) return bad(L, SOTTO_BAD_MODEL, "precompiled_charsmap is not base64");
    L->t->charsmap = map;
    L->t->charsmap_len = len;
    if (tok_precompiled_check(map, len, L->err)) return -1;
    return add_norm(L, NORM_PRECOMPILED) ? 0 : -1;
  }
  return sotto_error_set(L->err, SOTTO_UNSUPPORTED_MODEL,
                         "tokenizer.json: normalizer %.32s is not supported", type);
}

/* ---- pre-tokenizer ---- */
static const struct {
  const char *pattern;
  tok_regex regex;
} known_regex[] = {
    {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
     REGEX_GPT2},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
     "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     REGEX_LLAMA3},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
     "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     REGEX_QWEN2},
    {"\\p{N}", REGEX_DIGITS},
};

static tok_pre *add_pre(jload *L, tok_pre_kind kind) {
  sotto_tokenizer *t = L->t;
  if (t->n_pre == TOK_MAX_STEPS) {
    bad(L, SOTTO_UNSUPPORTED_MODEL, "too many pre-tokenizers");
    return NULL;
  }
  tok_pre *p = &t->pre[t->n_pre++];
  memset(p, 0, sizeof *p);
  p->kind = kind;
  p->behavior = SPLIT_ISOLATED;
  return p;
}

static int parse_behavior(jload *L, const cJSON *o, tok_split *b) {
  static const char *const names[] = {"Removed", "Isolated", "MergedWithPrevious",
                                      "MergedWithNext", "Contiguous"};
  const char *s = jstr(o, "behavior");
  if (!s) return 0;
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, names[i])) {
      *b = (tok_split)i;
      return 0;
    }
  return bad(L, SOTTO_BAD_MODEL, "unknown split behavior");
}

static int parse_pretokenizer(jload *L, const cJSON *o, int depth) {
  if (!o || cJSON_IsNull(o)) return 0;
  const char *type = jstr(o, "type");
  if (!type || depth > 4) return bad(L, SOTTO_BAD_MODEL, "pre_tokenizer without a type");
  tok_pre *p;
  if (!strcmp(type, "Sequence")) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "pretokenizers"), *it;
    if (!cJSON_IsArray(list)) return bad(L, SOTTO_BAD_MODEL, "Sequence without pretokenizers");
    cJSON_ArrayForEach(it, list) if (parse_pretokenizer(L, it, depth + 1)) return -1;
    return 0;
  }
  if (!strcmp(type, "BertPreTokenizer")) return add_pre(L, PRE_BERT) ? 0 : -1;
  if (!strcmp(type, "Whitespace")) return add_pre(L, PRE_WHITESPACE) ? 0 : -1;
  if (!strcmp(type, "WhitespaceSplit")) return add_pre(L, PRE_WHITESPACE_SPLIT) ? 0 : -1;
  if (!strcmp(type, "Punctuation")) {
    if (!(p = add_pre(L, PRE_PUNCTUATION))) return -1;
    return parse_behavior(L, o, &p->behavior);
  }
  if (!strcmp(type, "ByteLevel")) {
    if (!(p = add_pre(L, PRE_BYTELEVEL))) return -1;
    p->prefix = (uint8_t)jbool(o, "add_prefix_space", 1);
    p->use_regex = (uint8_t)jbool(o, "use_regex", 1);
    L->t->byte_level = 1;
    return 0;
  }
  if (!strcmp(type, "Digits")) {
    if (!(p = add_pre(L, PRE_DIGITS))) return -1;
    p->individual = (uint8_t)jbool(o, "individual_digits", 0);
    return 0;
  }
  if (!strcmp(type, "Split")) {
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    const char *lit = jstr(pat, "String"), *re = jstr(pat, "Regex");
    if (!lit && !re) return bad(L, SOTTO_BAD_MODEL, "Split without pattern");
    if (jbool(o, "invert", 0)) return bad(L, SOTTO_UNSUPPORTED_MODEL, "inverted Split");
    if (!(p = add_pre(L, lit ? PRE_SPLIT : PRE_REGEX))) return -1;
    if (parse_behavior(L, o, &p->behavior)) return -1;
    if (lit) return tok_set_bytes(&p->str, &p->str_len, lit, strlen(lit)) ? oom(L) : 0;
    for (size_t i = 0; i < sizeof known_regex / sizeof known_regex[0]; i++)
      if (!strcmp(re, known_regex[i].pattern)) {
        p->regex = known_regex[i].regex;
        return 0;
      }
    return sotto_error_set(L->err, SOTTO_UNSUPPORTED_MODEL,
                           "tokenizer.json: split regex \"%.80s\" is not supported", re);
  }
  if (!strcmp(type, "Metaspace")) {
    const char *rep = jstr(o, "replacement"), *scheme = jstr(o, "prepend_scheme");
    if (!(p = add_pre(L, PRE_METASPACE))) return -1;
    if (!rep) rep = "\xE2\x96\x81";
    if (!*rep) return bad(L, SOTTO_BAD_MODEL, "empty Metaspace replacement");
    p->prefix = (uint8_t)jbool(o, "add_prefix_space", 1);
    if (scheme) p->prefix = !strcmp(scheme, "always") ? 1 : !strcmp(scheme, "first") ? 2 : 0;
    p->split = (uint8_t)jbool(o, "split", 1);
    return tok_set_bytes(&p->str, &p->str_len, rep, strlen(rep)) ? oom(L) : 0;
  }
  return sotto_error_set(L->err, SOTTO_UNSUPPORTED_MODEL,
                         "tokenizer.json: pre-tokenizer %.32s is not supported", type);
}

/* ---- post-processor ---- */
static int32_t token_id(const sotto_tokenizer *t, const char *s) {
  return s ? tok_find(t, s, strlen(s)) : -1;
}

static int add_item(jload *L, tok_item *items, int *n, int32_t id, int type_id) {
  if (*n == TOK_MAX_ITEMS) return bad(L, SOTTO_UNSUPPORTED_MODEL, "template too long");
  if (id < -2 || id >= L->t->n_vocab) return bad(L, SOTTO_BAD_MODEL, "template token unknown");
  items[(*n)++] = (tok_item){id, (uint8_t)type_id};
  return 0;
}

/* ["[SEP]", 102] of BertProcessing and RobertaProcessing. */
static int pair_id(jload *L, const cJSON *o, const char *key, int32_t *id) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsArray(v) || jid(cJSON_GetArrayItem(v, 1), id) || *id >= L->t->n_vocab)
    return bad(L, SOTTO_BAD_MODEL, "bad special token in post_processor");
  return 0;
}

/* A template of TemplateProcessing; pair: 1 for the pair template, which
 * must use sequences A and B once each (the single one A once), as Hugging
 * Face's TemplateProcessingBuilder requires: truncation counts each once. */
static int parse_template(jload *L, const cJSON *list, const cJSON *specials, tok_item *items,
                          int *n, int pair) {
  const cJSON *it;
  int uses[2] = {0, 0};
  *n = 0;
  if (!cJSON_IsArray(list)) return bad(L, SOTTO_BAD_MODEL, "template is not a list");
  cJSON_ArrayForEach(it, list) {
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(it, "Sequence");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(sp ? sp : seq, "type_id");
    int type_id = 0;
    if (type && !cJSON_IsNull(type)) {
      if (!cJSON_IsNumber(type) || !(type->valuedouble >= 0 && type->valuedouble <= 255) ||
          type->valuedouble != (double)(int)type->valuedouble)
        return bad(L, SOTTO_BAD_MODEL, "template type_id is not a whole number from 0 to 255");
      type_id = (int)type->valuedouble;
    }
    if (seq) {
      const char *which = jstr(seq, "id");
      if (!which || (strcmp(which, "A") && strcmp(which, "B")))
        return bad(L, SOTTO_BAD_MODEL, "template sequence is not A or B");
      uses[which[0] == 'B']++;
      if (add_item(L, items, n, which[0] == 'A' ? -1 : -2, type_id)) return -1;
    } else if (sp) {
      const char *name = jstr(sp, "id");
      const cJSON *def = name ? cJSON_GetObjectItemCaseSensitive(specials, name) : NULL;
      const cJSON *ids = cJSON_GetObjectItemCaseSensitive(def, "ids"), *x;
      if (!cJSON_IsArray(ids)) return bad(L, SOTTO_BAD_MODEL, "template special token unknown");
      cJSON_ArrayForEach(x, ids) {
        int32_t id;
        if (jid(x, &id)) return bad(L, SOTTO_BAD_MODEL, "bad template id");
        if (add_item(L, items, n, id, type_id)) return -1;
      }
    } else {
      return bad(L, SOTTO_BAD_MODEL, "template item is neither SpecialToken nor Sequence");
    }
  }
  if (*n && (uses[0] != 1 || uses[1] != pair)) /* (an empty one: no framing) */
    return bad(L, SOTTO_BAD_MODEL, pair ? "pair template must use sequences A and B once each"
                                        : "single template must use sequence A once, and not B");
  return 0;
}

static int parse_post(jload *L, const cJSON *o, int depth) {
  sotto_tokenizer *t = L->t;
  if (!o || cJSON_IsNull(o)) return 0;
  const char *type = jstr(o, "type");
  if (!type || depth > 4) return bad(L, SOTTO_BAD_MODEL, "post_processor without a type");
  if (!strcmp(type, "Sequence")) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "processors"), *it;
    if (!cJSON_IsArray(list)) return bad(L, SOTTO_BAD_MODEL, "Sequence without processors");
    cJSON_ArrayForEach(it, list) if (parse_post(L, it, depth + 1)) return -1;
    return 0;
  }
  if (!strcmp(type, "ByteLevel")) return 0; /* offsets only */
  if (!strcmp(type, "TemplateProcessing")) {
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(o, "special_tokens");
    return parse_template(L, cJSON_GetObjectItemCaseSensitive(o, "single"), sp, t->single,
                          &t->n_single, 0) ||
           parse_template(L, cJSON_GetObjectItemCaseSensitive(o, "pair"), sp, t->pair,
                          &t->n_pair, 1);
  }
  int32_t cls, sep;
  if (!strcmp(type, "BertProcessing")) {
    if (pair_id(L, o, "cls", &cls) || pair_id(L, o, "sep", &sep)) return -1;
    tok_item s[] = {{cls, 0}, {-1, 0}, {sep, 0}}, p[] = {{cls, 0}, {-1, 0}, {sep, 0}, {-2, 1},
                                                         {sep, 1}};
    memcpy(t->single, s, sizeof s), t->n_single = 3;
    memcpy(t->pair, p, sizeof p), t->n_pair = 5;
    return 0;
  }
  if (!strcmp(type, "RobertaProcessing")) {
    if (pair_id(L, o, "cls", &cls) || pair_id(L, o, "sep", &sep)) return -1;
    tok_item s[] = {{cls, 0}, {-1, 0}, {sep, 0}},
             p[] = {{cls, 0}, {-1, 0}, {sep, 0}, {sep, 0}, {-2, 0}, {sep, 0}};
    memcpy(t->single, s, sizeof s), t->n_single = 3;
    memcpy(t->pair, p, sizeof p), t->n_pair = 6;
    return 0;
  }
  return sotto_error_set(L->err, SOTTO_UNSUPPORTED_MODEL,
                         "tokenizer.json: post-processor %.32s is not supported", type);
}

/* ---- vocabulary ---- */
typedef struct entry {
  const char *s;
  int32_t id;
  float score;
} entry;

static int load_vocab(jload *L, const cJSON *model, const cJSON *added, int unigram) {
  sotto_tokenizer *t = L->t;
  const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab"), *it;
  int nv = cJSON_GetArraySize(vocab), na = cJSON_GetArraySize(added);
  if (unigram ? !cJSON_IsArray(vocab) : !cJSON_IsObject(vocab))
    return bad(L, SOTTO_BAD_MODEL, "model.vocab missing or of the wrong type");
  if (!cJSON_IsArray(added) && added) return bad(L, SOTTO_BAD_MODEL, "added_tokens not a list");
  entry *e = malloc(((size_t)nv + (size_t)na + 1) * sizeof *e);
  if (!e) return oom(L);
  size_t n = 0, pool = 0;
  int32_t max_id = -1, k = 0;
  cJSON_ArrayForEach(it, vocab) {
    entry x = {0};
    if (unigram) {
      const cJSON *s = cJSON_GetArrayItem(it, 0), *sc = cJSON_GetArrayItem(it, 1);
      if (!cJSON_IsString(s) || !cJSON_IsNumber(sc)) goto bad_entry;
      x = (entry){s->valuestring, k++, (float)sc->valuedouble};
    } else {
      if (!it->string || jid(it, &x.id)) goto bad_entry;
      x.s = it->string;
    }
    e[n++] = x;
  }
  cJSON_ArrayForEach(it, added) {
    entry x = {jstr(it, "content"), 0, 0};
    if (!x.s || jid(cJSON_GetObjectItemCaseSensitive(it, "id"), &x.id)) goto bad_entry;
    e[n++] = x;
  }
  for (size_t i = 0; i < n; i++) {
    if (e[i].id > max_id) max_id = e[i].id;
    pool += strlen(e[i].s);
  }
  if (max_id < 0) {
    free(e);
    return bad(L, SOTTO_BAD_MODEL, "empty vocabulary");
  }
  if ((size_t)max_id > 4 * n + 1024) {
    free(e);
    return bad(L, SOTTO_BAD_MODEL, "token ids far beyond the vocabulary size");
  }
  t->n_vocab = max_id + 1;
  t->pool = malloc(pool + 1);
  t->off = calloc((size_t)t->n_vocab, sizeof *t->off);
  t->len = calloc((size_t)t->n_vocab, sizeof *t->len);
  t->type = malloc((size_t)t->n_vocab);
  if (unigram) t->scores = calloc((size_t)t->n_vocab, sizeof *t->scores);
  if (!t->pool || !t->off || !t->len || !t->type || (unigram && !t->scores)) {
    free(e);
    return oom(L);
  }
  memset(t->type, TOK_TYPE_UNUSED, (size_t)t->n_vocab);
  size_t at = 0;
  t->unk_score = 0;
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(e[i].s);
    int32_t id = e[i].id;
    if (t->type[id] != TOK_TYPE_UNUSED &&
        (t->len[id] != l || memcmp(t->pool + t->off[id], e[i].s, l))) {
      free(e);
      return bad(L, SOTTO_BAD_MODEL, "two tokens with one id");
    }
    memcpy(t->pool + at, e[i].s, l);
    t->off[id] = (uint32_t)at, t->len[id] = (uint32_t)l;
    t->type[id] = TOK_TYPE_NORMAL;
    if (unigram && i < (size_t)nv) {
      t->scores[id] = e[i].score;
      if (e[i].score < t->unk_score || i == 0) t->unk_score = e[i].score;
    }
    at += l;
  }
  free(e);
  if (at > UINT32_MAX) return bad(L, SOTTO_UNSUPPORTED_MODEL, "vocabulary text too large");
  return 0;
bad_entry:
  free(e);
  return bad(L, SOTTO_BAD_MODEL, "bad vocabulary entry");
}

static int load_merges(jload *L, const cJSON *model) {
  sotto_tokenizer *t = L->t;
  const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges"), *it;
  if (!merges || cJSON_IsNull(merges)) return 0;
  if (!cJSON_IsArray(merges)) return bad(L, SOTTO_BAD_MODEL, "merges is not a list");
  tok_buf cat = {0};
  uint32_t rank = 0;
  cJSON_ArrayForEach(it, merges) {
    const char *a, *b;
    size_t al, bl;
    if (cJSON_IsString(it)) {
      a = it->valuestring;
      const char *sp = strchr(a, ' ');
      if (!sp) goto bad_merge;
      al = (size_t)(sp - a), b = sp + 1, bl = strlen(b);
    } else {
      const cJSON *x = cJSON_GetArrayItem(it, 0), *y = cJSON_GetArrayItem(it, 1);
      if (!cJSON_IsString(x) || !cJSON_IsString(y)) goto bad_merge;
      a = x->valuestring, al = strlen(a), b = y->valuestring, bl = strlen(b);
    }
    cat.n = 0;
    if (tok_buf_add(&cat, a, al) || tok_buf_add(&cat, b, bl)) {
      tok_buf_free(&cat);
      return oom(L);
    }
    int32_t ia = tok_find(t, a, al), ib = tok_find(t, b, bl), io = tok_find(t, cat.v, cat.n);
    if (ia < 0 || ib < 0 || io < 0) {
      tok_buf_free(&cat);
      return bad(L, SOTTO_BAD_MODEL, "a merge of tokens not in the vocabulary");
    }
    if (tok_merge_add(t, ia, ib, rank++, io)) {
      tok_buf_free(&cat);
      return oom(L);
    }
  }
  tok_buf_free(&cat);
  return 0;
bad_merge:
  tok_buf_free(&cat);
  return bad(L, SOTTO_BAD_MODEL, "bad merge");
}

static int load_added(jload *L, const cJSON *added) {
  sotto_tokenizer *t = L->t;
  const cJSON *it;
  int n = cJSON_GetArraySize(added);
  if (!n) return 0;
  t->added = calloc((size_t)n, sizeof *t->added);
  if (!t->added) return oom(L);
  cJSON_ArrayForEach(it, added) {
    tok_added *a = &t->added[t->n_added++];
    jid(cJSON_GetObjectItemCaseSensitive(it, "id"), &a->id); /* checked in load_vocab */
    a->special = (uint8_t)jbool(it, "special", 0);
    a->lstrip = (uint8_t)jbool(it, "lstrip", 0);
    a->rstrip = (uint8_t)jbool(it, "rstrip", 0);
    a->single_word = (uint8_t)jbool(it, "single_word", 0);
    a->normalized = (uint8_t)jbool(it, "normalized", !a->special);
    t->type[a->id] = a->special ? TOK_TYPE_CONTROL : TOK_TYPE_USER;
  }
  return 0;
}

/* A special token of tokenizer_config.json: "<s>" or {"content": "<s>"}. */
static int32_t config_token(const sotto_tokenizer *t, const cJSON *cfg, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
  if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
  return cJSON_IsString(v) ? token_id(t, v->valuestring) : -1;
}

static int load_config(jload *L, const cJSON *cfg) {
  sotto_tokenizer *t = L->t;
  int32_t *dst[] = {&t->sp.bos, &t->sp.eos, &t->sp.unk, &t->sp.pad,
                    &t->sp.sep, &t->sp.cls, &t->sp.mask};
  static const char *const keys[] = {"bos_token", "eos_token", "unk_token", "pad_token",
                                     "sep_token", "cls_token", "mask_token"};
  for (int i = 0; i < 7; i++) {
    int32_t id = config_token(t, cfg, keys[i]);
    if (id >= 0) *dst[i] = id;
  }
  const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(cfg, "chat_template");
  const char *text = cJSON_IsString(tpl) ? tpl->valuestring : NULL;
  if (cJSON_IsArray(tpl)) { /* [{"name": "default", "template": ...}, ...] */
    const cJSON *it;
    cJSON_ArrayForEach(it, tpl) {
      const char *name = jstr(it, "name");
      if (name && !strcmp(name, "default")) text = jstr(it, "template");
    }
  }
  if (text && tok_set_bytes(&t->chat_template, NULL, text, strlen(text))) return oom(L);
  return 0;
}

/* Special ids the files do not state, by the names the families use. */
static void default_specials(sotto_tokenizer *t) {
  static const char *const names[][4] = {
      {"[CLS]", "<s>", "<bos>", "<|begin_of_text|>"},
      {"[SEP]", "</s>", "<eos>", "<|endoftext|>"},
      {"<|eot_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>"},
      {"[UNK]", "<unk>", "<|unk|>", NULL},
      {"[PAD]", "<pad>", "<|pad|>", NULL},
      {"[SEP]", "</s>", NULL, NULL},
      {"[CLS]", "<s>", NULL, NULL},
      {"[MASK]", "<mask>", NULL, NULL},
  };
  int32_t *sp = &t->sp.bos;
  for (int i = 0; i < 8; i++)
    for (int k = 0; k < 4 && sp[i] < 0 && names[i][k]; k++) sp[i] = token_id(t, names[i][k]);
}

sotto_tokenizer *sotto_tokenizer_from_json(const char *json, size_t len, const char *config_json,
                                           size_t config_len, sotto_error *err) {
  jload L = {tok_alloc(), err};
  cJSON *root = json ? cJSON_ParseWithLength(json, len) : NULL;
  cJSON *cfg = config_json ? cJSON_ParseWithLength(config_json, config_len) : NULL;
  sotto_tokenizer *t = L.t;
  if (!t) {
    oom(&L);
    goto fail;
  }
  if (!cJSON_IsObject(root)) {
    bad(&L, SOTTO_BAD_MODEL, "not a JSON object");
    goto fail;
  }
  if (config_json && !cJSON_IsObject(cfg)) {
    sotto_error_set(err, SOTTO_BAD_MODEL, "tokenizer_config.json: not a JSON object");
    goto fail;
  }
  const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
  const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
  const char *type = jstr(model, "type");
  if (!cJSON_IsObject(model)) {
    bad(&L, SOTTO_BAD_MODEL, "no model");
    goto fail;
  }
  if (!type) type = cJSON_GetObjectItemCaseSensitive(model, "merges") ? "BPE"
                    : cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(model, "vocab")) ? "Unigram"
                                                                                      : "WordPiece";
  int unigram = !strcmp(type, "Unigram");
  if (!unigram && strcmp(type, "BPE") && strcmp(type, "WordPiece")) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "tokenizer.json: model %.32s is not supported",
                    type);
    goto fail;
  }
  t->kind = unigram ? SOTTO_TOK_UNIGRAM : !strcmp(type, "BPE") ? SOTTO_TOK_BPE
                                                               : SOTTO_TOK_WORDPIECE;
  if (load_vocab(&L, model, added, unigram) || load_added(&L, added)) goto fail;
  if (tok_map_build(t, &t->map, NULL, (size_t)t->n_vocab)) {
    oom(&L);
    goto fail;
  }
  if (parse_normalizer(&L, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), 0) ||
      parse_pretokenizer(&L, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), 0) ||
      parse_post(&L, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), 0))
    goto fail;
  t->byte_fallback = (uint8_t)jbool(model, "byte_fallback", 0);
  t->fuse_unk = (uint8_t)jbool(model, "fuse_unk", unigram);
  t->ignore_merges = (uint8_t)jbool(model, "ignore_merges", 0);
  const char *unk = jstr(model, "unk_token");
  if (unk) t->unk = token_id(t, unk);
  if (unigram) {
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(model, "unk_id");
    int32_t id = -1;
    if (u && !cJSON_IsNull(u) && (jid(u, &id) || id >= t->n_vocab)) {
      bad(&L, SOTTO_BAD_MODEL, "bad unk_id");
      goto fail;
    }
    if (u && !cJSON_IsNull(u)) t->unk = id;
  }
  if (t->kind == SOTTO_TOK_WORDPIECE) {
    const char *pfx = jstr(model, "continuing_subword_prefix");
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(model, "max_input_chars_per_word");
    if (!pfx) pfx = "##";
    if (tok_set_bytes(&t->subword_prefix, &t->subword_prefix_len, pfx, strlen(pfx))) {
      oom(&L);
      goto fail;
    }
    t->max_chars_per_word = cJSON_IsNumber(mc) && mc->valuedouble >= 0 &&
                                    mc->valuedouble < 1e9 ? (int)mc->valuedouble : 100;
  } else if (t->kind == SOTTO_TOK_BPE) {
    const char *pfx = jstr(model, "continuing_subword_prefix"),
               *sfx = jstr(model, "end_of_word_suffix");
    if ((pfx && *pfx) || (sfx && *sfx)) {
      bad(&L, SOTTO_UNSUPPORTED_MODEL, "BPE with subword prefixes or suffixes");
      goto fail;
    }
    if (load_merges(&L, model)) goto fail;
    if (!t->byte_level) t->kind = SOTTO_TOK_SPM_BPE;
  }
  t->sp.unk = t->unk;
  if (cfg && load_config(&L, cfg)) goto fail;
  default_specials(t);
  for (int b = 0; b < 256 && t->byte_fallback; b++) {
    char name[8];
    snprintf(name, sizeof name, "<0x%02X>", b);
    int32_t id = token_id(t, name);
    if (id >= 0 && t->type[id] == TOK_TYPE_NORMAL) t->type[id] = TOK_TYPE_BYTE;
  }
  if (t->unk >= 0 && t->type[t->unk] != TOK_TYPE_CONTROL) t->type[t->unk] = TOK_TYPE_UNKNOWN;
  /* What GGUF states as flags. */
  t->add_bos = t->n_single > 0 && t->single[0].id >= 0 && t->single[0].id == t->sp.bos;
  t->add_eos = t->n_single > 1 && t->single[t->n_single - 1].id >= 0 &&
               t->single[t->n_single - 1].id == t->sp.eos;
  for (int i = 0; i < t->n_pre; i++)
    if (t->pre[i].kind == PRE_METASPACE) t->add_space_prefix = t->pre[i].prefix != 0;
  for (int i = 0; i < t->n_norm; i++)
    if (t->norm[i].kind == NORM_PREPEND) t->add_space_prefix = 1;
  /* WordPiece casing, Unigram framing and stripping added tokens have no
   * llama.cpp key: a GGUF
   * written from this tokenizer carries the JSON too (load_gguf.c). */
  int stripped = 0;
  for (int i = 0; i < t->n_added; i++) stripped |= t->added[i].lstrip | t->added[i].rstrip;
  if ((t->kind == SOTTO_TOK_WORDPIECE || t->kind == SOTTO_TOK_UNIGRAM || stripped) &&
      tok_set_bytes(&t->hf_json, &t->hf_json_len, json, len)) {
    oom(&L);
    goto fail;
  }
  if (tok_finish(t, err)) goto fail;
  cJSON_Delete(root);
  cJSON_Delete(cfg);
  return t;
fail:
  cJSON_Delete(root);
  cJSON_Delete(cfg);
  sotto_tokenizer_free(t);
  return NULL;
}
