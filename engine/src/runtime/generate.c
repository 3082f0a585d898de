/*
 * generate.c - the generation loop: the prompt in one eval (the model
 * batches it), then a token at a time until a stop: the model's end of
 * sequence, a stop string, max_tokens, or cancellation. Text is handed out
 * in whole UTF-8 sequences, and text that may be the start of a stop string
 * is held back until it is known not to be one, so a caller never sees a
 * stop string or half a character.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "ops/vecmath.h"

size_t sotto_utf8_whole(const char *s, size_t len) {
  /* look back at most 3 bytes for the start of the last sequence */
  size_t i = len, back = 0;
  while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--, back++;
  if (i == 0) return len;
  const unsigned char lead = (unsigned char)s[i - 1];
  const size_t need = lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (lead < 0xC0 || lead >= 0xF8) return len; /* ASCII, or invalid bytes: pass */
  return back + 1 >= need ? len : i - 1;
}

/* The length of the longest suffix of s[0..len) that is a proper prefix of
 * a stop string (text that must wait for the next token). */
static size_t stop_overlap(const sotto_gen_params *p, const char *s, size_t len) {
  size_t hold = 0;
  for (int k = 0; k < p->n_stops; k++) {
    const size_t sl = strlen(p->stops[k]);
    for (size_t n = sl - 1; n > hold; n--)
      if (n <= len && memcmp(s + len - n, p->stops[k], n) == 0) {
        hold = n;
        break;
      }
  }
  return hold;
}

/* The first position of a stop string in s[from..len), or -1. */
static long find_stop(const sotto_gen_params *p, const char *s, size_t len, size_t from) {
  long best = -1;
  for (int k = 0; k < p->n_stops; k++) {
    const size_t sl = strlen(p->stops[k]);
    for (size_t i = from; i + sl <= len; i++)
      if (memcmp(s + i, p->stops[k], sl) == 0) {
        if (best < 0 || (long)i < best) best = (long)i;
        break;
      }
  }
  return best;
}

void sotto_gen_result_free(sotto_gen_result *r) {
  free(r->text);
  free(r->tokens);
  memset(r, 0, sizeof *r);
}

int sotto_logits_check(const float *logits, int32_t n, sotto_error *err) {
  return sotto_vfinite(logits, n) ? 0 : sotto_error_set(err, SOTTO_BAD_MODEL,
                                                        "the model computes values that are not numbers (damaged weights)");
}

int sotto_generate(sotto_lm *lm, pthreadpool_t pool, const int32_t *prompt, int32_t n_prompt,
                   const sotto_gen_params *p, sotto_gen_token_fn on_token, void *user,
                   sotto_stream *st, sotto_gen_result *out, sotto_error *err) {
  memset(out, 0, sizeof *out);
  if (n_prompt < 1) return sotto_error_set(err, SOTTO_EMPTY_TEXT, "the prompt has no tokens");
  int64_t n_ctx = p->n_ctx ? p->n_ctx : (int64_t)n_prompt + p->max_tokens;
  if (n_ctx > lm->n_ctx_train) n_ctx = lm->n_ctx_train;
  if (n_prompt >= n_ctx)
    return sotto_error_set(err, SOTTO_TOO_LARGE,
                           "the prompt has %d tokens; the context holds %lld", (int)n_prompt,
                           (long long)n_ctx);
  const sotto_special_tokens *sp = sotto_tokenizer_special(lm->tok);
  float *logits = malloc((size_t)lm->n_vocab * sizeof *logits);
  int32_t *hist = malloc(((size_t)n_ctx + 1) * sizeof *hist);
  sotto_sampler *smp = sotto_sampler_create(&p->sampling, lm->n_vocab);
  size_t cap = 256, len = 0, sent = 0; /* text so far; bytes handed out */
  char *text = malloc(cap);
  int rc = -1;
  if (!logits || !hist || !smp || !text) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  if (lm->begin(lm, (int32_t)n_ctx, p->kv_type, err)) goto done;
  memcpy(hist, prompt, (size_t)n_prompt * sizeof *hist);
  int64_t n = n_prompt;
  out->n_prompt = n_prompt;
  double t0 = sotto_now_ms();
  int r = lm->eval(lm, pool, prompt, n_prompt, 0, logits, st, err);
  if (r == 0) r = sotto_logits_check(logits, lm->n_vocab, err);
  out->prefill_ms = sotto_now_ms() - t0;
  out->finish = SOTTO_FINISH_LENGTH;
  t0 = sotto_now_ms();
  while (r == 0) {
    if (n - n_prompt >= p->max_tokens || n >= n_ctx) break;
    const int32_t id = sotto_sampler_pick(smp, logits, hist, n);
    if (p->stop_at_eos && (id == sp->eos || id == sp->eot)) {
      out->finish = SOTTO_FINISH_STOP;
      break;
    }
    hist[n++] = id;
    char piece[256];
    int pl = sotto_tokenizer_piece(lm->tok, id, 0, piece, sizeof piece);
    if (pl < 0) pl = 0;
    if (pl > (int)sizeof piece) pl = (int)sizeof piece;
    if (len + (size_t)pl + 1 > cap) {
      char *t = realloc(text, cap = 2 * (len + (size_t)pl + 1));
      if (!t) {
        sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
        r = -1;
        break;
      }
      text = t;
    }
    memcpy(text + len, piece, (size_t)pl);
    const size_t before = len;
    len += (size_t)pl;
    const size_t look = before > 64 ? before - 64 : 0; /* stops may span tokens */
    const long at = p->n_stops ? find_stop(p, text, len, look < sent ? look : sent) : -1;
    size_t ready;
    if (at >= 0) {
      len = (size_t)at;
      ready = len;
      out->finish = SOTTO_FINISH_STOP;
    } else {
      ready = sotto_utf8_whole(text, len);
      const size_t hold = stop_overlap(p, text, ready);
      ready = ready - hold > sent ? ready - hold : sent;
    }
    int cancel = 0;
    if (on_token) cancel = on_token(user, id, text + sent, ready - sent);
    sent = ready;
    if (at >= 0) break;
    if (cancel || sotto_stream_cancelled(st)) {
      out->finish = SOTTO_FINISH_CANCELLED;
      break;
    }
    if (n - n_prompt >= p->max_tokens || n >= n_ctx) break;
    r = lm->eval(lm, pool, &id, 1, (int32_t)n - 1, logits, st, err);
    out->n_decoded++;
  }
  out->decode_ms = sotto_now_ms() - t0;
  lm->end(lm);
  if (r < 0) goto done;
  if (r > 0) out->finish = SOTTO_FINISH_CANCELLED;
  /* whatever was held back (a cut sequence, a partial stop) is text now */
  if (on_token && sent < len && out->finish != SOTTO_FINISH_CANCELLED)
    on_token(user, -1, text + sent, len - sent);
  text[len] = 0;
  out->text = text, text = NULL;
  out->text_len = len;
  out->n_tokens = (int32_t)(n - n_prompt);
  out->tokens = malloc(((size_t)out->n_tokens + 1) * sizeof *out->tokens);
  if (!out->tokens) {
    sotto_gen_result_free(out);
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  memcpy(out->tokens, hist + n_prompt, (size_t)out->n_tokens * sizeof *hist);
  rc = 0;
done:
  free(logits), free(hist), free(text);
  sotto_sampler_free(smp);
  return rc;
}
