/*
 * lm.h - what the ops that run a language model share (generate.c):
 * finding the model, reading generation parameters, turning a prompt or
 * chat messages into token ids.
 */
#ifndef SOTTO_TASKS_LM_H
#define SOTTO_TASKS_LM_H

#include "runtime/runtime.h"

/* The language model named by the request's "model", or NULL with *err. */
sotto_lm *sotto_task_lm(sotto_context *ctx, const cJSON *req, sotto_error *err);
/* max_tokens, temperature, top_k, top_p, min_p, repeat_penalty, seed, stop,
 * kv_cache from the request. stops point into req. */
int sotto_task_gen_params(const cJSON *req, const sotto_lm *lm, sotto_gen_params *p,
                          sotto_error *err);
/* Encodes text; malloc'd ids and their count in *n, or NULL with *err. */
int32_t *sotto_task_lm_encode(const sotto_lm *lm, const char *text, size_t len, int add_special,
                              int parse_special, int32_t *n, sotto_error *err);
/* Formats messages ([{"role","content"}]) with the model's chat template and
 * encodes them, ready for the assistant's reply; *template_name says which
 * template was used. */
int32_t *sotto_task_lm_chat(const sotto_lm *lm, const cJSON *messages, int32_t *n,
                            const char **template_name, sotto_error *err);

/* A sotto_gen_token_fn that sends each token as a {"token","text"} partial
 * of the request's stream (user is its sotto_stream). */
int sotto_task_lm_stream_token(void *user, int32_t id, const char *text, size_t len);

#endif /* SOTTO_TASKS_LM_H */
