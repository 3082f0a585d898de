/*
 * encoder.c - the ops of transformer encoders (models/bert.h): "embed", and
 * "classify" for BERT-family models (classify.c routes those here).
 *
 *   {"op":"embed","model":"minilm","texts":["..",".."],"pooling":"mean",
 *    "normalize":true}
 *   -> {"model":"minilm","dim":384,"pooling":"mean","normalize":true,
 *       "embeddings":[[..],[..]]}
 *
 * embed: "text" (one string) may stand for "texts", and "ids" ([[101, ..,
 * 102], ..]: token ids with their special tokens, each within the model's
 * window) for pre-tokenized texts. "pooling" defaults to the model's own
 * (mean unless its file says cls), "normalize" to true. Values are printed
 * with 7 significant digits (a float's precision).
 *
 *   {"op":"classify","model":"nli","text":"..","labels":["sports",".."],
 *    "hypothesis":"This text is about {}."}
 *   -> {"task":null,"model":"nli","zero_shot":"entailment","multi_label":false,
 *       "labels":[{"label":"sports","prob":0.91},..]}
 *
 * classify, every label best first unless "top_k"; "threshold" (0..1) drops
 * labels below it:
 *   - a sequence classifier: its labels' probabilities (softmax; sigmoid
 *     per label for multi-label models); "pair" classifies a text pair
 *     (premise and hypothesis for NLI models); "ids" and "type_ids" (token
 *     ids with their special tokens, and their segments) a pre-tokenized
 *     sequence.
 *   - zero-shot, with "labels": an NLI classifier scores the pair (text,
 *     "hypothesis" with {} replaced by the label; default "This example is
 *     {}.") as Hugging Face's zero-shot pipeline does: softmax over the
 *     labels of the entailment logits, or with "multi_label": true each
 *     label's entailment against contradiction. An embedding model scores
 *     the cosine similarity of the text to each label (to the hypothesis
 *     when one is given); "prob" is then the softmax of 20 x similarity
 *     (the scale sentence-transformers trains such models with) and
 *     "similarity" the cosine itself.
 *
 * Texts longer than the model's window are split into windows overlapping
 * by a quarter: embeddings are the mean of the windows' (then normalised),
 * probabilities the mean of the windows'; the reply then carries
 * "windows", the most any text needed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasks.h"
#include "models/bert.h"

#define EMBED_MAX_TEXTS 4096
#define CLASSIFY_MAX_LABELS 256
#define CLASSIFY_DEFAULT_HYPOTHESIS "This example is {}."
/* sentence-transformers' MultipleNegativesRankingLoss scale: cosine
 * similarities times 20 are the logits such models are trained on. */
#define CLASSIFY_SIMILARITY_SCALE 20.0

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
  sotto_model *m = sotto_model_get(ctx, id, err);
  if (!m) return NULL;
  if (strcmp(m->arch, "bert") != 0) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                    "model \"%.100s\" (%s) is not a text encoder (BERT family)", id, m->arch);
    return NULL;
  }
  return m->impl;
}

int sotto_task_ids(const cJSON *arr, const char *key, int32_t **ids, int *n, sotto_error *err) {
  *ids = NULL, *n = 0;
  int count = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
  if (count < 0 || count > (1 << 20))
    return sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" must be an array of token ids", key);
  *ids = malloc(((size_t)count + 1) * sizeof **ids);
  if (!*ids) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > INT32_MAX ||
        v->valuedouble != (double)(int32_t)v->valuedouble) {
      free(*ids);
      *ids = NULL, *n = 0;
      return sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" must hold whole numbers >= 0", key);
    }
    (*ids)[(*n)++] = (int32_t)v->valuedouble;
  }
  return 0;
}

/* "ids": [[..], ..] -> the pooled embeddings of each sequence */
static int embed_ids(sotto_bert *b, sotto_context *ctx, sotto_stream *st, const cJSON *arr,
                     int n, sotto_bert_pooling how, int normalize, float *e, sotto_error *err) {
  int32_t **ids = calloc((size_t)n, sizeof *ids);
  int *lens = calloc((size_t)n, sizeof *lens);
  int rc = -1, i = 0;
  const cJSON *seq;
  if (!ids || !lens) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  cJSON_ArrayForEach(seq, arr) {
    if (sotto_task_ids(seq, "ids", &ids[i], &lens[i], err)) goto done;
    i++;
  }
  rc = sotto_bert_run(b, ctx->pool, st, (const int32_t *const *)ids, NULL, lens, n, how,
                      normalize, e, NULL, err);
done:
  for (int k = 0; ids && k < n; k++) free(ids[k]);
  free(ids), free(lens);
  return rc;
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
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(req, "ids");
  if (ids && !texts && !text) {
    n = cJSON_IsArray(ids) ? cJSON_GetArraySize(ids) : 0;
    if (n < 1 || n > EMBED_MAX_TEXTS) {
      sotto_error_set(err, SOTTO_BAD_REQUEST, "\"ids\" must be an array of 1 to %d arrays",
                      EMBED_MAX_TEXTS);
      return NULL;
    }
  } else if (!texts && !text) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"texts\" (an array of strings) is required");
    return NULL;
  }
  sotto_bert *b = sotto_task_bert(ctx, id, err);
  if (!b) {
    free(texts);
    return NULL;
  }
  if (!texts && text) texts = &text, n = 1;
  const sotto_bert_info *info = sotto_bert_info_of(b);
  sotto_bert_pooling how = pooling < 0 ? info->pooling : (sotto_bert_pooling)pooling;
  float *e = malloc((size_t)n * (size_t)info->n_embd * sizeof *e);
  cJSON *r = NULL;
  int windows = 1;
  if (!e) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  } else if (texts ? sotto_bert_embed(b, ctx->pool, st, texts, n, how, normalize, e, &windows, err) == 0
                   : embed_ids(b, ctx, st, ids, n, how, normalize, e, err) == 0) {
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

typedef struct {
  const char *label;
  double prob, similarity;
} scored;

static int by_prob(const void *a, const void *b) {
  double x = ((const scored *)a)->prob, y = ((const scored *)b)->prob;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* "This example is {}." with {} replaced by label (malloc'ed). */
static char *hypothesis(const char *template, const char *label) {
  const char *at = strstr(template, "{}");
  size_t n = strlen(template) - 2 + strlen(label) + 1;
  char *h = malloc(n);
  if (h) snprintf(h, n, "%.*s%s%s", (int)(at - template), template, label, at + 2);
  return h;
}

cJSON *sotto_task_classify_encoder(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                                   sotto_error *err) {
  const char *id = sotto_json_str(req, "model", NULL, err);
  const char *task = sotto_json_str(req, "task", NULL, err);
  const char *text = sotto_json_str(req, "text", NULL, err);
  long top_k = sotto_json_int(req, "top_k", 0, 1, 1000000, err);
  double threshold = sotto_json_num(req, "threshold", 0, 0, 1, err);
  const char *pair = sotto_json_str(req, "pair", NULL, err);
  const char *template = sotto_json_str(req, "hypothesis", NULL, err);
  int multi = sotto_json_bool(req, "multi_label", 0, err);
  int n = 0;
  const char **names = err->status ? NULL
                                   : sotto_json_strings(req, "labels", CLASSIFY_MAX_LABELS, &n, err);
  if (err->status) return NULL;
  sotto_bert *b = sotto_task_bert(ctx, id, err);
  if (!b) {
    free(names);
    return NULL;
  }
  if (!text && !cJSON_GetObjectItemCaseSensitive(req, "ids")) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"text\" (a string) is required");
    free(names);
    return NULL;
  }
  const sotto_bert_info *info = sotto_bert_info_of(b);
  int zero_shot = names != NULL, similarity = zero_shot && info->n_labels == 0;
  if (template && (!strstr(template, "{}") || strstr(strstr(template, "{}") + 2, "{}"))) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"hypothesis\" must contain {} once");
    free(names);
    return NULL;
  }
  if (zero_shot && !text) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "zero-shot labels need \"text\"");
    free(names);
    return NULL;
  }
  if (!zero_shot) n = info->n_labels;
  if (!zero_shot && n == 0) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                    "model \"%.100s\" is an embedding model: give \"labels\" to classify "
                    "by similarity", id);
    return NULL;
  }
  scored *out = calloc((size_t)n, sizeof *out);
  float *p = calloc((size_t)n, sizeof *p);
  char **hyp = zero_shot ? calloc((size_t)n, sizeof *hyp) : NULL;
  cJSON *r = NULL;
  int windows = 1, rc = -1;
  if (!out || !p || (zero_shot && !hyp)) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  if (zero_shot) {
    const char *t = template ? template : similarity ? "{}" : CLASSIFY_DEFAULT_HYPOTHESIS;
    for (int i = 0; i < n; i++)
      if (!(hyp[i] = hypothesis(t, names[i]))) {
        sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
        goto done;
      }
    rc = similarity ? sotto_bert_similarity(b, ctx->pool, st, text, (const char *const *)hyp, n,
                                            p, &windows, err)
                    : sotto_bert_zero_shot(b, ctx->pool, st, text, (const char *const *)hyp, n,
                                           multi, p, &windows, err);
  } else if (!text) {
    int32_t *ids = NULL, *types = NULL;
    int n_ids = 0, n_types = 0;
    const cJSON *tj = cJSON_GetObjectItemCaseSensitive(req, "type_ids");
    rc = sotto_task_ids(cJSON_GetObjectItemCaseSensitive(req, "ids"), "ids", &ids, &n_ids, err);
    if (!rc && tj) rc = sotto_task_ids(tj, "type_ids", &types, &n_types, err);
    if (!rc && tj && n_types != n_ids)
      rc = sotto_error_set(err, SOTTO_BAD_REQUEST, "\"type_ids\" must match \"ids\" in length");
    if (!rc)
      rc = sotto_bert_run(b, ctx->pool, st, (const int32_t *const *)&ids,
                          types ? (const int32_t *const *)&types : NULL, &n_ids, 1,
                          SOTTO_BERT_POOL_CLS, 0, NULL, p, err);
    free(ids), free(types);
  } else {
    rc = sotto_bert_classify(b, ctx->pool, st, text, pair, p, &windows, err);
  }
  if (rc) goto done;
  for (int i = 0; i < n; i++) {
    out[i].label = zero_shot ? names[i] : sotto_bert_label(b, i);
    out[i].prob = p[i];
  }
  if (similarity) { /* softmax of scaled cosine similarities */
    double mx = -1e300, sum = 0;
    for (int i = 0; i < n; i++) mx = p[i] > mx ? p[i] : mx;
    for (int i = 0; i < n; i++)
      sum += out[i].prob = exp(CLASSIFY_SIMILARITY_SCALE * (p[i] - mx));
    for (int i = 0; i < n; i++) out[i].prob /= sum, out[i].similarity = p[i];
  }
  qsort(out, (size_t)n, sizeof *out, by_prob);
  r = cJSON_CreateObject();
  cJSON_AddItemToObject(r, "task", task ? cJSON_CreateString(task) : cJSON_CreateNull());
  cJSON_AddStringToObject(r, "model", id);
  if (zero_shot) {
    cJSON_AddStringToObject(r, "zero_shot", similarity ? "similarity" : "entailment");
    cJSON_AddBoolToObject(r, "multi_label", multi);
  }
  if (windows > 1) cJSON_AddNumberToObject(r, "windows", windows);
  cJSON *labels = cJSON_AddArrayToObject(r, "labels");
  for (int i = 0; i < n && (top_k == 0 || i < top_k); i++) {
    if (out[i].prob < threshold) break;
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "label", out[i].label);
    cJSON_AddNumberToObject(l, "prob", round(out[i].prob * 1e6) / 1e6);
    if (similarity) cJSON_AddNumberToObject(l, "similarity", round(out[i].similarity * 1e6) / 1e6);
    cJSON_AddItemToArray(labels, l);
  }
done:
  for (int i = 0; hyp && i < n; i++) free(hyp[i]);
  free(hyp), free(out), free(p), free(names);
  return r;
}
