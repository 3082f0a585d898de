/*
 * extractive.h - the weight-free extractive summarizer ("extractive"):
 * LexRank over TF-IDF sentence vectors with a lead prior, then maximal
 * marginal relevance (extractive.c explains the method and its bounds).
 */
#ifndef SOTTO_MODEL_EXTRACTIVE_H
#define SOTTO_MODEL_EXTRACTIVE_H

#include "models.h"
#include "tokenizers/text.h"

typedef struct sotto_extractive_pick {
  long index;        /* sentence number in the text */
  sotto_span span;   /* its bytes */
} sotto_extractive_pick;

/* Chooses at most count sentences of text[0..len) that best stand for it,
 * in document order; headline discounts long sentences. *picks gets a
 * malloc'ed array, *n_sentences the number of sentences in the text.
 * Returns the number chosen, or -1 with *err set (SOTTO_EMPTY_TEXT when the
 * text has no sentence, SOTTO_OUT_OF_MEMORY). Long texts send progress
 * partials on st and stop early when it is cancelled. */
long sotto_extractive_summarize(pthreadpool_t pool, const char *text, size_t len, int count,
                                int headline, sotto_stream *st, sotto_extractive_pick **picks,
                                long *n_sentences, sotto_error *err);

#endif /* SOTTO_MODEL_EXTRACTIVE_H */
