/*
 * chat.h - chat formatting for instruct LLMs: the format a model's
 * tokenizer.chat_template (a Jinja template) implements is recognised by
 * its markers, and messages are rendered as that template renders them.
 * No Jinja interpreter: an unrecognised template is an error the caller
 * reports (or answers with a plain prompt and says so).
 */
#ifndef SOTTO_CHAT_H
#define SOTTO_CHAT_H

#include <stddef.h>

#include "core/core.h"

typedef enum sotto_chat_format {
  SOTTO_CHAT_UNKNOWN,
  SOTTO_CHAT_CHATML, /* Qwen, SmolLM: <|im_start|>role\n...<|im_end|>\n */
  SOTTO_CHAT_LLAMA3, /* <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|> */
  SOTTO_CHAT_GEMMA,  /* <start_of_turn>user|model\n...<end_of_turn>\n */
  SOTTO_CHAT_MISTRAL, /* Mistral's "v1": <s> [INST] ... [/INST] ...</s> */
} sotto_chat_format;

typedef struct sotto_chat_message {
  const char *role; /* "system", "user", "assistant" */
  const char *content;
} sotto_chat_message;

/* The format of a template text (NULL: unknown). */
sotto_chat_format sotto_chat_detect(const char *tpl);
const char *sotto_chat_format_name(sotto_chat_format f); /* "chatml", ... */

/* Renders messages as the format does, with the opening of the assistant's
 * turn when add_generation_prompt. A malloc'ed NUL-terminated string, or
 * NULL with *err set (SOTTO_UNSUPPORTED_MODEL for an unknown format,
 * SOTTO_BAD_REQUEST where the template raises: for Gemma and Mistral,
 * turns that do not alternate user/assistant after an optional first
 * system message). */
char *sotto_chat_apply(sotto_chat_format f, const sotto_chat_message *msgs, int n,
                       int add_generation_prompt, sotto_error *err);

#endif /* SOTTO_CHAT_H */
