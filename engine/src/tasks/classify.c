/*
 * classify.c - "classify": labels for a text from a fastText model.
 *
 *   {"op":"classify","task":"language","text":"Guten Tag","top_k":3}
 *   -> {"task":"language","model":"lid176",
 *       "labels":[{"label":"de","prob":0.98},...]}
 *   {"op":"classify","task":"sentiment","text":"I loved it.","top_k":2}
 *   -> {"task":"sentiment","model":"sentiment-en","language":"en",
 *       "label":"positive","labels":[{"label":"positive","prob":0.93},...],
 *       "calibrated":true,"known_words":1}
 *
 * "model" picks a registered model; without it each task has a default id
 * (sotto_model_default: "lid176" for language, "sentiment-en" for
 * sentiment). Labels lose
 * fastText's "__label__" prefix; "top_k" keeps the best ones and
 * "threshold" (0..1) drops those below it.
 *
 * language (and any "model" without a task): exactly `fasttext predict-prob`
 * on the text as one line.
 *
 * sentiment (models/sentiment.c): the text normalised as the model was
 * trained ("normalize": false skips it), probabilities calibrated where the
 * model's card says how, and "label" the verdict: the best label, or
 * "neutral" with a "reason" when the evidence is weak. A model whose card
 * names the languages it covers answers only for them: the language model
 * ("language_model", default "lid176") reads the text first, and for any
 * other language the result has "label": null, no labels and "reason":
 * "unsupported_language". "language": "en" says the language instead.
 *
 * A transformer encoder (BERT family) classifies as encoder.c describes:
 * its own labels, a text pair, or zero-shot labels.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/sentiment.h"
#include "tasks.h"

/* Six decimals, as much as a float near 1 carries. fastText reports
 * p + 1e-5, which can pass 1 (one-vs-all's sigmoid table says 1). */
static cJSON *label_json(const char *label, double p) {
  cJSON *l = cJSON_CreateObject();
  cJSON_AddStringToObject(l, "label", label);
  cJSON_AddNumberToObject(l, "prob", round((p > 1 ? 1 : p) * 1e6) / 1e6);
  return l;
}

static sotto_fasttext *fasttext_model(sotto_context *ctx, const char *id, sotto_model **m,
                                      sotto_error *err) {
  if (!(*m = sotto_model_get(ctx, id, err))) return NULL;
  if (strcmp((*m)->arch, "fasttext") != 0) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "model \"%.100s\" (%s) cannot classify", id,
                    (*m)->arch);
    return NULL;
  }
  return (*m)->impl;
}

/* The language of text by the language model: its code into code[]. */
static int detect_language(sotto_context *ctx, const char *lid, const char *text,
                           const char *for_model, char *code, size_t size, double *prob,
                           sotto_error *err) {
  sotto_model *m;
  if (!sotto_model_find(ctx, lid)) {
    return sotto_error_set(err, SOTTO_MODEL_NOT_FOUND,
                           "model \"%.100s\" is not loaded: it tells which language the text is "
                           "in, which %.100s needs (or give \"language\")", lid, for_model);
  }
  sotto_fasttext *ft = fasttext_model(ctx, lid, &m, err);
  sotto_fasttext_pred p;
  int n = ft ? sotto_fasttext_predict(ft, ctx->pool, text, strlen(text), 1, 0.0f, &p, err) : -1;
  if (n < 0) return -1;
  const char *l = n ? sotto_fasttext_label(ft, p.label) : "__label__unknown";
  snprintf(code, size, "%s", strncmp(l, "__label__", 9) == 0 ? l + 9 : l);
  *prob = n ? p.prob : 0;
  return 0;
}

static cJSON *classify_sentiment(sotto_context *ctx, const cJSON *req, const char *id,
                                 const char *text, int top_k, double threshold, sotto_error *err) {
  const char *lid = sotto_json_str(req, "language_model", sotto_model_default("language"), err);
  const char *given = sotto_json_str(req, "language", NULL, err);
  if (err->status) return NULL;
  sotto_model *m;
  sotto_fasttext *ft = fasttext_model(ctx, id, &m, err);
  if (!ft) return NULL;
  const sotto_model_card *card = m->card;
  int normalise = sotto_json_bool(req, "normalize", 1, err);
  if (err->status) return NULL;
  char lang[SOTTO_SENTIMENT_LABEL_BYTES] = "";
  double lang_prob = -1;
  if (given) snprintf(lang, sizeof lang, "%s", given);
  else if (card && card->languages &&
           detect_language(ctx, lid, text, id, lang, sizeof lang, &lang_prob, err) != 0)
    return NULL;

  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "task", "sentiment");
  cJSON_AddStringToObject(r, "model", id);
  if (*lang) cJSON_AddStringToObject(r, "language", lang);
  if (lang_prob >= 0)
    cJSON_AddNumberToObject(r, "language_prob", round((lang_prob > 1 ? 1 : lang_prob) * 1e6) / 1e6);
  if (card && card->languages && !sotto_model_card_covers(card, lang)) {
    /* an English model says nothing about German text */
    cJSON_AddNullToObject(r, "label");
    cJSON_AddArrayToObject(r, "labels");
    cJSON_AddStringToObject(r, "reason", "unsupported_language");
    cJSON *langs = cJSON_AddArrayToObject(r, "languages");
    char code[16];
    for (const char *p = card->languages; *p;) {
      size_t k = strcspn(p, " ");
      snprintf(code, sizeof code, "%.*s", (int)(k < 15 ? k : 15), p);
      cJSON_AddItemToArray(langs, cJSON_CreateString(code));
      p += k;
      while (*p == ' ') p++;
    }
    return r;
  }
  sotto_sentiment s;
  if (sotto_sentiment_classify(ft, card, ctx->pool, text, strlen(text), normalise, &s, err) != 0) {
    cJSON_Delete(r);
    return NULL;
  }
  cJSON_AddStringToObject(r, "label", s.verdict);
  if (s.reason) cJSON_AddStringToObject(r, "reason", s.reason);
  cJSON *labels = cJSON_AddArrayToObject(r, "labels");
  for (int i = 0; i < s.n_labels && i < top_k; i++)
    if (s.labels[i].prob >= threshold)
      cJSON_AddItemToArray(labels, label_json(s.labels[i].label, s.labels[i].prob));
  cJSON_AddBoolToObject(r, "calibrated", s.calibrated);
  cJSON_AddNumberToObject(r, "known_words", round(s.known * 1e4) / 1e4);
  free(s.labels);
  return r;
}

cJSON *sotto_task_classify(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                           sotto_error *err) {
  const char *task = sotto_json_str(req, "task", NULL, err);
  const char *id = sotto_json_str(req, "model", NULL, err);
  const char *text = sotto_json_str(req, "text", NULL, err);
  if (err->status) return NULL;
  const sotto_model *enc = id ? sotto_model_find(ctx, id) : NULL;
  if (enc && strcmp(enc->arch, "bert") == 0) return sotto_task_classify_encoder(ctx, req, st, err);
  double top_k = sotto_json_num(req, "top_k", 1, 1, 1e6, err);
  double threshold = sotto_json_num(req, "threshold", 0, 0, 1, err);
  if (err->status) return NULL;
  if (!text) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"text\" (a string) is required");
    return NULL;
  }
  if (top_k != floor(top_k)) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"top_k\" must be a whole number");
    return NULL;
  }
  if (!id) {
    const sotto_task_default *d = sotto_task_default_find(task);
    if (d && strcmp(d->op, "classify") == 0) id = d->model;
    if (!id) {
      sotto_error_set(err, SOTTO_BAD_REQUEST,
                      "\"task\" must be \"language\" or \"sentiment\" (or give \"model\")");
      return NULL;
    }
  }
  if (task && strcmp(task, "sentiment") == 0)
    return classify_sentiment(ctx, req, id, text, (int)top_k, threshold, err);
  sotto_model *m;
  sotto_fasttext *ft = fasttext_model(ctx, id, &m, err);
  if (!ft) return NULL;
  int k = top_k < sotto_fasttext_labels(ft) ? (int)top_k : sotto_fasttext_labels(ft);
  sotto_fasttext_pred *preds = malloc((size_t)k * sizeof *preds);
  if (!preds) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  int n = sotto_fasttext_predict(ft, ctx->pool, text, strlen(text), k, (float)threshold, preds,
                                 err);
  cJSON *r = NULL;
  if (n >= 0) {
    r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "task", task ? cJSON_CreateString(task) : cJSON_CreateNull());
    cJSON_AddStringToObject(r, "model", id);
    cJSON *labels = cJSON_AddArrayToObject(r, "labels");
    for (int i = 0; i < n; i++) {
      const char *label = sotto_fasttext_label(ft, preds[i].label);
      if (strncmp(label, "__label__", 9) == 0) label += 9;
      cJSON_AddItemToArray(labels, label_json(label, preds[i].prob));
    }
  }
  free(preds);
  return r;
}
