/*
 * fasttext.h - fastText supervised classifiers (.bin and quantized
 * .ftz files), loaded from a buffer and run the way fastText 0.9.2 predicts.
 */
#ifndef SOTTO_MODEL_FASTTEXT_H
#define SOTTO_MODEL_FASTTEXT_H

#include "models.h"

typedef struct sotto_fasttext sotto_fasttext;

/* The "fasttext" model loader (registry.c's loaders[] table): parses and
 * validates the whole file, copies what prediction needs into model->impl.
 * Any inconsistency is error "bad_model"; a well-formed model fastText cannot
 * classify with (word vectors) is "unsupported_model". */
int sotto_fasttext_load(sotto_model *model, sotto_error *err);

typedef struct {
  int label;  /* index for sotto_fasttext_label() */
  float prob; /* as fastText reports it: exp(log(p + 1e-5)) */
} sotto_fasttext_pred;

/* Predicts the k most likely labels of one line of text, best first, like
 * `fasttext predict-prob MODEL - k threshold`: the text is one line (newlines
 * count as spaces) ending in fastText's end-of-sentence token. Fills at most
 * k entries of out and returns how many (fewer when the threshold or
 * hierarchical softmax's pruning cuts the list; 0 when the text has nothing
 * the model knows), or -1 with *err set. Not reentrant for one model. */
int sotto_fasttext_predict(sotto_fasttext *ft, pthreadpool_t pool, const char *text,
                           size_t len, int k, float threshold, sotto_fasttext_pred *out,
                           sotto_error *err);

int sotto_fasttext_labels(const sotto_fasttext *ft);
/* Whether w[0..n) is a word of the model's dictionary (labels are not). */
int sotto_fasttext_has_word(const sotto_fasttext *ft, const char *w, size_t n);
/* Label i as stored in the model, e.g. "__label__en". */
const char *sotto_fasttext_label(const sotto_fasttext *ft, int i);

#endif /* SOTTO_MODEL_FASTTEXT_H */
