/*
 * summarize.c - "summarize": a summary of a text in a style and a length.
 *
 *   {"op":"summarize","text":"...","style":"key-points","length":"short"}
 *   {"op":"summarize","blocks":[{"kind":"heading","text":"Install"},
 *                               {"kind":"paragraph","text":"..."},...]}
 *   -> {"style":"key-points","length":"short","model":"extractive",
 *       "input_sentences":42,"input_sections":3,
 *       "sentences":[{"text":"...","index":3,"block":1},...],  (document order)
 *       "summary":"• ...\n• ..."}
 *
 * Styles and lengths follow Chrome's Summarizer API: key-points gives 3, 5
 * or 7 bullets (short, medium, long), tldr 1, 3 or 5 sentences as one
 * paragraph, headline the single sentence that best stands for the text.
 * "blocks" gives a page's structure instead of one text: each block is
 * one of the kinds of models/extractive.h; headings start sections and are
 * never chosen, nor are captions, cells, code and notes. The model is the
 * extractive summarizer (models/extractive.c); texts over 8 MiB are
 * refused.
 *
 * "embedding_model" names a loaded BERT-family embedding model whose
 * sentence vectors rank the sentences instead of TF-IDF's (false or null:
 * none, as without the field). The reply then names it:
 * "embedding_model":"minilm".
 */
#include <stdlib.h>
#include <string.h>

#include "models/bert.h"
#include "models/extractive.h"
#include "models/llama.h"
#include "tasks.h"
#include "tasks/summarize_llm.h"

#define SUMMARIZE_MAX_TEXT (8u << 20) /* bytes */

typedef enum { STYLE_KEY_POINTS, STYLE_TLDR, STYLE_HEADLINE, STYLE_COUNT } summary_style;
typedef enum { LENGTH_SHORT, LENGTH_MEDIUM, LENGTH_LONG, LENGTH_COUNT } summary_length;

static const char *const styles[STYLE_COUNT] = {"key-points", "tldr", "headline"};
static const char *const lengths[LENGTH_COUNT] = {"short", "medium", "long"};
static const int sentence_counts[STYLE_COUNT][LENGTH_COUNT] = {{3, 5, 7}, {1, 3, 5}, {1, 1, 1}};

#define BULLET "\xE2\x80\xA2 " /* "• " */

/* "• a\n• b" for key points, "a b" otherwise; NULL when out of memory. */
static char *join(const char *text, const sotto_extractive_result *res, int with_blocks,
                  summary_style style, cJSON *sentences) {
  size_t cap = 1, used = 0;
  /* cleaning may widen a bad byte into U+FFFD: 3 bytes */
  for (int p = 0; p < res->n_picks; p++)
    cap += 3 * (res->picks[p].span.end - res->picks[p].span.start) + 8;
  char *summary = malloc(cap);
  if (!summary) return NULL;
  summary[0] = 0;
  for (int p = 0; p < res->n_picks; p++) {
    const sotto_extractive_pick *pk = &res->picks[p];
    size_t len;
    char *s = sotto_text_clean_sentence(text + pk->span.start, pk->span.end - pk->span.start, &len);
    cJSON *o = cJSON_CreateObject();
    if (!s || !o) {
      free(s), free(summary), cJSON_Delete(o);
      return NULL;
    }
    cJSON_AddStringToObject(o, "text", s);
    cJSON_AddNumberToObject(o, "index", (double)pk->index);
    if (with_blocks) cJSON_AddNumberToObject(o, "block", (double)pk->block);
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

/* Sentence vectors for the summarizer from an embedding model
 * (sotto_extractive_embed_fn): the model's own pooling, unit length. */
typedef struct {
  sotto_bert *bert;
  pthreadpool_t pool;
  sotto_stream *st;
} sentence_embedder;

static int embed_sentences(void *user, const char *text, const sotto_span *spans, long n,
                           float *vectors, sotto_error *err) {
  sentence_embedder *e = user;
  char **texts = calloc((size_t)n, sizeof *texts);
  int rc = -1;
  if (!texts) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  for (long i = 0; i < n; i++) {
    size_t len;
    if (!(texts[i] = sotto_text_clean_sentence(text + spans[i].start,
                                               spans[i].end - spans[i].start, &len))) {
      sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
      goto done;
    }
  }
  /* The encoder checks for cancellation but reports no progress of its
   * own: summarize's stages are the request's progress. */
  sotto_stream quiet = e->st ? *e->st : (sotto_stream){0};
  quiet.partials = 0;
  rc = sotto_bert_embed(e->bert, e->pool, &quiet, (const char *const *)texts, (int)n,
                        sotto_bert_info_of(e->bert)->pooling, 1, vectors, NULL, err);
  if (e->st) e->st->cancelled |= quiet.cancelled;
done:
  for (long i = 0; i < n; i++) free(texts[i]);
  free(texts);
  return rc;
}

/* The embedding model of a request: "embedding_model" (an id; false, null
 * or no field for none). *id gets its id; NULL (no error) when there is
 * none. */
static sotto_bert *embedding_model(sotto_context *ctx, const cJSON *req, const char **id,
                                   sotto_error *err) {
  const cJSON *f = cJSON_GetObjectItem(req, "embedding_model");
  *id = NULL;
  if (!f || cJSON_IsFalse(f) || cJSON_IsNull(f)) return NULL;
  if (!cJSON_IsString(f)) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "\"embedding_model\" is a model id or false");
    return NULL;
  }
  sotto_bert *b = sotto_task_bert(ctx, f->valuestring, err);
  if (b && (sotto_bert_info_of(b)->n_labels || !sotto_bert_tokenizer(b))) {
    sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                    "model \"%.100s\" is not an embedding model with a tokenizer",
                    f->valuestring);
    return NULL;
  }
  *id = f->valuestring;
  return b;
}

/* The document of a request: "text", or "blocks" joined into one text (a
 * blank line between blocks). Returns 0, or -1 with *err set; *buf gets the
 * joined text and *blocks the blocks (both malloc'ed) when blocks are given. */
static int read_document(const cJSON *req, sotto_document *doc, char **buf, sotto_block **blocks,
                         sotto_error *err) {
  const char *text = sotto_json_str(req, "text", NULL, err);
  const cJSON *list = cJSON_GetObjectItem(req, "blocks");
  *buf = NULL, *blocks = NULL;
  if (err->status) return -1;
  if (text && list)
    return sotto_error_set(err, SOTTO_BAD_REQUEST, "give \"text\" or \"blocks\", not both");
  if (text) {
    doc->text = text, doc->len = strlen(text), doc->blocks = NULL, doc->n_blocks = 0;
  } else if (cJSON_IsArray(list)) {
    size_t n = (size_t)cJSON_GetArraySize(list), total = 0, i = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, list) {
      const char *t = sotto_json_str(b, "text", NULL, err);
      if (!cJSON_IsObject(b) || !t || err->status) {
        err->status = SOTTO_OK;
        return sotto_error_set(err, SOTTO_BAD_REQUEST,
                               "block %zu: an object with \"kind\" and \"text\" (a string)", i);
      }
      total += strlen(t) + 2;
      if (total > SUMMARIZE_MAX_TEXT)
        return sotto_error_set(err, SOTTO_TOO_LARGE, "the blocks hold over %u bytes of text",
                               SUMMARIZE_MAX_TEXT);
      i++;
    }
    *buf = malloc(total + 1);
    *blocks = malloc((n ? n : 1) * sizeof **blocks);
    if (!*buf || !*blocks) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    size_t used = 0;
    i = 0;
    cJSON_ArrayForEach(b, list) {
      int kind = sotto_json_enum(b, "kind", sotto_block_kind_names, SOTTO_BLOCK_KINDS,
                                 SOTTO_BLOCK_PARAGRAPH, err);
      if (err->status) {
        err->status = SOTTO_OK;
        return sotto_error_set(err, SOTTO_BAD_REQUEST,
                               "block %zu: \"kind\" is one of text, paragraph, item, quote, "
                               "heading, caption, cell, code, note", i);
      }
      const char *t = cJSON_GetObjectItem(b, "text")->valuestring;
      size_t len = strlen(t);
      (*blocks)[i].kind = (sotto_block_kind)kind;
      (*blocks)[i].span.start = used;
      (*blocks)[i].span.end = used + len;
      memcpy(*buf + used, t, len);
      used += len;
      memcpy(*buf + used, "\n\n", 2);
      used += 2;
      i++;
    }
    (*buf)[used] = 0;
    doc->text = *buf, doc->len = used, doc->blocks = *blocks, doc->n_blocks = n;
  } else {
    return sotto_error_set(err, SOTTO_BAD_REQUEST,
                           list ? "\"blocks\" must be an array"
                                : "\"text\" (a string) or \"blocks\" (an array) is required");
  }
  if (doc->len > SUMMARIZE_MAX_TEXT)
    return sotto_error_set(err, SOTTO_TOO_LARGE, "the text has %zu bytes; summarize takes at most %u",
                           doc->len, SUMMARIZE_MAX_TEXT);
  return 0;
}

cJSON *sotto_task_summarize(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                            sotto_error *err) {
  int style = sotto_json_enum(req, "style", styles, STYLE_COUNT, STYLE_KEY_POINTS, err);
  int length = sotto_json_enum(req, "length", lengths, LENGTH_COUNT, LENGTH_SHORT, err);
  const char *model = sotto_json_str(req, "model", sotto_model_default("summarize"), err);
  if (err->status) return NULL;
  sotto_lm *lm = sotto_llama_lm(sotto_model_find(ctx, model));
  if (!lm && strcmp(model, "extractive") != 0 && strcmp(model, "default-extractive") != 0) {
    sotto_error_set(err, SOTTO_MODEL_NOT_FOUND,
                    "summarize has no model \"%.100s\" (try \"extractive\" or a GGUF language model)",
                    model);
    return NULL;
  }
  sotto_document doc;
  char *buf;
  sotto_block *blocks;
  cJSON *out = NULL;
  sotto_extractive_result res = {0};
  if (read_document(req, &doc, &buf, &blocks, err) != 0) goto done;
  if (lm) { /* a language model (GGUF): summarize_llm.c */
    out = sotto_task_summarize_llm(ctx, lm, model, req, st, style, length, doc.text, doc.len, err);
    goto done;
  }
  sotto_extractive_options opts = {.count = sentence_counts[style][length],
                                   .headline = style == STYLE_HEADLINE};
  const char *embedder_id;
  sentence_embedder embedder = {embedding_model(ctx, req, &embedder_id, err), ctx->pool, st};
  if (err->status) goto done;
  if (embedder.bert) {
    opts.embed = embed_sentences, opts.embed_user = &embedder;
    opts.embed_dim = sotto_bert_info_of(embedder.bert)->n_embd;
  }
  if (sotto_extractive_summarize(ctx->pool, &doc, &opts, st, &res, err) != 0) goto done;
  out = cJSON_CreateObject();
  cJSON_AddStringToObject(out, "style", styles[style]);
  cJSON_AddStringToObject(out, "length", lengths[length]);
  cJSON_AddStringToObject(out, "model", "extractive");
  if (embedder_id) cJSON_AddStringToObject(out, "embedding_model", embedder_id);
  cJSON_AddNumberToObject(out, "input_sentences", (double)res.n_sentences);
  cJSON_AddNumberToObject(out, "input_sections", (double)res.n_sections);
  cJSON *sentences = cJSON_AddArrayToObject(out, "sentences");
  char *summary = out && sentences
                      ? join(doc.text, &res, doc.blocks != NULL, (summary_style)style, sentences)
                      : NULL;
  if (!summary || !cJSON_AddStringToObject(out, "summary", summary)) {
    cJSON_Delete(out);
    out = NULL;
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  }
  free(summary);
done:
  free(res.picks), free(buf), free(blocks);
  return out;
}
