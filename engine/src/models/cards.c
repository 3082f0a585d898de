/*
 * cards.c - the model cards the engine carries (cards.h). Each row comes
 * from the model's own card and build: sentiment-en from
 * models/sentiment/MODEL_CARD.md and train.sh's calibration step
 * (calibrate.R: Platt scaling and the known-word share, fit on 4,000
 * out-of-fold predictions of fold models made as the final model is; the
 * test reviews took no part).
 */
#include <string.h>

#include <sodium.h>

#include "models/cards.h"

static const sotto_model_card cards[] = {
    {
        .name = "sentiment-en",
        .bytes = 829332,
        .sha256 = "8aa2e9af05edf599299f543d50bb30d3e296048dc959a9a6654171ab5f148fb4",
        .task = "sentiment",
        .languages = "en",
        .normalise = 1,
        .positive = "__label__positive",
        .platt_a = 0.369689,
        .platt_b = 0.090987,
        /* "no clear sentiment": a calibrated top probability below 0.6, or
         * fewer of the text's words known than in 98 % of held-out reviews */
        .min_confidence = 0.6,
        .min_known = 0.8852,
    },
};

const sotto_model_card *sotto_model_card_find(const void *data, size_t size) {
  for (size_t i = 0; data && i < sizeof cards / sizeof cards[0]; i++) {
    if (cards[i].bytes != size || sodium_init() < 0) continue;
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256(h, data, size);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    if (strcmp(hex, cards[i].sha256) == 0) return &cards[i];
  }
  return NULL;
}

int sotto_model_card_covers(const sotto_model_card *card, const char *code) {
  size_t n = strlen(code);
  for (const char *p = card->languages; *p;) {
    size_t k = strcspn(p, " ");
    if (k == n && memcmp(p, code, n) == 0) return 1;
    p += k;
    while (*p == ' ') p++;
  }
  return 0;
}
