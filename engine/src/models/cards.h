/*
 * cards.h - what the engine knows of particular model files beyond their
 * weights, as their model cards state it: the task, the languages the model
 * covers, the input it was trained on and how far its probabilities can be
 * trusted. A file is recognised by its size and SHA-256, whatever id it is
 * registered under. Models without a card run as they are.
 */
#ifndef SOTTO_MODEL_CARDS_H
#define SOTTO_MODEL_CARDS_H

#include <stddef.h>

typedef struct sotto_model_card {
  const char *name;        /* the catalogue id: "sentiment-en" */
  size_t bytes;
  const char *sha256;      /* hex */
  const char *task;        /* "sentiment" */
  const char *languages;   /* the languages it covers, lid.176 codes, space separated */
  int normalise;           /* it was trained on sotto_text_normalise()d text */
  const char *positive;    /* the label whose probability is calibrated */
  double platt_a, platt_b; /* calibrated p = 1 / (1 + exp(-(a logit(p) + b))) */
  double min_confidence;   /* a calibrated top probability below it: no clear answer */
  double min_known;        /* a share of the text's words it knows below it: likewise */
} sotto_model_card;

/* The card of the model file data[0..size), or NULL. Hashes only files of
 * a size some card names. */
const sotto_model_card *sotto_model_card_find(const void *data, size_t size);

/* Whether the card's model covers language code (e.g. "en"). */
int sotto_model_card_covers(const sotto_model_card *card, const char *code);

#endif /* SOTTO_MODEL_CARDS_H */
