/*
 * summarize.c - "summarize": a summary of a text in a style and a length.
 *
 *   {"op":"summarize","text":"...","style":"key-points","length":"short"}
 *   -> {"style":"key-points","length":"short","model":"extractive",
 *       "input_sentences":42,
 *       "sentences":[{"text":"...","index":3},...],   (document order)
 *       "summary":"• ...\n• ..."}
 *
 * Styles and lengths follow Chrome's Summarizer API: key-points gives 3, 5
 * or 7 bullets (short, medium, long), tldr 1, 3 or 5 sentences as one
 * paragraph, headline the single sentence that best stands for the text.
 * The model is the extractive summarizer (models/extractive.c); texts over
 * 8 MiB are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "models/extractive.h"
#include "tasks.h"

#define SUMMARIZE_MAX_TEXT (8u << 20) /* bytes */

typedef enum { STYLE_KEY_POINTS, STYLE_TLDR, STYLE_HEADLINE, STYLE_COUNT } summary_style;
typedef enum { LENGTH_SHORT, LENGTH_MEDIUM, LENGTH_LONG, LENGTH_COUNT } summary_length;

static const char *const styles[STYLE_COUNT] = {"key-points", "tldr", "headline"};
static const char *const lengths[LENGTH_COUNT] = {"short", "medium", "long"};
static const int sentence_counts[STYLE_COUNT][LENGTH_COUNT] = {{3, 5, 7}, {1, 3, 5}, {1, 1, 1}};

#define BULLET "\xE2\x80\xA2 " /* "• " */

/* "• a\n• b" for key points, "a b" otherwise; NULL when out of memory. */
static char *join(const char *text, const sotto_extractive_pick *picks, long n,
                  summary_style style, cJSON *sentences) {
  size_t cap = 1, used = 0;
  /* cleaning may widen a bad byte into U+FFFD: 3 bytes */
  for (long p = 0; p < n; p++) cap += 3 * (picks[p].span.end - picks[p].span.start) + 8;
  char *summary = malloc(cap);
  if (!summary) return NULL;
  summary[0] = 0;
  for (long p = 0; p < n; p++) {
    size_t len;
    char *s = sotto_text_clean(text + picks[p].span.start, picks[p].span.end - picks[p].span.start,
                               &len);
    cJSON *o = cJSON_CreateObject();
    if (!s || !o) {
      free(s), free(summary), cJSON_Delete(o);
      return NULL;
    }
    cJSON_AddStringToObject(o, "text", s);
    cJSON_AddNumberToObject(o, "index", (double)picks[p].index);
    cJSON_AddItemToArray(sentences, o);
    const char *sep = style == STYLE_KEY_POINTS ? (p == 0 ? BULLET : "\n" BULLET) : (p == 0 ? "" : " ");
    memcpy(summary + used, sep, strlen(sep));
    used += strlen(sep);
    memcpy(summary + used, s, len);
    used += len;
    summary[used] = 0;
    free(s);
  }
  return summary;
}

cJSON *sotto_task_summarize(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                            sotto_error *err) {
  int style = sotto_json_enum(req, "style", styles, STYLE_COUNT, STYLE_KEY_POINTS, err);
  int length = sotto_json_enum(req, "length", lengths, LENGTH_COUNT, LENGTH_SHORT, err);
  const char *model = sotto_json_str(req, "model", "extractive", err);
  const char *text = sotto_json_str(req, "text", NULL, err);
  if (err->status) return NULL;
  if (!text) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"text\" (a string) is required");
    return NULL;
  }
  if (strcmp(model, "extractive") != 0 && strcmp(model, "default-extractive") != 0) {
    sotto_error_set(err, SOTTO_MODEL_NOT_FOUND,
                    "summarize has no model \"%.100s\" (try \"extractive\")", model);
    return NULL;
  }
  size_t len = strlen(text);
  if (len > SUMMARIZE_MAX_TEXT) {
    sotto_error_set(err, SOTTO_TOO_LARGE, "the text has %zu bytes; summarize takes at most %u",
                    len, SUMMARIZE_MAX_TEXT);
    return NULL;
  }
  sotto_extractive_pick *picks = NULL;
  long n_sentences = 0;
  long n = sotto_extractive_summarize(ctx->pool, text, len, sentence_counts[style][length],
                                      style == STYLE_HEADLINE, st, &picks, &n_sentences, err);
  if (n < 0) return NULL;
  cJSON *out = cJSON_CreateObject();
  cJSON_AddStringToObject(out, "style", styles[style]);
  cJSON_AddStringToObject(out, "length", lengths[length]);
  cJSON_AddStringToObject(out, "model", "extractive");
  cJSON_AddNumberToObject(out, "input_sentences", (double)n_sentences);
  cJSON *sentences = cJSON_AddArrayToObject(out, "sentences");
  char *summary = out && sentences ? join(text, picks, n, (summary_style)style, sentences) : NULL;
  free(picks);
  if (!summary) {
    cJSON_Delete(out);
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  cJSON_AddStringToObject(out, "summary", summary);
  free(summary);
  return out;
}
