/*
 * api.c - the JSON request dispatcher shared by the wasm engine, the native
 * host and the CLI. It parses, finds the op, times it, and wraps the result
 * or the error with the request id. Malformed input is an error reply, never
 * a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct {
  const char *op;
  sotto_op_fn fn;
} ops[] = {
    {"capabilities", sotto_task_capabilities},
    {"models.list", sotto_task_models_list},
    {"tensor.matmul", sotto_task_tensor},
    {"tensor.linear", sotto_task_tensor},
    {"tensor.softmax", sotto_task_tensor},
    {"tensor.layernorm", sotto_task_tensor},
    {"tensor.unary", sotto_task_tensor},
    {"tensor.binary", sotto_task_tensor},
    {"tensor.bench", sotto_task_tensor},
    {"classify", sotto_task_classify},
    {"summarize", sotto_task_summarize},
};

const char *sotto_json_str(const cJSON *req, const char *key, const char *dflt,
                           sotto_error *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
  if (!v || cJSON_IsNull(v)) return dflt;
  if (!cJSON_IsString(v)) {
    sotto_error_set(err, "bad_request", "\"%s\" must be a string", key);
    return dflt;
  }
  return v->valuestring;
}

double sotto_json_num(const cJSON *req, const char *key, double dflt, double lo, double hi,
                      sotto_error *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
  if (!v || cJSON_IsNull(v)) return dflt;
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi)) {
    sotto_error_set(err, "bad_request", "\"%s\" must be a number from %g to %g", key, lo, hi);
    return dflt;
  }
  return v->valuedouble;
}

int sotto_stream_emit(sotto_stream *st, cJSON *partial) {
  if (!st->fn || st->cancelled) {
    cJSON_Delete(partial);
    return st->cancelled;
  }
  cJSON *msg = cJSON_CreateObject();
  if (msg) {
    cJSON_AddItemToObject(msg, "id", st->id ? cJSON_Duplicate(st->id, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(msg, "partial", partial);
    char *s = cJSON_PrintUnformatted(msg);
    if (s && st->fn(st->user, s) != 0) st->cancelled = 1;
    free(s);
    cJSON_Delete(msg);
  } else {
    cJSON_Delete(partial);
  }
  return st->cancelled;
}

static char *reply_error(const cJSON *id, const char *code, const char *message) {
  cJSON *r = cJSON_CreateObject();
  cJSON *e = cJSON_CreateObject();
  cJSON_AddItemToObject(r, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
  cJSON_AddStringToObject(e, "code", code);
  cJSON_AddStringToObject(e, "message", message);
  cJSON_AddItemToObject(r, "error", e);
  char *s = cJSON_PrintUnformatted(r);
  cJSON_Delete(r);
  return s;
}

char *sotto_request_stream(sotto_context *ctx, const char *json, sotto_stream_fn on_partial,
                           void *user) {
  if (!ctx) return reply_error(NULL, "bad_request", "no engine context");
  if (!json) return reply_error(NULL, "bad_request", "no request");
  cJSON *req = cJSON_ParseWithOpts(json, NULL, 1);
  if (!req) return reply_error(NULL, "bad_json", "the request is not valid JSON");
  char *out = NULL;
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
  if (!cJSON_IsObject(req)) {
    out = reply_error(NULL, "bad_request", "a request must be a JSON object");
    goto done;
  }
  if (id && !cJSON_IsString(id) && !cJSON_IsNumber(id) && !cJSON_IsNull(id)) {
    out = reply_error(NULL, "bad_request", "\"id\" must be a string or a number");
    goto done;
  }
  const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");
  if (!cJSON_IsString(op)) {
    out = reply_error(id, "bad_request", "\"op\" (a string) is required");
    goto done;
  }
  sotto_op_fn fn = NULL;
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(ops[i].op, op->valuestring) == 0) fn = ops[i].fn;
  if (!fn) {
    char msg[160];
    snprintf(msg, sizeof msg, "unknown op \"%.100s\"", op->valuestring);
    out = reply_error(id, "unknown_op", msg);
    goto done;
  }

  sotto_stream st = {on_partial, user, id, 0};
  sotto_error err = {0};
  double t0 = sotto_now_ms();
  cJSON *result = fn(ctx, req, &st, &err);
  double ms = sotto_now_ms() - t0;
  if (st.cancelled) {
    cJSON_Delete(result);
    out = reply_error(id, "cancelled", "the request was cancelled");
  } else if (!result) {
    out = reply_error(id, err.code ? err.code : "internal",
                      err.code ? err.message : "the op failed without saying why");
  } else {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(r, "result", result);
    cJSON *stats = cJSON_AddObjectToObject(r, "stats");
    cJSON_AddNumberToObject(stats, "ms", (double)(long long)(ms * 1000) / 1000);
    cJSON_AddNumberToObject(stats, "threads", ctx->threads);
#ifdef __EMSCRIPTEN__
    cJSON_AddStringToObject(stats, "ran", "wasm");
#else
    cJSON_AddStringToObject(stats, "ran", "native");
#endif
    out = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
  }
done:
  cJSON_Delete(req);
  return out;
}

char *sotto_request(sotto_context *ctx, const char *json) {
  return sotto_request_stream(ctx, json, NULL, NULL);
}

cJSON *sotto_api_ops(void) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(ops[i].op));
  return a;
}
