/*
 * chat.c - recognises a chat template by the markers each family's
 * template emits and renders messages the same way (the templates shipped
 * in Qwen's, SmolLM's, Llama 3's and Gemma 3's tokenizer_config.json;
 * llama.cpp's llm_chat_detect_template recognises them the same way).
 * Gemma has no system role: a system message is put before the first
 * user message, as its template does.
 */
#include "chat.h"

#include <stdlib.h>
#include <string.h>

#include "tok.h"

sotto_chat_format sotto_chat_detect(const char *tpl) {
  if (!tpl) return SOTTO_CHAT_UNKNOWN;
  if (strstr(tpl, "<|im_start|>")) return SOTTO_CHAT_CHATML;
  if (strstr(tpl, "<|start_header_id|>")) return SOTTO_CHAT_LLAMA3;
  if (strstr(tpl, "<start_of_turn>")) return SOTTO_CHAT_GEMMA;
  return SOTTO_CHAT_UNKNOWN;
}

const char *sotto_chat_format_name(sotto_chat_format f) {
  static const char *const names[] = {"unknown", "chatml", "llama3", "gemma"};
  return (unsigned)f < 4 ? names[f] : "unknown";
}

static int add(tok_buf *b, const char *s) { return tok_buf_add(b, s, strlen(s)); }

char *sotto_chat_apply(sotto_chat_format f, const sotto_chat_message *msgs, int n,
                       int add_generation_prompt, sotto_error *err) {
  if (f == SOTTO_CHAT_UNKNOWN) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "the model's chat template is not one sotto knows");
    return NULL;
  }
  tok_buf b = {0};
  int rc = tok_buf_add(&b, "", 0);
  const char *system = NULL;
  if (f == SOTTO_CHAT_LLAMA3) rc |= add(&b, "<|begin_of_text|>");
  if (f == SOTTO_CHAT_GEMMA) rc |= add(&b, "<bos>");
  for (int i = 0; i < n && !rc; i++) {
    const char *role = msgs[i].role ? msgs[i].role : "", *c = msgs[i].content ? msgs[i].content : "";
    int known = !strcmp(role, "system") || !strcmp(role, "user") || !strcmp(role, "assistant");
    if (!known && f == SOTTO_CHAT_GEMMA) {
      tok_buf_free(&b);
      sotto_error_set(err, SOTTO_BAD_REQUEST, "role \"%.32s\" has no place in this chat format", role);
      return NULL;
    }
    switch (f) {
    case SOTTO_CHAT_CHATML:
      rc = add(&b, "<|im_start|>") || add(&b, role) || add(&b, "\n") || add(&b, c) ||
           add(&b, "<|im_end|>\n");
      break;
    case SOTTO_CHAT_LLAMA3: {
      /* the template trims each message */
      size_t s = 0, e = strlen(c);
      while (s < e && (c[s] == ' ' || c[s] == '\n' || c[s] == '\t' || c[s] == '\r')) s++;
      while (e > s && (c[e - 1] == ' ' || c[e - 1] == '\n' || c[e - 1] == '\t' || c[e - 1] == '\r')) e--;
      rc = add(&b, "<|start_header_id|>") || add(&b, role) || add(&b, "<|end_header_id|>\n\n") ||
           tok_buf_add(&b, c + s, e - s) || add(&b, "<|eot_id|>");
      break;
    }
    default: /* GEMMA */
      if (!strcmp(role, "system")) {
        system = c;
        break;
      }
      rc = add(&b, "<start_of_turn>") || add(&b, !strcmp(role, "assistant") ? "model" : "user") ||
           add(&b, "\n") || (system && (add(&b, system) || add(&b, "\n\n"))) || add(&b, c) ||
           add(&b, "<end_of_turn>\n");
      system = NULL;
      break;
    }
  }
  if (!rc && add_generation_prompt) {
    rc = add(&b, f == SOTTO_CHAT_CHATML   ? "<|im_start|>assistant\n"
                 : f == SOTTO_CHAT_LLAMA3 ? "<|start_header_id|>assistant<|end_header_id|>\n\n"
                                          : "<start_of_turn>model\n");
  }
  if (rc) {
    tok_buf_free(&b);
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "chat: out of memory");
    return NULL;
  }
  return b.v;
}
