/*
 * sentiment.c - sentiment with calibrated probabilities and an honest
 * "neutral" (sentiment.h).
 *
 * fastText's softmax is sure of itself: on the held-out reviews most of its
 * answers are above 0.9 whether right or wrong, and on text unlike its
 * training data (news, manuals) it is just as sure. Two things temper it:
 *   - Platt scaling (Platt 1999) of the two-label model's probability,
 *     p' = 1 / (1 + exp(-(a logit(p) + b))), with a and b from the model's
 *     card (fit on out-of-fold predictions, never on the test reviews);
 *   - the share of the text's words the model knows: fastText drops words
 *     it never saw, and a judgement from the rest is a judgement from a few
 *     words. Below the card's share (the 2nd percentile of held-out
 *     reviews) the answer is "neutral".
 * A calibrated top probability below the card's min_confidence is
 * "neutral" too.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/sentiment.h"
#include "tokenizers/text.h"

/* The share of words (tokens with a letter or digit) of a normalised,
 * space-separated text that the model knows; 1 for a text without words. */
static double known_share(const sotto_fasttext *ft, const char *s, size_t n) {
  size_t words = 0, known = 0;
  for (size_t i = 0; i < n;) {
    while (i < n && s[i] == ' ') i++;
    size_t j = i;
    int word = 0;
    while (j < n && s[j] != ' ') {
      uint32_t c;
      size_t len = sotto_utf8_next((const unsigned char *)s + j, n - j, &c);
      word |= sotto_unicode_is_word(c);
      j += len;
    }
    if (j > i && word) words++, known += (size_t)sotto_fasttext_has_word(ft, s + i, j - i);
    i = j;
  }
  return words ? (double)known / (double)words : 1.0;
}

static int by_prob(const void *a, const void *b) {
  double x = ((const sotto_sentiment_label *)a)->prob, y = ((const sotto_sentiment_label *)b)->prob;
  return (x < y) - (x > y);
}

int sotto_sentiment_classify(sotto_fasttext *ft, const sotto_model_card *card,
                             pthreadpool_t pool, const char *text, size_t len, int normalise,
                             sotto_sentiment *out, sotto_error *err) {
  memset(out, 0, sizeof *out);
  int k = sotto_fasttext_labels(ft), rc = -1;
  char *norm = normalise ? sotto_text_normalise(text, len, &len) : NULL;
  sotto_fasttext_pred *preds = malloc((size_t)k * sizeof *preds);
  out->labels = calloc((size_t)k, sizeof *out->labels);
  if ((normalise && !norm) || !preds || !out->labels) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  if (norm) text = norm;
  int n = sotto_fasttext_predict(ft, pool, text, len, k, 0.0f, preds, err);
  if (n < 0) goto done;
  /* the positive label's probability, calibrated; the other's its complement */
  double positive = -1;
  for (int i = 0; card && card->positive && k == 2 && i < n; i++)
    if (strcmp(sotto_fasttext_label(ft, preds[i].label), card->positive) == 0) {
      double q = preds[i].prob;
      q = q < 1e-5 ? 1e-5 : q > 1 - 1e-5 ? 1 - 1e-5 : q;
      positive = 1 / (1 + exp(-(card->platt_a * log(q / (1 - q)) + card->platt_b)));
    }
  out->calibrated = positive >= 0;
  for (int i = 0; i < n; i++) {
    const char *l = sotto_fasttext_label(ft, preds[i].label);
    double p = preds[i].prob > 1 ? 1 : preds[i].prob;
    if (positive >= 0) p = strcmp(l, card->positive) == 0 ? positive : 1 - positive;
    snprintf(out->labels[i].label, sizeof out->labels[i].label, "%s",
             strncmp(l, "__label__", 9) == 0 ? l + 9 : l);
    out->labels[i].prob = p;
  }
  out->n_labels = n;
  qsort(out->labels, (size_t)n, sizeof *out->labels, by_prob);
  out->known = known_share(ft, text, len);
  double min_conf = card ? card->min_confidence : SOTTO_SENTIMENT_MIN_CONFIDENCE;
  if (n == 0 || (card && out->known < card->min_known)) {
    out->verdict = "neutral", out->reason = "unknown_words";
  } else if (out->labels[0].prob < min_conf) {
    out->verdict = "neutral", out->reason = "low_confidence";
  } else {
    out->verdict = out->labels[0].label;
  }
  rc = 0;
done:
  if (rc != 0) free(out->labels), out->labels = NULL;
  free(norm), free(preds);
  return rc;
}
