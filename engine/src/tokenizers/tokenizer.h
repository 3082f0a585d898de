/*
 * tokenizer.h - text to token ids and back, for every model family sotto
 * runs: WordPiece (BERT), byte-level BPE (GPT-2, RoBERTa, Llama 3, Qwen,
 * SmolLM: with the pre-tokenizer the model declares), SentencePiece BPE
 * (Llama 2, Mistral, Gemma) and SentencePiece Unigram (XLM-RoBERTa, T5).
 * The same ids as Hugging Face's tokenizers on the same vocabulary.
 *
 * A tokenizer is configured from a model's GGUF metadata, under llama.cpp's
 * keys (tokenizer.ggml.model, .pre, .tokens, .scores, .token_type,
 * .merges, .bos_token_id, ...), or, when converting, from a Hugging Face
 * tokenizer.json; both fill the same sotto_tokenizer. Untrusted input:
 * every id, length and count is checked, damaged metadata is
 * SOTTO_BAD_MODEL with the key at fault.
 */
#ifndef SOTTO_TOKENIZER_H
#define SOTTO_TOKENIZER_H

#include "core/core.h"

struct sotto_gguf;
typedef struct sotto_tokenizer sotto_tokenizer;

typedef enum sotto_tokenizer_kind {
  SOTTO_TOK_WORDPIECE,  /* "bert" */
  SOTTO_TOK_BPE,        /* "gpt2": byte-level BPE */
  SOTTO_TOK_SPM_BPE,    /* "llama": SentencePiece BPE with byte fallback */
  SOTTO_TOK_UNIGRAM,    /* "t5": SentencePiece Unigram */
} sotto_tokenizer_kind;

/* From the tokenizer.ggml.* keys of a GGUF file (the file must outlive the
 * tokenizer). */
sotto_tokenizer *sotto_tokenizer_from_gguf(const struct sotto_gguf *g, sotto_error *err);
/* From the text of a Hugging Face tokenizer.json (and, when present,
 * tokenizer_config.json for special tokens and the chat template). */
sotto_tokenizer *sotto_tokenizer_from_json(const char *tokenizer_json, size_t len,
                                           const char *config_json, size_t config_len,
                                           sotto_error *err);
void sotto_tokenizer_free(sotto_tokenizer *t);

sotto_tokenizer_kind sotto_tokenizer_kind_of(const sotto_tokenizer *t);
int32_t sotto_tokenizer_n_vocab(const sotto_tokenizer *t);

/* Special token ids; -1 when the model has none. */
typedef struct sotto_special_tokens {
  int32_t bos, eos, eot, unk, pad, sep, cls, mask;
} sotto_special_tokens;
const sotto_special_tokens *sotto_tokenizer_special(const sotto_tokenizer *t);

/* Encodes text[0..len) (UTF-8; bad bytes are handled as the reference
 * does) into ids. With add_special, the model's own framing is added
 * (BERT: [CLS] text [SEP]; Llama: BOS first; ...). With parse_special,
 * special-token text in the input ("<|im_start|>") becomes that token;
 * otherwise it is encoded as plain text. Fills up to cap ids and returns
 * how many the whole encoding has (call again with a larger buffer when
 * more than cap), or -1 with *err set. */
int64_t sotto_tokenizer_encode(const sotto_tokenizer *t, const char *text, size_t len,
                               int add_special, int parse_special, int32_t *ids, int64_t cap,
                               sotto_error *err);

/* sotto_tokenizer_encode into an array it allocates (free() it): the
 * whole encoding, its length in *n; NULL with *err set. */
int32_t *sotto_tokenizer_encode_alloc(const sotto_tokenizer *t, const char *text, size_t len,
                                      int add_special, int parse_special, int64_t *n,
                                      sotto_error *err);

/* A text pair for cross-encoders and NLI (BERT: [CLS] a [SEP] b [SEP];
 * RoBERTa: <s> a </s></s> b </s>), truncated to max_len ids as Hugging
 * Face's "longest_first" strategy does (0 = no limit). type_ids (may be
 * NULL) gets each token's segment (0 for a, 1 for b). Same return as
 * sotto_tokenizer_encode. */
int64_t sotto_tokenizer_encode_pair(const sotto_tokenizer *t, const char *a, size_t a_len,
                                    const char *b, size_t b_len, int64_t max_len, int32_t *ids,
                                    int32_t *type_ids, int64_t cap, sotto_error *err);

/* The bytes of one token as text (byte-level and byte-fallback tokens are
 * decoded to their bytes; a piece may be part of a UTF-8 sequence). Writes
 * up to cap bytes and returns the piece's length, or -1 for an id out of
 * range. Special tokens give their text only when render_special. */
int sotto_tokenizer_piece(const sotto_tokenizer *t, int32_t id, int render_special, char *out,
                          int cap);

/* Writes the tokenizer.ggml.* keys (and tokenizer.chat_template) that
 * describe t, as llama.cpp's converter names them, so a converted model
 * carries its tokenizer. A token list shorter than n_tokens (the model's
 * embedding rows; 0 = the tokenizer's own count) is padded with unused
 * "[PAD<id>]" tokens as llama.cpp's converter pads it (get_vocab_base):
 * llama.cpp refuses a file with more embedding rows than tokens. */
struct sotto_gguf_writer;
int sotto_tokenizer_to_gguf(const sotto_tokenizer *t, int64_t n_tokens,
                            struct sotto_gguf_writer *w, sotto_error *err);

/* The chat template text (tokenizer.chat_template), or NULL. */
const char *sotto_tokenizer_chat_template(const sotto_tokenizer *t);

#endif /* SOTTO_TOKENIZER_H */
