/*
 * load_gguf.c - a tokenizer from GGUF metadata and back, under llama.cpp's
 * keys and with llama.cpp's meanings (gguf-py constants.py Keys.Tokenizer;
 * llama-vocab.cpp llama_vocab::impl::load):
 *
 *   tokenizer.ggml.model   "bert" WordPiece | "gpt2" byte-level BPE |
 *                          "llama" SentencePiece BPE | "t5" Unigram
 *   tokenizer.ggml.pre     the byte-level pre-tokenizer: "gpt-2", "llama-bpe",
 *                          "qwen2", "smollm" ("default" = gpt-2)
 *   .tokens .token_type .scores .merges ("a b")
 *   .bos_token_id .eos_token_id .eot_token_id .unknown_token_id
 *   .seperator_token_id (sic) .padding_token_id .cls_token_id .mask_token_id
 *   .add_bos_token .add_eos_token .add_space_prefix .remove_extra_whitespaces
 *   .precompiled_charsmap (uint8 array)        tokenizer.chat_template
 *
 * llama.cpp stores a BERT vocabulary in "phantom space" form: a word-start
 * piece carries a leading U+2581 and a continuation piece loses its "##"
 * (convert_hf_to_gguf.py, BertModel.set_vocab); both directions here
 * translate. Where llama.cpp's keys cannot state a Hugging Face tokenizer
 * exactly (WordPiece casing, Unigram templates), the writer also stores
 * the tokenizer.json under tokenizer.huggingface.json (a gguf-py key), and
 * the reader prefers it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "tok.h"

#define KEY(k) "tokenizer.ggml." k
#define MAX_VOCAB (1 << 22)
#define PHANTOM "\xE2\x96\x81" /* U+2581 */

static int gbad(sotto_error *err, const char *key, const char *what) {
  return sotto_error_set(err, SOTTO_BAD_MODEL, "GGUF %s: %s", key, what);
}

static int add_step_pre(sotto_tokenizer *t, tok_pre p) {
  if (t->n_pre == TOK_MAX_STEPS) return -1;
  t->pre[t->n_pre++] = p;
  return 0;
}

static int add_step_norm(sotto_tokenizer *t, tok_norm n) {
  if (t->n_norm == TOK_MAX_STEPS) return -1;
  t->norm[t->n_norm++] = n;
  return 0;
}

/* The byte-level pre-tokenizer of a tokenizer.ggml.pre name. */
static int pre_for(sotto_tokenizer *t, const char *pre, sotto_error *err) {
  tok_pre bl = {.kind = PRE_BYTELEVEL, .behavior = SPLIT_ISOLATED};
  tok_pre re = {.kind = PRE_REGEX, .behavior = SPLIT_ISOLATED};
  if (!*pre || !strcmp(pre, "default") || !strcmp(pre, "gpt-2") || !strcmp(pre, "gpt2")) {
    bl.use_regex = 1;
    return add_step_pre(t, bl);
  }
  if (!strcmp(pre, "llama3") || !strcmp(pre, "llama-bpe") || !strcmp(pre, "qwen2")) {
    re.regex = !strcmp(pre, "qwen2") ? REGEX_QWEN2 : REGEX_LLAMA3;
    /* llama.cpp's llama_vocab::impl::load: Llama 3 keeps a word that is
     * one token whole (tokenizer.json's "ignore_merges") */
    t->ignore_merges = re.regex == REGEX_LLAMA3;
    /* Qwen's tokenizer.json normalises to NFC first; llama.cpp skips it,
     * sotto follows the model's own tokenizer. */
    if (re.regex == REGEX_QWEN2 && t->n_norm < TOK_MAX_STEPS)
      t->norm[t->n_norm++] = (tok_norm){.kind = NORM_NFC};
    return add_step_pre(t, re) || add_step_pre(t, bl);
  }
  if (!strcmp(pre, "smollm")) {
    tok_pre d = {.kind = PRE_DIGITS, .individual = 1};
    bl.use_regex = 1;
    return add_step_pre(t, d) || add_step_pre(t, bl);
  }
  return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                         "GGUF tokenizer.ggml.pre \"%.40s\" is not supported", pre);
}

static int get_id(const sotto_gguf *g, const char *key, int32_t *dst, sotto_error *err) {
  uint32_t v;
  int rc = sotto_gguf_get_u32(g, key, &v, err);
  if (rc < 0) return -1;
  if (rc == 1) *dst = v < (uint32_t)MAX_VOCAB ? (int32_t)v : -2; /* checked in tok_finish */
  return 0;
}

static int get_flag(const sotto_gguf *g, const char *key, int dflt, sotto_error *err) {
  int v = dflt;
  return sotto_gguf_get_bool(g, key, &v, err) < 0 ? -1 : v;
}

/* The framing templates of flags: BOS first, EOS last; a pair as RoBERTa
 * and XLM-R frame it when both are set, as BERT does for WordPiece. */
static void set_templates(sotto_tokenizer *t) {
  tok_item *s = t->single, *p = t->pair;
  int ns = 0, np = 0;
  int32_t bos = t->sp.bos, eos = t->sp.eos;
  if (t->kind == SOTTO_TOK_WORDPIECE) {
    bos = t->sp.cls >= 0 ? t->sp.cls : bos;
    eos = t->sp.sep >= 0 ? t->sp.sep : eos;
  }
  int add_bos = t->add_bos && bos >= 0, add_eos = t->add_eos && eos >= 0;
  if (add_bos) s[ns++] = (tok_item){bos, 0}, p[np++] = (tok_item){bos, 0};
  s[ns++] = (tok_item){-1, 0}, p[np++] = (tok_item){-1, 0};
  if (add_eos) s[ns++] = (tok_item){eos, 0}, p[np++] = (tok_item){eos, 0};
  if (t->kind == SOTTO_TOK_WORDPIECE) {
    p[np++] = (tok_item){-2, 1};
    if (add_eos) p[np++] = (tok_item){eos, 1};
  } else {
    if (add_bos && add_eos) p[np++] = (tok_item){eos, 0};
    else if (add_bos) p[np++] = (tok_item){bos, 1};
    p[np++] = (tok_item){-2, add_bos && add_eos ? 0 : 1};
    if (add_eos) p[np++] = (tok_item){eos, 0};
  }
  t->n_single = ns, t->n_pair = np;
}

static sotto_tokenizer *from_hf_json(const sotto_gguf *g, sotto_gguf_string js, sotto_error *err) {
  sotto_tokenizer *t = sotto_tokenizer_from_json(js.data, (size_t)js.len, NULL, 0, err);
  if (!t) return NULL;
  sotto_gguf_string tpl;
  int32_t *sp = &t->sp.bos;
  static const char *const keys[] = {KEY("bos_token_id"), KEY("eos_token_id"), KEY("eot_token_id"),
                                     KEY("unknown_token_id"), KEY("padding_token_id"),
                                     KEY("seperator_token_id"), KEY("cls_token_id"),
                                     KEY("mask_token_id")};
  for (int i = 0; i < 8; i++)
    if (get_id(g, keys[i], &sp[i], err) || sp[i] < -1 || sp[i] >= t->n_vocab) {
      if (sp[i] < -1 || sp[i] >= t->n_vocab) gbad(err, keys[i], "id out of range");
      sotto_tokenizer_free(t);
      return NULL;
    }
  if (sotto_gguf_get_str(g, "tokenizer.chat_template", &tpl, NULL) == 1 &&
      tok_set_bytes(&t->chat_template, NULL, tpl.data, (size_t)tpl.len)) {
    sotto_tokenizer_free(t);
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "tokenizer: out of memory");
    return NULL;
  }
  return t;
}

sotto_tokenizer *sotto_tokenizer_from_gguf(const sotto_gguf *g, sotto_error *err) {
  sotto_gguf_string model, pre = {"", 0}, s;
  sotto_gguf_type et;
  uint64_t n = 0, m;
  if (sotto_gguf_get_str(g, KEY("model"), &model, err) != 1) {
    if (err && err->status == SOTTO_OK) gbad(err, KEY("model"), "missing");
    return NULL;
  }
  if (sotto_gguf_get_str(g, "tokenizer.huggingface.json", &s, NULL) == 1) return from_hf_json(g, s, err);
  char name[16] = "";
  if (model.len < sizeof name) memcpy(name, model.data, (size_t)model.len);
  sotto_tokenizer_kind kind;
  if (!strcmp(name, "bert")) kind = SOTTO_TOK_WORDPIECE;
  else if (!strcmp(name, "gpt2")) kind = SOTTO_TOK_BPE;
  else if (!strcmp(name, "llama")) kind = SOTTO_TOK_SPM_BPE;
  else if (!strcmp(name, "t5")) kind = SOTTO_TOK_UNIGRAM;
  else {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "GGUF tokenizer.ggml.model \"%.*s\" is not supported",
                    (int)(model.len < 32 ? model.len : 32), model.data);
    return NULL;
  }
  if (sotto_gguf_get_arr(g, KEY("tokens"), &et, &n, err) != 1 || et != SOTTO_GGUF_STRING ||
      n == 0 || n > MAX_VOCAB) {
    if (!err || err->status == SOTTO_OK) gbad(err, KEY("tokens"), "missing, empty or not strings");
    return NULL;
  }
  sotto_tokenizer *t = tok_alloc();
  if (!t) goto oom;
  t->kind = kind;
  t->n_vocab = (int32_t)n;
  /* vocabulary text (WordPiece back from phantom form) */
  size_t pool = 0;
  for (uint64_t i = 0; i < n; i++) pool += (size_t)sotto_gguf_arr_str(g, KEY("tokens"), i).len + 2;
  t->pool = malloc(pool + 1);
  t->off = malloc(n * sizeof *t->off);
  t->len = malloc(n * sizeof *t->len);
  t->type = malloc(n);
  if (!t->pool || !t->off || !t->len || !t->type) goto oom;
  if (pool > UINT32_MAX) {
    gbad(err, KEY("tokens"), "too much text");
    goto fail;
  }
  size_t at = 0;
  for (uint64_t i = 0; i < n; i++) {
    sotto_gguf_string x = sotto_gguf_arr_str(g, KEY("tokens"), i);
    t->off[i] = (uint32_t)at;
    if (kind == SOTTO_TOK_WORDPIECE) {
      if (x.len >= 3 && !memcmp(x.data, PHANTOM, 3)) {
        x.data += 3, x.len -= 3;
      } else if (!(x.len >= 2 && x.data[0] == '[' && x.data[x.len - 1] == ']')) {
        memcpy(t->pool + at, "##", 2);
        at += 2;
      }
    }
    memcpy(t->pool + at, x.data, (size_t)x.len);
    at += (size_t)x.len;
    t->len[i] = (uint32_t)(at - t->off[i]);
  }
  /* token types */
  memset(t->type, TOK_TYPE_NORMAL, n);
  int rc = sotto_gguf_get_arr(g, KEY("token_type"), &et, &m, err);
  if (rc < 0) goto fail;
  if (rc == 1) {
    if (m != n || et == SOTTO_GGUF_STRING || et == SOTTO_GGUF_ARRAY) {
      gbad(err, KEY("token_type"), "not one number per token");
      goto fail;
    }
    for (uint64_t i = 0; i < n; i++) {
      double v = sotto_gguf_arr_num(g, KEY("token_type"), i);
      t->type[i] = v >= 1 && v <= 6 ? (uint8_t)v : TOK_TYPE_NORMAL;
    }
  }
  /* scores */
  rc = sotto_gguf_get_arr(g, KEY("scores"), &et, &m, err);
  if (rc < 0) goto fail;
  if (rc == 1) {
    if (m != n || et == SOTTO_GGUF_STRING || et == SOTTO_GGUF_ARRAY) {
      gbad(err, KEY("scores"), "not one number per token");
      goto fail;
    }
    if (!(t->scores = malloc(n * sizeof *t->scores))) goto oom;
    for (uint64_t i = 0; i < n; i++) {
      t->scores[i] = (float)sotto_gguf_arr_num(g, KEY("scores"), i);
      if (i == 0 || t->scores[i] < t->unk_score) t->unk_score = t->scores[i];
    }
  } else if (kind == SOTTO_TOK_SPM_BPE || kind == SOTTO_TOK_UNIGRAM) {
    gbad(err, KEY("scores"), "missing");
    goto fail;
  }
  if (tok_map_build(t, &t->map, NULL, (size_t)n)) goto oom;
  /* merges */
  if (kind == SOTTO_TOK_BPE) {
    rc = sotto_gguf_get_arr(g, KEY("merges"), &et, &m, err);
    if (rc < 0) goto fail;
    if (rc == 0 || et != SOTTO_GGUF_STRING) {
      gbad(err, KEY("merges"), "missing or not strings");
      goto fail;
    }
    tok_buf cat = {0};
    for (uint64_t i = 0; i < m; i++) {
      sotto_gguf_string x = sotto_gguf_arr_str(g, KEY("merges"), i);
      const char *sp = x.len ? memchr(x.data + 1, ' ', (size_t)x.len - 1) : NULL;
      if (!sp) {
        tok_buf_free(&cat);
        gbad(err, KEY("merges"), "a merge is not \"a b\"");
        goto fail;
      }
      size_t al = (size_t)(sp - x.data), bl = (size_t)x.len - al - 1;
      cat.n = 0;
      if (tok_buf_add(&cat, x.data, al) || tok_buf_add(&cat, sp + 1, bl)) {
        tok_buf_free(&cat);
        goto oom;
      }
      int32_t a = tok_find(t, x.data, al), b = tok_find(t, sp + 1, bl), o = tok_find(t, cat.v, cat.n);
      if (a < 0 || b < 0 || o < 0) {
        tok_buf_free(&cat);
        gbad(err, KEY("merges"), "a merge of tokens not in the vocabulary");
        goto fail;
      }
      if (tok_merge_add(t, a, b, (uint32_t)i, o)) {
        tok_buf_free(&cat);
        goto oom;
      }
    }
    tok_buf_free(&cat);
  }
  /* special ids and flags */
  int32_t *sp = &t->sp.bos;
  static const char *const keys[] = {KEY("bos_token_id"), KEY("eos_token_id"), KEY("eot_token_id"),
                                     KEY("unknown_token_id"), KEY("padding_token_id"),
                                     KEY("seperator_token_id"), KEY("cls_token_id"),
                                     KEY("mask_token_id")};
  for (int i = 0; i < 8; i++)
    if (get_id(g, keys[i], &sp[i], err)) goto fail;
  if (t->sp.unk >= (int32_t)n) {
    gbad(err, KEY("unknown_token_id"), "out of range");
    goto fail;
  }
  t->unk = t->sp.unk;
  if (t->unk < 0)
    for (uint64_t i = 0; i < n; i++)
      if (t->type[i] == TOK_TYPE_UNKNOWN) {
        t->unk = t->sp.unk = (int32_t)i;
        break;
      }
  /* llama.cpp's defaults when a flag is absent: BOS for all but GPT-2
   * style BPE, where only Llama 3's pre-tokenizer adds one */
  if (kind == SOTTO_TOK_BPE && sotto_gguf_get_str(g, KEY("pre"), &pre, err) < 0) goto fail;
  int llama3 = kind == SOTTO_TOK_BPE && ((pre.len == 6 && !memcmp(pre.data, "llama3", 6)) ||
                                         (pre.len == 9 && !memcmp(pre.data, "llama-bpe", 9)));
  int dflt_bos = kind != SOTTO_TOK_BPE || llama3,
      dflt_eos = kind == SOTTO_TOK_WORDPIECE || kind == SOTTO_TOK_UNIGRAM;
  int add_bos = get_flag(g, KEY("add_bos_token"), dflt_bos, err);
  int add_eos = get_flag(g, KEY("add_eos_token"), dflt_eos, err);
  int space = get_flag(g, KEY("add_space_prefix"), kind != SOTTO_TOK_BPE, err);
  int extra_ws = get_flag(g, KEY("remove_extra_whitespaces"), 0, err);
  if (add_bos < 0 || add_eos < 0 || space < 0 || extra_ws < 0) goto fail;
  t->add_bos = (uint8_t)add_bos, t->add_eos = (uint8_t)add_eos, t->add_space_prefix = (uint8_t)space;
  /* added tokens: control and user-defined tokens are split out first */
  int na = 0;
  for (uint64_t i = 0; i < n; i++) na += t->type[i] == TOK_TYPE_CONTROL || t->type[i] == TOK_TYPE_USER;
  if (na && !(t->added = calloc((size_t)na, sizeof *t->added))) goto oom;
  for (uint64_t i = 0; i < n; i++)
    if (t->type[i] == TOK_TYPE_CONTROL || t->type[i] == TOK_TYPE_USER)
      t->added[t->n_added++] = (tok_added){(int32_t)i, t->type[i] == TOK_TYPE_CONTROL, 0, 0, 0, 0};
  /* the pipeline of each kind */
  const char *meta = PHANTOM;
  if (kind == SOTTO_TOK_WORDPIECE) {
    if (add_step_norm(t, (tok_norm){.kind = NORM_BERT, .clean_text = 1, .chinese = 1,
                                    .strip_accents = 1, .lowercase = 1}) ||
        add_step_pre(t, (tok_pre){.kind = PRE_BERT}) ||
        tok_set_bytes(&t->subword_prefix, &t->subword_prefix_len, "##", 2))
      goto oom;
    t->max_chars_per_word = 100;
  } else if (kind == SOTTO_TOK_BPE) {
    t->byte_level = 1;
    char pname[32] = "";
    if (pre.len < sizeof pname) memcpy(pname, pre.data, (size_t)pre.len);
    else strcpy(pname, "?");
    if (pre_for(t, pname, err)) goto fail;
    if (tok_set_bytes(&t->pre_name, NULL, pname, strlen(pname))) goto oom;
  } else if (kind == SOTTO_TOK_SPM_BPE) {
    t->use_scores = 1;
    t->byte_fallback = 1;
    tok_norm prep = {.kind = NORM_PREPEND}, rep = {.kind = NORM_REPLACE};
    if (tok_set_bytes(&prep.a, &prep.a_len, meta, 3) || tok_set_bytes(&rep.a, &rep.a_len, " ", 1) ||
        tok_set_bytes(&rep.b, &rep.b_len, meta, 3) || (space && add_step_norm(t, prep)) ||
        add_step_norm(t, rep)) {
      if (!space) free(prep.a);
      goto oom;
    }
    if (!space) free(prep.a);
  } else { /* Unigram */
    t->fuse_unk = 1;
    rc = sotto_gguf_get_arr(g, KEY("precompiled_charsmap"), &et, &m, err);
    if (rc < 0) goto fail;
    if (rc == 1 && m > 0) {
      const void *d = sotto_gguf_arr_data(g, KEY("precompiled_charsmap"));
      if ((et != SOTTO_GGUF_UINT8 && et != SOTTO_GGUF_INT8) || !d) {
        gbad(err, KEY("precompiled_charsmap"), "not a byte array");
        goto fail;
      }
      uint8_t *map = malloc((size_t)m);
      if (!map) goto oom;
      memcpy(map, d, (size_t)m);
      t->charsmap = map, t->charsmap_len = (size_t)m;
      if (tok_precompiled_check(map, (size_t)m, err)) goto fail;
      if (add_step_norm(t, (tok_norm){.kind = NORM_PRECOMPILED})) goto oom;
    }
    tok_norm sp2 = {.kind = NORM_SPACES};
    tok_pre ms = {.kind = PRE_METASPACE, .prefix = (uint8_t)space, .split = 1};
    if (extra_ws && (tok_set_bytes(&sp2.b, &sp2.b_len, " ", 1) || add_step_norm(t, sp2))) goto oom;
    if (tok_set_bytes(&ms.str, &ms.str_len, meta, 3) || add_step_pre(t, ms)) goto oom;
  }
  for (int b = 0; b < 256 && kind == SOTTO_TOK_UNIGRAM; b++) {
    char bn[8];
    snprintf(bn, sizeof bn, "<0x%02X>", b);
    t->byte_fallback |= tok_find(t, bn, 6) >= 0;
  }
  set_templates(t);
  if (sotto_gguf_get_str(g, "tokenizer.chat_template", &s, err) == 1 &&
      tok_set_bytes(&t->chat_template, NULL, s.data, (size_t)s.len))
    goto oom;
  if (tok_finish(t, err)) goto fail;
  return t;
oom:
  sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "tokenizer: out of memory");
fail:
  sotto_tokenizer_free(t);
  return NULL;
}

/* ---- writing ---- */

/* The llama.cpp pre-tokenizer name of a byte-level pipeline. */
static const char *pre_name(const sotto_tokenizer *t) {
  if (t->pre_name) return t->pre_name;
  for (int i = 0; i < t->n_pre; i++) {
    if (t->pre[i].kind == PRE_REGEX && t->pre[i].regex == REGEX_LLAMA3) return "llama-bpe";
    if (t->pre[i].kind == PRE_REGEX && t->pre[i].regex == REGEX_QWEN2) return "qwen2";
    if (t->pre[i].kind == PRE_DIGITS && t->pre[i].individual) return "smollm";
  }
  return "gpt-2";
}

/* The text of the unused tokens that pad a token list: "[PAD<id>]". */
#define PAD_TOKEN_BYTES 24

int sotto_tokenizer_to_gguf(const sotto_tokenizer *t, int64_t n_tokens, sotto_gguf_writer *w,
                            sotto_error *err) {
  static const char *const models[] = {"bert", "gpt2", "llama", "t5"};
  size_t nv = (size_t)t->n_vocab;
  size_t n = n_tokens > t->n_vocab ? (size_t)n_tokens : nv;
  const char **strs = malloc(n * sizeof *strs);
  size_t *lens = malloc(n * sizeof *lens);
  int32_t *types = malloc(n * sizeof *types);
  char *pads = n > nv ? malloc((n - nv) * PAD_TOKEN_BYTES) : NULL;
  float *scores = NULL;
  char *phantom = NULL;
  int rc = -1;
  if (!strs || !lens || !types || (n > nv && !pads)) goto oom;
  for (size_t i = nv; i < n; i++) { /* TextModel.get_vocab_base */
    char *p = pads + (i - nv) * PAD_TOKEN_BYTES;
    strs[i] = p, lens[i] = (size_t)snprintf(p, PAD_TOKEN_BYTES, "[PAD%zu]", i);
    types[i] = TOK_TYPE_UNUSED;
  }
  if (t->kind == SOTTO_TOK_WORDPIECE) { /* phantom form, as llama.cpp's converter writes */
    size_t total = 0;
    for (size_t i = 0; i < nv; i++) total += t->len[i] + 3;
    if (!(phantom = malloc(total + 1))) goto oom;
  }
  size_t at = 0;
  for (size_t i = 0; i < nv; i++) {
    size_t l;
    const char *s = tok_text(t, (int32_t)i, &l);
    strs[i] = s, lens[i] = l;
    types[i] = t->type[i];
    if (phantom) {
      size_t pl = t->subword_prefix_len;
      int bracket = l >= 2 && s[0] == '[' && s[l - 1] == ']';
      if (pl && l >= pl && !memcmp(s, t->subword_prefix, pl)) {
        s += pl, l -= pl;
      } else if (!bracket) {
        memcpy(phantom + at, PHANTOM, 3);
        memcpy(phantom + at + 3, s, l);
        strs[i] = phantom + at, lens[i] = l + 3;
        at += l + 3;
        continue;
      }
      strs[i] = s, lens[i] = l;
    }
  }
  if (sotto_gguf_set_str(w, KEY("model"), models[t->kind], strlen(models[t->kind])) ||
      sotto_gguf_set_arr_str(w, KEY("tokens"), strs, lens, n) ||
      sotto_gguf_set_arr(w, KEY("token_type"), SOTTO_GGUF_INT32, types, n))
    goto oom;
  if (t->kind == SOTTO_TOK_SPM_BPE || t->kind == SOTTO_TOK_UNIGRAM) {
    if (!(scores = malloc(n * sizeof *scores))) goto oom;
    if (t->scores) {
      memcpy(scores, t->scores, nv * sizeof *scores);
    } else { /* from merge ranks: the earlier a merge, the higher its token */
      for (size_t i = 0; i < nv; i++) scores[i] = t->len[i] > 1 ? -1e9f : 0.0f;
      for (size_t j = 0; t->merge_key && j <= t->merge_mask; j++)
        if (t->merge_key[j] && -(float)t->merge_rank[j] > scores[t->merge_out[j]])
          scores[t->merge_out[j]] = -(float)t->merge_rank[j];
      for (size_t i = 0; i < nv; i++)
        if (t->type[i] != TOK_TYPE_NORMAL && t->type[i] != TOK_TYPE_USER) scores[i] = 0.0f;
    }
    for (size_t i = nv; i < n; i++) scores[i] = -1000.0f; /* _set_vocab_sentencepiece's pads */
    if (sotto_gguf_set_arr(w, KEY("scores"), SOTTO_GGUF_FLOAT32, scores, n)) goto oom;
  }
  if (t->kind == SOTTO_TOK_BPE) {
    const char *pn = pre_name(t);
    size_t nm = t->n_merges, k = 0;
    const char **ms = calloc(nm + 1, sizeof *ms);
    size_t *ml = calloc(nm + 1, sizeof *ml);
    char *text = NULL;
    size_t total = 0;
    for (size_t j = 0; t->merge_key && j <= t->merge_mask; j++)
      if (t->merge_key[j]) {
        uint64_t key = t->merge_key[j] - 1;
        total += t->len[key >> 32] + t->len[key & 0xFFFFFFFFu] + 1;
      }
    if (!ms || !ml || !(text = malloc(total + 1))) {
      free(ms), free(ml), free(text);
      goto oom;
    }
    /* in rank order */
    size_t *order = malloc((nm + 1) * sizeof *order);
    if (!order) {
      free(ms), free(ml), free(text);
      goto oom;
    }
    for (size_t j = 0; t->merge_key && j <= t->merge_mask; j++)
      if (t->merge_key[j] && t->merge_rank[j] < nm) order[t->merge_rank[j]] = j;
    at = 0;
    for (size_t r = 0; r < nm; r++, k++) {
      uint64_t key = t->merge_key[order[r]] - 1;
      size_t la, lb;
      const char *a = tok_text(t, (int32_t)(key >> 32), &la), *b = tok_text(t, (int32_t)(key & 0xFFFFFFFFu), &lb);
      ms[k] = text + at;
      memcpy(text + at, a, la), at += la;
      text[at++] = ' ';
      memcpy(text + at, b, lb), at += lb;
      ml[k] = la + lb + 1;
    }
    int bad = sotto_gguf_set_str(w, KEY("pre"), pn, strlen(pn)) ||
              sotto_gguf_set_arr_str(w, KEY("merges"), ms, ml, k);
    free(ms), free(ml), free(text), free(order);
    if (bad) goto oom;
  }
  const int32_t *sp = &t->sp.bos;
  static const char *const keys[] = {KEY("bos_token_id"), KEY("eos_token_id"), KEY("eot_token_id"),
                                     KEY("unknown_token_id"), KEY("padding_token_id"),
                                     KEY("seperator_token_id"), KEY("cls_token_id"),
                                     KEY("mask_token_id")};
  for (int i = 0; i < 8; i++)
    if (sp[i] >= 0 && sotto_gguf_set_u32(w, keys[i], (uint32_t)sp[i])) goto oom;
  if (sotto_gguf_set_bool(w, KEY("add_bos_token"), t->add_bos) ||
      sotto_gguf_set_bool(w, KEY("add_eos_token"), t->add_eos))
    goto oom;
  if (t->kind != SOTTO_TOK_BPE &&
      sotto_gguf_set_bool(w, KEY("add_space_prefix"), t->add_space_prefix))
    goto oom;
  if (t->charsmap && sotto_gguf_set_arr(w, KEY("precompiled_charsmap"), SOTTO_GGUF_UINT8,
                                        t->charsmap, t->charsmap_len))
    goto oom;
  if (t->chat_template &&
      sotto_gguf_set_str(w, "tokenizer.chat_template", t->chat_template, strlen(t->chat_template)))
    goto oom;
  if (t->hf_json && sotto_gguf_set_str(w, "tokenizer.huggingface.json", t->hf_json, t->hf_json_len))
    goto oom;
  rc = 0;
  goto done;
oom:
  sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "tokenizer: out of memory writing GGUF metadata");
done:
  free(strs), free(lens), free(types), free(scores), free(phantom), free(pads);
  return rc;
}
