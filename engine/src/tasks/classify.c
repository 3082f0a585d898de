/*
 * classify.c - "classify": labels for a text from a fastText model.
 *
 *   {"op":"classify","task":"language","text":"Guten Tag","top_k":3}
 *   -> {"task":"language","model":"lid176",
 *       "labels":[{"label":"de","prob":0.98},...]}
 *
 * "model" picks a registered model; without it each task has a default id
 * ("lid176" for language, "sentiment-en" for sentiment). The text is treated
 * as one line, as `fasttext predict-prob` reads it, and labels lose
 * fastText's "__label__" prefix. "threshold" (0..1) drops labels below it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tasks.h"
#include "models/fasttext.h"

static const struct { const char *task, *model; } defaults[] = {
    {"language", "lid176"},
    {"sentiment", "sentiment-en"},
};

cJSON *sotto_task_classify(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                           sotto_error *err) {
  (void)st;
  const char *task = sotto_json_str(req, "task", NULL, err);
  const char *id = sotto_json_str(req, "model", NULL, err);
  const char *text = sotto_json_str(req, "text", NULL, err);
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
    for (size_t i = 0; task && i < sizeof defaults / sizeof defaults[0]; i++)
      if (strcmp(task, defaults[i].task) == 0) id = defaults[i].model;
    if (!id) {
      sotto_error_set(err, SOTTO_BAD_REQUEST,
                      "\"task\" must be \"language\" or \"sentiment\" (or give \"model\")");
      return NULL;
    }
  }
  sotto_model *m = sotto_model_find(ctx, id);
  if (!m) {
    sotto_error_set(err, SOTTO_MODEL_NOT_FOUND, "model \"%.100s\" is not loaded", id);
    return NULL;
  }
  if (strcmp(m->arch, "fasttext") != 0) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "model \"%.100s\" (%s) cannot classify", id,
                    m->arch);
    return NULL;
  }
  sotto_fasttext *ft = m->impl;
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
      cJSON *l = cJSON_CreateObject();
      cJSON_AddStringToObject(l, "label", label);
      /* Six decimals, as much as a float near 1 carries. fastText reports
       * p + 1e-5, which can pass 1 (one-vs-all's sigmoid table says 1). */
      double p = preds[i].prob > 1 ? 1 : preds[i].prob;
      cJSON_AddNumberToObject(l, "prob", round(p * 1e6) / 1e6);
      cJSON_AddItemToArray(labels, l);
    }
  }
  free(preds);
  return r;
}
