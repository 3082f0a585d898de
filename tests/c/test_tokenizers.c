/*
 * test_tokenizers.c - the tokenizers' contract on small hand-made
 * vocabularies: each model kind's algorithm step by step (WordPiece's
 * greedy longest match and [UNK], BPE merge order and byte fallback,
 * Unigram's best path and fused unknowns), pairs and longest_first
 * truncation, type ids, the output buffer protocol, pieces, special ids,
 * and clear errors for damaged files. Agreement with Hugging Face on real
 * vocabularies is tests/js/tokenizers.test.mjs.
 */
#include <stdint.h>

#include "check.h"
#include "tokenizers/chat.h"
#include "tokenizers/tokenizer.h"
#include "tokenizers/unicode.h"

static sotto_tokenizer *load(const char *json, const char *cfg, sotto_error *err) {
  return sotto_tokenizer_from_json(json, strlen(json), cfg, cfg ? strlen(cfg) : 0, err);
}

/* Encodes and compares with want[0..n). */
static int encodes(const sotto_tokenizer *t, const char *text, int special, const int32_t *want,
                   int n) {
  int32_t ids[256];
  sotto_error err = {0};
  int64_t k = sotto_tokenizer_encode(t, text, strlen(text), special, special, ids, 256, &err);
  if (k != n) {
    fprintf(stderr, "  \"%s\": %lld ids, want %d:", text, (long long)k, n);
    for (int64_t i = 0; i < k && i < 256; i++) fprintf(stderr, " %d", ids[i]);
    fputc('\n', stderr);
    return 0;
  }
  for (int i = 0; i < n; i++)
    if (ids[i] != want[i]) {
      fprintf(stderr, "  \"%s\": id %d is %d, want %d\n", text, i, ids[i], want[i]);
      return 0;
    }
  return 1;
}
#define ENCODES(t, text, special, ...)                                             \
  do {                                                                             \
    const int32_t want_[] = {__VA_ARGS__};                                         \
    CHECK(encodes(t, text, special, want_, (int)(sizeof want_ / sizeof *want_)), \
          "encode \"%s\"", text);                                                  \
  } while (0)

static const char *WORDPIECE =
    "{\"added_tokens\":[{\"id\":0,\"content\":\"[PAD]\",\"special\":true},"
    "{\"id\":1,\"content\":\"[UNK]\",\"special\":true},{\"id\":2,\"content\":\"[CLS]\","
    "\"special\":true},{\"id\":3,\"content\":\"[SEP]\",\"special\":true}],"
    "\"normalizer\":{\"type\":\"BertNormalizer\",\"lowercase\":true},"
    "\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
    "\"post_processor\":{\"type\":\"BertProcessing\",\"sep\":[\"[SEP]\",3],\"cls\":[\"[CLS]\",2]},"
    "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"max_input_chars_per_word\":9,"
    "\"vocab\":{\"[PAD]\":0,\"[UNK]\":1,\"[CLS]\":2,\"[SEP]\":3,\"un\":4,\"##aff\":5,"
    "\"##able\":6,\"cafe\":7,\",\":8,\"!\":9,\"a\":10,\"##a\":11,\"中\":12}}}";

static void test_wordpiece(void) {
  sotto_error err = {0};
  sotto_tokenizer *t = load(WORDPIECE, NULL, &err);
  CHECK(t, "WordPiece loads: %s", err.message);
  if (!t) return;
  CHECK(sotto_tokenizer_kind_of(t) == SOTTO_TOK_WORDPIECE, "kind");
  CHECK(sotto_tokenizer_n_vocab(t) == 13, "n_vocab");
  const sotto_special_tokens *sp = sotto_tokenizer_special(t);
  CHECK(sp->cls == 2 && sp->sep == 3 && sp->unk == 1 && sp->pad == 0, "special ids by name");
  ENCODES(t, "unaffable", 0, 4, 5, 6);
  ENCODES(t, "UnAffable!", 1, 2, 4, 5, 6, 9, 3);  /* lower-cased, punctuation split */
  ENCODES(t, "Café,", 0, 7, 8);                   /* accents stripped */
  ENCODES(t, "unaffablex", 0, 1);                 /* a part unknown: the word is [UNK] */
  ENCODES(t, "aaaaaaaaa", 0, 10, 11, 11, 11, 11, 11, 11, 11, 11);
  ENCODES(t, "aaaaaaaaaa", 0, 1);                 /* over max_input_chars_per_word */
  ENCODES(t, "x中x", 0, 1, 12, 1);               /* CJK characters stand alone */
  ENCODES(t, "a\x01\xe2\x80\x8b a", 0, 10, 10); /* controls removed (U+200B is Cf) */
  ENCODES(t, "[CLS]a", 1, 2, 2, 10, 3);           /* special text parsed */
  ENCODES(t, "", 1, 2, 3);

  /* pairs: [CLS] a [SEP] b [SEP], type ids, longest_first truncation */
  int32_t ids[64], types[64];
  const char *a = "a a a a a a", *b = "un un";
  int64_t k = sotto_tokenizer_encode_pair(t, a, strlen(a), b, strlen(b), 0, ids, types, 64, &err);
  CHECK(k == 11 && ids[0] == 2 && ids[7] == 3 && ids[8] == 4 && ids[10] == 3, "pair ids");
  CHECK(types[7] == 0 && types[8] == 1 && types[10] == 1, "pair type ids");
  k = sotto_tokenizer_encode_pair(t, a, strlen(a), b, strlen(b), 7, ids, types, 64, &err);
  CHECK(k == 7 && ids[3] == 3 && ids[4] == 4 && ids[5] == 4, "longest_first trims the longer");
  k = sotto_tokenizer_encode_pair(t, a, strlen(a), a, strlen(a), 8, ids, types, 64, &err);
  CHECK(k == 8 && ids[3] == 3 && ids[7] == 3, "equal lengths: the second gets the odd one");
  k = sotto_tokenizer_encode_pair(t, a, strlen(a), NULL, 0, 4, ids, types, 64, &err);
  CHECK(k == 4 && ids[0] == 2 && ids[3] == 3, "single text truncated with its frame");
  k = sotto_tokenizer_encode_pair(t, a, strlen(a), b, strlen(b), 2, ids, types, 64, &err);
  CHECK(k < 0 && err.status == SOTTO_BAD_REQUEST, "max_len below the frame is an error");
  /* the buffer protocol: the full count, only cap ids written */
  ids[2] = -7;
  k = sotto_tokenizer_encode(t, a, strlen(a), 1, 1, ids, 2, &err);
  CHECK(k == 8 && ids[2] == -7, "cap respected, full count returned");

  char piece[32];
  int n = sotto_tokenizer_piece(t, 5, 0, piece, sizeof piece);
  CHECK(n == 3 && !memcmp(piece, "aff", 3), "continuation piece loses ##");
  n = sotto_tokenizer_piece(t, 7, 0, piece, sizeof piece);
  CHECK(n == 5 && !memcmp(piece, " cafe", 5), "word piece starts with a space");
  CHECK(sotto_tokenizer_piece(t, 2, 0, piece, sizeof piece) == 0, "special hidden");
  CHECK(sotto_tokenizer_piece(t, 2, 1, piece, sizeof piece) == 5, "special rendered");
  CHECK(sotto_tokenizer_piece(t, 13, 1, piece, sizeof piece) == -1, "id out of range");
  sotto_tokenizer_free(t);
}

/* Byte-level BPE: GPT-2's alphabet, "Ġ" is the space byte. Merges: l+o,
 * lo+w, Ġ+lo, Ġlo+w; ranks decide. */
static const char *BPE =
    "{\"added_tokens\":[{\"id\":12,\"content\":\"<|end|>\",\"special\":true},"
    "{\"id\":13,\"content\":\"<x>\",\"special\":false,\"lstrip\":true}],"
    "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":"
    "{\"Regex\":\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}"
    "| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},"
    "\"behavior\":\"Isolated\"},{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
    "\"use_regex\":false}]},"
    "\"model\":{\"type\":\"BPE\",\"vocab\":{\"l\":0,\"o\":1,\"w\":2,\"\\u0120\":3,\"lo\":4,"
    "\"low\":5,\"\\u0120lo\":6,\"\\u0120low\":7,\"1\":8,\"2\":9,\"3\":10,\"4\":11,"
    "\"<|end|>\":12,\"<x>\":13},"
    "\"merges\":[\"l o\",[\"lo\",\"w\"],\"\\u0120 lo\",\"\\u0120lo w\"]}}";

static void test_bpe(void) {
  sotto_error err = {0};
  sotto_tokenizer *t = load(BPE, NULL, &err);
  CHECK(t, "BPE loads: %s", err.message);
  if (!t) return;
  CHECK(sotto_tokenizer_kind_of(t) == SOTTO_TOK_BPE, "byte-level kind");
  ENCODES(t, "low", 0, 5);
  ENCODES(t, "low low", 0, 5, 3, 5); /* "lo w" ranks before "Ġ lo": Ġlow never forms */
  ENCODES(t, "lo lo", 0, 4, 6);
  ENCODES(t, "lowol", 0, 5, 1, 0);
  ENCODES(t, "1234", 0, 8, 9, 10, 11);           /* digits in threes */
  ENCODES(t, "low<|end|>low", 1, 5, 12, 5);
  ENCODES(t, "low   <x>", 0, 5, 13);                /* lstrip eats the spaces */
  CHECK(sotto_tokenizer_piece(t, 7, 0, (char[8]){0}, 8) == 4, "Ġlow is 4 bytes");
  char p[8];
  sotto_tokenizer_piece(t, 7, 0, p, 8);
  CHECK(!memcmp(p, " low", 4), "Ġ decodes to a space");
  sotto_tokenizer_free(t);
}

/* SentencePiece BPE with byte fallback (Llama 2 / Mistral layout). */
static const char *SPM =
    "{\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true},{\"id\":1,\"content\":"
    "\"<s>\",\"special\":true}],"
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":"
    "\"\\u2581\"},{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\\u2581\"}]},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":"
    "\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[],"
    "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
    "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"byte_fallback\":true,\"fuse_unk\":true,"
    "\"vocab\":{\"<unk>\":0,\"<s>\":1,\"<0xC3>\":2,\"<0xA9>\":3,\"\\u2581\":4,\"h\":5,\"i\":6,"
    "\"\\u2581h\":7,\"\\u2581hi\":8},\"merges\":[\"\\u2581 h\",\"\\u2581h i\"]}}";

static void test_spm_bpe(void) {
  sotto_error err = {0};
  sotto_tokenizer *t = load(SPM, NULL, &err);
  CHECK(t, "SentencePiece BPE loads: %s", err.message);
  if (!t) return;
  CHECK(sotto_tokenizer_kind_of(t) == SOTTO_TOK_SPM_BPE, "kind");
  ENCODES(t, "hi", 1, 1, 8);
  ENCODES(t, "hi hi", 0, 8, 8);
  ENCODES(t, "h\xc3\xa9", 0, 7, 2, 3);             /* é as its bytes */
  ENCODES(t, "hxyz", 0, 7, 0);                     /* unknowns fused */
  char p[8];
  CHECK(sotto_tokenizer_piece(t, 2, 0, p, 8) == 1 && (unsigned char)p[0] == 0xC3, "byte piece");
  CHECK(sotto_tokenizer_piece(t, 8, 0, p, 8) == 3 && !memcmp(p, " hi", 3), "▁ is a space");
  sotto_tokenizer_free(t);
}

/* Unigram: best total score wins; unknown characters fuse. */
static const char *UNIGRAM =
    "{\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\","
    "\"prepend_scheme\":\"always\",\"split\":true},"
    "\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0],[\"\\u2581\",-2],"
    "[\"a\",-3],[\"b\",-3],[\"ab\",-4],[\"\\u2581ab\",-5],[\"\\u2581a\",-1],[\"bc\",-1]]}}";

static void test_unigram(void) {
  sotto_error err = {0};
  sotto_tokenizer *t = load(UNIGRAM, NULL, &err);
  CHECK(t, "Unigram loads: %s", err.message);
  if (!t) return;
  CHECK(sotto_tokenizer_kind_of(t) == SOTTO_TOK_UNIGRAM, "kind");
  ENCODES(t, "ab", 0, 6, 3);   /* ▁a + b (-4) beats ▁ab (-5) */
  ENCODES(t, "abc", 0, 6, 7);  /* ▁a + bc (-2) */
  ENCODES(t, "a xyz", 0, 6, 1, 0); /* xyz one fused unknown */
  sotto_tokenizer_free(t);
}

static void test_errors(void) {
  static const struct { const char *json; sotto_status st; } cases[] = {
      {"", SOTTO_BAD_MODEL},
      {"[1,2]", SOTTO_BAD_MODEL},
      {"{\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"a\":0}}}", SOTTO_UNSUPPORTED_MODEL},
      {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a b\"]}}", SOTTO_BAD_MODEL},
      {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1}}}", SOTTO_BAD_MODEL},
      {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":99999999}}}", SOTTO_BAD_MODEL},
      {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0}}}", SOTTO_BAD_MODEL},
      {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}},\"pre_tokenizer\":{\"type\":\"Split\","
       "\"pattern\":{\"Regex\":\"\\\\w+\"}}}", SOTTO_UNSUPPORTED_MODEL},
      {"{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}", SOTTO_BAD_MODEL}, /* no [UNK] */
      {"{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",0]],\"unk_id\":5}}", SOTTO_BAD_MODEL},
      {"{\"normalizer\":{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"AAAA\"},"
       "\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",0]],\"unk_id\":0}}", SOTTO_BAD_MODEL},
      {"{\"normalizer\":{\"type\":\"NFKC\"},\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",0]],"
       "\"unk_id\":0}}", SOTTO_UNSUPPORTED_MODEL},
      /* a pair template using sequence A twice (truncation could not keep max_len) */
      {"{\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\"}}],"
       "\"pair\":[{\"Sequence\":{\"id\":\"A\"}},{\"Sequence\":{\"id\":\"A\"}}],\"special_tokens\":{}},"
       "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", SOTTO_BAD_MODEL},
      /* type ids that are no small whole number (one overflowed a cast to int) */
      {"{\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\","
       "\"type_id\":2.2e91}}],\"pair\":[],\"special_tokens\":{}},"
       "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", SOTTO_BAD_MODEL},
      {"{\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\","
       "\"type_id\":256}}],\"pair\":[],\"special_tokens\":{}},"
       "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", SOTTO_BAD_MODEL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sotto_error err = {0};
    sotto_tokenizer *t = load(cases[i].json, NULL, &err);
    CHECK(!t && err.status == cases[i].st && err.message[0], "case %zu: status %s (%s)", i,
          sotto_status_code(err.status), err.message);
    sotto_tokenizer_free(t);
  }
  sotto_error err = {0};
  sotto_tokenizer *t = load(WORDPIECE, "{\"chat_template\":\"{{x}}\",\"pad_token\":\"a\"}", &err);
  CHECK(t && sotto_tokenizer_special(t)->pad == 10, "config's pad_token");
  CHECK(t && !strcmp(sotto_tokenizer_chat_template(t), "{{x}}"), "chat template kept");
  sotto_tokenizer_free(t);
  t = load(WORDPIECE, "[", &err);
  CHECK(!t && err.status == SOTTO_BAD_MODEL, "damaged config");
}

static void test_unicode(void) {
  sotto_cps c = {0};
  const char *s = "e\xcc\x81\xe1\x84\x80\xe1\x85\xa1"; /* e + U+0301, Hangul L + V */
  sotto_cps_from_utf8(&c, s, strlen(s));
  sotto_cps_nfc(&c);
  CHECK(c.n == 2 && c.v[0] == 0xE9 && c.v[1] == 0xAC00, "NFC composes (%zu)", c.n);
  sotto_cps_nfd(&c);
  CHECK(c.n == 4 && c.v[0] == 'e' && c.v[1] == 0x301, "NFD decomposes");
  sotto_cps_free(&c);
  uint32_t l[3];
  CHECK(sotto_uni_lower(0x130, l) == 2 && l[0] == 'i' && l[1] == 0x307, "İ lowers to i̇");
  CHECK(sotto_uni_lower(0x3A3, l) == 1 && l[0] == 0x3C3, "Σ lowers to σ");
  CHECK(sotto_uni_is_letter(0x4E2D) && sotto_uni_is_number(0x663) && sotto_uni_is_space(0x3000) &&
            sotto_uni_is_punct(0x3002) && !sotto_uni_is_letter('1'),
        "categories");
}

static void test_chat(void) {
  sotto_chat_message m[] = {{"system", "Be brief."}, {"user", " Hi "}};
  sotto_error err = {0};
  CHECK(sotto_chat_detect("{% for m in messages %}<|im_start|>{{m.role}}") == SOTTO_CHAT_CHATML, "chatml");
  CHECK(sotto_chat_detect("<|start_header_id|>") == SOTTO_CHAT_LLAMA3, "llama3");
  CHECK(sotto_chat_detect("<start_of_turn>") == SOTTO_CHAT_GEMMA, "gemma");
  CHECK(sotto_chat_detect("{{ messages }}") == SOTTO_CHAT_UNKNOWN && sotto_chat_detect(NULL) == 0, "unknown");
  char *s = sotto_chat_apply(SOTTO_CHAT_CHATML, m, 2, 1, &err);
  CHECK(s && !strcmp(s, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n"
                        "<|im_start|>assistant\n"), "chatml render");
  free(s);
  s = sotto_chat_apply(SOTTO_CHAT_LLAMA3, m + 1, 1, 1, &err);
  CHECK(s && !strcmp(s, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                        "<|start_header_id|>assistant<|end_header_id|>\n\n"), "llama3 render");
  free(s);
  s = sotto_chat_apply(SOTTO_CHAT_GEMMA, m, 2, 1, &err);
  CHECK(s && !strcmp(s, "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"),
        "gemma render, system folded into the user turn, the message trimmed");
  free(s);
  const char *mistral_v1 = "{{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}";
  CHECK(sotto_chat_detect(mistral_v1) == SOTTO_CHAT_MISTRAL, "mistral v1");
  CHECK(sotto_chat_detect("{{ '[INST] ' + message['content'] + '[/INST]' }}") == SOTTO_CHAT_UNKNOWN,
        "mistral's later unspaced [INST] is not v1");
  sotto_chat_message turns[] = {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", " Hello "},
                                {"user", "Bye"}};
  s = sotto_chat_apply(SOTTO_CHAT_MISTRAL, turns, 4, 1, &err);
  CHECK(s && !strcmp(s, "<s> [INST] Be brief.\n\nHi [/INST]  Hello </s> [INST] Bye [/INST]"),
        "mistral render: %s", s ? s : err.message);
  free(s);
  sotto_chat_message twice[] = {{"user", "a"}, {"user", "b"}};
  s = sotto_chat_apply(SOTTO_CHAT_MISTRAL, twice, 2, 1, &err);
  CHECK(!s && err.status == SOTTO_BAD_REQUEST, "mistral: turns must alternate");
  s = sotto_chat_apply(SOTTO_CHAT_GEMMA, turns + 2, 2, 1, &err);
  CHECK(!s && err.status == SOTTO_BAD_REQUEST, "gemma: the user goes first");
  s = sotto_chat_apply(SOTTO_CHAT_CHATML, twice, 2, 0, &err);
  CHECK(s && !strcmp(s, "<|im_start|>user\na<|im_end|>\n<|im_start|>user\nb<|im_end|>\n"),
        "chatml takes any order");
  free(s);
  /* Jinja's trim is Python's str.strip(): U+0085 and U+3000 go, U+FEFF stays */
  sotto_chat_message ws[] = {{"user", "\xC2\x85\xE3\x80\x80 x \xEF\xBB\xBF"}};
  s = sotto_chat_apply(SOTTO_CHAT_LLAMA3, ws, 1, 0, &err);
  CHECK(s && !strcmp(s, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nx \xEF\xBB\xBF<|eot_id|>"),
        "llama3 trims as Python does");
  free(s);
  s = sotto_chat_apply(SOTTO_CHAT_LLAMA3, ws, 0, 1, &err);
  CHECK(s && !strcmp(s, "<|start_header_id|>assistant<|end_header_id|>\n\n"),
        "llama3: no messages, no BOS (it comes with the first)");
  free(s);
  s = sotto_chat_apply(SOTTO_CHAT_UNKNOWN, m, 2, 1, &err);
  CHECK(!s && err.status == SOTTO_UNSUPPORTED_MODEL, "unknown template is an error");
}

int main(void) {
  test_chat();
  test_wordpiece();
  test_bpe();
  test_spm_bpe();
  test_unigram();
  test_errors();
  test_unicode();
  return check_finish();
}
