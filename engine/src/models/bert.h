/*
 * bert.h - transformer encoders of the BERT family (BERT, DistilBERT,
 * RoBERTa, XLM-RoBERTa) from GGUF files in llama.cpp's "bert" layout:
 * sentence embeddings, sequence classification and zero-shot labels by
 * natural-language inference, computed as Hugging Face's transformers
 * computes them.
 */
#ifndef SOTTO_MODEL_BERT_H
#define SOTTO_MODEL_BERT_H

#include "models.h"
#include "tokenizers/tokenizer.h"

typedef struct sotto_bert sotto_bert;

/* Loads the encoder of an open GGUF file g whose general.architecture is
 * "bert" (m->file's bytes, registry.c); on success the model owns g. Uses
 * the file in place: only what XNNPACK packs is copied. */
struct sotto_gguf;
int sotto_bert_load(sotto_model *m, struct sotto_gguf *g, sotto_error *err);

typedef enum sotto_bert_pooling {
  SOTTO_BERT_POOL_MEAN, /* mean of the tokens' last hidden states */
  SOTTO_BERT_POOL_CLS,  /* the first token's ([CLS], <s>) */
} sotto_bert_pooling;

typedef struct sotto_bert_info {
  int n_embd;        /* embedding dimension */
  int n_ctx;         /* tokens one window holds, special tokens included */
  int n_labels;      /* 0 for a base model */
  int multi_label;   /* labels are independent (sigmoid), not exclusive */
  int entailment;    /* the label index of "entailment" (NLI models), or -1 */
  sotto_bert_pooling pooling; /* the model's own pooling (GGUF pooling_type) */
} sotto_bert_info;

const sotto_bert_info *sotto_bert_info_of(const sotto_bert *b);
const sotto_tokenizer *sotto_bert_tokenizer(const sotto_bert *b);
/* Label i's name (id2label), i < n_labels. */
const char *sotto_bert_label(const sotto_bert *b, int i);

/* Texts to vectors: out[i * n_embd ...] is text i's embedding. A text
 * longer than a window is split into windows overlapping by a quarter, and
 * its embedding is the mean of theirs (*windows, when not NULL, gets the
 * largest window count of any text). */
int sotto_bert_embed(sotto_bert *b, pthreadpool_t pool, sotto_stream *st,
                     const char *const *texts, int n, sotto_bert_pooling pooling,
                     int normalize, float *out, int *windows, sotto_error *err);

/* Label probabilities of a text (or a text pair, b_text not NULL) from a
 * classifier: softmax over the labels, or each label's sigmoid for
 * multi-label models. Long texts are windowed as above and the
 * probabilities averaged. */
int sotto_bert_classify(sotto_bert *b, pthreadpool_t pool, sotto_stream *st, const char *text,
                        const char *b_text, float *probs, int *windows, sotto_error *err);

/* Zero-shot labels from an NLI classifier, as Hugging Face's
 * zero-shot-classification pipeline scores them: one (text, hypothesis)
 * pair per label; single-label: softmax over the labels of the entailment
 * logits; multi_label: per label, softmax of (contradiction, entailment).
 * hypotheses[i] is label i's hypothesis text. */
int sotto_bert_zero_shot(sotto_bert *b, pthreadpool_t pool, sotto_stream *st, const char *text,
                         const char *const *hypotheses, int n, int multi_label, float *scores,
                         int *windows, sotto_error *err);

/* Pre-tokenized input: n sequences of token ids as the model takes them
 * (special tokens included, at most n_ctx each) and their segments (types
 * or types[i] may be NULL: all 0). Writes each sequence's pooled
 * embedding (embeddings, n_embd floats each, may be NULL) and label
 * probabilities (probs, n_labels each, may be NULL). */
int sotto_bert_run(sotto_bert *b, pthreadpool_t pool, sotto_stream *st,
                   const int32_t *const *ids, const int32_t *const *types, const int *lens, int n,
                   sotto_bert_pooling pooling, int normalize, float *embeddings, float *probs,
                   sotto_error *err);

/* Zero-shot labels from an embedding model: the cosine similarity of the
 * text's embedding (the model's pooling) to each label text's. */
int sotto_bert_similarity(sotto_bert *b, pthreadpool_t pool, sotto_stream *st, const char *text,
                          const char *const *labels, int n, float *similarity, int *windows,
                          sotto_error *err);

#endif /* SOTTO_MODEL_BERT_H */
