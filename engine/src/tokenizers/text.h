/*
 * text.h - UTF-8, sentence splitting and word tokens for the text tasks
 * (summarize now; classify and embed pre-processing later).
 *
 * Everything here takes untrusted bytes: malformed UTF-8 never crashes,
 * reads out of bounds or loops; a bad byte decodes as U+FFFD and counts as
 * a separator. Offsets are byte offsets into the caller's buffer.
 */
#ifndef SOTTO_TEXT_H
#define SOTTO_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define SOTTO_UTF8_BAD 0xFFFDu
#define SOTTO_TOKEN_MAX 64   /* bytes; longer words are cut (still one token) */
#define SOTTO_SENTENCE_MAX 2000 /* bytes; a longer run without a boundary is cut */

/* Decodes the code point at s[0..n), n >= 1. Returns the bytes it takes
 * (1 to 4). Malformed, overlong, surrogate and truncated sequences decode as
 * U+FFFD and take one byte, so a decoding loop always advances. */
size_t sotto_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* Writes cp as UTF-8 into out (room for 4 bytes); returns the length. */
size_t sotto_utf8_put(uint32_t cp, char *out);

/* Simple (one-to-one) lower-casing for Latin, Greek, Cyrillic, Armenian,
 * Georgian and full-width Latin; other code points map to themselves. */
uint32_t sotto_unicode_fold(uint32_t cp);
int sotto_unicode_is_upper(uint32_t cp);
int sotto_unicode_is_lower(uint32_t cp);
int sotto_unicode_is_space(uint32_t cp);
/* Part of a word: letters, digits and combining marks of any script. */
int sotto_unicode_is_word(uint32_t cp);
/* Han, kana and other scripts written without spaces: each character is a
 * token of its own. */
int sotto_unicode_is_ideograph(uint32_t cp);

/* A copy of s[0..n) that is valid UTF-8 (bad bytes become U+FFFD), with
 * every run of white space (newlines included) turned into one space and the
 * ends trimmed; zero-width spaces, soft hyphens and byte-order marks are
 * dropped. Returns a malloc'ed NUL-terminated string (NULL when out of
 * memory); *len (when not NULL) gets its length. */
char *sotto_text_clean(const char *s, size_t n, size_t *len);

/* sotto_text_clean, with footnote markers ("[1]", "[12]", "[a]", "[3, 4]")
 * left out: a sentence as a summary shows it. */
char *sotto_text_clean_sentence(const char *s, size_t n, size_t *len);

typedef struct sotto_span {
  size_t start, end; /* bytes [start, end) of the text */
} sotto_span;

/* Splits text[0..n) into sentences: trimmed byte spans in text order, each
 * holding at least one word character. *spans gets a malloc'ed array (NULL
 * when there are none). Returns the number of sentences, or -1 when out of
 * memory. See text.c for the rules. */
long sotto_text_sentences(const char *text, size_t n, sotto_span **spans);

/* Whether the sentence s[0..n) ends with a sentence mark (before any closing
 * quotes and brackets), unlike headings, list items and table rows. */
int sotto_text_is_complete(const char *s, size_t n);

/* Calls fn(user, token, len) for each lower-cased word of s[0..n), in order:
 * runs of word characters (digits joined across '.' and ',' as in 3.14 and
 * 155,221), and each ideograph alone. Tokens are valid UTF-8, not
 * NUL-terminated, at most SOTTO_TOKEN_MAX bytes. A nonzero return from fn
 * stops the scan and is returned. */
typedef int (*sotto_token_fn)(void *user, const char *token, size_t len);
int sotto_text_tokens(const char *s, size_t n, sotto_token_fn fn, void *user);

/* The text as the bundled sentiment model's training data was normalised
 * (models/sentiment/normalise.R, MODEL_CARD.md): HTML tags dropped,
 * entities decoded, lower case, apostrophes inside words kept, every other
 * mark set apart by spaces ("great!!" -> "great ! !"), white space and
 * controls as single spaces. Malformed UTF-8 decodes as U+FFFD, which
 * becomes a space. Returns a malloc'ed NUL-terminated string (NULL when out
 * of memory); *len (when not NULL) gets its length. */
char *sotto_text_normalise(const char *s, size_t n, size_t *len);

/* Whether the lower-case token is a common English function word. */
int sotto_text_is_stopword(const char *token, size_t len);

#endif /* SOTTO_TEXT_H */
