/*
 * extractive.h - the weight-free extractive summarizer ("extractive"):
 * LexRank over TF-IDF sentence vectors with a lead prior, then maximal
 * marginal relevance with a section spread (extractive.c explains the
 * method and its bounds).
 *
 * A document is its text and, optionally, the blocks a page is made of
 * (paragraphs, list items, headings, captions, table cells, ...). Sentences
 * never cross a block; only paragraphs, list items, quotes and plain text
 * are summarized; headings start sections, which the choice spreads over.
 */
#ifndef SOTTO_MODEL_EXTRACTIVE_H
#define SOTTO_MODEL_EXTRACTIVE_H

#include "models.h"
#include "tokenizers/text.h"

typedef enum sotto_block_kind {
  SOTTO_BLOCK_TEXT,      /* plain text: paragraphs by blank lines, "# " lines are headings */
  SOTTO_BLOCK_PARAGRAPH,
  SOTTO_BLOCK_ITEM,      /* a list item */
  SOTTO_BLOCK_QUOTE,
  SOTTO_BLOCK_HEADING,   /* starts a section; never chosen */
  SOTTO_BLOCK_CAPTION,   /* of a figure or a table; never chosen */
  SOTTO_BLOCK_CELL,      /* a table cell; never chosen */
  SOTTO_BLOCK_CODE,      /* preformatted text; never chosen, not read */
  SOTTO_BLOCK_NOTE,      /* footnotes, asides, navigation; never chosen, not read */
  SOTTO_BLOCK_KINDS
} sotto_block_kind;

/* The names of the kinds in requests: "text", "paragraph", "item", ... */
extern const char *const sotto_block_kind_names[SOTTO_BLOCK_KINDS];

typedef struct sotto_block {
  sotto_block_kind kind;
  sotto_span span;       /* its bytes in the document's text */
} sotto_block;

typedef struct sotto_document {
  const char *text;
  size_t len;
  const sotto_block *blocks; /* in text order, not overlapping; NULL: the text is */
  size_t n_blocks;           /* one SOTTO_BLOCK_TEXT block */
} sotto_document;

/* Sentence vectors from an embedding model: writes n vectors of the
 * options' embed_dim floats, one for each span of text. Returns 0, or -1
 * with *err set. */
typedef int (*sotto_extractive_embed_fn)(void *user, const char *text, const sotto_span *spans,
                                         long n, float *vectors, sotto_error *err);

typedef struct sotto_extractive_options {
  int count;             /* sentences wanted */
  int headline;          /* one short sentence: long ones are discounted */
  /* Optional: centrality from sentence embeddings. The candidates' vectors
   * replace the TF-IDF similarities in the ranking (LexRank); TF-IDF still
   * keeps near-repeats out of the choice. */
  sotto_extractive_embed_fn embed;
  void *embed_user;
  int embed_dim;
} sotto_extractive_options;

typedef struct sotto_extractive_pick {
  long index;            /* sentence number in the document */
  long block;            /* the block it is in */
  long section;          /* the section: 0 before the first heading */
  sotto_span span;       /* its bytes */
} sotto_extractive_pick;

typedef struct sotto_extractive_result {
  sotto_extractive_pick *picks; /* malloc'ed, document order */
  int n_picks;
  long n_sentences;      /* in the document */
  long n_sections;       /* headings + 1 */
} sotto_extractive_result;

/* Chooses at most opts->count sentences of the document that best stand for
 * it, in document order. Returns 0, or -1 with *err set (SOTTO_EMPTY_TEXT
 * when the document has no sentence to choose, SOTTO_OUT_OF_MEMORY,
 * SOTTO_CANCELLED). Long texts send progress partials on st and stop early
 * when it is cancelled. out->picks is freed by the caller. */
int sotto_extractive_summarize(pthreadpool_t pool, const sotto_document *doc,
                               const sotto_extractive_options *opts, sotto_stream *st,
                               sotto_extractive_result *out, sotto_error *err);

#endif /* SOTTO_MODEL_EXTRACTIVE_H */
