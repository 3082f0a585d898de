/*
 * test_fasttext.c - fastText models: lid.176 loads and identifies languages
 * with the probabilities Debian's fastText gives, the "classify" op's
 * request and error handling, and damaged files of every kind (truncated,
 * wrong magic or version, counts and sizes that do not add up, absurd
 * declared sizes) fail with "bad_model" and a message, never a crash.
 * Needs out/models/lid176.ftz (`make models`); also runs sentiment-en when
 * out/models has it.
 */
#include <math.h>

#include "cJSON.h"
#include "check.h"
#include "sotto.h"

static sotto_context *ctx;

static cJSON *ask(const char *json) {
  char *out = sotto_request(ctx, json);
  cJSON *r = out ? cJSON_Parse(out) : NULL;
  CHECK(r != NULL, "response is JSON: %s", out ? out : "(null)");
  sotto_string_free(out);
  return r;
}

static void expect_error(const char *json, const char *code, const char *in_message) {
  cJSON *r = ask(json);
  const cJSON *e = cJSON_GetObjectItem(r, "error");
  const cJSON *c = cJSON_GetObjectItem(e, "code"), *m = cJSON_GetObjectItem(e, "message");
  CHECK(cJSON_IsString(c) && strcmp(c->valuestring, code) == 0, "%.80s -> error %s", json, code);
  CHECK(cJSON_IsString(m) && strstr(m->valuestring, in_message), "%.80s: message mentions %s",
        json, in_message);
  cJSON_Delete(r);
}

/* Loads data as a model and expects the status code with a message. */
static void expect_bad(const uint8_t *data, size_t size, const char *code, const char *what) {
  sotto_error err = {0};
  sotto_status rc = sotto_model_add(ctx, "bad", (void *)data, size, SOTTO_MODEL_COPY, &err);
  CHECK(rc != SOTTO_OK, "%s: rejected", what);
  CHECK(rc == err.status && strcmp(sotto_status_code(rc), code) == 0 && strlen(err.message) > 10,
        "%s: error %s \"%s\" is %s with a message", what, sotto_status_code(rc), err.message, code);
  if (rc == SOTTO_OK) sotto_model_remove(ctx, "bad");
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A copy of the model with one field changed, expected to be refused. */
static void patched(const uint8_t *model, size_t size, size_t at, int width, uint64_t value,
                    const char *code, const char *what) {
  uint8_t *m = malloc(size);
  memcpy(m, model, size);
  if (width == 1) m[at] = (uint8_t)value;
  else if (width == 4) put32(m + at, (uint32_t)value);
  else put64(m + at, value);
  expect_bad(m, size, code, what);
  free(m);
}

/* Reference values: `fasttext predict-prob lid176.ftz FILE 2` from Debian's
 * fasttext 0.9.2 on these lines. */
static const struct {
  const char *text, *label;
  double prob;
  const char *second;
} lid_cases[] = {
    {"Dies ist ein kurzer deutscher Satz über das Wetter.", "de", 0.999848, "fr"},
    {"The weather is nice today, let us go for a walk in the park.", "en", 0.952799, "nl"},
    {"Il fait beau aujourd'hui, allons nous promener dans le parc.", "fr", 0.995483, "it"},
    {"Сегодня хорошая погода, пойдём гулять в парк.", "ru", 0.993736, "uk"},
    {"今日はいい天気なので、公園に散歩に行きましょう。", "ja", 0.999661, "es"},
    {"Hoy hace buen tiempo, vamos a pasear por el parque.", "es", 0.994176, "pt"},
};

static void check_lid(void) {
  for (size_t i = 0; i < sizeof lid_cases / sizeof lid_cases[0]; i++) {
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "op", "classify");
    cJSON_AddStringToObject(req, "task", "language");
    cJSON_AddStringToObject(req, "text", lid_cases[i].text);
    cJSON_AddNumberToObject(req, "top_k", 2);
    char *json = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    cJSON *r = ask(json);
    free(json);
    const cJSON *res = cJSON_GetObjectItem(r, "result");
    const cJSON *labels = cJSON_GetObjectItem(res, "labels");
    CHECK(cJSON_GetArraySize(labels) == 2, "%s: two labels", lid_cases[i].label);
    const cJSON *l0 = cJSON_GetArrayItem(labels, 0), *l1 = cJSON_GetArrayItem(labels, 1);
    const cJSON *name = cJSON_GetObjectItem(l0, "label"), *prob = cJSON_GetObjectItem(l0, "prob");
    const cJSON *name1 = cJSON_GetObjectItem(l1, "label");
    CHECK(cJSON_IsString(name) && strcmp(name->valuestring, lid_cases[i].label) == 0,
          "top label %s", lid_cases[i].label);
    CHECK(cJSON_IsNumber(prob) && fabs(prob->valuedouble - lid_cases[i].prob) < 2e-6,
          "%s: probability %g, fastText says %g", lid_cases[i].label,
          prob ? prob->valuedouble : -1, lid_cases[i].prob);
    CHECK(cJSON_IsString(name1) && strcmp(name1->valuestring, lid_cases[i].second) == 0,
          "%s: second label %s", lid_cases[i].label, lid_cases[i].second);
    CHECK(strcmp(cJSON_GetObjectItem(res, "model")->valuestring, "lid176") == 0, "model id echoed");
    CHECK(strcmp(cJSON_GetObjectItem(res, "task")->valuestring, "language") == 0, "task echoed");
    cJSON_Delete(r);
  }

  /* One line, as fastText reads it: newlines inside are plain spaces. */
  cJSON *a = ask("{\"op\":\"classify\",\"task\":\"language\",\"top_k\":5,"
                 "\"text\":\"Dies ist ein kurzer\\ndeutscher Satz\\r\\nüber das Wetter.\"}");
  cJSON *b = ask("{\"op\":\"classify\",\"task\":\"language\",\"top_k\":5,"
                 "\"text\":\"Dies ist ein kurzer deutscher Satz über das Wetter.\"}");
  char *sa = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "result"), "labels"));
  char *sb = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "result"), "labels"));
  CHECK(sa && sb && strcmp(sa, sb) == 0, "newlines are spaces: %s vs %s", sa, sb);
  free(sa), free(sb);
  cJSON_Delete(a), cJSON_Delete(b);

  /* top_k beyond the label count; a threshold cuts the list. */
  cJSON *r = ask("{\"op\":\"classify\",\"model\":\"lid176\",\"text\":\"Guten Morgen, wie geht es Ihnen heute?\",\"top_k\":1000}");
  const cJSON *labels = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "labels");
  int n = cJSON_GetArraySize(labels);
  double sum = 0, last = 1;
  int sorted = 1;
  const cJSON *l;
  cJSON_ArrayForEach(l, labels) {
    double p = cJSON_GetObjectItem(l, "prob")->valuedouble;
    sum += p;
    sorted &= p <= last;
    last = p;
  }
  /* Hierarchical softmax prunes branches below fastText's log(1e-5). */
  CHECK(n >= 2 && n <= 176, "top_k 1000 gives at most the 176 labels (%d)", n);
  CHECK(sorted, "labels sorted by probability");
  CHECK(sum > 0.99 && sum < 1.01, "probabilities sum to about 1 (%g)", sum);
  cJSON_Delete(r);
  r = ask("{\"op\":\"classify\",\"task\":\"language\",\"text\":\"Guten Morgen, wie geht es Ihnen heute?\",\"top_k\":10,\"threshold\":0.5}");
  labels = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "labels");
  CHECK(cJSON_GetArraySize(labels) == 1, "threshold 0.5 leaves one label");
  cJSON_Delete(r);

  /* Nothing but an empty line still gets fastText's answer for "</s>". */
  r = ask("{\"op\":\"classify\",\"task\":\"language\",\"text\":\"\"}");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "labels")) == 1,
        "empty text classified");
  cJSON_Delete(r);

  expect_error("{\"op\":\"classify\",\"task\":\"language\"}", "bad_request", "text");
  expect_error("{\"op\":\"classify\",\"task\":\"language\",\"text\":5}", "bad_request", "text");
  expect_error("{\"op\":\"classify\",\"task\":\"poetry\",\"text\":\"x\"}", "bad_request", "task");
  expect_error("{\"op\":\"classify\",\"text\":\"x\"}", "bad_request", "task");
  expect_error("{\"op\":\"classify\",\"task\":\"language\",\"text\":\"x\",\"top_k\":0}", "bad_request", "top_k");
  expect_error("{\"op\":\"classify\",\"task\":\"language\",\"text\":\"x\",\"top_k\":1.5}", "bad_request", "top_k");
  expect_error("{\"op\":\"classify\",\"task\":\"language\",\"text\":\"x\",\"threshold\":2}", "bad_request", "threshold");
  expect_error("{\"op\":\"classify\",\"model\":\"nope\",\"text\":\"x\"}", "model_not_found", "nope");
}

/* Damaged copies of lid.176: every kind of inconsistency is refused. */
static void check_corruption(const uint8_t *model, size_t size) {
  /* Truncated: the first bytes one by one, then a stride through the file. */
  size_t cuts = 0;
  for (size_t n = 0; n < size; n += n < 600 ? 1 : n < 470000 ? 997 : 4999, cuts++) {
    uint8_t *m = malloc(n ? n : 1); /* exactly n bytes, so ASan sees overreads */
    memcpy(m, model, n);
    sotto_error err = {0};
    sotto_status rc = sotto_model_add(ctx, "cut", m, n, SOTTO_MODEL_COPY, &err);
    free(m);
    /* without its 4-byte magic a file is no longer recognisably fastText */
    sotto_status want = n < 4 ? SOTTO_UNSUPPORTED_FORMAT : SOTTO_BAD_MODEL;
    if (rc != want || err.status != want || !err.message[0]) {
      CHECK(0, "truncated at %zu: %s %s", n, sotto_status_code(rc), err.message);
      if (rc == SOTTO_OK) sotto_model_remove(ctx, "cut");
    } else {
      check_passed++;
    }
  }
  CHECK(cuts > 1000, "%zu truncations tried", cuts);
  uint8_t *longer = malloc(size + 1);
  memcpy(longer, model, size);
  longer[size] = 0;
  expect_bad(longer, size + 1, "bad_model", "a byte after the end");
  free(longer);

  /* Header, arguments, dictionary header (offsets in the file format). */
  patched(model, size, 0, 4, 793712315, "unsupported_format", "wrong magic");
  patched(model, size, 4, 4, 13, "bad_model", "version 13");
  patched(model, size, 4, 4, 10, "bad_model", "version 10");
  patched(model, size, 8, 4, 0, "bad_model", "dimension 0");
  patched(model, size, 8, 4, 0xFFFFFFFFu, "bad_model", "dimension -1");
  patched(model, size, 8, 4, 17, "bad_model", "dimension unlike the matrices'");
  patched(model, size, 8, 4, 0x7FFFFFFF, "bad_model", "huge dimension");
  patched(model, size, 8 + 5 * 4, 4, 0xFFFFFFFFu, "bad_model", "negative wordNgrams");
  patched(model, size, 8 + 6 * 4, 4, 9, "bad_model", "unknown loss");
  patched(model, size, 8 + 7 * 4, 4, 7, "bad_model", "unknown model type");
  patched(model, size, 8 + 7 * 4, 4, 1, "unsupported_model", "word-vector model");
  patched(model, size, 8 + 8 * 4, 4, 0, "bad_model", "no buckets but n-grams");
  patched(model, size, 8 + 8 * 4, 4, 0x80000000u, "bad_model", "negative bucket");
  patched(model, size, 64, 4, 0x7FFFFFFF, "bad_model", "huge dictionary");
  patched(model, size, 64, 4, 0xFFFFFFFFu, "bad_model", "negative dictionary size");
  patched(model, size, 64, 4, 7412, "bad_model", "size unlike words + labels");
  patched(model, size, 68, 4, 7236, "bad_model", "one word too many");
  patched(model, size, 72, 4, 0, "bad_model", "no labels");
  patched(model, size, 72, 4, 0x7FFFFFFF, "bad_model", "huge label count");
  patched(model, size, 84, 8, 0x7FFFFFFFFFFFFFFFull, "bad_model", "huge pruned index");
  patched(model, size, 84, 8, 42766, "bad_model", "one pruned n-gram too many");

  /* Walk the dictionary to the fields after it. */
  size_t at = 92;
  for (int i = 0; i < 7411; i++) {
    size_t word = at;
    while (model[at]) at++;
    at++;
    if (i == 0) {
      patched(model, size, at + 8, 1, 1, "bad_model", "a word typed as a label");
      patched(model, size, at + 7, 1, 0x80, "bad_model", "a negative count");
      patched(model, size, word, 1, 0, "bad_model", "an entry cut short");
    }
    if (i == 7235) patched(model, size, at + 8, 1, 2, "bad_model", "an unknown entry type");
    at += 9;
  }
  size_t prune = at;
  CHECK(get32(model + prune + 4) < 50000, "first pruned row read back");
  patched(model, size, prune + 4, 4, 50000 - 7235, "bad_model", "pruned row past the matrix");
  patched(model, size, prune + 4, 4, 0xFFFFFFFFu, "bad_model", "negative pruned row");
  at += 42765 * 8;
  CHECK(model[at] == 1 && model[at + 1] == 1, "quantized input with norms at %zu", at);
  patched(model, size, at, 1, 2, "bad_model", "quantization flag 2");
  patched(model, size, at, 1, 0, "bad_model", "dense input with a pruned dictionary");
  patched(model, size, at + 1, 1, 3, "bad_model", "norm flag 3");
  patched(model, size, at + 2, 8, 1ull << 62, "bad_model", "2^62 input rows");
  patched(model, size, at + 2, 8, 7000, "bad_model", "fewer input rows than words");
  patched(model, size, at + 10, 8, 15, "bad_model", "input columns unlike dim");
  patched(model, size, at + 18, 4, 0x7FFFFFFF, "bad_model", "huge code size");
  patched(model, size, at + 18, 4, 0xFFFFFFFFu, "bad_model", "negative code size");
  size_t pq = at + 22 + 400000;
  CHECK(get32(model + pq) == 16 && get32(model + pq + 4) == 8, "product quantizer at %zu", pq);
  patched(model, size, pq, 4, 32, "bad_model", "quantizer dimension");
  patched(model, size, pq + 4, 4, 9, "bad_model", "quantizer sub-vector count");
  patched(model, size, pq + 8, 4, 0, "bad_model", "quantizer sub-vector size 0");
  patched(model, size, pq + 12, 4, 3, "bad_model", "quantizer last sub-vector size");
  patched(model, size, pq + 16, 4, 0x7FC00000u, "bad_model", "a NaN centroid");
  size_t norms = pq + 16 + 16 * 256 * 4 + 50000;
  CHECK(get32(model + norms) == 1, "norm quantizer at %zu", norms);
  patched(model, size, norms, 4, 2, "bad_model", "norm quantizer dimension");
  size_t out = norms + 16 + 256 * 4;
  CHECK(model[out] == 0, "dense output at %zu", out);
  patched(model, size, out + 1, 8, 177, "bad_model", "an output row per label, plus one");
  patched(model, size, out + 1, 8, 0xFFFFFFFFFFFFFFFFull, "bad_model", "-1 output rows");
  patched(model, size, out + 9, 8, 1ull << 40, "bad_model", "2^40 output columns");
  patched(model, size, out + 17, 4, 0x7F800000u, "bad_model", "an infinite weight");
  CHECK(out + 17 + 176 * 16 * 4 == size, "output matrix ends the file");

  static const uint8_t tiny[] = {0xBA, 0x16, 0x4F, 0x2F, 12, 0, 0, 0};
  expect_bad(tiny, sizeof tiny, "bad_model", "magic and version only");
  expect_bad(NULL, 0, "unsupported_format", "nothing");
  /* The engine still works after all that. */
  cJSON *r = ask("{\"op\":\"models.list\"}");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "models")) == 1,
        "only lid176 registered");
  cJSON_Delete(r);
}

static void check_sentiment(void) {
  size_t size = 0;
  char *data = check_read_file("out/models/sentiment-en.ftz", &size);
  if (!data) {
    printf("out/models/sentiment-en.ftz absent: sentiment checks skipped\n");
    return;
  }
  sotto_error err = {0};
  CHECK(sotto_model_add(ctx, "sentiment-en", data, size, SOTTO_MODEL_TAKE, &err) == SOTTO_OK,
        "sentiment-en loads: %s", err.message);
  cJSON *r = ask("{\"op\":\"classify\",\"task\":\"sentiment\",\"text\":\"I loved this film, it was wonderful.\",\"top_k\":2}");
  const cJSON *labels = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "labels");
  CHECK(cJSON_GetArraySize(labels) >= 1, "sentiment labels");
  const cJSON *l;
  cJSON_ArrayForEach(l, labels) {
    const cJSON *name = cJSON_GetObjectItem(l, "label"), *p = cJSON_GetObjectItem(l, "prob");
    CHECK(cJSON_IsString(name) && strncmp(name->valuestring, "__label__", 9) != 0, "prefix stripped");
    CHECK(cJSON_IsNumber(p) && p->valuedouble > 0 && p->valuedouble <= 1.00001, "probability");
  }
  cJSON_Delete(r);
}

int main(void) {
  sotto_config cfg = {.threads = 2};
  ctx = sotto_context_create(&cfg);
  CHECK(ctx != NULL, "context");
  expect_error("{\"op\":\"classify\",\"task\":\"language\",\"text\":\"x\"}", "model_not_found", "lid176");

  size_t size = 0;
  uint8_t *model = (uint8_t *)check_read_file("out/models/lid176.ftz", &size);
  CHECK(model != NULL && size == 938013, "out/models/lid176.ftz present (run `make models`)");
  if (!model) return check_finish();
  sotto_error err = {0};
  CHECK(sotto_model_add(ctx, "lid176", model, size, SOTTO_MODEL_COPY, &err) == SOTTO_OK,
        "lid176 loads: %s", err.message);
  cJSON *r = ask("{\"op\":\"models.list\"}");
  const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "models"), 0);
  CHECK(m && strcmp(cJSON_GetObjectItem(m, "format")->valuestring, "fasttext") == 0, "listed");
  CHECK(m && cJSON_GetObjectItem(m, "bytes")->valuedouble > 500000, "memory reported");
  cJSON_Delete(r);

  check_lid();
  check_corruption(model, size);
  free(model);
  check_sentiment();
  sotto_context_destroy(ctx);
  return check_finish();
}
