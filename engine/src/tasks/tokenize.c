/*
 * tokenize.c - "tokenize": a text (or a text pair) to the token ids of a
 * model's own tokenizer, with the special tokens the model expects.
 *
 *   {"op":"tokenize","model":"minilm","text":"..","pair":".."}
 *   -> {"model":"minilm","ids":[101,..,102],"type_ids":[0,..,1]}
 *
 * "type_ids" (each token's segment) come with a pair. "max_length" (> 0)
 * truncates a pair as Hugging Face's "longest_first" strategy does.
 */
#include <stdlib.h>
#include <string.h>

#include "tasks.h"
#include "tokenizers/tokenizer.h"

#define TOKENIZE_MAX_IDS (1 << 22)

cJSON *sotto_task_tokenize(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                           sotto_error *err) {
  (void)st;
  const char *id = sotto_json_str(req, "model", NULL, err);
  const char *text = sotto_json_str(req, "text", NULL, err);
  const char *pair = sotto_json_str(req, "pair", NULL, err);
  long max_length = sotto_json_int(req, "max_length", 0, 0, TOKENIZE_MAX_IDS, err);
  if (err->status) return NULL;
  if (!id || !text) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"model\" and \"text\" (strings) are required");
    return NULL;
  }
  sotto_model *m = sotto_model_get(ctx, id, err);
  if (!m) return NULL;
  if (!m->tokenizer) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "model \"%.100s\" (%s) has no tokenizer", id,
                    m->arch);
    return NULL;
  }
  int64_t cap = (int64_t)strlen(text) + (pair ? (int64_t)strlen(pair) : 0) + 16, n = -1;
  int32_t *ids = NULL, *types = NULL;
  for (int attempt = 0; attempt < 2; attempt++) {
    free(ids), free(types);
    ids = malloc((size_t)cap * sizeof *ids);
    types = malloc((size_t)cap * sizeof *types);
    if (!ids || !types) {
      sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
      n = -1;
      break;
    }
    n = pair ? sotto_tokenizer_encode_pair(m->tokenizer, text, strlen(text), pair, strlen(pair),
                                           max_length, ids, types, cap, err)
             : sotto_tokenizer_encode(m->tokenizer, text, strlen(text), 1, 0, ids, cap, err);
    if (n <= cap) break;
    cap = n;
  }
  cJSON *r = NULL;
  if (n >= 0 && n <= cap) {
    r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "model", id);
    cJSON *a = cJSON_AddArrayToObject(r, "ids");
    for (int64_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(ids[i]));
    if (pair) {
      cJSON *t = cJSON_AddArrayToObject(r, "type_ids");
      for (int64_t i = 0; i < n; i++) cJSON_AddItemToArray(t, cJSON_CreateNumber(types[i]));
    }
  } else if (n >= 0) {
    sotto_error_set(err, SOTTO_INTERNAL, "the tokenizer's length changed between calls");
  }
  free(ids), free(types);
  return r;
}
