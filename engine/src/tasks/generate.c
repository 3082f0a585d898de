/*
 * generate.c - "generate" and "logits" with a language model (a GGUF of
 * the llama family):
 *
 *   {"op":"generate","model":ID,"prompt":".."|"messages":[{"role","content"}]|"tokens":[ids],
 *    "max_tokens":256,"temperature":0.8,"top_k":40,"top_p":0.95,"min_p":0.05,
 *    "repeat_penalty":1,"seed":N,"stop":[".."],"kv_cache":"f32"|"f16"|"q8_0","ignore_eos":false}
 *   -> partials {"token":id,"text":".."} (with "stream":true), then
 *      {"text","tokens","finish":"stop|length|cancelled",
 *       "usage":{"prompt_tokens","completion_tokens"},
 *       "timings":{"prefill_tok_s","decode_tok_s"}}
 *   {"op":"logits","model":ID,"tokens":[ids]} -> {"n_vocab","logits":[..]} (last position)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/llama.h"
#include "runtime/runtime.h"
#include "tasks/tasks.h"
#include "tasks/lm.h"
#include "tokenizers/chat.h"

#define GEN_MAX_TOKENS_DEFAULT 256
#define GEN_MAX_TOKENS_LIMIT 32768

sotto_lm *sotto_task_lm(sotto_context *ctx, const cJSON *req, sotto_error *err) {
  const char *id = sotto_json_str(req, "model", NULL, err);
  if (err->status) return NULL;
  if (!id) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"model\" (the id of a GGUF language model) is required");
    return NULL;
  }
  sotto_model *m = sotto_model_get(ctx, id, err);
  if (!m) return NULL;
  sotto_lm *lm = sotto_llama_lm(m);
  if (!lm)
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "model \"%.100s\" (%s) is not a language model",
                    id, m->arch ? m->arch : m->format);
  return lm;
}

/* "tokens": an array of ids into a malloc'd array. */
static int32_t *read_ids(const cJSON *arr, const sotto_lm *lm, int32_t *n, sotto_error *err) {
  const int count = cJSON_GetArraySize(arr);
  if (count < 1 || count > GEN_MAX_TOKENS_LIMIT * 4) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"tokens\" must hold 1 to %d ids",
                    GEN_MAX_TOKENS_LIMIT * 4);
    return NULL;
  }
  int32_t *ids = malloc((size_t)count * sizeof *ids);
  if (!ids) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  int i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || it->valuedouble < 0 ||
        it->valuedouble >= lm->n_vocab) {
      free(ids);
      sotto_error_set(err, SOTTO_BAD_REQUEST, "\"tokens\"[%d] is not a token id below %d", i,
                      (int)lm->n_vocab);
      return NULL;
    }
    ids[i++] = (int32_t)it->valuedouble;
  }
  *n = count;
  return ids;
}

int32_t *sotto_task_lm_encode(const sotto_lm *lm, const char *text, size_t len, int add_special,
                              int parse_special, int32_t *n, sotto_error *err) {
  int64_t got;
  int32_t *ids = sotto_tokenizer_encode_alloc(lm->tok, text, len, add_special, parse_special, &got, err);
  if (ids) *n = (int32_t)got;
  return ids;
}

int sotto_task_lm_stream_token(void *user, int32_t id, const char *text, size_t len) {
  sotto_stream *st = user;
  if (!st || !st->partials) return sotto_stream_cancelled(st);
  cJSON *p = cJSON_CreateObject();
  if (id >= 0) cJSON_AddNumberToObject(p, "token", id);
  char *t = malloc(len + 1);
  if (t) {
    memcpy(t, text, len);
    t[len] = 0;
    cJSON_AddStringToObject(p, "text", t);
    free(t);
  }
  return sotto_stream_emit(st, p);
}

/* The request's "kv_cache", by default the model's. */
static sotto_dtype kv_cache_type(const cJSON *req, const sotto_lm *lm, sotto_error *err) {
  static const char *const names[] = {"f32", "f16", "q8_0"};
  static const sotto_dtype types[] = {SOTTO_DTYPE_F32, SOTTO_DTYPE_F16, SOTTO_DTYPE_Q8_0};
  int dflt = 0;
  while (dflt < 2 && types[dflt] != lm->kv_default) dflt++;
  const int kv = sotto_json_enum(req, "kv_cache", names, 3, dflt, err);
  return types[kv >= 0 && kv < 3 ? kv : dflt];
}

int sotto_task_gen_params(const cJSON *req, const sotto_lm *lm, sotto_gen_params *p,
                          sotto_error *err) {
  memset(p, 0, sizeof *p);
  const sotto_sampling d = SOTTO_SAMPLING_DEFAULTS;
  p->sampling = d;
  p->max_tokens = (int32_t)sotto_json_int(req, "max_tokens", GEN_MAX_TOKENS_DEFAULT, 1,
                                          GEN_MAX_TOKENS_LIMIT, err);
  p->sampling.temperature = (float)sotto_json_num(req, "temperature", d.temperature, 0, 100, err);
  p->sampling.top_k = (int32_t)sotto_json_int(req, "top_k", d.top_k, 0, 1 << 24, err);
  p->sampling.top_p = (float)sotto_json_num(req, "top_p", d.top_p, 0, 1, err);
  p->sampling.min_p = (float)sotto_json_num(req, "min_p", d.min_p, 0, 1, err);
  p->sampling.repeat_penalty = (float)sotto_json_num(req, "repeat_penalty", 1, 0.01, 100, err);
  p->sampling.seed = (uint64_t)sotto_json_num(req, "seed", (double)time(NULL), 0, 9007199254740992.0, err);
  p->kv_type = kv_cache_type(req, lm, err);
  p->stop_at_eos = !sotto_json_bool(req, "ignore_eos", 0, err);
  if (err->status) return -1;
  const cJSON *stop = cJSON_GetObjectItemCaseSensitive(req, "stop");
  if (stop) {
    if (!cJSON_IsArray(stop) || cJSON_GetArraySize(stop) > SOTTO_MAX_STOPS)
      return sotto_error_set(err, SOTTO_BAD_REQUEST, "\"stop\" must be an array of up to %d strings",
                             SOTTO_MAX_STOPS);
    const cJSON *it;
    cJSON_ArrayForEach(it, stop) {
      if (!cJSON_IsString(it) || !it->valuestring[0] || strlen(it->valuestring) > 256)
        return sotto_error_set(err, SOTTO_BAD_REQUEST, "each stop must be a string of 1 to 256 bytes");
      p->stops[p->n_stops++] = it->valuestring;
    }
  }
  return 0;
}

cJSON *sotto_task_generate(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                           sotto_error *err) {
  sotto_lm *lm = sotto_task_lm(ctx, req, err);
  if (!lm) return NULL;
  sotto_gen_params p;
  if (sotto_task_gen_params(req, lm, &p, err)) return NULL;
  const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(req, "tokens");
  const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(req, "prompt");
  const cJSON *messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
  if (!!tokens + !!prompt + !!messages != 1) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "give exactly one of \"prompt\", \"messages\", \"tokens\"");
    return NULL;
  }
  int32_t n = 0, *ids = NULL;
  const char *template_used = NULL;
  if (tokens) {
    if (!cJSON_IsArray(tokens)) {
      sotto_error_set(err, SOTTO_BAD_REQUEST, "\"tokens\" must be an array of ids");
      return NULL;
    }
    ids = read_ids(tokens, lm, &n, err);
  } else if (prompt) {
    if (!cJSON_IsString(prompt) || !prompt->valuestring[0]) {
      sotto_error_set(err, SOTTO_EMPTY_TEXT, "\"prompt\" must be a non-empty string");
      return NULL;
    }
    ids = sotto_task_lm_encode(lm, prompt->valuestring, strlen(prompt->valuestring), 1, 0, &n, err);
  } else {
    ids = sotto_task_lm_chat(lm, messages, &n, &template_used, err);
  }
  if (!ids) return NULL;
  sotto_gen_result r;
  const int rc = sotto_generate(lm, ctx->pool, ids, n, &p, sotto_task_lm_stream_token, st, st, &r, err);
  free(ids);
  if (rc) return NULL;
  cJSON *out = cJSON_CreateObject();
  cJSON_AddStringToObject(out, "text", r.text);
  cJSON_AddItemToObject(out, "tokens", cJSON_CreateIntArray(r.tokens, r.n_tokens));
  static const char *const finish[] = {"stop", "length", "cancelled"};
  cJSON_AddStringToObject(out, "finish", finish[r.finish]);
  if (template_used) cJSON_AddStringToObject(out, "chat_template", template_used);
  cJSON *u = cJSON_AddObjectToObject(out, "usage");
  cJSON_AddNumberToObject(u, "prompt_tokens", r.n_prompt);
  cJSON_AddNumberToObject(u, "completion_tokens", r.n_tokens);
  cJSON *t = cJSON_AddObjectToObject(out, "timings");
  cJSON_AddNumberToObject(t, "prefill_tok_s", r.prefill_ms > 0 ? r.n_prompt * 1000.0 / r.prefill_ms : 0);
  cJSON_AddNumberToObject(t, "decode_tok_s", r.decode_ms > 0 ? r.n_decoded * 1000.0 / r.decode_ms : 0);
  cJSON_AddNumberToObject(t, "prefill_ms", r.prefill_ms);
  cJSON_AddNumberToObject(t, "decode_ms", r.decode_ms);
  sotto_gen_result_free(&r);
  return out;
}

cJSON *sotto_task_logits(sotto_context *ctx, const cJSON *req, sotto_stream *st, sotto_error *err) {
  sotto_lm *lm = sotto_task_lm(ctx, req, err);
  if (!lm) return NULL;
  const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(req, "tokens");
  if (!cJSON_IsArray(tokens)) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"tokens\" (an array of ids) is required");
    return NULL;
  }
  int32_t n = 0;
  int32_t *ids = read_ids(tokens, lm, &n, err);
  if (!ids) return NULL;
  if (n > lm->n_ctx_train) {
    free(ids);
    sotto_error_set(err, SOTTO_TOO_LARGE, "%d tokens exceed the model's context of %d", (int)n,
                    (int)lm->n_ctx_train);
    return NULL;
  }
  const sotto_dtype kv = kv_cache_type(req, lm, err);
  float *logits = malloc((size_t)lm->n_vocab * sizeof *logits);
  cJSON *out = NULL;
  if (!err->status && logits && lm->begin(lm, n, kv, err) == 0) {
    const int r = lm->eval(lm, ctx->pool, ids, n, 0, logits, st, err);
    lm->end(lm);
    if (r == 0 && sotto_logits_check(logits, lm->n_vocab, err) == 0) {
      out = cJSON_CreateObject();
      cJSON_AddNumberToObject(out, "n_vocab", lm->n_vocab);
      cJSON_AddItemToObject(out, "logits", cJSON_CreateFloatArray(logits, lm->n_vocab));
    }
  } else if (!logits) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  }
  free(ids), free(logits);
  return out;
}

/* Messages rendered with the model's chat template (tokenizers/chat.h), or,
 * for a template sotto does not know, as a plain prompt ("role: content"
 * lines and an "assistant:" cue), which the reply reports as "plain". */
int32_t *sotto_task_lm_chat(const sotto_lm *lm, const cJSON *messages, int32_t *n,
                            const char **template_name, sotto_error *err) {
  const int count = cJSON_IsArray(messages) ? cJSON_GetArraySize(messages) : 0;
  if (count < 1 || count > 4096) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"messages\" must be an array of 1 to 4096 messages");
    return NULL;
  }
  sotto_chat_message *msgs = calloc((size_t)count, sizeof *msgs);
  if (!msgs) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  size_t plain_len = 16;
  int i = 0;
  const cJSON *m;
  cJSON_ArrayForEach(m, messages) {
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
    if (!cJSON_IsString(role) || !cJSON_IsString(content)) {
      free(msgs);
      sotto_error_set(err, SOTTO_BAD_REQUEST, "messages[%d] needs \"role\" and \"content\" strings", i);
      return NULL;
    }
    msgs[i++] = (sotto_chat_message){role->valuestring, content->valuestring};
    plain_len += strlen(role->valuestring) + strlen(content->valuestring) + 3;
  }
  const sotto_chat_format f = sotto_chat_detect(sotto_tokenizer_chat_template(lm->tok));
  char *text = NULL;
  int32_t *ids = NULL;
  if (f != SOTTO_CHAT_UNKNOWN) {
    text = sotto_chat_apply(f, msgs, count, 1, err);
    /* the rendering holds the model's own framing (BOS included) as text */
    if (text) ids = sotto_task_lm_encode(lm, text, strlen(text), 0, 1, n, err);
    *template_name = sotto_chat_format_name(f);
  } else if ((text = malloc(plain_len))) {
    size_t len = 0;
    for (int k = 0; k < count; k++)
      len += (size_t)sprintf(text + len, "%s: %s\n", msgs[k].role, msgs[k].content);
    len += (size_t)sprintf(text + len, "assistant:");
    ids = sotto_task_lm_encode(lm, text, len, 1, 0, n, err);
    *template_name = "plain";
  } else {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  }
  free(text);
  free(msgs);
  return ids;
}
