/*
 * tasks/ - the ops of the request protocol, JSON in and JSON out: each
 * reads its fields, calls a model or the ops, and builds the "result"
 * object. No algorithm lives here. May include every layer below.
 *
 * An op function returns the result object, or NULL with *err set. It owns
 * nothing of req; st carries partials and cancellation.
 */
#ifndef SOTTO_TASKS_H
#define SOTTO_TASKS_H

#include "core/core.h"

typedef cJSON *(*sotto_op_fn)(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                              sotto_error *err);

#define SOTTO_OP(name) \
  cJSON *name(sotto_context *ctx, const cJSON *req, sotto_stream *st, sotto_error *err)

/* info.c */
SOTTO_OP(sotto_task_capabilities);
SOTTO_OP(sotto_task_models_list);
/* tensor.c */
SOTTO_OP(sotto_task_tensor_matmul);
SOTTO_OP(sotto_task_tensor_linear);
SOTTO_OP(sotto_task_tensor_softmax);
SOTTO_OP(sotto_task_tensor_layernorm);
SOTTO_OP(sotto_task_tensor_unary);
SOTTO_OP(sotto_task_tensor_binary);
SOTTO_OP(sotto_task_tensor_bench);
/* classify.c */
SOTTO_OP(sotto_task_classify);
/* encoder.c: transformer encoders (BERT family) */
SOTTO_OP(sotto_task_embed);
/* "classify" with a BERT-family model (classify.c routes it here). */
SOTTO_OP(sotto_task_classify_encoder);
/* A JSON array of token ids (key names it in errors) into a malloc'ed
 * array; 0, or -1 with *err set. */
int sotto_task_ids(const cJSON *arr, const char *key, int32_t **ids, int *n, sotto_error *err);
/* The BERT-family model registered under id, or NULL with *err set. */
struct sotto_bert *sotto_task_bert(sotto_context *ctx, const char *id, sotto_error *err);
/* tokenize.c */
SOTTO_OP(sotto_task_tokenize);
/* summarize.c */
SOTTO_OP(sotto_task_summarize);

/* generate.c */
SOTTO_OP(sotto_task_generate);
SOTTO_OP(sotto_task_logits);

/* info.c: the default model of each task, and the op that runs it. */
typedef struct sotto_task_default {
  const char *task, *op, *model;
} sotto_task_default;
const sotto_task_default *sotto_task_default_find(const char *task);

/* The op names the dispatcher knows (api.c), for "capabilities". */
cJSON *sotto_api_ops(void);

#endif /* SOTTO_TASKS_H */
