/*
 * fuzz_chat.c - libFuzzer target: the chat-template inspector and renderer
 * (tokenizers/chat.c). Input: NUL-separated fields, a template text (from a
 * model file: untrusted), then role and content pairs; a one-byte role 1..4
 * stands for system, user, assistant, tool. Every format renders the
 * messages (a role field 0xFF.. is a missing role, a message without
 * content field a missing content). Nothing may crash or read outside the strings, and the results
 * are checked against what each format promises: ChatML and Llama 3 take
 * any turns (ChatML's length is exact), Gemma and Mistral render exactly
 * the turns their templates accept (user at even places after an optional
 * system message; Mistral: the assistant at odd ones, Gemma: any role but
 * the user), and an unknown format is an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizers/chat.h"

#define MAX_MSGS 64

static const char *const ROLES[] = {"system", "user", "assistant", "tool"};

/* The turns Gemma's (odd_any) and Mistral's templates accept. */
static int alternates(const sotto_chat_message *m, int n, int odd_any) {
  for (int i = 0, k = 0; i < n; i++) {
    const char *role = m[i].role ? m[i].role : "";
    if (i == 0 && !strcmp(role, "system")) continue;
    int user = !strcmp(role, "user");
    if (k++ % 2 == 0 ? !user : user || (!odd_any && strcmp(role, "assistant"))) return 0;
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* fields as separate exact-size strings, so ASan sees any overread */
  char *fields[2 * MAX_MSGS + 1] = {0};
  int nf = 0;
  for (size_t at = 0; at <= size && nf < 2 * MAX_MSGS + 1;) {
    const uint8_t *z = memchr(data + at, 0, size - at);
    size_t len = z ? (size_t)(z - (data + at)) : size - at;
    if (!(fields[nf] = malloc(len + 1))) abort();
    memcpy(fields[nf], data + at, len);
    fields[nf++][len] = 0;
    at += len + 1;
  }
  sotto_chat_format detected = sotto_chat_detect(fields[0]);
  if ((unsigned)detected > SOTTO_CHAT_MISTRAL || !sotto_chat_format_name(detected)) abort();
  sotto_chat_message msgs[MAX_MSGS];
  int n = 0;
  for (int i = 1; i < nf; i += 2, n++) {
    const char *r = fields[i];
    unsigned char b = (unsigned char)r[0];
    msgs[n].role = b == 0xFF ? NULL : strlen(r) == 1 && b >= 1 && b <= 4 ? ROLES[b - 1] : r;
    msgs[n].content = i + 1 < nf ? fields[i + 1] : NULL;
  }
  for (int f = SOTTO_CHAT_UNKNOWN; f <= SOTTO_CHAT_MISTRAL; f++) {
    for (int gen = 0; gen < 2; gen++) {
      sotto_error err = {0};
      char *s = sotto_chat_apply((sotto_chat_format)f, msgs, n, gen, &err);
      int want = f == SOTTO_CHAT_CHATML || f == SOTTO_CHAT_LLAMA3 ||
                 (f == SOTTO_CHAT_GEMMA && alternates(msgs, n, 1)) ||
                 (f == SOTTO_CHAT_MISTRAL && alternates(msgs, n, 0));
      if (!s && (want || !err.message[0] ||
                 err.status != (f == SOTTO_CHAT_UNKNOWN ? SOTTO_UNSUPPORTED_MODEL : SOTTO_BAD_REQUEST)))
        abort();
      if (s && !want) abort();
      if (s && f == SOTTO_CHAT_CHATML) {
        size_t len = gen ? strlen("<|im_start|>assistant\n") : 0;
        for (int i = 0; i < n; i++)
          len += strlen("<|im_start|>\n<|im_end|>\n") + strlen(msgs[i].role ? msgs[i].role : "") +
                 strlen(msgs[i].content ? msgs[i].content : "");
        if (strlen(s) != len) abort();
      }
      free(s);
    }
  }
  for (int i = 0; i < nf; i++) free(fields[i]);
  return 0;
}
