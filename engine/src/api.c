/*
 * api.c - the request envelope, shared by the wasm engine, the native host
 * and the CLI: it parses a request, finds its op in the one op table, runs
 * it with the caller's stream, times it, and wraps the result or the error
 * with the request's id:
 *
 *   {"id":..,"result":{..},"stats":{"ms":..,"threads":..,"ran":"native"|"wasm"}}
 *   {"id":..,"error":{"code":"<sotto_status_code>","message":".."}}
 *
 * "stream": true in a request asks for partial messages before the reply.
 * Malformed input is an error reply, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "tasks/tasks.h"

static const struct {
  const char *op;
  sotto_op_fn fn;
} ops[] = {
    {"capabilities", sotto_task_capabilities},
    {"models.list", sotto_task_models_list},
    {"tensor.matmul", sotto_task_tensor_matmul},
    {"tensor.linear", sotto_task_tensor_linear},
    {"tensor.softmax", sotto_task_tensor_softmax},
    {"tensor.layernorm", sotto_task_tensor_layernorm},
    {"tensor.unary", sotto_task_tensor_unary},
    {"tensor.binary", sotto_task_tensor_binary},
    {"tensor.bench", sotto_task_tensor_bench},
    {"classify", sotto_task_classify},
    {"embed", sotto_task_embed},
    {"tokenize", sotto_task_tokenize},
    {"summarize", sotto_task_summarize},
    {"generate", sotto_task_generate},
    {"logits", sotto_task_logits},
};

static char *reply_error(const cJSON *id, sotto_status status, const char *message) {
  cJSON *r = cJSON_CreateObject();
  cJSON *e = cJSON_CreateObject();
  cJSON_AddItemToObject(r, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
  cJSON_AddStringToObject(e, "code", sotto_status_code(status));
  cJSON_AddStringToObject(e, "message", message);
  cJSON_AddItemToObject(r, "error", e);
  char *s = cJSON_PrintUnformatted(r);
  cJSON_Delete(r);
  return s;
}

static char *reply_result(sotto_context *ctx, const cJSON *id, cJSON *result, double ms) {
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
  char *s = cJSON_PrintUnformatted(r);
  cJSON_Delete(r);
  return s;
}

static sotto_op_fn op_find(const char *name) {
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(ops[i].op, name) == 0) return ops[i].fn;
  return NULL;
}

char *sotto_request_stream(sotto_context *ctx, const char *json, sotto_stream_fn on_partial,
                           void *user) {
  if (!ctx) return reply_error(NULL, SOTTO_BAD_REQUEST, "no engine context");
  if (!json) return reply_error(NULL, SOTTO_BAD_REQUEST, "no request");
  cJSON *req = cJSON_ParseWithOpts(json, NULL, 1);
  if (!req) return reply_error(NULL, SOTTO_BAD_JSON, "the request is not valid JSON");
  char *out = NULL;
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
  const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");
  sotto_error err = {0};
  if (!cJSON_IsObject(req)) {
    out = reply_error(NULL, SOTTO_BAD_REQUEST, "a request must be a JSON object");
  } else if (id && !cJSON_IsString(id) && !cJSON_IsNumber(id) && !cJSON_IsNull(id)) {
    out = reply_error(NULL, SOTTO_BAD_REQUEST, "\"id\" must be a string or a number");
  } else if (!cJSON_IsString(op)) {
    out = reply_error(id, SOTTO_BAD_REQUEST, "\"op\" (a string) is required");
  } else if (!op_find(op->valuestring)) {
    char msg[160];
    snprintf(msg, sizeof msg, "unknown op \"%.100s\"", op->valuestring);
    out = reply_error(id, SOTTO_UNKNOWN_OP, msg);
  } else {
    sotto_stream st = {on_partial, user, id, 0, 0};
    st.partials = sotto_json_bool(req, "stream", 0, &err);
    double t0 = sotto_now_ms();
    cJSON *result = err.status ? NULL : op_find(op->valuestring)(ctx, req, &st, &err);
    double ms = sotto_now_ms() - t0;
    if (st.cancelled) {
      cJSON_Delete(result);
      out = reply_error(id, SOTTO_CANCELLED, "the request was cancelled");
    } else if (!result) {
      out = reply_error(id, err.status ? err.status : SOTTO_INTERNAL,
                        err.status ? err.message : "the op failed without saying why");
    } else {
      out = reply_result(ctx, id, result, ms);
    }
  }
  cJSON_Delete(req);
  return out;
}

/* XNNPACK (ops/) is initialised before the first context (core/), which
 * sits below it. */
sotto_context *sotto_context_create(const sotto_config *config) {
  if (sotto_ops_init(NULL) != 0) return NULL;
  return sotto_context_new(config);
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
