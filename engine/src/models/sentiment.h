/*
 * sentiment.h - sentiment from a fastText classifier, honestly: the input
 * normalised as the model was trained, probabilities calibrated where the
 * model's card says how, and no answer ("neutral", no clear sentiment) when
 * the evidence is weak: a low calibrated probability, or a text made of
 * words the model never saw. Which languages a model covers is the caller's
 * check (tasks/classify.c, with the language model).
 */
#ifndef SOTTO_MODEL_SENTIMENT_H
#define SOTTO_MODEL_SENTIMENT_H

#include "models/cards.h"
#include "models/fasttext.h"

#define SOTTO_SENTIMENT_MIN_CONFIDENCE 0.6 /* for models without a card */
#define SOTTO_SENTIMENT_LABEL_BYTES 64

typedef struct sotto_sentiment_label {
  char label[SOTTO_SENTIMENT_LABEL_BYTES]; /* without "__label__" */
  double prob;
} sotto_sentiment_label;

typedef struct sotto_sentiment {
  sotto_sentiment_label *labels; /* every label, best first (malloc'ed) */
  int n_labels;
  const char *verdict;     /* the best label, or "neutral" */
  const char *reason;      /* why neutral: "low_confidence", "unknown_words"; else NULL */
  double known;            /* the share of the text's words the model knows */
  int calibrated;          /* probabilities calibrated by the model's card */
} sotto_sentiment;

/* Classifies text[0..len) with ft (card: its card or NULL; normalise:
 * whether the text goes through sotto_text_normalise first). Returns 0, or
 * -1 with *err set. Free out->labels. */
int sotto_sentiment_classify(sotto_fasttext *ft, const sotto_model_card *card,
                             pthreadpool_t pool, const char *text, size_t len, int normalise,
                             sotto_sentiment *out, sotto_error *err);

#endif /* SOTTO_MODEL_SENTIMENT_H */
