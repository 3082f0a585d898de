/*
 * summarize_llm.c - "summarize" with a language model (a GGUF of the llama
 * family) as "model":
 *
 *   {"op":"summarize","model":ID,"text":"..","style":"key-points","length":"short",
 *    "max_tokens":N,"temperature":0,...}
 *   -> {"style","length","model":ID,"summary":"..","chat_template":"..",
 *       "input_sentences":N,"passes":P,
 *       "chunks":[{"sentences":[first,last],"tokens":T},..],
 *       "usage":{"prompt_tokens","completion_tokens"}}
 *
 * The instruction follows Chrome's Summarizer API styles and lengths. A
 * text longer than the model's context is split on sentence boundaries
 * (tokenizers/text.h) into chunks that fit, each chunk is summarized, and
 * the chunk summaries are summarized together in the asked style
 * (map-reduce, as many reduce passes as needed); progress partials report
 * each step: {"progress","stage":"map","part":k,"parts":n} before chunk k of
 * n, then "reduce". With "stream": true the tokens of the summary itself
 * (the last model call, never a chunk's) come as {"token","text"} partials
 * as they are decoded. "chunks" lists the sentences each chunk held;
 * "timings" are those of the last call (prefill and decode tokens/s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/lm.h"
#include "tasks/summarize_llm.h"
#include "tokenizers/text.h"

#define SUM_CTX_MAX 4096        /* context used per summary call */
#define SUM_PROMPT_RESERVE 160  /* tokens of instruction around a chunk */

static const char *const instructions[3][3] = {
    {"Summarize the text below as 3 short bullet points, each starting with \"- \".",
     "Summarize the text below as 5 bullet points, each starting with \"- \".",
     "Summarize the text below as 7 bullet points, each starting with \"- \"."},
    {"Summarize the text below in one sentence.",
     "Summarize the text below in 3 sentences, as one paragraph.",
     "Summarize the text below in 5 sentences, as one paragraph."},
    {"Write a single headline of at most 12 words for the text below.",
     "Write a single headline of at most 12 words for the text below.",
     "Write a single headline of at most 12 words for the text below."},
};
static const int out_tokens[3][3] = {{160, 256, 384}, {96, 192, 320}, {40, 40, 40}};
#define MAP_INSTRUCTION "Summarize the text below in 3 to 5 sentences, keeping its key facts."
#define MAP_TOKENS 256

typedef struct {
  sotto_context *ctx;
  sotto_lm *lm;
  const cJSON *req;
  sotto_stream *st;
  int64_t prompt_tokens, completion_tokens;
  const char *template_used;
  sotto_gen_result last; /* timings of the last call (its text and tokens freed) */
} sum_run;

/* {"progress","stage","part","parts"}: which chunk the map step is at. */
static int progress_part(sotto_stream *st, double done, const char *stage, long part, long parts) {
  if (!st || !st->fn || !st->partials) return sotto_stream_cancelled(st);
  cJSON *p = cJSON_CreateObject();
  if (!p) return sotto_stream_cancelled(st);
  cJSON_AddNumberToObject(p, "progress", done);
  cJSON_AddStringToObject(p, "stage", stage);
  cJSON_AddNumberToObject(p, "part", (double)part);
  cJSON_AddNumberToObject(p, "parts", (double)parts);
  return sotto_stream_emit(st, p);
}

/* One model call: instruction + text -> a malloc'd answer; with stream, its
 * tokens go out as partials. */
static char *ask(sum_run *r, const char *instruction, const char *text, size_t len,
                 int32_t max_tokens, int stream, sotto_error *err) {
  const size_t n = strlen(instruction) + len + 16;
  char *content = malloc(n);
  if (!content) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  snprintf(content, n, "%s\n\n%.*s", instruction, (int)len, text);
  cJSON *msgs = cJSON_CreateArray(), *msg = cJSON_CreateObject();
  cJSON_AddStringToObject(msg, "role", "user");
  cJSON_AddStringToObject(msg, "content", content);
  cJSON_AddItemToArray(msgs, msg);
  free(content);
  int32_t n_ids = 0;
  int32_t *ids = sotto_task_lm_chat(r->lm, msgs, &n_ids, &r->template_used, err);
  cJSON_Delete(msgs);
  if (!ids) return NULL;
  sotto_gen_params p;
  if (sotto_task_gen_params(r->req, r->lm, &p, err)) {
    free(ids);
    return NULL;
  }
  /* deterministic unless the request asks otherwise */
  if (!cJSON_GetObjectItemCaseSensitive(r->req, "temperature")) p.sampling.temperature = 0;
  if (!cJSON_GetObjectItemCaseSensitive(r->req, "max_tokens")) p.max_tokens = max_tokens;
  p.n_ctx = n_ids + p.max_tokens;
  sotto_gen_result g;
  const int rc = sotto_generate(r->lm, r->ctx->pool, ids, n_ids, &p,
                                stream ? sotto_task_lm_stream_token : NULL, r->st, r->st, &g, err);
  free(ids);
  if (rc) return NULL;
  r->prompt_tokens += g.n_prompt;
  r->completion_tokens += g.n_tokens;
  if (g.finish == SOTTO_FINISH_CANCELLED) {
    sotto_gen_result_free(&g);
    sotto_error_set(err, SOTTO_CANCELLED, "the request was cancelled");
    return NULL;
  }
  char *text_out = g.text;
  free(g.tokens);
  g.text = NULL, g.tokens = NULL;
  r->last = g;
  /* trim */
  char *s = text_out;
  while (*s == ' ' || *s == '\n') s++;
  size_t l = strlen(s);
  while (l && (s[l - 1] == ' ' || s[l - 1] == '\n')) s[--l] = 0;
  memmove(text_out, s, l + 1);
  return text_out;
}

static int32_t count_tokens(const sotto_lm *lm, const char *s, size_t n, sotto_error *err) {
  int32_t k = 0;
  int32_t *ids = sotto_task_lm_encode(lm, s, n, 0, 0, &k, err);
  free(ids);
  return ids ? k : -1;
}

cJSON *sotto_task_summarize_llm(sotto_context *ctx, sotto_lm *lm, const char *model_id,
                                const cJSON *req, sotto_stream *st, int style, int length,
                                const char *text, size_t len, sotto_error *err) {
  sum_run r = {ctx, lm, req, st, 0, 0, NULL, {0}};
  int32_t n_ctx = lm->n_ctx_train < SUM_CTX_MAX ? lm->n_ctx_train : SUM_CTX_MAX;
  const int32_t budget = n_ctx - SUM_PROMPT_RESERVE - MAP_TOKENS - out_tokens[style][length];
  if (budget < 64) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "the model's context (%d tokens) is too short to summarize with",
                    (int)n_ctx);
    return NULL;
  }
  sotto_span *spans = NULL;
  const long n_sent = sotto_text_sentences(text, len, &spans);
  if (n_sent < 0) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  if (n_sent == 0) {
    sotto_error_set(err, SOTTO_EMPTY_TEXT, "the text has no sentences to summarize");
    return NULL;
  }
  /* chunks: runs of whole sentences within the token budget */
  cJSON *out = cJSON_CreateObject(), *chunks = cJSON_AddArrayToObject(out, "chunks");
  long *starts = malloc((size_t)(n_sent + 1) * 2 * sizeof *starts), *chunk_tokens = starts + n_sent + 1;
  long n_chunks = 0;
  char *summary = NULL, *joined = NULL;
  int passes = 0;
  if (!starts) goto oom;
  for (long i = 0, tokens = 0; i < n_sent; i++) {
    const int32_t t = count_tokens(lm, text + spans[i].start, spans[i].end - spans[i].start, err);
    if (t < 0) goto fail;
    if (i == 0 || tokens + t > budget) starts[n_chunks++] = i, tokens = 0;
    tokens += t;
    chunk_tokens[n_chunks - 1] = tokens;
  }
  starts[n_chunks] = n_sent;
  for (long c = 0; c < n_chunks; c++) {
    cJSON *o = cJSON_CreateObject();
    const int range[2] = {(int)starts[c], (int)starts[c + 1] - 1};
    cJSON_AddItemToObject(o, "sentences", cJSON_CreateIntArray(range, 2));
    cJSON_AddNumberToObject(o, "tokens", (double)chunk_tokens[c]);
    cJSON_AddItemToArray(chunks, o);
  }
  if (n_chunks == 1) {
    /* the whole text fits: one call in the asked style */
    sotto_stream_progress(st, 0, "summarize");
    summary = ask(&r, instructions[style][length], text + spans[0].start,
                  spans[n_sent - 1].end - spans[0].start, out_tokens[style][length], 1, err);
    passes = 1;
  } else {
    /* map: each chunk to a short summary */
    size_t cap = 1, used = 0;
    joined = malloc(cap);
    if (!joined) goto oom;
    joined[0] = 0;
    for (long c = 0; c < n_chunks; c++) {
      if (progress_part(st, (double)c / (double)(n_chunks + 1), "map", c + 1, n_chunks)) goto cancelled;
      const size_t a = spans[starts[c]].start, b = spans[starts[c + 1] - 1].end;
      char *part = ask(&r, MAP_INSTRUCTION, text + a, b - a, MAP_TOKENS, 0, err);
      if (!part) goto fail;
      const size_t pl = strlen(part);
      char *grown = realloc(joined, cap = used + pl + 3);
      if (!grown) {
        free(part);
        goto oom;
      }
      joined = grown;
      memcpy(joined + used, part, pl);
      used += pl;
      joined[used++] = '\n', joined[used++] = '\n', joined[used] = 0;
      free(part);
    }
    /* reduce: the chunk summaries, cut to the budget, in the asked style */
    passes = 2;
    if (sotto_stream_progress(st, (double)n_chunks / (double)(n_chunks + 1), "reduce")) goto cancelled;
    size_t keep = used;
    while (keep > 0) {
      const int32_t t = count_tokens(lm, joined, keep, err);
      if (t < 0) goto fail;
      if (t <= budget) break;
      keep = keep * 9 / 10; /* shorten and re-count */
      keep = sotto_utf8_whole(joined, keep);
    }
    summary = ask(&r, instructions[style][length], joined, keep, out_tokens[style][length], 1, err);
  }
  if (!summary) goto fail;
  sotto_stream_progress(st, 1, "done");
  static const char *const style_names[] = {"key-points", "tldr", "headline"};
  static const char *const length_names[] = {"short", "medium", "long"};
  cJSON_AddStringToObject(out, "style", style_names[style]);
  cJSON_AddStringToObject(out, "length", length_names[length]);
  cJSON_AddStringToObject(out, "model", model_id);
  cJSON_AddStringToObject(out, "summary", summary);
  cJSON_AddStringToObject(out, "chat_template", r.template_used ? r.template_used : "plain");
  cJSON_AddNumberToObject(out, "input_sentences", (double)n_sent);
  cJSON_AddNumberToObject(out, "passes", passes);
  cJSON *u = cJSON_AddObjectToObject(out, "usage");
  cJSON_AddNumberToObject(u, "prompt_tokens", (double)r.prompt_tokens);
  cJSON_AddNumberToObject(u, "completion_tokens", (double)r.completion_tokens);
  cJSON *t = cJSON_AddObjectToObject(out, "timings");
  const sotto_gen_result *g = &r.last;
  cJSON_AddNumberToObject(t, "prefill_tok_s", g->prefill_ms > 0 ? g->n_prompt * 1000.0 / g->prefill_ms : 0);
  cJSON_AddNumberToObject(t, "decode_tok_s", g->decode_ms > 0 ? g->n_decoded * 1000.0 / g->decode_ms : 0);
  cJSON_AddNumberToObject(t, "prefill_ms", g->prefill_ms);
  cJSON_AddNumberToObject(t, "decode_ms", g->decode_ms);
  cJSON_AddNumberToObject(t, "summary_tokens", g->n_tokens);
  free(summary), free(joined), free(starts), free(spans);
  return out;
oom:
  sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  goto fail;
cancelled:
  sotto_error_set(err, SOTTO_CANCELLED, "the request was cancelled");
fail:
  free(summary), free(joined), free(starts), free(spans);
  cJSON_Delete(out);
  return NULL;
}
