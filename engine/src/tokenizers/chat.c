/*
 * chat.c - recognises a chat template by the markers each family's
 * template emits and renders messages as that template does (the templates
 * shipped in Qwen's, SmolLM's, Llama 3's and Gemma 3's
 * tokenizer_config.json, and Mistral's "v1" template of
 * Mistral-7B-Instruct; llama.cpp's llm_chat_detect_template recognises
 * them the same way). Where a template trims a message (Jinja's trim is
 * Python's str.strip()), so does sotto; where it raises, sotto reports a
 * bad request. Gemma and Mistral have no system turn: a first system
 * message goes before the first user message, as their templates put it.
 */
#include "chat.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "tok.h"

sotto_chat_format sotto_chat_detect(const char *tpl) {
  if (!tpl) return SOTTO_CHAT_UNKNOWN;
  if (strstr(tpl, "<|im_start|>")) return SOTTO_CHAT_CHATML;
  if (strstr(tpl, "<|start_header_id|>")) return SOTTO_CHAT_LLAMA3;
  if (strstr(tpl, "<start_of_turn>")) return SOTTO_CHAT_GEMMA;
  /* "v1" opens each user turn with ' [INST] '; Mistral's later formats
   * ("[INST]" unspaced, [SYSTEM_PROMPT], tools) are not this one */
  if (strstr(tpl, "' [INST] '") && !strstr(tpl, "[SYSTEM_PROMPT]") &&
      !strstr(tpl, "[AVAILABLE_TOOLS]"))
    return SOTTO_CHAT_MISTRAL;
  return SOTTO_CHAT_UNKNOWN;
}

const char *sotto_chat_format_name(sotto_chat_format f) {
  static const char *const names[] = {"unknown", "chatml", "llama3", "gemma", "mistral"};
  return (unsigned)f < sizeof names / sizeof *names ? names[f] : "unknown";
}

static int add(tok_buf *b, const char *s) { return tok_buf_add(b, s, strlen(s)); }

/* Python's str.isspace(): bidirectional class WS, B or S, or Zs. */
static int py_space(uint32_t c) {
  return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Appends s with the white space at both ends removed (Jinja's trim). */
static int add_trimmed(tok_buf *b, const char *s) {
  const unsigned char *u = (const unsigned char *)s;
  size_t n = strlen(s), i = 0, e = 0, at = 0;
  while (at < n) { /* [i, e): from the first to past the last non-space */
    uint32_t cp;
    size_t l = sotto_utf8_next(u + at, n - at, &cp);
    if (!py_space(cp)) {
      if (!e) i = at;
      e = at + l;
    }
    at += l;
  }
  return tok_buf_add(b, s + i, e > i ? e - i : 0);
}

/* Gemma's and Mistral's templates: an optional first system message, then
 * user turns at even places and at odd places what the template allows:
 * Mistral only the assistant, Gemma any role but the user (an assistant's
 * turn is "model"'s, another role's turn is named after it). */
static int alternates(sotto_chat_format f, const sotto_chat_message *msgs, int n,
                      sotto_error *err) {
  for (int i = 0, k = 0; i < n; i++, k++) {
    const char *role = msgs[i].role ? msgs[i].role : "";
    if (i == 0 && !strcmp(role, "system")) {
      k--;
      continue;
    }
    int user = !strcmp(role, "user");
    if (k % 2 == 0 ? !user : user || (f == SOTTO_CHAT_MISTRAL && strcmp(role, "assistant")))
      return sotto_error_set(err, SOTTO_BAD_REQUEST,
                             "this chat format needs user and assistant turns alternating, user "
                             "first (after one optional system message); message %d is \"%.32s\"",
                             i, role);
  }
  return 0;
}

char *sotto_chat_apply(sotto_chat_format f, const sotto_chat_message *msgs, int n,
                       int add_generation_prompt, sotto_error *err) {
  if (f == SOTTO_CHAT_UNKNOWN || (unsigned)f > SOTTO_CHAT_MISTRAL) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "the model's chat template is not one sotto knows");
    return NULL;
  }
  if ((f == SOTTO_CHAT_GEMMA || f == SOTTO_CHAT_MISTRAL) && alternates(f, msgs, n, err)) return NULL;
  tok_buf b = {0};
  int rc = tok_buf_add(&b, "", 0);
  const char *system = NULL;
  if (f == SOTTO_CHAT_LLAMA3 && n > 0) rc |= add(&b, "<|begin_of_text|>"); /* with the first */
  if (f == SOTTO_CHAT_GEMMA) rc |= add(&b, "<bos>");
  if (f == SOTTO_CHAT_MISTRAL) rc |= add(&b, "<s>");
  for (int i = 0; i < n && !rc; i++) {
    const char *role = msgs[i].role ? msgs[i].role : "", *c = msgs[i].content ? msgs[i].content : "";
    int assistant = !strcmp(role, "assistant");
    if ((f == SOTTO_CHAT_GEMMA || f == SOTTO_CHAT_MISTRAL) && i == 0 && !strcmp(role, "system")) {
      system = c; /* goes into the first user turn */
      continue;
    }
    switch (f) {
    case SOTTO_CHAT_CHATML:
      rc = add(&b, "<|im_start|>") || add(&b, role) || add(&b, "\n") || add(&b, c) ||
           add(&b, "<|im_end|>\n");
      break;
    case SOTTO_CHAT_LLAMA3:
      rc = add(&b, "<|start_header_id|>") || add(&b, role) || add(&b, "<|end_header_id|>\n\n") ||
           add_trimmed(&b, c) || add(&b, "<|eot_id|>");
      break;
    case SOTTO_CHAT_GEMMA: /* the system text is not trimmed, the message is */
      rc = add(&b, "<start_of_turn>") || add(&b, assistant ? "model" : role) || add(&b, "\n") ||
           (system && (add(&b, system) || add(&b, "\n\n"))) || add_trimmed(&b, c) ||
           add(&b, "<end_of_turn>\n");
      break;
    default: /* MISTRAL: user or assistant (alternates() checked) */
      if (assistant) rc = add(&b, " ") || add(&b, c) || add(&b, "</s>");
      else rc = add(&b, " [INST] ") || (system && (add(&b, system) || add(&b, "\n\n"))) ||
                add(&b, c) || add(&b, " [/INST]");
      break;
    }
    system = NULL;
  }
  /* Mistral's user turn ends where the answer starts: no prompt to add */
  if (!rc && add_generation_prompt && f != SOTTO_CHAT_MISTRAL) {
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
