/*
 * tok.h - inside the tokenizers: the one struct that both loaders
 * (tokenizer.json in load_json.c, GGUF metadata in load_gguf.c) fill and
 * that the pipeline in tokenizer.c runs, the way Hugging Face's tokenizers
 * does (tokenizer/mod.rs, encode_single_sequence):
 *
 *   added tokens split out (added_vocabulary.rs)
 *   -> normaliser steps (normalize.c)
 *   -> pre-tokeniser steps into words (pretokenize.c)
 *   -> the model on each word (wordpiece.c, bpe.c, unigram.c)
 *   -> truncation and the post-processor's template (tokenizer.c)
 *
 * and the small containers they share. Not a public header.
 */
#ifndef SOTTO_TOK_H
#define SOTTO_TOK_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"
#include "unicode.h"

/* Token types, with llama.cpp's numbers (tokenizer.ggml.token_type). */
enum {
  TOK_TYPE_NORMAL = 1,
  TOK_TYPE_UNKNOWN = 2,
  TOK_TYPE_CONTROL = 3,
  TOK_TYPE_USER = 4,
  TOK_TYPE_UNUSED = 5,
  TOK_TYPE_BYTE = 6,
};

/* ---- growable containers ---- */
typedef struct tok_ids {
  int32_t *v;
  size_t n, cap;
} tok_ids;
int tok_ids_push(tok_ids *a, int32_t id);
void tok_ids_free(tok_ids *a);

typedef struct tok_buf {
  char *v;
  size_t n, cap;
} tok_buf;
int tok_buf_add(tok_buf *b, const void *s, size_t n);
int tok_buf_cp(tok_buf *b, uint32_t cp); /* appends cp as UTF-8 */
void tok_buf_free(tok_buf *b);

/* Words: pieces of text, each a span of buf. */
typedef struct tok_words {
  tok_buf buf;
  size_t *off, *len;
  size_t n, cap;
} tok_words;
/* Appends s[0..n) as a new word (n may be 0: an empty word is dropped). */
int tok_words_add(tok_words *w, const char *s, size_t n);
/* Appends s[0..n) to the last word (a new one when there is none). */
int tok_words_extend(tok_words *w, const char *s, size_t n);
void tok_words_free(tok_words *w);

/* ---- string -> id table (open addressing, FNV-1a) ---- */
typedef struct tok_map {
  int32_t *slot; /* -1 empty, else an id whose text is the key */
  size_t mask;
} tok_map;

/* ---- normaliser steps (normalizers/ of HF tokenizers) ---- */
typedef enum tok_norm_kind {
  NORM_BERT,        /* BertNormalizer: clean_text, chinese chars, strip accents, lowercase */
  NORM_LOWERCASE,
  NORM_STRIP_ACCENTS, /* removes combining marks (Mn) */
  NORM_NFD,
  NORM_NFC,
  NORM_REPLACE,     /* a literal string -> content */
  NORM_SPACES,      /* the regex " {2,}" -> content */
  NORM_PREPEND,
  NORM_STRIP,       /* white space at the left and/or right */
  NORM_PRECOMPILED, /* SentencePiece's precompiled_charsmap */
} tok_norm_kind;

typedef struct tok_norm {
  tok_norm_kind kind;
  uint8_t clean_text, chinese, strip_accents, lowercase; /* NORM_BERT */
  uint8_t left, right;                                   /* NORM_STRIP */
  char *a, *b; /* REPLACE: pattern, content; PREPEND: a */
  size_t a_len, b_len;
} tok_norm;

/* ---- pre-tokeniser steps (pre_tokenizers/) ---- */
typedef enum tok_pre_kind {
  PRE_BERT,        /* white space removed, punctuation isolated */
  PRE_BYTELEVEL,   /* optional prefix space and GPT-2 regex, then bytes to symbols */
  PRE_REGEX,       /* Split with one of the regexes below */
  PRE_SPLIT,       /* Split on a literal string */
  PRE_DIGITS,
  PRE_METASPACE,
  PRE_WHITESPACE,  /* \w+|[^\w\s]+ */
  PRE_WHITESPACE_SPLIT,
  PRE_PUNCTUATION,
} tok_pre_kind;

/* The split regexes of the models sotto knows, matched by hand
 * (pretokenize.c); tokenizer.json's pattern text and GGUF's
 * tokenizer.ggml.pre both name one of them. */
typedef enum tok_regex {
  REGEX_GPT2,   /* 's|'t|... ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
  REGEX_LLAMA3, /* (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|... */
  REGEX_QWEN2,  /* as LLAMA3 with \p{N} one digit at a time */
  REGEX_DIGITS, /* \p{N}: each digit alone (SmolLM) */
} tok_regex;

/* Split behaviours (SplitDelimiterBehavior). */
typedef enum tok_split {
  SPLIT_REMOVED,
  SPLIT_ISOLATED,
  SPLIT_MERGED_PREV,
  SPLIT_MERGED_NEXT,
  SPLIT_CONTIGUOUS,
} tok_split;

typedef struct tok_pre {
  tok_pre_kind kind;
  tok_regex regex;     /* PRE_REGEX */
  tok_split behavior;  /* PRE_REGEX, PRE_SPLIT, PRE_PUNCTUATION */
  uint8_t invert;      /* PRE_REGEX, PRE_SPLIT: the non-matches are the delimiters */
  uint8_t prefix;      /* BYTELEVEL add_prefix_space; METASPACE: 0 never, 1 always, 2 first */
  uint8_t use_regex;   /* BYTELEVEL */
  uint8_t individual;  /* DIGITS */
  uint8_t split;       /* METASPACE */
  char *str;           /* SPLIT pattern; METASPACE replacement */
  size_t str_len;
} tok_pre;

/* An added token (added_tokens of tokenizer.json): split out of the text
 * before the rest of the pipeline. */
typedef struct tok_added {
  int32_t id;
  uint8_t special, lstrip, rstrip, single_word, normalized;
} tok_added;

/* One item of a post-processor template: a special token or a sequence. */
typedef struct tok_item {
  int32_t id;      /* the token, or -1 for sequence A, -2 for sequence B */
  uint8_t type_id;
} tok_item;
#define TOK_MAX_ITEMS 8

#define TOK_MAX_STEPS 8

struct sotto_tokenizer {
  sotto_tokenizer_kind kind;
  int32_t n_vocab;
  /* vocabulary: token i is pool[off[i] .. off[i] + len[i]) */
  char *pool;
  uint32_t *off, *len;
  float *scores;       /* Unigram and GGUF SentencePiece scores, else NULL */
  uint8_t *type;       /* TOK_TYPE_* of each token */
  tok_map map;

  /* BPE merges: pair (left id, right id) -> rank and result */
  uint64_t *merge_key; /* (left << 32 | right) + 1, 0 empty */
  uint32_t *merge_rank;
  int32_t *merge_out;
  size_t merge_mask, n_merges;

  /* model options */
  uint8_t byte_level;     /* BPE over byte symbols (GPT-2's alphabet) */
  uint8_t byte_fallback;  /* unknown characters as <0xNN> tokens */
  uint8_t fuse_unk;
  uint8_t ignore_merges;  /* a whole word in the vocabulary is one token */
  uint8_t use_scores;     /* SentencePiece BPE merging by score (GGUF) */
  char *subword_prefix;   /* WordPiece "##" */
  size_t subword_prefix_len;
  int max_chars_per_word; /* WordPiece; 0 = no limit */
  int32_t byte_token[256];/* <0xNN> ids, or -1 */
  int32_t unk;            /* the model's unknown token (-1: unknowns dropped) */
  float unk_score;        /* Unigram: the lowest score */
  size_t max_piece_len;   /* bytes of the longest token */

  tok_norm norm[TOK_MAX_STEPS];
  int n_norm;
  tok_pre pre[TOK_MAX_STEPS];
  int n_pre;
  const uint8_t *charsmap; /* precompiled_charsmap (owned copy) */
  size_t charsmap_len;

  tok_added *added;
  int n_added;
  tok_map added_map;      /* added token text -> id */
  size_t added_max_len;
  uint8_t added_first[32];/* bitmap of first bytes of added tokens */

  tok_item single[TOK_MAX_ITEMS], pair[TOK_MAX_ITEMS];
  int n_single, n_pair;

  sotto_special_tokens sp;
  uint8_t add_bos, add_eos, add_space_prefix; /* as GGUF says them */
  char *pre_name;         /* tokenizer.ggml.pre */
  char *chat_template;
  char *hf_json;          /* tokenizer.json text, kept for GGUF where llama.cpp's keys fall short */
  size_t hf_json_len;
};

/* ---- shared helpers (tokenizer.c) ---- */
const char *tok_text(const sotto_tokenizer *t, int32_t id, size_t *len);
int32_t tok_find(const sotto_tokenizer *t, const char *s, size_t n); /* -1 when absent */
int32_t tok_map_get(const sotto_tokenizer *t, const tok_map *m, const char *s, size_t n);
/* Builds t->map over the vocabulary (duplicates: the first id wins). */
int tok_map_build(sotto_tokenizer *t, tok_map *m, const int32_t *ids, size_t n);
int tok_merge_add(sotto_tokenizer *t, int32_t a, int32_t b, uint32_t rank, int32_t out);
int tok_merge_get(const sotto_tokenizer *t, int32_t a, int32_t b, uint32_t *rank, int32_t *out);
/* After loading: checks ids, fills byte tokens, added-token tables,
 * default templates. 0, or -1 with *err set. */
int tok_finish(sotto_tokenizer *t, sotto_error *err);
sotto_tokenizer *tok_alloc(void);

/* GPT-2's byte <-> symbol alphabet (bytes_to_unicode). */
uint32_t tok_byte_to_cp(uint8_t b);
int tok_cp_to_byte(uint32_t cp); /* -1 when cp is not a byte symbol */

/* ---- the stages ---- */
/* Normalises s[0..n) by t's steps into out (UTF-8). first: the text
 * starts the input (Prepend and Metaspace "first" care). */
int tok_normalize(const sotto_tokenizer *t, const char *s, size_t n, tok_buf *out);
int tok_precompiled(const uint8_t *map, size_t map_len, const char *s, size_t n, tok_buf *out);
/* Checks a precompiled_charsmap; 0 or -1 with *err set. */
int tok_precompiled_check(const uint8_t *map, size_t len, sotto_error *err);
/* Splits s[0..n) into words by t's steps; first as above. */
int tok_pretokenize(const sotto_tokenizer *t, const char *s, size_t n, int first, tok_words *out);

/* The models: the ids of one word, appended to out. 0, or -1 out of
 * memory. */
int tok_wordpiece(const sotto_tokenizer *t, const char *w, size_t n, tok_ids *out);
int tok_bpe(const sotto_tokenizer *t, const char *w, size_t n, tok_ids *out);
int tok_unigram(const sotto_tokenizer *t, const char *w, size_t n, tok_ids *out);

/* Loader helpers for both loaders. */
int tok_set_bytes(char **dst, size_t *dst_len, const char *s, size_t n);

#endif /* SOTTO_TOK_H */
