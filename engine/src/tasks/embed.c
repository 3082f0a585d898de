/*
 * embed.c - "embed": sentence embeddings from a BERT-family model.
 *
 *   {"op":"embed","model":"minilm","texts":["..",".."],"pooling":"mean",
 *    "normalize":true}
 *   -> {"model":"minilm","dim":384,"pooling":"mean","normalize":true,
 *       "embeddings":[[..],[..]]}
 *
 * "text" (one string) may stand for "texts". "pooling" defaults to the
 * model's own (mean unless its file says cls), "normalize" to true. Texts
 * longer than the model's window are embedded as the mean of overlapping
 * windows; the reply then carries "windows": the most any text needed.
 * Values are printed with 7 significant digits (a float's precision).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasks.h"
#include "models/bert.h"

#define EMBED_MAX_TEXTS 4096

/* A float as a JSON number with 7 significant digits. */
static cJSON *number7(float v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.7g", (double)v);
  return cJSON_CreateRaw(buf);
}

sotto_bert *sotto_task_bert(sotto_context *ctx, const char *id, sotto_error *err) {
  if (!id) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"model\" (a string) is required");
    return NULL;
  }
  sotto_model *m = sotto_model_find(ctx, id);
  if (!m) {
    sotto_error_set(err, SOTTO_MODEL_NOT_FOUND, "model \"%.100s\" is not loaded", id);
    return NULL;
  }
  if (strcmp(m->arch, "bert") != 0) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                    "model \"%.100s\" (%s) is not a text encoder (BERT family)", id, m->arch);
    return NULL;
  }
  return m->impl;
}

cJSON *sotto_task_embed(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                        sotto_error *err) {
  static const char *const poolings[] = {"mean", "cls"};
  const char *id = sotto_json_str(req, "model", NULL, err);
  const char *text = sotto_json_str(req, "text", NULL, err);
  int normalize = sotto_json_bool(req, "normalize", 1, err);
  int pooling = sotto_json_enum(req, "pooling", poolings, 2, -1, err);
  int n = 0;
  const char **texts = err->status ? NULL : sotto_json_strings(req, "texts", EMBED_MAX_TEXTS, &n, err);
  if (err->status) return NULL;
  if (!texts && !text) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"texts\" (an array of strings) is required");
    return NULL;
  }
  sotto_bert *b = sotto_task_bert(ctx, id, err);
  if (!b) {
    free(texts);
    return NULL;
  }
  if (!texts) texts = &text, n = 1;
  const sotto_bert_info *info = sotto_bert_info_of(b);
  sotto_bert_pooling how = pooling < 0 ? info->pooling : (sotto_bert_pooling)pooling;
  float *e = malloc((size_t)n * (size_t)info->n_embd * sizeof *e);
  cJSON *r = NULL;
  int windows = 1;
  if (!e) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  } else if (sotto_bert_embed(b, ctx->pool, st, texts, n, how, normalize, e, &windows, err) == 0) {
    r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "model", id);
    cJSON_AddNumberToObject(r, "dim", info->n_embd);
    cJSON_AddStringToObject(r, "pooling", poolings[how]);
    cJSON_AddBoolToObject(r, "normalize", normalize);
    if (windows > 1) cJSON_AddNumberToObject(r, "windows", windows);
    cJSON *all = cJSON_AddArrayToObject(r, "embeddings");
    for (int i = 0; i < n; i++) {
      cJSON *v = cJSON_CreateArray();
      for (int k = 0; k < info->n_embd; k++)
        cJSON_AddItemToArray(v, number7(e[(size_t)i * info->n_embd + k]));
      cJSON_AddItemToArray(all, v);
    }
  }
  free(e);
  if (texts != &text) free(texts);
  return r;
}
