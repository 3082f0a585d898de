/*
 * test_summarize.c - the sentence splitter and word tokens (text.c) and the
 * "summarize" op on real news: the Reuters-21578 articles Debian's
 * r-cran-tm ships, extracted by tests/summarize/extract-reuters.py.
 *
 * The splitter cases state where sentences end by the rules of written
 * language; the summaries are checked for structure (sentence counts per
 * style and length, document order, every sentence verbatim from the input,
 * no repeats, one-sentence headlines), for identical results with one and
 * two threads, for bounded time and memory on a 100,000-word text, and for
 * content against the Reuters editors' own headlines: the share of title
 * words the short summaries contain, which the lead sentences (the strong
 * baseline for news) and the closing sentences are measured on as well.
 */
#include <sys/resource.h>
#include <time.h>

#include "cJSON.h"
#include "check.h"
#include "sotto.h"
#include "tokenizers/text.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLOWDOWN 8 /* the sanitized build is that much slower and bigger */
#else
#define SLOWDOWN 1
#endif

static sotto_context *ctx, *ctx1;

/* ---- the splitter ---- */

/* Splits text and compares the cleaned sentences with want (NULL-ended). */
static void expect_split(const char *text, const char *const *want) {
  sotto_span *sp;
  long n = sotto_text_sentences(text, strlen(text), &sp);
  long w = 0;
  while (want[w]) w++;
  CHECK(n == w, "%.50s...: %ld sentences, want %ld", text, n, w);
  for (long i = 0; i < n && i < w; i++) {
    char *s = sotto_text_clean_sentence(text + sp[i].start, sp[i].end - sp[i].start, NULL);
    CHECK(s && strcmp(s, want[i]) == 0, "sentence %ld: got [%s] want [%s]", i, s, want[i]);
    free(s);
  }
  if (n != w)
    for (long i = 0; i < n; i++)
      fprintf(stderr, "  [%ld] %.*s\n", i, (int)(sp[i].end - sp[i].start), text + sp[i].start);
  free(sp);
}
#define SPLIT(text, ...) expect_split(text, (const char *const[]){__VA_ARGS__, NULL})

static void test_splitter(void) {
  SPLIT("Mr. Smith went to Washington. He arrived at 3 p.m. on Monday.",
        "Mr. Smith went to Washington.", "He arrived at 3 p.m. on Monday.");
  SPLIT("Dr. J. R. Jones paid 3.14 dlrs for 1.000.000 shares. Prices rose 2.5 pct.",
        "Dr. J. R. Jones paid 3.14 dlrs for 1.000.000 shares.", "Prices rose 2.5 pct.");
  SPLIT("The U.S. Treasury said so. The U.S. economy grew. Oil is cheaper in the U.S. "
        "The dollar fell.",
        "The U.S. Treasury said so.", "The U.S. economy grew.", "Oil is cheaper in the U.S.",
        "The dollar fell.");
  SPLIT("Use tools, e.g. Hammers. Or not, i.e. nails, etc. Then stop.",
        "Use tools, e.g. Hammers.", "Or not, i.e. nails, etc.", "Then stop.");
  SPLIT("John F. Kennedy was president. He died in 1963.", "John F. Kennedy was president.",
        "He died in 1963.");
  SPLIT("He lived at No. 10 from Jan. 5 on Main St. The house is old.",
        "He lived at No. 10 from Jan. 5 on Main St.", "The house is old.");
  SPLIT("Diamond Shamrock Corp. said it cut prices. Pi is 3.14. It is irrational.",
        "Diamond Shamrock Corp. said it cut prices.", "Pi is 3.14.", "It is irrational.");
  SPLIT("Visit www.example.com today. Mail info@example.org now.",
        "Visit www.example.com today.", "Mail info@example.org now.");
  /* ellipses and runs of marks */
  SPLIT("Wait... what happened? I don't know\xE2\x80\xA6 Really?! Yes!!! Fine.",
        "Wait... what happened?", "I don't know\xE2\x80\xA6", "Really?!", "Yes!!!", "Fine.");
  /* closing quotes and brackets stay with their sentence */
  SPLIT("He said \"Stop.\" Then he left. (It was late.) Everyone agreed.",
        "He said \"Stop.\"", "Then he left.", "(It was late.)", "Everyone agreed.");
  SPLIT("\"Why?\" she asked. Nobody knew.", "\"Why?\" she asked.", "Nobody knew.");
  SPLIT("\xE2\x80\x9CIt works.\xE2\x80\x9D The rest followed.",
        "\xE2\x80\x9CIt works.\xE2\x80\x9D", "The rest followed.");
  /* scripts with their own sentence marks */
  SPLIT("今日は晴れです。明日は雨でしょう！本当ですか？", "今日は晴れです。",
        "明日は雨でしょう！", "本当ですか？");
  SPLIT("他说：「我来了。」然后走了。", "他说：「我来了。」", "然后走了。");
  SPLIT("यह एक वाक्य है। यह दूसरा है॥ और तीसरा।", "यह एक वाक्य है।", "यह दूसरा है॥",
        "और तीसरा।");
  SPLIT("هل أنت بخير؟ نعم أنا بخير.", "هل أنت بخير؟", "نعم أنا بخير.");
  SPLIT("Բարեւ ձեզ։ Ինչպես եք։", "Բարեւ ձեզ։", "Ինչպես եք։");
  SPLIT("ሰላም ነው። እንዴት ነህ፧", "ሰላም ነው።", "እንዴት ነህ፧");
  SPLIT("Привет. Как дела? Всё хорошо.", "Привет.", "Как дела?", "Всё хорошо.");
  /* line breaks: headings, list items, paragraphs */
  SPLIT("Title line\nFirst sentence here. Second one\n\nNew paragraph without stop",
        "Title line", "First sentence here.", "Second one", "New paragraph without stop");
  SPLIT("1. First item here\n2. Second item here\n\xE2\x80\xA2 A bullet\n- A dash item",
        "1. First item here", "2. Second item here", "A bullet", "A dash item");
  SPLIT("One\r\nTwo\r\n\r\nThree", "One", "Two", "Three");
  /* hard-wrapped text (e-mail, wire copy): wraps are not boundaries */
  SPLIT("The company said that its board of directors had approved the\n"
        "sale of the unit to a group of investors led by the chief\n"
        "Executive for 25 mln dlrs. The sale is expected to close in\n"
        "April, subject to regulatory approval and financing by the\n"
        "buyers.\n"
        "    A new paragraph starts here and it goes on for a while\n"
        "until it ends.\n",
        "The company said that its board of directors had approved the sale of the unit to a "
        "group of investors led by the chief Executive for 25 mln dlrs.",
        "The sale is expected to close in April, subject to regulatory approval and "
        "financing by the buyers.",
        "A new paragraph starts here and it goes on for a while until it ends.");
  /* German: abbreviations, ordinals, quotes */
  SPLIT("Das gilt z. B. f\xC3\xBCr Dateien, d. h. f\xC3\xBCr alle. Am 3. Oktober beginnt die 2. "
        "Phase. Sie endet im 19. Jahrhundert nicht.",
        "Das gilt z. B. f\xC3\xBCr Dateien, d. h. f\xC3\xBCr alle.",
        "Am 3. Oktober beginnt die 2. Phase.", "Sie endet im 19. Jahrhundert nicht.");
  SPLIT("Er kaufte Brot, Milch usw. Dann ging er. Siehe Abs. 2 und Nr. 17 bzw. Nr. 18. "
        "Sie belegte Platz 3. Das Team jubelte.",
        "Er kaufte Brot, Milch usw.", "Dann ging er.",
        "Siehe Abs. 2 und Nr. 17 bzw. Nr. 18.", "Sie belegte Platz 3.", "Das Team jubelte.");
  SPLIT("Sie sagte: \xE2\x80\x9E" "Ich komme.\xE2\x80\x9C Dann ging sie. \xC2\xBBJa.\xC2\xAB Er nickte.",
        "Sie sagte: \xE2\x80\x9E" "Ich komme.\xE2\x80\x9C", "Dann ging sie.",
        "\xC2\xBBJa.\xC2\xAB", "Er nickte.");
  SPLIT("Fehler, z. B. \xC2\xBB" "Archiv gesperrt\xC2\xAB, melden. Gut.",
        "Fehler, z. B. \xC2\xBB" "Archiv gesperrt\xC2\xAB, melden.", "Gut.");
  /* French: M., p. ex., spaced marks and guillemets (no-break spaces) */
  SPLIT("M. Dupont est arriv\xC3\xA9. Il dit\xC2\xA0: \xC2\xAB\xC2\xA0" "Bonjour.\xC2\xA0\xC2\xBB "
        "Puis il sortit\xE2\x80\xAF! Vraiment\xE2\x80\xAF? Oui, p. ex. demain.",
        "M. Dupont est arriv\xC3\xA9.",
        "Il dit : \xC2\xAB" " Bonjour. \xC2\xBB", "Puis il sortit !", "Vraiment ?",
        "Oui, p. ex. demain.");
  SPLIT("\xC2\xAB\xC2\xA0Pourquoi\xE2\x80\xAF?\xC2\xA0\xC2\xBB demanda-t-elle. "
        "Personne ne savait. Un vol. Il partit.",
        "\xC2\xAB Pourquoi ? \xC2\xBB demanda-t-elle.", "Personne ne savait.", "Un vol.",
        "Il partit.");
  /* footnote markers stay with their sentence and are left out of it */
  SPLIT("The proxy must be trusted.[1] Without it, headers are ignored.[2][3] Fine.\xC2\xB2 End.",
        "The proxy must be trusted.", "Without it, headers are ignored.", "Fine.\xC2\xB2",
        "End.");
  SPLIT("[1] Smith, J. Title of a book. 2001.\n[2] Doe, A. Another one.",
        "Smith, J. Title of a book.", "2001.", "Doe, A. Another one.");
  /* a line break after a comma, an article or a preposition is a wrap; a
   * table row and a heading line are not */
  SPLIT("Short line with the\nRest of it here. Another,\nSecond part.\nName | Age\nAnn | 32",
        "Short line with the Rest of it here.", "Another, Second part.", "Name | Age",
        "Ann | 32");
  SPLIT("Introduction\nThe tool runs on Linux.\n## Usage\nRun it.", "Introduction",
        "The tool runs on Linux.", "## Usage", "Run it.");
  /* names after initials go on: "F. La Roche", "M. Le Pen" */
  SPLIT("Investor David F. La Roche said so. He left.",
        "Investor David F. La Roche said so.", "He left.");

  /* no sentences in white space or punctuation alone */
  SPLIT("", NULL);
  SPLIT("  \n\t\n  ", NULL);
  SPLIT("... !!! ---", NULL);

  /* invalid UTF-8: bad bytes become U+FFFD, nothing breaks */
  SPLIT("Bad \xFF\xFE bytes here. Next \xC3 one. Cut \xE2\x82",
        "Bad \xEF\xBF\xBD\xEF\xBF\xBD bytes here.", "Next \xEF\xBF\xBD one.",
        "Cut \xEF\xBF\xBD\xEF\xBF\xBD");
  SPLIT("Overlong \xC0\xAF and surrogate \xED\xA0\x80 end.",
        "Overlong \xEF\xBF\xBD\xEF\xBF\xBD and surrogate "
        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end.");

  /* a run without any boundary is cut into pieces of bounded size */
  size_t n = 50000;
  char *run = malloc(n + 1);
  for (size_t i = 0; i < n; i++) run[i] = i % 7 == 6 ? ' ' : 'a' + (char)(i % 7);
  run[n] = 0;
  sotto_span *sp;
  long k = sotto_text_sentences(run, n, &sp), bad = 0;
  for (long i = 0; i < k; i++) bad += sp[i].end - sp[i].start > SOTTO_SENTENCE_MAX;
  CHECK(k >= 25 && bad == 0, "a 50 kB run without marks: %ld pieces, %ld too long", k, bad);
  free(sp);
  free(run);
}

typedef struct {
  char buf[512];
  size_t len;
} joined;

static int join_token(void *user, const char *tok, size_t len) {
  joined *j = user;
  if (j->len + len + 2 < sizeof j->buf) {
    memcpy(j->buf + j->len, tok, len);
    j->len += len;
    j->buf[j->len++] = '|';
    j->buf[j->len] = 0;
  }
  return 0;
}

static void expect_tokens(const char *text, const char *want) {
  joined j = {{0}, 0};
  sotto_text_tokens(text, strlen(text), join_token, &j);
  CHECK(strcmp(j.buf, want) == 0, "tokens of [%s]: [%s], want [%s]", text, j.buf, want);
}

static void test_tokens(void) {
  expect_tokens("Hello, WORLD! It's 3.14 and 155,221 bags.",
                "hello|world|it|s|3.14|and|155,221|bags|");
  expect_tokens("ÜBER Ærø ĞÜÇ İstanbul", "über|ærø|ğüç|istanbul|");
  expect_tokens("ΑΒΓ Ωμέγα ΣΟΦΟΣ", "αβγ|ωμέγα|σοφοσ|");
  expect_tokens("ПРИВЕТ Ёлка ЎЗБ", "привет|ёлка|ўзб|");
  expect_tokens("ԲԱՐԵՒ Tiếng VIỆT", "բարեւ|tiếng|việt|");
  expect_tokens("東京タワーは高い。", "東|京|タ|ワ|ー|は|高|い|");
  expect_tokens("한국어 문장", "한국어|문장|");
  expect_tokens("नमस्ते दुनिया। مرحبا بالعالم؟", "नमस्ते|दुनिया|مرحبا|بالعالم|");
  expect_tokens("a\xFF" "b \xC3(c", "a|b|c|");
  CHECK(sotto_text_is_stopword("the", 3) && sotto_text_is_stopword("yourselves", 10) &&
            sotto_text_is_stopword("a", 1) && !sotto_text_is_stopword("oil", 3) &&
            !sotto_text_is_stopword("th", 2) && !sotto_text_is_stopword("thee", 4),
        "stop words");
}

/* ---- the op ---- */

static cJSON *summarize_on(sotto_context *c, const char *text, const char *style,
                           const char *length) {
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "summarize");
  cJSON_AddStringToObject(req, "text", text);
  if (style) cJSON_AddStringToObject(req, "style", style);
  if (length) cJSON_AddStringToObject(req, "length", length);
  char *json = cJSON_PrintUnformatted(req);
  cJSON_Delete(req);
  char *out = sotto_request(c, json);
  cJSON_free(json);
  cJSON *r = out ? cJSON_Parse(out) : NULL;
  CHECK(r != NULL, "response is JSON");
  sotto_string_free(out);
  return r;
}

static const char *error_code(const cJSON *r) {
  const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "code");
  return cJSON_IsString(c) ? c->valuestring : "";
}

static void expect_error(const char *json, const char *code) {
  char *out = sotto_request(ctx, json);
  cJSON *r = cJSON_Parse(out);
  CHECK(strcmp(error_code(r), code) == 0, "%.60s -> %s, got %s", json, code, out);
  cJSON_Delete(r);
  sotto_string_free(out);
}

static const char *styles[] = {"key-points", "tldr", "headline"};
static const char *lengths[] = {"short", "medium", "long"};
static const int counts[3][3] = {{3, 5, 7}, {1, 3, 5}, {1, 1, 1}};

/* Structural checks of one summary of text; returns the sentence count. */
static int check_summary(const char *name, const char *text, const cJSON *r, int style,
                         int length) {
  const cJSON *res = cJSON_GetObjectItem(r, "result");
  CHECK(res != NULL, "%s %s/%s: %s", name, styles[style], lengths[length], error_code(r));
  if (!res) return 0;
  const cJSON *sents = cJSON_GetObjectItem(res, "sentences");
  const cJSON *summary = cJSON_GetObjectItem(res, "summary");
  int n = cJSON_GetArraySize(sents);
  CHECK(strcmp(cJSON_GetObjectItem(res, "style")->valuestring, styles[style]) == 0 &&
            strcmp(cJSON_GetObjectItem(res, "length")->valuestring, lengths[length]) == 0,
        "%s: style and length echoed", name);

  /* the sentences of the input, by the splitter the op uses */
  sotto_span *sp;
  long total = sotto_text_sentences(text, strlen(text), &sp);
  CHECK(cJSON_GetObjectItem(res, "input_sentences")->valuedouble == (double)total,
        "%s: input_sentences", name);
  int want = counts[style][length] < total ? counts[style][length] : (int)total;
  CHECK(n == want, "%s %s/%s: %d sentences, want %d", name, styles[style], lengths[length], n,
        want);
  char *clean_text = sotto_text_clean_sentence(text, strlen(text), NULL);
  size_t cap = strlen(text) * 3 + 64, used = 0;
  char *expect = malloc(cap);
  expect[0] = 0;
  long last = -1;
  for (int i = 0; i < n; i++) {
    const cJSON *s = cJSON_GetArrayItem(sents, i);
    const char *st = cJSON_GetObjectItem(s, "text")->valuestring;
    long index = (long)cJSON_GetObjectItem(s, "index")->valuedouble;
    CHECK(index > last && index < total, "%s: sentence %d index %ld in document order", name, i,
          index);
    last = index;
    CHECK(strstr(clean_text, st) != NULL, "%s: sentence %d occurs verbatim in the text", name, i);
    if (index >= 0 && index < total) {
      char *orig =
          sotto_text_clean_sentence(text + sp[index].start, sp[index].end - sp[index].start, NULL);
      CHECK(strcmp(orig, st) == 0, "%s: sentence %d is input sentence %ld", name, i, index);
      free(orig);
    }
    for (int j = 0; j < i; j++)
      CHECK(strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(sents, j), "text")->valuestring, st),
            "%s: sentence %d repeats sentence %d", name, i, j);
    used += (size_t)snprintf(expect + used, cap - used, "%s%s",
                             i == 0 ? (style == 0 ? "\xE2\x80\xA2 " : "")
                                    : (style == 0 ? "\n\xE2\x80\xA2 " : " "),
                             st);
  }
  CHECK(cJSON_IsString(summary) && strcmp(summary->valuestring, expect) == 0,
        "%s %s: summary text is the sentences, formatted", name, styles[style]);
  if (style == 2) CHECK(n == 1, "%s: a headline is one sentence", name);
  free(expect);
  free(clean_text);
  free(sp);
  return n;
}

/* ---- title words: a reference written by people ---- */

typedef struct {
  char words[32][SOTTO_TOKEN_MAX + 1];
  int n, found[32];
} word_set;

static int add_title_word(void *user, const char *tok, size_t len) {
  word_set *w = user;
  for (size_t i = 0; i < len; i++)
    if (tok[i] >= '0' && tok[i] <= '9') return 0;
  if (sotto_text_is_stopword(tok, len) || w->n == 32) return 0;
  for (int i = 0; i < w->n; i++)
    if (strlen(w->words[i]) == len && memcmp(w->words[i], tok, len) == 0) return 0;
  memcpy(w->words[w->n], tok, len);
  w->words[w->n][len] = 0;
  w->found[w->n++] = 0;
  return 0;
}

static int find_title_word(void *user, const char *tok, size_t len) {
  word_set *w = user;
  for (int i = 0; i < w->n; i++)
    if (strlen(w->words[i]) == len && memcmp(w->words[i], tok, len) == 0) w->found[i] = 1;
  return 0;
}

/* The share of the title's words (no function words, no numbers) in text;
 * -1 for a title without such words. */
static double title_recall(const char *title, const char *text, size_t len) {
  word_set w = {.n = 0};
  sotto_text_tokens(title, strlen(title), add_title_word, &w);
  if (w.n == 0) return -1;
  sotto_text_tokens(text, len, find_title_word, &w);
  int found = 0;
  for (int i = 0; i < w.n; i++) found += w.found[i];
  return (double)found / w.n;
}

/* The title of article name from titles.txt ("name\ttitle" lines), malloc'ed. */
static char *title_of(const char *titles, const char *name) {
  size_t n = strlen(name);
  for (const char *l = titles; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (strncmp(l, name, n) == 0 && l[n] == '\t')
      return strndup(l + n + 1, strcspn(l + n + 1, "\n"));
  return NULL;
}

static char *read_out(const char *dir, const char *name) {
  char rel[512];
  snprintf(rel, sizeof rel, "out/summarize/%s/%s", dir, name);
  return check_read_file(rel, NULL);
}

static void test_reuters(const char *dir) {
  char *index = read_out(dir, "index.txt");
  CHECK(index != NULL, "Reuters articles extracted");
  if (!index) return;
  char *titles = read_out(dir, "titles.txt");
  CHECK(titles != NULL, "Reuters titles extracted");
  int articles = 0, summaries = 0, same_threads = 0, titled = 0;
  /* title-word recall: headline, tldr and key-points (short), lead-1 and
   * lead-3, last-1 and last-3 sentences */
  double recall[7] = {0};
  char *save = NULL;
  for (char *line = strtok_r(index, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *text = read_out(dir, line);
    CHECK(text != NULL, "read %s", line);
    if (!text) continue;
    articles++;
    char *title = title_of(titles, line);
    if (title && title_recall(title, "", 0) >= 0) {
      titled++;
      for (int s = 0; s < 3; s++) {
        cJSON *r = summarize_on(ctx, text, styles[s], "short");
        const cJSON *sm = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "summary");
        if (cJSON_IsString(sm)) /* styles[] is key-points, tldr, headline */
          recall[2 - s] += title_recall(title, sm->valuestring, strlen(sm->valuestring));
        cJSON_Delete(r);
      }
      sotto_span *sp;
      long n = sotto_text_sentences(text, strlen(text), &sp);
      if (n > 0) {
        long k = n < 3 ? n : 3;
        recall[3] += title_recall(title, text + sp[0].start, sp[0].end - sp[0].start);
        recall[4] += title_recall(title, text + sp[0].start, sp[k - 1].end - sp[0].start);
        recall[5] += title_recall(title, text + sp[n - 1].start, sp[n - 1].end - sp[n - 1].start);
        recall[6] += title_recall(title, text + sp[n - k].start, sp[n - 1].end - sp[n - k].start);
      }
      free(sp);
    }
    free(title);
    for (int s = 0; s < 3; s++)
      for (int l = 0; l < 3; l++) {
        cJSON *r = summarize_on(ctx, text, styles[s], lengths[l]);
        cJSON *r1 = summarize_on(ctx1, text, styles[s], lengths[l]);
        check_summary(line, text, r, s, l);
        summaries++;
        /* one thread or two: the same sentences (see task_summarize.c) */
        cJSON *a = cJSON_GetObjectItem(r, "result"), *b = cJSON_GetObjectItem(r1, "result");
        char *sa = cJSON_PrintUnformatted(cJSON_GetObjectItem(a, "sentences"));
        char *sb = cJSON_PrintUnformatted(cJSON_GetObjectItem(b, "sentences"));
        same_threads += sa && sb && strcmp(sa, sb) == 0;
        cJSON_free(sa), cJSON_free(sb);
        cJSON_Delete(r), cJSON_Delete(r1);
      }
    if (articles == 1) { /* show one, for the log */
      cJSON *r = summarize_on(ctx, text, "tldr", "medium");
      printf("%s tldr/medium: %s\n", line,
             cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "summary")->valuestring);
      cJSON_Delete(r);
    }
    free(text);
  }
  free(index);
  free(titles);
  CHECK(articles >= 70, "%d Reuters articles", articles);
  for (int i = 0; i < 7; i++) recall[i] /= titled ? titled : 1;
  printf("title words found (%d titles): headline %.3f, tldr %.3f, key-points %.3f (short); "
         "first sentence %.3f, first three %.3f; last %.3f, last three %.3f\n",
         titled, recall[0], recall[1], recall[2], recall[3], recall[4], recall[5], recall[6]);
  /* the summaries must hold the point of the news about as well as the
   * lead (which editors write to carry it), and far better than the end */
  CHECK(titled >= 70, "%d articles with titles", titled);
  CHECK(recall[0] >= 0.85 * recall[3] && recall[1] >= 0.85 * recall[3],
        "one-sentence summaries hold %.3f / %.3f of the title words, the lead %.3f", recall[0],
        recall[1], recall[3]);
  CHECK(recall[2] >= 0.9 * recall[4], "key-points (3) hold %.3f of the title words, lead-3 %.3f",
        recall[2], recall[4]);
  CHECK(recall[0] > recall[5] + 0.1 && recall[2] > recall[6] + 0.1,
        "summaries beat the closing sentences (%.3f vs %.3f, %.3f vs %.3f)", recall[0], recall[5],
        recall[2], recall[6]);
  CHECK(same_threads == summaries, "1 and 2 threads agree on %d of %d summaries", same_threads,
        summaries);
  printf("Reuters: %d articles, %d summaries checked\n", articles, summaries);
}

/* ---- pages written by hand: sentences marked by their author ---- */

/* White space as one space (no-break spaces included), in place. */
static void squeeze(char *s) {
  char *c = sotto_text_clean(s, strlen(s), NULL);
  strcpy(s, c);
  free(c);
}

static const char *page_kind(const char *kind) {
  return strcmp(kind, "footnote") == 0 ? "note" : kind;
}

/* The page's units as a splitter must find them in its plain text: each
 * sentence of a paragraph or item, and each heading, caption, table row and
 * footnote whole. NULL-ended, malloc'ed strings. */
static char **page_units(const cJSON *page, long *n) {
  char **u = NULL;
  long k = 0, cap = 0;
  const cJSON *b;
  cJSON_ArrayForEach(b, cJSON_GetObjectItem(page, "blocks")) {
    const cJSON *sents = cJSON_GetObjectItem(b, "sentences"), *s;
    const cJSON *cells = cJSON_GetObjectItem(b, "cells");
    if (k + cJSON_GetArraySize(sents) + 2 > cap) {
      cap = 2 * cap + cJSON_GetArraySize(sents) + 64;
      u = realloc(u, (size_t)cap * sizeof *u);
    }
    if (sents) {
      cJSON_ArrayForEach(s, sents) u[k++] = strdup(s->valuestring);
    } else if (cells) {
      size_t len = 0;
      cJSON_ArrayForEach(s, cells) len += strlen(s->valuestring) + 3;
      char *row = calloc(len + 1, 1);
      cJSON_ArrayForEach(s, cells) {
        if (*row) strcat(row, " | ");
        strcat(row, s->valuestring);
      }
      u[k++] = row;
    } else {
      u[k++] = strdup(cJSON_GetObjectItem(b, "text")->valuestring);
    }
  }
  for (long i = 0; i < k; i++) squeeze(u[i]);
  u[k] = NULL;
  *n = k;
  return u;
}

/* The summary of a page, as text or as blocks; checks every sentence is a
 * marked sentence of a paragraph or list item, and returns in *covered the
 * number of sections its sentences come from and in *last the position
 * (0..1) of the last one among the marked sentences. */
static void check_page_summary(const char *name, const char *what, const cJSON *page,
                               const char *req_json, int want, int *covered, double *last) {
  char *out = sotto_request(ctx, req_json);
  cJSON *r = cJSON_Parse(out);
  const cJSON *sents = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "sentences"), *s;
  CHECK(cJSON_GetArraySize(sents) == want, "%s %s: %d sentences, want %d (%.200s)", name, what,
        cJSON_GetArraySize(sents), want, out);
  char seen[256] = {0};
  int total = 0, pos = 0;
  *covered = 0, *last = 0;
  const cJSON *b;
  cJSON_ArrayForEach(b, cJSON_GetObjectItem(page, "blocks"))
    total += cJSON_GetArraySize(cJSON_GetObjectItem(b, "sentences"));
  cJSON_ArrayForEach(s, sents) {
    char *t = strdup(cJSON_GetObjectItem(s, "text")->valuestring);
    squeeze(t);
    int found = 0, at = 0;
    cJSON_ArrayForEach(b, cJSON_GetObjectItem(page, "blocks")) {
      const cJSON *m;
      cJSON_ArrayForEach(m, cJSON_GetObjectItem(b, "sentences")) {
        char *x = strdup(m->valuestring);
        squeeze(x);
        if (!found && strcmp(x, t) == 0) {
          found = 1, pos = at;
          int sec = cJSON_GetObjectItem(b, "section")->valueint & 255;
          *covered += !seen[sec];
          seen[sec] = 1;
        }
        at++;
        free(x);
      }
    }
    CHECK(found, "%s %s: \"%s\" is a marked sentence of the page", name, what, t);
    if (found && (double)pos / total > *last) *last = (double)pos / total;
    free(t);
  }
  cJSON_Delete(r);
  sotto_string_free(out);
}

static void test_pages(const char *dir) {
  char rel[512];
  snprintf(rel, sizeof rel, "out/summarize/%s/pages/index.txt", dir);
  char *index = check_read_file(rel, NULL);
  CHECK(index != NULL, "pages made");
  if (!index) return;
  static const char *const variants[] = {"txt", "w40.txt", "w50.txt", "w60.txt", "w72.txt",
                                         "w79.txt", "w100.txt", "ragged.txt", "indent.txt"};
  char *save = NULL;
  int pages = 0;
  for (char *name = strtok_r(index, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
    snprintf(rel, sizeof rel, "out/summarize/%s/pages/%s.json", dir, name);
    char *json = check_read_file(rel, NULL);
    cJSON *page = json ? cJSON_Parse(json) : NULL;
    free(json);
    CHECK(page != NULL, "%s: page description", name);
    if (!page) continue;
    pages++;
    long n_units;
    char **units = page_units(page, &n_units);

    /* 1. the splitter finds the author's sentences, however the text is wrapped */
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
      snprintf(rel, sizeof rel, "out/summarize/%s/pages/%s.%s", dir, name, variants[v]);
      char *text = check_read_file(rel, NULL);
      if (!text) continue;
      sotto_span *sp;
      long n = sotto_text_sentences(text, strlen(text), &sp), same = 0;
      for (long i = 0; i < n && i < n_units; i++) {
        char *s = sotto_text_clean_sentence(text + sp[i].start, sp[i].end - sp[i].start, NULL);
        if (strcmp(s, units[i]) == 0) same++;
        else if (same == i) fprintf(stderr, "  %s.%s sentence %ld: [%s] want [%s]\n", name,
                                    variants[v], i, s, units[i]);
        free(s);
      }
      CHECK(n == n_units && same == n, "%s.%s: %ld of %ld sentences as marked (%ld found)", name,
            variants[v], same, n_units, n);
      free(sp);
      free(text);
    }

    /* 2. summaries: marked sentences only, from across the page */
    snprintf(rel, sizeof rel, "out/summarize/%s/pages/%s.w72.txt", dir, name);
    char *text = check_read_file(rel, NULL);
    cJSON *blocks = cJSON_CreateArray();
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItem(page, "blocks")) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "kind", page_kind(cJSON_GetObjectItem(b, "kind")->valuestring));
      cJSON_AddStringToObject(o, "text", cJSON_GetObjectItem(b, "text")->valuestring);
      cJSON_AddItemToArray(blocks, o);
    }
    for (int l = 0; l < 3; l++) {
      for (int as_blocks = 0; as_blocks < 2; as_blocks++) {
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "op", "summarize");
        if (as_blocks) cJSON_AddItemReferenceToObject(req, "blocks", blocks);
        else cJSON_AddStringToObject(req, "text", text ? text : "");
        cJSON_AddStringToObject(req, "length", lengths[l]);
        char *req_json = cJSON_PrintUnformatted(req);
        cJSON_Delete(req);
        int covered;
        double last;
        char what[64];
        snprintf(what, sizeof what, "key-points/%s (%s)", lengths[l], as_blocks ? "blocks" : "text");
        check_page_summary(name, what, page, req_json, counts[0][l], &covered, &last);
        printf("%s %s: %d sections, last sentence at %.2f of the page\n", name, what, covered,
               last);
        /* the opening alone (the first three sentences) would be one section, at 0.03 */
        CHECK(covered >= 3 && last >= 0.5,
              "%s %s: from %d different sections (want 3 or more), the last at %.2f "
              "(want 0.5 or more)", name, what, covered, last);
        cJSON_free(req_json);
      }
    }
    cJSON_Delete(blocks);
    free(text);
    for (long i = 0; i < n_units; i++) free(units[i]);
    free(units);
    cJSON_Delete(page);
  }
  CHECK(pages == 3, "%d pages", pages);
  free(index);
}

static void test_edges(void) {
  expect_error("{\"op\":\"summarize\",\"text\":\"\"}", "empty_text");
  expect_error("{\"op\":\"summarize\",\"text\":\"  \\n\\t \\n \"}", "empty_text");
  expect_error("{\"op\":\"summarize\",\"text\":\"... !!! ???\"}", "empty_text");
  expect_error("{\"op\":\"summarize\"}", "bad_request");
  expect_error("{\"op\":\"summarize\",\"text\":42}", "bad_request");
  expect_error("{\"op\":\"summarize\",\"text\":\"Hi.\",\"style\":\"poem\"}", "bad_request");
  expect_error("{\"op\":\"summarize\",\"text\":\"Hi.\",\"length\":\"huge\"}", "bad_request");
  expect_error("{\"op\":\"summarize\",\"text\":\"Hi.\",\"length\":3}", "bad_request");
  expect_error("{\"op\":\"summarize\",\"text\":\"Hi.\",\"model\":\"gpt\"}", "model_not_found");

  /* blocks */
  expect_error("{\"op\":\"summarize\",\"text\":\"Hi.\",\"blocks\":[]}", "bad_request");
  expect_error("{\"op\":\"summarize\",\"blocks\":{}}", "bad_request");
  expect_error("{\"op\":\"summarize\",\"blocks\":[{\"kind\":\"paragraph\"}]}", "bad_request");
  expect_error("{\"op\":\"summarize\",\"blocks\":[\"Hi.\"]}", "bad_request");
  expect_error("{\"op\":\"summarize\",\"blocks\":[{\"kind\":\"poem\",\"text\":\"Hi.\"}]}",
               "bad_request");
  expect_error("{\"op\":\"summarize\",\"blocks\":[]}", "empty_text");
  expect_error("{\"op\":\"summarize\",\"blocks\":[{\"kind\":\"heading\",\"text\":\"Only a "
               "heading that is long enough to be a sentence.\"},{\"kind\":\"caption\",\"text\":"
               "\"Figure 1: A caption.\"},{\"kind\":\"cell\",\"text\":\"A cell.\"}]}",
               "empty_text");
  {
    char *out = sotto_request(
        ctx, "{\"op\":\"summarize\",\"length\":\"long\",\"blocks\":["
             "{\"kind\":\"heading\",\"text\":\"Setting up the proxy server for production\"},"
             "{\"kind\":\"paragraph\",\"text\":\"The proxy must be trusted.[1] Then it\\nworks.\"},"
             "{\"kind\":\"caption\",\"text\":\"Figure 1: The proxy server in front of the wiki.\"},"
             "{\"kind\":\"code\",\"text\":\"server { listen 80; }\"},"
             "{\"kind\":\"heading\",\"text\":\"Backups\"},"
             "{\"kind\":\"item\",\"text\":\"Keep seven daily backups\"},"
             "{\"kind\":\"note\",\"text\":\"[1] Proxies are listed in trusted_proxies.\"}]}");
    cJSON *r = cJSON_Parse(out);
    const cJSON *res = cJSON_GetObjectItem(r, "result");
    const cJSON *sents = cJSON_GetObjectItem(res, "sentences");
    const char *s0 = cJSON_GetObjectItem(cJSON_GetArrayItem(sents, 0), "text")->valuestring;
    const char *s2 = cJSON_GetObjectItem(cJSON_GetArrayItem(sents, 2), "text")->valuestring;
    CHECK(cJSON_GetArraySize(sents) == 3 && strcmp(s0, "The proxy must be trusted.") == 0 &&
              strcmp(s2, "Keep seven daily backups") == 0 &&
              cJSON_GetObjectItem(cJSON_GetArrayItem(sents, 2), "block")->valueint == 5 &&
              cJSON_GetObjectItem(res, "input_sections")->valueint == 3,
          "blocks: only paragraph and item sentences, markers left out: %s", out);
    cJSON_Delete(r);
    sotto_string_free(out);
  }

  {
    /* a paragraph that repeats a heading is still there to choose */
    char *out = sotto_request(ctx, "{\"op\":\"summarize\",\"blocks\":[{\"kind\":\"heading\","
                                   "\"text\":\"Backups\"},{\"kind\":\"paragraph\",\"text\":\"Backups\"}]}");
    CHECK(strstr(out, "\"sentences\":[{\"text\":\"Backups\",\"index\":1,\"block\":1}]") != NULL,
          "a paragraph repeating a heading: %s", out);
    sotto_string_free(out);
  }

  /* one sentence: that sentence, whatever the style */
  const char *one = "  The   only sentence \t here, with no final stop  ";
  for (int s = 0; s < 3; s++)
    for (int l = 0; l < 3; l++) {
      cJSON *r = summarize_on(ctx, one, styles[s], lengths[l]);
      const cJSON *res = cJSON_GetObjectItem(r, "result");
      const cJSON *sents = cJSON_GetObjectItem(res, "sentences");
      CHECK(cJSON_GetArraySize(sents) == 1 &&
                strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(sents, 0), "text")->valuestring,
                       "The only sentence here, with no final stop") == 0,
            "one sentence -> that sentence (%s/%s)", styles[s], lengths[l]);
      cJSON_Delete(r);
    }
  cJSON *r = summarize_on(ctx, "Short one. Tiny.", NULL, NULL);
  const cJSON *res = cJSON_GetObjectItem(r, "result");
  CHECK(res && strcmp(cJSON_GetObjectItem(res, "style")->valuestring, "key-points") == 0 &&
            strcmp(cJSON_GetObjectItem(res, "length")->valuestring, "short") == 0,
        "defaults: key-points, short");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(res, "sentences")) == 2, "short sentences kept "
        "when nothing else is there");
  cJSON_Delete(r);

  /* repeats: exact ones dropped, near ones (same words but one) never together */
  const char *rep =
      "Oil prices rose sharply on Monday in New York trading. "
      "Analysts expect the cartel to cut output at its next meeting in Vienna. "
      "Oil prices rose sharply on Monday in New York trading. "
      "Oil prices rose sharply on Monday in London trading. "
      "The dollar weakened against the yen and the mark. "
      "Gold was steady at 400 dlrs an ounce in quiet dealings. "
      "Oil prices rose sharply on Monday in New York trading.";
  r = summarize_on(ctx, rep, "key-points", "long");
  const cJSON *sents = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "sentences");
  int oil = 0;
  for (int i = 0; i < cJSON_GetArraySize(sents); i++)
    oil += strncmp(cJSON_GetObjectItem(cJSON_GetArrayItem(sents, i), "text")->valuestring,
                   "Oil prices rose", 15) == 0;
  CHECK(cJSON_GetArraySize(sents) == 4 && oil == 1,
        "repeats: %d sentences (want 4 of 7), %d about oil prices (want 1)",
        cJSON_GetArraySize(sents), oil);
  cJSON_Delete(r);

  /* CJK and Hindi texts summarise too */
  r = summarize_on(ctx,
                   "東京は日本の首都です。東京の人口は多いです。大阪は日本の大きな都市です。"
                   "京都には古い寺がたくさんあります。東京と大阪は新幹線で結ばれています。",
                   "tldr", "medium");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "sentences")) ==
            3,
        "Japanese: three sentences");
  cJSON_Delete(r);
  r = summarize_on(ctx, "\xFF\xFE\xFD junk \xC3. More \xE2\x82 junk here. Fine words here.",
                   "tldr", "long");
  CHECK(cJSON_GetObjectItem(r, "result") != NULL, "invalid UTF-8 summarises: %s", error_code(r));
  char *printed = cJSON_PrintUnformatted(r);
  cJSON *again = cJSON_Parse(printed);
  CHECK(again != NULL, "output with bad input bytes is valid JSON");
  cJSON_Delete(again);
  cJSON_free(printed);
  cJSON_Delete(r);
}

static int partials, cancel_after;
static int on_partial(void *user, const char *json) {
  (void)user;
  if (!json) return cancel_after && partials >= cancel_after; /* a cancellation checkpoint */
  partials++;
  CHECK(strstr(json, "\"progress\":") != NULL, "partial carries progress: %.80s", json);
  return cancel_after && partials >= cancel_after;
}

static long peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t count_words(const char *s) {
  size_t n = 0;
  for (int in = 0; *s; s++) {
    int sp = *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r';
    n += !sp && !in;
    in = !sp;
  }
  return n;
}

/* Appends text to buf (growing it); in round r > 0 every word of six or
 * more letters gets the suffix "q" + ('a' + r - 1), so that repeated
 * articles are new sentences with new terms, not exact repeats (which the
 * summarizer would drop before ranking). */
static void append_variant(char **buf, size_t *len, size_t *cap, const char *text, int round) {
  size_t n = strlen(text), run = 0;
  if (*len + 2 * n + 3 > *cap) {
    while (*len + 2 * n + 3 > *cap) *cap *= 2;
    *buf = realloc(*buf, *cap);
  }
  for (size_t i = 0; i <= n; i++) {
    int letter = i < n && ((text[i] | 32) >= 'a' && (text[i] | 32) <= 'z');
    if (!letter && run >= 6 && round > 0) {
      (*buf)[(*len)++] = 'q';
      (*buf)[(*len)++] = (char)('a' + (round - 1) % 26);
    }
    run = letter ? run + 1 : 0;
    if (i < n) (*buf)[(*len)++] = text[i];
  }
  memcpy(*buf + *len, "\n\n", 3);
  *len += 2;
}

/* The Reuters articles, concatenated (repeated as needed, each round a
 * variant: append_variant) to 100,000 words. */
static void test_large(const char *dir) {
  char *index = read_out(dir, "index.txt");
  if (!index) return;
  size_t cap = 1 << 20, len = 0, words = 0;
  char *big = malloc(cap);
  big[0] = 0;
  for (int round = 0; words < 100000 && round < 100; round++) {
    char *copy = strdup(index);
    for (char *line = strtok(copy, "\n"); line && words < 100000; line = strtok(NULL, "\n")) {
      char *text = read_out(dir, line);
      if (!text) continue;
      append_variant(&big, &len, &cap, text, round);
      words += count_words(text);
      free(text);
    }
    free(copy);
  }
  free(index);
  CHECK(words >= 100000, "built a %zu-word text", words);

  /* the request JSON is built first: its memory is not the op's */
  cJSON *req = cJSON_CreateObject();
  cJSON_AddStringToObject(req, "op", "summarize");
  cJSON_AddStringToObject(req, "text", big);
  cJSON_AddStringToObject(req, "style", "key-points");
  cJSON_AddStringToObject(req, "length", "long");
  cJSON_AddTrueToObject(req, "stream");
  char *json = cJSON_PrintUnformatted(req);
  cJSON_Delete(req);
  long rss0 = peak_rss_kb();
  double t0 = now_s();
  char *out = sotto_request_stream(ctx, json, on_partial, NULL);
  double secs = now_s() - t0;
  long grown_mb = (peak_rss_kb() - rss0) / 1024;
  cJSON *r = cJSON_Parse(out);
  int n = check_summary("100k words", big, r, 0, 2);
  const cJSON *in = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "input_sentences");
  printf("100k words (%zu bytes, %d sentences): %.3f s, peak RSS grew %ld MB, %d partials, "
         "%d sentences chosen\n", len, in ? in->valueint : -1, secs, grown_mb, partials, n);
  CHECK(secs < 10.0 * SLOWDOWN, "100k words in %.2f s (bound %d s)", secs, 10 * SLOWDOWN);
  CHECK(grown_mb < 200 * SLOWDOWN, "100k words: peak RSS grew %ld MB (bound %d)", grown_mb,
        200 * SLOWDOWN);
  CHECK(partials >= 2, "progress streamed (%d partials)", partials);
  cJSON_Delete(r);
  sotto_string_free(out);

  /* cancelling from the stream callback ends the request */
  partials = 0, cancel_after = 1;
  out = sotto_request_stream(ctx, json, on_partial, NULL);
  r = cJSON_Parse(out);
  CHECK(strcmp(error_code(r), "cancelled") == 0, "cancelled: %.100s", out);
  cJSON_Delete(r);
  sotto_string_free(out);
  cJSON_free(json);
  free(big);
}

int main(int argc, char **argv) {
  /* The articles go under out/, one folder per test binary (the plain and
   * the sanitized test may run at once). */
  const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
  name = name ? name + 1 : "test_summarize";
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 '%s/tests/summarize/extract-reuters.py' '%s/out/summarize/%s'",
           SOTTO_SOURCE_DIR, SOTTO_SOURCE_DIR, name);
  CHECK(system(cmd) == 0, "extract the Reuters articles: %s", cmd);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/pages/make-pages.py' '%s/out/summarize/%s/pages'",
           SOTTO_SOURCE_DIR, SOTTO_SOURCE_DIR, name);
  CHECK(system(cmd) == 0, "make the test pages: %s", cmd);

  ctx = sotto_context_create(&(sotto_config){.threads = 2});
  ctx1 = sotto_context_create(&(sotto_config){.threads = 1});
  CHECK(ctx && ctx1, "contexts");
  test_splitter();
  test_tokens();
  test_edges();
  test_reuters(name);
  test_pages(name);
  test_large(name);
  sotto_context_destroy(ctx);
  sotto_context_destroy(ctx1);
  return check_finish();
}
