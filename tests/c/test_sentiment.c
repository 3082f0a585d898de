/*
 * test_sentiment.c - honest sentiment: the engine's text normalisation
 * against the R function the model's training data went through
 * (models/sentiment/normalise.R, run live on all 5,000 reviews of the
 * model's data and on hard cases), the model card found by content, and
 * the "classify" sentiment answers: calibrated labels for English, no label
 * at all for text in a language the model does not cover, "neutral" with
 * its reason when the evidence is weak, and clear errors.
 *
 * Accuracy and calibration on the held-out reviews, against Debian's
 * fastText, are in tests/js/sentiment.test.mjs (native and wasm).
 * Needs out/models/{sentiment-en,lid176}.ftz (`make models`).
 */
#include <math.h>

#include "cJSON.h"
#include "check.h"
#include "sotto.h"
#include "tokenizers/text.h"

static sotto_context *ctx;

/* Undoes export-reviews.R's escapes in place. */
static void unescape(char *s) {
  char *o = s;
  for (; *s; s++) {
    if (*s == '\\' && s[1]) {
      s++;
      *o++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
    } else {
      *o++ = *s;
    }
  }
  *o = 0;
}

static void test_normalise(const char *dir) {
  char rel[512];
  snprintf(rel, sizeof rel, "out/sentiment/%s/reviews.tsv", dir);
  char *tsv = check_read_file(rel, NULL);
  CHECK(tsv != NULL, "reviews exported by R");
  if (!tsv) return;
  int rows = 0, same = 0, edge = 0, edge_same = 0;
  char *save = NULL;
  for (char *line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *f[4] = {line, NULL, NULL, NULL};
    for (int i = 1; i < 4 && f[i - 1]; i++) {
      f[i] = strchr(f[i - 1], '\t');
      if (f[i]) *f[i]++ = 0;
    }
    if (!f[3]) f[3] = f[2] ? f[2] + strlen(f[2]) : NULL; /* an empty normalised text */
    if (!f[2]) continue;
    unescape(f[2]), unescape(f[3]);
    size_t len;
    char *got = sotto_text_normalise(f[2], strlen(f[2]), &len);
    int ok = got && len == strlen(got) && strcmp(got, f[3]) == 0;
    if (!ok) fprintf(stderr, "  %s: [%s]\n     R: [%s]\n  sotto: [%s]\n", f[0], f[2], f[3], got);
    rows++, same += ok;
    if (strcmp(f[0], "edge") == 0) edge++, edge_same += ok;
    free(got);
  }
  printf("normalisation: %d of %d texts as R's normalise() (%d of %d hard cases)\n", same, rows,
         edge_same, edge);
  CHECK(rows == 5000 + edge && edge >= 15 && same == rows, "%d of %d texts normalised as R does",
        same, rows);
  /* malformed UTF-8: bad bytes are spaces, as U+FFFD is */
  char *bad = sotto_text_normalise("A\xFF" "b\xC3(", 6, NULL);
  CHECK(bad && strcmp(bad, "a b (") == 0, "bad bytes: [%s]", bad);
  free(bad);
  free(tsv);
}

static cJSON *ask_on(sotto_context *c, const char *json) {
  char *out = sotto_request(c, json);
  cJSON *r = cJSON_Parse(out);
  CHECK(r != NULL, "reply is JSON: %s", out);
  sotto_string_free(out);
  return r;
}

static const char *str_of(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItem(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Asks for the sentiment of text; returns the result (or NULL). */
static cJSON *sentiment(sotto_context *c, const char *text, const char *extra) {
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "classify");
  cJSON_AddStringToObject(req, "task", "sentiment");
  cJSON_AddStringToObject(req, "text", text);
  cJSON_AddNumberToObject(req, "top_k", 2);
  char *json = cJSON_PrintUnformatted(req);
  cJSON_Delete(req);
  if (extra) { /* extra fields: ,"key":value */
    size_t n = strlen(json);
    char *more = malloc(n + strlen(extra) + 1);
    memcpy(more, json, n - 1);
    strcpy(more + n - 1, extra);
    strcat(more, "}");
    cJSON_free(json);
    json = more;
    cJSON *r = ask_on(c, json);
    free(json);
    return r;
  }
  cJSON *r = ask_on(c, json);
  cJSON_free(json);
  return r;
}

static void test_answers(void) {
  size_t size = 0, lid_size = 0;
  char *model = check_read_file("out/models/sentiment-en.ftz", &size);
  char *lid = check_read_file("out/models/lid176.ftz", &lid_size);
  CHECK(model && lid, "out/models/sentiment-en.ftz and lid176.ftz present (run `make models`)");
  if (!model || !lid) {
    free(model), free(lid);
    return;
  }
  sotto_error err = {0};
  /* without the language model, an English-only model cannot check the text */
  CHECK(sotto_model_add(ctx, "sentiment-en", model, size, SOTTO_MODEL_COPY, &err) == SOTTO_OK,
        "sentiment-en loads: %s", err.message);
  cJSON *r = sentiment(ctx, "I loved it.", NULL);
  const cJSON *e = cJSON_GetObjectItem(r, "error");
  CHECK(str_of(e, "code") && strcmp(str_of(e, "code"), "model_not_found") == 0 &&
            strstr(str_of(e, "message"), "lid176"),
        "without lid176: model_not_found naming it");
  cJSON_Delete(r);
  r = sentiment(ctx, "I loved it. Wonderful, the best cookies ever.", ",\"language\":\"en\"");
  const cJSON *res = cJSON_GetObjectItem(r, "result");
  CHECK(str_of(res, "label") && strcmp(str_of(res, "label"), "positive") == 0 &&
            strcmp(str_of(res, "language"), "en") == 0,
        "\"language\" given: no language model needed");
  cJSON_Delete(r);

  CHECK(sotto_model_add(ctx, "lid176", lid, lid_size, SOTTO_MODEL_COPY, &err) == SOTTO_OK,
        "lid176 loads: %s", err.message);
  static const struct {
    const char *text, *label, *reason, *language;
  } cases[] = {
      {"I absolutely loved this film. The acting was wonderful, the story was moving and "
       "beautifully told, and the music was perfect.", "positive", NULL, "en"},
      {"This was a terrible movie. The plot made no sense, the dialogue was awful and boring, "
       "and the acting was the worst I have seen in a long time.", "negative", NULL, "en"},
      {"We present a method for estimating the parameters of a hidden Markov model from "
       "incomplete observations. The algorithm alternates between computing expected "
       "sufficient statistics and maximizing the likelihood.", "neutral", "unknown_words", "en"},
      {"Die Bibliothek der Stadt wurde im letzten Jahr renoviert und bietet jetzt einen gro\xC3\x9F"
       "en Lesesaal, in dem Sch\xC3\xBCler bis sp\xC3\xA4t arbeiten k\xC3\xB6nnen.", NULL,
       "unsupported_language", "de"},
      {"Le petit village se trouve au bord de la rivi\xC3\xA8re, entre les collines couvertes de "
       "vignes. C'est magnifique, j'adore cet endroit\xE2\x80\xAF!", NULL, "unsupported_language",
       "fr"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    r = sentiment(ctx, cases[i].text, NULL);
    res = cJSON_GetObjectItem(r, "result");
    const char *label = str_of(res, "label"), *reason = str_of(res, "reason");
    const cJSON *labels = cJSON_GetObjectItem(res, "labels");
    CHECK(res && (cases[i].label ? label && strcmp(label, cases[i].label) == 0
                                 : cJSON_IsNull(cJSON_GetObjectItem(res, "label"))) &&
              (cases[i].reason ? reason && strcmp(reason, cases[i].reason) == 0 : !reason) &&
              str_of(res, "language") && strcmp(str_of(res, "language"), cases[i].language) == 0,
          "case %zu: %s / %s in %s, got %s / %s in %s", i, cases[i].label, cases[i].reason,
          cases[i].language, label, reason, str_of(res, "language"));
    if (cases[i].label) {
      double p0 = cJSON_GetArrayItem(labels, 0)->child->next->valuedouble;
      double p1 = cJSON_GetArrayItem(labels, 1)->child->next->valuedouble;
      CHECK(cJSON_GetArraySize(labels) == 2 && fabs(p0 + p1 - 1) < 2e-6 && p0 >= p1 &&
                cJSON_IsTrue(cJSON_GetObjectItem(res, "calibrated")),
            "case %zu: two calibrated probabilities summing to 1 (%f + %f)", i, p0, p1);
    } else {
      CHECK(cJSON_GetArraySize(labels) == 0, "case %zu: no label for an uncovered language", i);
    }
    cJSON_Delete(r);
  }
  /* the same file under another id is the same model: its card comes along */
  CHECK(sotto_model_add(ctx, "my-sentiment", model, size, SOTTO_MODEL_COPY, &err) == SOTTO_OK,
        "a copy loads");
  r = sentiment(ctx, cases[3].text, ",\"model\":\"my-sentiment\"");
  res = cJSON_GetObjectItem(r, "result");
  CHECK(str_of(res, "reason") && strcmp(str_of(res, "reason"), "unsupported_language") == 0,
        "a copy under another id knows it covers English only");
  cJSON_Delete(r);
  /* a model without a card: raw probabilities, no language check */
  r = sentiment(ctx, cases[3].text, ",\"model\":\"lid176\"");
  res = cJSON_GetObjectItem(r, "result");
  CHECK(res && strcmp(str_of(res, "label"), "de") == 0 &&
            cJSON_IsFalse(cJSON_GetObjectItem(res, "calibrated")) &&
            !cJSON_GetObjectItem(res, "language"),
        "no card: the model's own labels, uncalibrated");
  cJSON_Delete(r);
  /* normalisation can be turned off; it changes what the model sees */
  r = sentiment(ctx, "Terrible!!! AWFUL, STALE cookies.", NULL);
  cJSON *r2 = sentiment(ctx, "Terrible!!! AWFUL, STALE cookies.", ",\"normalize\":false");
  const char *with = str_of(cJSON_GetObjectItem(r, "result"), "label");
  const char *without = str_of(cJSON_GetObjectItem(r2, "result"), "reason");
  CHECK(with && strcmp(with, "negative") == 0 && without && strcmp(without, "unknown_words") == 0,
        "normalize: false: the model knows too few of the raw words (%s vs %s)", with, without);
  cJSON_Delete(r), cJSON_Delete(r2);
  r = sentiment(ctx, "Fine.", ",\"normalize\":3");
  CHECK(strcmp(str_of(cJSON_GetObjectItem(r, "error"), "code"), "bad_request") == 0,
        "normalize must be a boolean");
  cJSON_Delete(r);
  free(model), free(lid);
}

int main(int argc, char **argv) {
  const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
  name = name ? name + 1 : "test_sentiment";
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "Rscript '%s/tests/sentiment/export-reviews.R' '%s/out/sentiment/%s' >/dev/null",
           SOTTO_SOURCE_DIR, SOTTO_SOURCE_DIR, name);
  CHECK(system(cmd) == 0, "export the reviews with R: %s", cmd);
  ctx = sotto_context_create(&(sotto_config){.threads = 1});
  CHECK(ctx != NULL, "context");
  test_normalise(name);
  test_answers();
  sotto_context_destroy(ctx);
  return check_finish();
}
