/*
 * summarize_llm.h - "summarize" with a language model (summarize_llm.c);
 * summarize.c hands a request over when its "model" is one.
 */
#ifndef SOTTO_TASKS_SUMMARIZE_LLM_H
#define SOTTO_TASKS_SUMMARIZE_LLM_H

#include "runtime/runtime.h"

/* style: 0 key-points, 1 tldr, 2 headline; length: 0 short, 1 medium, 2 long. */
cJSON *sotto_task_summarize_llm(sotto_context *ctx, sotto_lm *lm, const char *model_id,
                                const cJSON *req, sotto_stream *st, int style, int length,
                                const char *text, size_t len, sotto_error *err);

#endif /* SOTTO_TASKS_SUMMARIZE_LLM_H */
