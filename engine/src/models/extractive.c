/*
 * extractive.c - the weight-free extractive summarizer, the engine's
 * default summarization model ("extractive"): which sentences of a text
 * best stand for it.
 *
 * The method is LexRank (Erkan & Radev 2004) with a redundancy pass:
 *   1. sentences (text.c), split block by block: a sentence never crosses
 *      a paragraph, a list item or a table cell. Only the sentences of
 *      paragraphs, list items, quotes and plain text may be chosen:
 *      headings (blocks, or "# " lines of plain text), captions, table cells
 *      and footnote entries ("[1] ...") never are; code and notes are not
 *      read at all. Each sentence is a bag of lower-cased word tokens
 *      without English function words, plurals folded ("prices" ->
 *      "price"); numbers get no weight (they tie sentences by accident:
 *      prices, dates) but count when telling repeats apart; very short
 *      sentences and fragments (short, without a final mark) are left out
 *      unless too few sentences remain;
 *   2. TF-IDF sentence vectors, sentences being the documents;
 *   3. the cosine similarity of every pair of sentences: one matrix product
 *      X X^T through XNNPACK on the context's thread pool;
 *      With an embedding model (options.embed), the ranking's graph is
 *      made of the candidates' sentence vectors instead: their cosine
 *      similarities, negative ones cut to zero (continuous LexRank);
 *   4. PageRank on that weighted graph with a lead prior in the teleport
 *      vector: news and most articles put their point first. The random walk
 *      follows similarity half of the time (damping 0.5) and restarts at
 *      sentence i with weight 1 + 10 f / (1 + i) otherwise. On the Reuters
 *      articles this raises the share of title words the summaries hold
 *      (headline 0.32 -> 0.54, tldr short 0.41 -> 0.56, key-points short
 *      0.59 -> 0.64; the first sentence alone: 0.57, the first three: 0.63)
 *      against LexRank's usual damping 0.85 and a flat restart. The lead
 *      fades with length, f = min(1, 40 / sentences): the opening of a
 *      3,000-word guide is not its summary. Where the document has sections
 *      (headings), each section's opening gets a lead of its own,
 *      + 2 / (1 + i within the section);
 *   5. maximal marginal relevance (Carbonell & Goldstein 1998) picks the
 *      sentences, never one that nearly repeats a sentence already chosen
 *      (cosine of 0.8 or more, or 80 % of either's words in the other);
 *      exact repeats are dropped before ranking. Each sentence already
 *      chosen from a section lowers the value of the section's others by
 *      0.25, so the choice covers the document: sections are the headings'
 *      or, in a long text without headings (over 40 sentences to choose
 *      from), as many equal stretches of it as sentences are wanted;
 *   6. the chosen sentences, in document order, white space tidied.
 *
 * Bounded work for any input: above 1024
 * eligible sentences the ones nearest the document's centroid are ranked;
 * the dense matrix keeps at most 4 Mi cells (16 MiB) by keeping the terms
 * shared by the most sentences (a term in one sentence adds nothing to any
 * similarity; sentence norms still count every term).
 *
 * Determinism: native and wasm pick the same sentences. Vector weights are
 * quantised to multiples of 1/2048 before the product, so every dot product
 * is a sum of non-negative integers below 2^24, exact in f32 whatever order
 * the kernel adds them in; the rest is plain C in double. (Sentence
 * embeddings are computed in float by each build's own kernels: with them,
 * builds agree unless two sentences tie to the last bits.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/extractive.h"
#include "ops/ops.h"
#include "tokenizers/text.h"
#include "xnnpack.h"

#define MAX_CANDIDATES 1024      /* sentences ranked */
#define MAX_TERMS 4096           /* matrix columns */
#define MAX_CELLS (4u << 20)     /* candidates x columns */
#define QUANT 2048.0             /* weights in units of 1/QUANT */
#define DAMPING 0.5
#define LEAD_PRIOR 10.0          /* teleport weight 1 + LEAD_PRIOR f / (1 + index) */
#define LEAD_SPAN 40             /* f = min(1, LEAD_SPAN / sentences) */
#define SECTION_LEAD 2.0         /* + SECTION_LEAD / (1 + index in the section) */
#define SECTION_PENALTY 0.25     /* MMR: per sentence already chosen from a section */
#define LONG_TEXT 40             /* candidates from which a text without headings */
                                 /* is cut into stretches to cover */
#define MMR_LAMBDA 0.7
#define NEAR_DUPLICATE 0.8       /* cosine, or share of one's terms in the other, */
                                 /* from which a sentence repeats another */
#define MIN_TOKENS 4             /* shorter sentences (headings, sign-offs) only as a last resort */
#define MIN_FRAGMENT_TOKENS 8    /* ... and shorter ones without a final mark */
#define HEADLINE_TOKENS 30       /* longer headline candidates are discounted */
#define PROGRESS_BYTES 65536     /* stream progress for texts at least this long */
#define CHECK_EVERY 256          /* blocks or sentences between cancellation checkpoints */

typedef struct {
  /* vocabulary: open addressing on FNV-1a hashes, keys in one arena */
  uint32_t *slots;          /* term id + 1; 0 = empty */
  size_t n_slots;
  char *arena;
  size_t arena_len, arena_cap;
  size_t *key_off;          /* per term: arena offset, length */
  uint32_t *key_len;
  uint64_t *key_hash;
  int *df;                  /* sentences holding the term */
  char *numeric;            /* holds a digit */
  int n_terms, cap_terms;
  /* sentences */
  long n;
  sotto_span *spans;
  long *block;              /* the block each is in */
  long *section;            /* its section (0 before the first heading) */
  char *eligible;           /* may be chosen: text of a paragraph, item, quote */
  long n_sections;
  int *n_tokens;            /* word tokens, function words included */
  char *complete;           /* ends with a sentence mark */
  uint64_t *text_hash;      /* of the token sequence: exact repeats */
  size_t *term_off;         /* sentence i's term ids: ids[term_off[i] .. term_off[i+1]) */
  int *ids;
  size_t n_ids, cap_ids;
  int oom;
} summarizer;

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

static int grow(void **p, size_t elem, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 256;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return -1;
  *p = q, *cap = c;
  return 0;
}

/* The id of a term, added when new; -1 when out of memory. */
static int term_id(summarizer *S, const char *w, size_t len) {
  uint64_t h = fnv1a(0xcbf29ce484222325ull, w, len);
  if ((size_t)S->n_terms * 2 >= S->n_slots) { /* keep the table at most half full */
    size_t n = S->n_slots ? S->n_slots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots) return -1;
    for (int t = 0; t < S->n_terms; t++) {
      size_t i = (size_t)S->key_hash[t] & (n - 1);
      while (slots[i]) i = (i + 1) & (n - 1);
      slots[i] = (uint32_t)t + 1;
    }
    free(S->slots);
    S->slots = slots, S->n_slots = n;
  }
  size_t i = (size_t)h & (S->n_slots - 1);
  for (; S->slots[i]; i = (i + 1) & (S->n_slots - 1)) {
    int t = (int)S->slots[i] - 1;
    if (S->key_hash[t] == h && S->key_len[t] == len &&
        memcmp(S->arena + S->key_off[t], w, len) == 0)
      return t;
  }
  if (S->n_terms == S->cap_terms) {
    int cap = S->cap_terms ? S->cap_terms * 2 : 1024;
    size_t *off = realloc(S->key_off, (size_t)cap * sizeof *off);
    if (off) S->key_off = off;
    uint32_t *kl = off ? realloc(S->key_len, (size_t)cap * sizeof *kl) : NULL;
    if (kl) S->key_len = kl;
    uint64_t *kh = kl ? realloc(S->key_hash, (size_t)cap * sizeof *kh) : NULL;
    if (kh) S->key_hash = kh;
    int *df = kh ? realloc(S->df, (size_t)cap * sizeof *df) : NULL;
    if (df) S->df = df;
    char *num = df ? realloc(S->numeric, (size_t)cap) : NULL;
    if (!num) return -1;
    S->numeric = num, S->cap_terms = cap;
  }
  if (grow((void **)&S->arena, 1, &S->arena_cap, S->arena_len + len)) return -1;
  memcpy(S->arena + S->arena_len, w, len);
  int t = S->n_terms++;
  S->key_off[t] = S->arena_len, S->key_len[t] = (uint32_t)len, S->key_hash[t] = h;
  S->df[t] = 0;
  S->numeric[t] = 0;
  for (size_t k = 0; k < len; k++) S->numeric[t] |= w[k] >= '0' && w[k] <= '9';
  S->arena_len += len;
  S->slots[i] = (uint32_t)t + 1;
  return t;
}

/* Harman's "S" stemmer: folds English plurals, nothing else. */
static size_t stem_plural(char *w, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (w[i] < 'a' || w[i] > 'z') return len;
  if (len <= 3 || w[len - 1] != 's') return len;
  if (len > 4 && memcmp(w + len - 3, "ies", 3) == 0 && w[len - 4] != 'e' && w[len - 4] != 'a') {
    w[len - 3] = 'y';
    return len - 2;
  }
  if (memcmp(w + len - 2, "es", 2) == 0 && w[len - 3] != 'a' && w[len - 3] != 'e' &&
      w[len - 3] != 'o')
    return len - 1;
  if (w[len - 2] != 'u' && w[len - 2] != 's') return len - 1;
  return len;
}

typedef struct {
  summarizer *S;
  long sentence;
} token_ctx;

static int on_token(void *user, const char *tok, size_t len) {
  token_ctx *tc = user;
  summarizer *S = tc->S;
  S->n_tokens[tc->sentence]++;
  uint64_t h = fnv1a(S->text_hash[tc->sentence], tok, len);
  S->text_hash[tc->sentence] = fnv1a(h, "", 1); /* a separator: "ab c" is not "a bc" */
  if (len == 1 && (unsigned char)tok[0] < 0x80) return 0; /* stray letters and digits */
  if (sotto_text_is_stopword(tok, len)) return 0;
  char w[SOTTO_TOKEN_MAX];
  memcpy(w, tok, len);
  len = stem_plural(w, len);
  int t = term_id(S, w, len);
  if (t < 0 || grow((void **)&S->ids, sizeof *S->ids, &S->cap_ids, S->n_ids + 1)) {
    S->oom = 1;
    return 1;
  }
  S->ids[S->n_ids++] = t;
  return 0;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static void summarizer_free(summarizer *S) {
  free(S->slots), free(S->arena), free(S->key_off), free(S->key_len), free(S->key_hash);
  free(S->numeric), free(S->df), free(S->spans), free(S->n_tokens), free(S->complete);
  free(S->text_hash), free(S->term_off), free(S->ids), free(S->block), free(S->section);
  free(S->eligible);
}

const char *const sotto_block_kind_names[SOTTO_BLOCK_KINDS] = {
    "text", "paragraph", "item", "quote", "heading", "caption", "cell", "code", "note",
};

/* A "# Heading" line of plain text (Markdown's ATX headings). */
static int is_markdown_heading(const char *s, size_t n) {
  size_t k = 0;
  while (k < n && k < 7 && s[k] == '#') k++;
  return k >= 1 && k <= 6 && k < n && (s[k] == ' ' || s[k] == '\t');
}

/* An entry of a list of notes or references: "[1] Smith, ...", "^ Smith". */
static int is_note_entry(const char *s, size_t n) {
  if (n >= 3 && s[0] == '[') {
    size_t k = 1;
    while (k < n && k < 5 && s[k] >= '0' && s[k] <= '9') k++;
    return k > 1 && k < n && s[k] == ']';
  }
  return (n >= 1 && s[0] == '^') || (n >= 3 && memcmp(s, "\xE2\x86\x91", 3) == 0); /* ↑ */
}

/* Appends the sentences of one block (spans offset to the document). */
static int add_block(summarizer *S, const char *text, const sotto_block *b, long bi,
                     size_t *cap) {
  sotto_span *sp;
  long k = sotto_text_sentences(text + b->span.start, b->span.end - b->span.start, &sp);
  if (k < 0) return -1;
  if ((size_t)(S->n + k) > *cap) {
    size_t c = *cap ? *cap : 256;
    while (c < (size_t)(S->n + k)) c *= 2;
    sotto_span *spans = realloc(S->spans, c * sizeof *spans);
    if (spans) S->spans = spans;
    long *blk = spans ? realloc(S->block, c * sizeof *blk) : NULL;
    if (blk) S->block = blk;
    long *sec = blk ? realloc(S->section, c * sizeof *sec) : NULL;
    if (sec) S->section = sec;
    char *el = sec ? realloc(S->eligible, c) : NULL;
    if (!el) {
      free(sp);
      return -1;
    }
    S->eligible = el, *cap = c;
  }
  int content = b->kind == SOTTO_BLOCK_TEXT || b->kind == SOTTO_BLOCK_PARAGRAPH ||
                b->kind == SOTTO_BLOCK_ITEM || b->kind == SOTTO_BLOCK_QUOTE;
  if (b->kind == SOTTO_BLOCK_HEADING && k > 0) S->n_sections++;
  for (long i = 0; i < k; i++) {
    sotto_span s = {sp[i].start + b->span.start, sp[i].end + b->span.start};
    const char *t = text + s.start;
    size_t len = s.end - s.start;
    int heading = b->kind == SOTTO_BLOCK_TEXT && is_markdown_heading(t, len) &&
                  (s.start == 0 || text[s.start - 1] == '\n');
    if (heading) S->n_sections++;
    S->spans[S->n] = s;
    S->block[S->n] = bi;
    S->section[S->n] = S->n_sections - 1;
    S->eligible[S->n] = (char)(content && !heading && !is_note_entry(t, len));
    S->n++;
  }
  free(sp);
  return 0;
}

/* Splits and tokenises; fills df and sorts each sentence's term ids. */
/* Returns -1 with *err set, or -1 alone once st is cancelled. */
static int analyse(summarizer *S, const sotto_document *doc, sotto_stream *st, sotto_error *err) {
  sotto_block whole = {SOTTO_BLOCK_TEXT, {0, doc->len}};
  const sotto_block *blocks = doc->blocks ? doc->blocks : &whole;
  size_t n_blocks = doc->blocks ? doc->n_blocks : 1, cap = 0;
  S->n_sections = 1;
  for (size_t b = 0; b < n_blocks; b++) {
    if (b % CHECK_EVERY == 0 && sotto_stream_cancelled(st)) return -1;
    if (blocks[b].kind == SOTTO_BLOCK_CODE || blocks[b].kind == SOTTO_BLOCK_NOTE) continue;
    if (add_block(S, doc->text, &blocks[b], (long)b, &cap) != 0)
      return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  }
  long chosen = 0;
  for (long i = 0; i < S->n; i++) chosen += S->eligible[i];
  if (chosen == 0)
    return sotto_error_set(err, SOTTO_EMPTY_TEXT,
                           S->n ? "the text has no sentences to summarize (only headings, "
                                  "captions, tables or notes)"
                                : "the text has no sentences to summarize");
  const char *text = doc->text;
  size_t n = (size_t)S->n;
  S->n_tokens = calloc(n, sizeof *S->n_tokens);
  S->complete = malloc(n);
  S->text_hash = malloc(n * sizeof *S->text_hash);
  S->term_off = malloc((n + 1) * sizeof *S->term_off);
  /* ids is never NULL, even for a text of function words only */
  if (!S->n_tokens || !S->complete || !S->text_hash || !S->term_off ||
      grow((void **)&S->ids, sizeof *S->ids, &S->cap_ids, 1) != 0)
    return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  for (size_t i = 0; i < n; i++) {
    if (i % CHECK_EVERY == 0 && sotto_stream_cancelled(st)) return -1;
    token_ctx tc = {S, (long)i};
    S->complete[i] = (char)sotto_text_is_complete(text + S->spans[i].start,
                                                  S->spans[i].end - S->spans[i].start);
    S->text_hash[i] = 0xcbf29ce484222325ull;
    S->term_off[i] = S->n_ids;
    sotto_text_tokens(text + S->spans[i].start, S->spans[i].end - S->spans[i].start, on_token,
                      &tc);
    if (S->oom) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  }
  S->term_off[n] = S->n_ids;
  for (size_t i = 0; i < n; i++) {
    if (i % CHECK_EVERY == 0 && sotto_stream_cancelled(st)) return -1;
    int *ids = S->ids + S->term_off[i];
    size_t k = S->term_off[i + 1] - S->term_off[i];
    qsort(ids, k, sizeof *ids, cmp_int);
    for (size_t j = 0; j < k; j++)
      if (j == 0 || ids[j] != ids[j - 1]) S->df[ids[j]]++;
  }
  return 0;
}

/* Calls fn(term, tf) for each distinct term of sentence i. */
#define FOR_TERMS(S, i, t, tf, body)                                      \
  do {                                                                    \
    const int *ids_ = (S)->ids + (S)->term_off[i];                        \
    size_t k_ = (S)->term_off[(i) + 1] - (S)->term_off[i];                \
    for (size_t j_ = 0; j_ < k_;) {                                       \
      int t = ids_[j_];                                                   \
      size_t e_ = j_;                                                     \
      while (e_ < k_ && ids_[e_] == t) e_++;                              \
      double tf = (double)(e_ - j_);                                      \
      body;                                                               \
      j_ = e_;                                                            \
    }                                                                     \
  } while (0)

typedef struct {
  double key;
  long index;
} ranked;

/* Larger key first, then earlier in the text. */
static int cmp_ranked(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? 1 : -1;
  return (x->index > y->index) - (x->index < y->index);
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

typedef struct {
  uint64_t hash;
  long index;
} hashed;

static int cmp_hashed(const void *a, const void *b) {
  const hashed *x = a, *y = b;
  if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

/* Chooses the sentences to rank: only those that may be chosen, no exact
 * repeats; no very short ones or fragments unless too few remain; at most MAX_CANDIDATES, those most similar to the
 * document's centroid. Returns their count; cand[] in document order. */
static long choose_candidates(summarizer *S, const double *idf, const double *norm, int want,
                              long *cand) {
  long n = S->n, n_cand = 0;
  char *dup = calloc((size_t)n, 1);
  hashed *order = malloc((size_t)n * sizeof *order);
  if (!dup || !order) {
    free(dup), free(order);
    return -1;
  }
  /* One sort groups repeats among the sentences that may be chosen (equal
   * token sequences; a 64-bit hash collision would only drop a sentence);
   * the first in the text survives. */
  long k = 0;
  for (long i = 0; i < n; i++)
    if (S->eligible[i]) order[k].hash = S->text_hash[i], order[k++].index = i;
  qsort(order, (size_t)k, sizeof *order, cmp_hashed);
  for (long i = 1; i < k; i++)
    if (order[i].hash == order[i - 1].hash) dup[order[i].index] = 1;
  for (long i = 0; i < n; i++)
    if (S->eligible[i] && !dup[i] && S->n_tokens[i] >= MIN_TOKENS &&
        (S->complete[i] || S->n_tokens[i] >= MIN_FRAGMENT_TOKENS))
      cand[n_cand++] = i;
  if (n_cand < want) { /* short texts: take what there is */
    n_cand = 0;
    for (long i = 0; i < n; i++)
      if (S->eligible[i] && !dup[i]) cand[n_cand++] = i;
  }
  free(order);
  free(dup);
  if (n_cand <= MAX_CANDIDATES) return n_cand;

  /* Too many: keep the sentences closest to the centroid of all of them. */
  double *centroid = calloc((size_t)S->n_terms, sizeof *centroid);
  ranked *r = malloc((size_t)n_cand * sizeof *r);
  if (!centroid || !r) {
    free(centroid), free(r);
    return -1;
  }
  for (long c = 0; c < n_cand; c++) {
    long i = cand[c];
    if (norm[i] > 0) FOR_TERMS(S, i, t, tf, centroid[t] += tf * idf[t] / norm[i]);
  }
  for (long c = 0; c < n_cand; c++) {
    long i = cand[c];
    double dot = 0;
    if (norm[i] > 0) FOR_TERMS(S, i, t, tf, dot += tf * idf[t] / norm[i] * centroid[t]);
    r[c].key = dot, r[c].index = i;
  }
  qsort(r, (size_t)n_cand, sizeof *r, cmp_ranked);
  for (long c = 0; c < MAX_CANDIDATES; c++) cand[c] = r[c].index;
  qsort(cand, MAX_CANDIDATES, sizeof *cand, cmp_long);
  free(centroid), free(r);
  return MAX_CANDIDATES;
}

/* Cosine similarities of the candidates: sim[m x m], diagonal zero. */
static int similarities(pthreadpool_t pool, summarizer *S, const long *cand, long m,
                        const double *idf, const double *norm, float *sim, sotto_error *err) {
  int *df_c = calloc((size_t)S->n_terms + 1, sizeof *df_c);
  int *col = malloc(((size_t)S->n_terms + 1) * sizeof *col);
  ranked *r = malloc(((size_t)S->n_terms + 1) * sizeof *r);
  float *x = NULL;
  sotto_linear *l = NULL;
  int rc = -1;
  if (!df_c || !col || !r) goto oom;
  for (long c = 0; c < m; c++) FOR_TERMS(S, cand[c], t, tf, (void)tf; df_c[t]++);
  /* Columns: the terms shared by the most candidates (ties: first seen). */
  size_t n_shared = 0;
  for (int t = 0; t < S->n_terms; t++) {
    col[t] = -1;
    if (df_c[t] >= 2 && idf[t] > 0) r[n_shared].key = df_c[t], r[n_shared++].index = t;
  }
  qsort(r, n_shared, sizeof *r, cmp_ranked);
  size_t d = n_shared < MAX_TERMS ? n_shared : MAX_TERMS;
  if (d > MAX_CELLS / (size_t)m) d = MAX_CELLS / (size_t)m;
  for (size_t k = 0; k < d; k++) col[r[k].index] = (int)k;
  memset(sim, 0, (size_t)m * (size_t)m * sizeof *sim);
  if (d == 0 || m < 2) {
    rc = 0;
    goto done;
  }
  /* XNNPACK's kernels may read (never write) XNN_EXTRA_BYTES past an input */
  if (!(x = calloc((size_t)m * d + XNN_EXTRA_BYTES / sizeof *x, sizeof *x))) goto oom;
  for (long c = 0; c < m; c++) {
    long i = cand[c];
    if (norm[i] > 0)
      FOR_TERMS(S, i, t, tf, if (col[t] >= 0) x[(size_t)c * d + (size_t)col[t]] =
                                 (float)floor(tf * idf[t] / norm[i] * QUANT + 0.5));
  }
  /* sim = X X^T: X is already in the fully-connected weight layout
   * [out x in], so the product needs no transposed copy. */
  l = sotto_linear_create(x, NULL, d, (size_t)m, err);
  if (!l || sotto_linear_run(l, pool, x, (size_t)m, sim, err) != 0) goto done;
  for (long a = 0; a < m; a++) {
    float *row = sim + (size_t)a * (size_t)m;
    for (long b = 0; b < m; b++) row[b] = a == b ? 0.0f : (float)(row[b] / (QUANT * QUANT));
  }
  rc = 0;
  goto done;
oom:
  sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
done:
  sotto_linear_destroy(l);
  free(df_c), free(col), free(r), free(x);
  return rc;
}

/* The ranking graph from sentence vectors (options.embed): the cosine
 * similarities of the candidates' vectors, negative ones cut to zero,
 * diagonal zero, in sim[m x m]. */
static int embedding_similarities(pthreadpool_t pool, const summarizer *S, const char *text,
                                  const long *cand, long m, const sotto_extractive_options *opts,
                                  float *sim, sotto_error *err) {
  size_t d = (size_t)opts->embed_dim;
  sotto_span *spans = malloc((size_t)m * sizeof *spans);
  /* XNNPACK's kernels may read (never write) XNN_EXTRA_BYTES past an input */
  float *v = malloc(((size_t)m * d) * sizeof *v + XNN_EXTRA_BYTES);
  sotto_linear *l = NULL;
  int rc = -1;
  if (!spans || !v) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  for (long c = 0; c < m; c++) spans[c] = S->spans[cand[c]];
  if (opts->embed(opts->embed_user, text, spans, m, v, err) != 0) goto done;
  for (long c = 0; c < m; c++) { /* unit length */
    float *x = v + (size_t)c * d;
    double n2 = 0;
    for (size_t k = 0; k < d; k++) n2 += (double)x[k] * x[k];
    double inv = n2 > 0 ? 1 / sqrt(n2) : 0;
    for (size_t k = 0; k < d; k++) x[k] = (float)(x[k] * inv);
  }
  /* sim = V V^T, V in the fully-connected weight layout as in similarities() */
  if (!(l = sotto_linear_create(v, NULL, d, (size_t)m, err)) ||
      sotto_linear_run(l, pool, v, (size_t)m, sim, err) != 0)
    goto done;
  for (long a = 0; a < m; a++) {
    float *row = sim + (size_t)a * (size_t)m;
    for (long b = 0; b < m; b++) row[b] = a == b || !(row[b] > 0) ? 0.0f : row[b];
  }
  rc = 0;
done:
  sotto_linear_destroy(l);
  free(spans), free(v);
  return rc;
}

/* The restart weights of the random walk: the lead prior, fading with the
 * length of the text, and a lead for the opening of each section under a
 * heading. */
static void lead_prior(const summarizer *S, const long *cand, long m, double *teleport) {
  double fade = S->n > LEAD_SPAN ? (double)LEAD_SPAN / (double)S->n : 1.0;
  long first = 0; /* the first candidate of the current section */
  double total = 0;
  for (long c = 0; c < m; c++) {
    if (c > 0 && S->section[cand[c]] != S->section[cand[c - 1]]) first = c;
    double w = 1.0 + LEAD_PRIOR * fade / (1.0 + (double)cand[c]);
    if (S->n_sections > 1) w += SECTION_LEAD / (1.0 + (double)(c - first));
    total += teleport[c] = w;
  }
  for (long c = 0; c < m; c++) teleport[c] /= total;
}

/* LexRank: stationary distribution of a random walk on the similarity
 * graph that restarts (1 - DAMPING) of the time, at sentence c with
 * probability teleport[c]. */
static void lexrank(const float *sim, const double *teleport, long m, double *score) {
  double *next = malloc((size_t)m * sizeof *next);
  double *rowsum = malloc((size_t)m * sizeof *rowsum);
  if (!next || !rowsum) { /* degrade to the prior alone */
    for (long i = 0; i < m; i++) score[i] = teleport[i];
    goto done;
  }
  for (long i = 0; i < m; i++) {
    score[i] = 1.0 / (double)m;
    double s = 0;
    for (long j = 0; j < m; j++) s += sim[(size_t)i * (size_t)m + (size_t)j];
    rowsum[i] = s;
  }
  for (int iter = 0; iter < 100; iter++) { /* the error shrinks by DAMPING a step */
    double dangling = 0, delta = 0;
    for (long j = 0; j < m; j++) next[j] = 0;
    for (long i = 0; i < m; i++) {
      if (rowsum[i] <= 0) {
        dangling += score[i];
        continue;
      }
      double f = score[i] / rowsum[i];
      const float *row = sim + (size_t)i * (size_t)m;
      for (long j = 0; j < m; j++) next[j] += f * row[j];
    }
    for (long j = 0; j < m; j++) {
      double v = (1 - DAMPING) * teleport[j] + DAMPING * (next[j] + dangling * teleport[j]);
      delta += fabs(v - score[j]);
      score[j] = v;
    }
    if (delta < 1e-9) break;
  }
done:
  free(next), free(rowsum);
}

/* The share of the distinct terms of the shorter of sentences a and b that
 * the other holds too (term ids are sorted). */
static double containment(const summarizer *S, long a, long b) {
  const int *x = S->ids + S->term_off[a], *y = S->ids + S->term_off[b];
  size_t nx = S->term_off[a + 1] - S->term_off[a], ny = S->term_off[b + 1] - S->term_off[b];
  size_t i = 0, j = 0, ux = 0, uy = 0, both = 0;
  while (i < nx || j < ny) {
    int tx = i < nx ? x[i] : -1, ty = j < ny ? y[j] : -1;
    if (tx >= 0 && (ty < 0 || tx < ty)) {
      ux++;
    } else if (ty >= 0 && (tx < 0 || ty < tx)) {
      uy++;
    } else {
      ux++, uy++, both++;
    }
    if (tx >= 0 && (ty < 0 || tx <= ty)) while (i < nx && x[i] == tx) i++;
    if (ty >= 0 && (tx < 0 || ty <= tx)) while (j < ny && y[j] == ty) j++;
  }
  size_t least = ux < uy ? ux : uy;
  return least ? (double)both / (double)least : 0;
}

/* Maximal marginal relevance over the ranked candidates: relevance traded
 * against similarity to what is already chosen and against the sentences
 * already chosen from the same section; near-repeats never. Fills pick[]
 * (candidate positions, document order); returns how many. */
static int select_mmr(const summarizer *S, const long *cand, const long *section,
                      const float *sim, const double *rel, long m, int k, long *pick) {
  int n = 0;
  char *taken = calloc((size_t)m, 1);
  double *closest = calloc((size_t)m, sizeof *closest); /* max sim to the chosen */
  int *in_section = calloc((size_t)(section[m - 1] + 1), sizeof *in_section);
  if (!taken || !closest || !in_section) {
    free(taken), free(closest), free(in_section);
    return -1;
  }
  while (n < k) {
    long best = -1;
    double best_v = 0;
    for (long c = 0; c < m; c++) {
      if (taken[c] || closest[c] > NEAR_DUPLICATE) continue;
      double v = MMR_LAMBDA * rel[c] - (1 - MMR_LAMBDA) * closest[c] -
                 SECTION_PENALTY * in_section[section[c]];
      if (best < 0 || v > best_v) best = c, best_v = v;
    }
    if (best < 0) break;
    taken[best] = 1;
    pick[n++] = best;
    in_section[section[best]]++;
    for (long c = 0; c < m; c++) {
      double s = sim[(size_t)best * (size_t)m + (size_t)c];
      if (s > closest[c]) closest[c] = s;
      if (!taken[c] && containment(S, cand[best], cand[c]) >= NEAR_DUPLICATE)
        taken[c] = 1; /* a near-repeat of a chosen sentence: never */
    }
  }
  qsort(pick, (size_t)n, sizeof *pick, cmp_long);
  free(taken), free(closest), free(in_section);
  return n;
}

static int progress(sotto_stream *st, size_t len, double done, const char *stage) {
  if (len < PROGRESS_BYTES) return sotto_stream_cancelled(st);
  return sotto_stream_progress(st, done, stage);
}

/* The section each candidate counts in for coverage: the document's own
 * (headings), or in a long text without headings, count equal stretches.
 * Numbered from 0 without gaps, non-decreasing. */
static void coverage_sections(const summarizer *S, const long *cand, long m, int count,
                              long *section) {
  long s = 0;
  for (long c = 0; c < m; c++) {
    if (c > 0 && S->section[cand[c]] != S->section[cand[c - 1]]) s++;
    section[c] = s;
  }
  if (s == 0 && m > LONG_TEXT && count > 1)
    for (long c = 0; c < m; c++) section[c] = c * count / m;
}

int sotto_extractive_summarize(pthreadpool_t pool, const sotto_document *doc,
                               const sotto_extractive_options *opts, sotto_stream *st,
                               sotto_extractive_result *out, sotto_error *err) {
  summarizer S;
  memset(&S, 0, sizeof S);
  memset(out, 0, sizeof *out);
  double *idf = NULL, *norm = NULL, *score = NULL, *teleport = NULL;
  long *cand = NULL, *pick = NULL, *section = NULL, m = 0;
  float *sim = NULL, *esim = NULL;
  int rc = -1, count = opts->count;
  size_t len = doc->len;
  if (analyse(&S, doc, st, err) != 0) goto done;
  out->n_sentences = S.n;
  out->n_sections = S.n_sections;
  if (progress(st, len, 0.3, "sentences")) goto done;

  idf = malloc(((size_t)S.n_terms + 1) * sizeof *idf);
  norm = malloc((size_t)S.n * sizeof *norm);
  cand = malloc((size_t)S.n * sizeof *cand);
  if (!idf || !norm || !cand) goto oom;
  for (int t = 0; t < S.n_terms; t++)
    idf[t] = S.numeric[t] ? 0 : log(1.0 + (double)S.n / S.df[t]);
  for (long i = 0; i < S.n; i++) {
    double s = 0;
    FOR_TERMS(&S, i, t, tf, s += tf * idf[t] * tf * idf[t]);
    norm[i] = sqrt(s);
  }
  m = choose_candidates(&S, idf, norm, count, cand);
  if (m < 0) goto oom;
  /* m >= 1: an eligible sentence always has a word, and the first of repeats stays */

  sim = malloc((size_t)m * (size_t)m * sizeof *sim);
  score = malloc((size_t)m * sizeof *score);
  teleport = malloc((size_t)m * sizeof *teleport);
  section = malloc((size_t)m * sizeof *section);
  pick = malloc((size_t)(count < m ? count : m) * sizeof *pick);
  if (!sim || !score || !teleport || !section || !pick) goto oom;
  if (similarities(pool, &S, cand, m, idf, norm, sim, err) != 0) goto done;
  if (opts->embed && m > 1) {
    if (!(esim = malloc((size_t)m * (size_t)m * sizeof *esim))) goto oom;
    if (embedding_similarities(pool, &S, doc->text, cand, m, opts, esim, err) != 0) goto done;
  }
  if (progress(st, len, 0.7, "similarity")) goto done;
  coverage_sections(&S, cand, m, count, section);
  lead_prior(&S, cand, m, teleport);
  lexrank(esim ? esim : sim, teleport, m, score);

  double best = 0;
  for (long c = 0; c < m; c++) {
    if (opts->headline && S.n_tokens[cand[c]] > HEADLINE_TOKENS) /* headlines are short */
      score[c] *= (double)HEADLINE_TOKENS / S.n_tokens[cand[c]];
    if (score[c] > best) best = score[c];
  }
  for (long c = 0; c < m; c++) score[c] = best > 0 ? score[c] / best : 0;
  int n = select_mmr(&S, cand, section, sim, score, m, count, pick);
  if (n < 0) goto oom;
  if (!(out->picks = malloc((size_t)(n ? n : 1) * sizeof *out->picks))) goto oom;
  for (int p = 0; p < n; p++) {
    long i = cand[pick[p]];
    out->picks[p].index = i;
    out->picks[p].block = S.block[i];
    out->picks[p].section = S.section[i];
    out->picks[p].span = S.spans[i];
  }
  out->n_picks = n;
  rc = 0;
  goto done;
oom:
  sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
done:
  summarizer_free(&S);
  free(idf), free(norm), free(cand), free(pick), free(sim), free(esim), free(score), free(teleport);
  free(section);
  return rc;
}
