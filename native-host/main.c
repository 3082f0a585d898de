/*
 * sotto-host - the native messaging host of the sotto extension, and the
 * command line of its encrypted model store.
 *
 * Started by a browser (never by hand) it serves one port:
 *   Chrome, Chromium, Brave, Edge, Vivaldi:  sotto-host chrome-extension://ID/ [--parent-window=N]
 *   Firefox:                                 sotto-host /path/to/org.sotto.host.json ADDON-ID
 * and refuses any caller not listed in its allow-list, a file written by
 * install.sh next to the installed binary: <binary>.allowed, one origin or
 * add-on id a line ($SOTTO_HOST_ALLOWED names another file, e.g. in tests).
 * The browser enforces the manifest's allowed_origins too; this check keeps
 * the host safe when a manifest is edited or another program starts it.
 *
 * By hand:
 *   sotto-host models add FILE [--id ID] [--format F] [--task T] [--source S]
 *                              [--sha256 HEX] [--runs-in both|native]
 *   sotto-host models list [--json]
 *   sotto-host models verify ID
 *   sotto-host models delete ID
 *   sotto-host models catalogue [--json]
 *   sotto-host store init --passphrase   (passphrase from $SOTTO_PASSPHRASE or stdin)
 *   sotto-host store path
 *   sotto-host --version
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

#include "host.h"

static void usage(FILE *f) {
  fputs("usage: sotto-host models add FILE [--id ID] [--format F] [--task T] [--source S]\n"
        "                                  [--sha256 HEX] [--runs-in both|native]\n"
        "       sotto-host models list [--json]\n"
        "       sotto-host models verify ID\n"
        "       sotto-host models delete ID\n"
        "       sotto-host models catalogue [--json]\n"
        "       sotto-host store init --passphrase\n"
        "       sotto-host store path\n"
        "       sotto-host --version\n"
        "Browsers start it as their native messaging host " HOST_NAME ".\n",
        f);
}

/* ---- the caller check ---- */

static int exe_path(char *out, size_t n) {
#ifdef __APPLE__
  char raw[4096];
  uint32_t size = sizeof raw;
  if (_NSGetExecutablePath(raw, &size) != 0 || !realpath(raw, out)) return -1;
  (void)n;
  return 0;
#else
  ssize_t k = readlink("/proc/self/exe", out, n - 1);
  if (k <= 0) return -1;
  out[k] = 0;
  return 0;
#endif
}

static void trim_slash(char *s) {
  size_t n = strlen(s);
  while (n && s[n - 1] == '/') s[--n] = 0;
}

/* The file $env_name names, else one beside this program: its own path
 * followed by suffix (in_folder 0: "sotto-host.allowed"), or the file
 * suffix in its folder (in_folder 1). -1 when the program's path is unknown. */
static int host_file(const char *env_name, const char *suffix, int in_folder, char *path,
                     size_t n) {
  const char *env = getenv(env_name);
  if (env && *env) {
    snprintf(path, n, "%s", env);
    return 0;
  }
  char exe[4096];
  if (exe_path(exe, sizeof exe) != 0) return -1;
  if (in_folder) {
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    slash[1] = 0;
  }
  snprintf(path, n, "%s%s", exe, suffix);
  return 0;
}

/* 1 when caller is listed in the allow-list. */
static int caller_allowed(const char *caller, char *why, size_t why_n) {
  char path[4200];
  if (host_file("SOTTO_HOST_ALLOWED", ".allowed", 0, path, sizeof path) != 0) {
    snprintf(why, why_n, "cannot find this program's path");
    return 0;
  }
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(why, why_n, "no allow-list %.4000s (run install.sh)", path);
    return 0;
  }
  char want[512], line[512];
  snprintf(want, sizeof want, "%s", caller);
  trim_slash(want);
  int ok = 0;
  while (!ok && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    char *s = line + strspn(line, " \t");
    if (!*s || *s == '#') continue;
    s[strcspn(s, " \t")] = 0;
    trim_slash(s);
    ok = *want && strcmp(s, want) == 0;
  }
  fclose(f);
  if (!ok) snprintf(why, why_n, "%.200s is not in %.3900s", caller, path);
  return ok;
}

/* ---- serving a browser port ---- */

static int out_fd = -1;

static int write_stdout(void *user, const uint8_t *p, size_t n) {
  (void)user;
  while (n > 0) {
    ssize_t k = write(out_fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    p += k, n -= (size_t)k;
  }
  return 0;
}

static size_t env_size(const char *name, size_t dflt) {
  const char *v = getenv(name);
  char *end;
  if (!v || !*v) return dflt;
  unsigned long long x = strtoull(v, &end, 10);
  return *end || x > (1ull << 31) ? dflt : (size_t)x;
}

static int serve(const char *caller) {
  signal(SIGPIPE, SIG_IGN);
  /* stdout belongs to the browser: keep it for frames only and point fd 1
   * at stderr, so nothing else can ever print into the protocol. */
  out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (out_fd < 0 || dup2(2, 1) < 0) {
    host_log("cannot set up stdout: %s", strerror(errno));
    return 1;
  }
  char why[4200];
  if (!caller_allowed(caller, why, sizeof why)) {
    host_log("refused caller: %s", why);
    uint8_t frame[256];
    int n = snprintf((char *)frame + 4, sizeof frame - 4,
                     "{\"id\":null,\"error\":{\"code\":\"%s\",\"message\":\"this host does not "
                     "serve this caller\"}}",
                     sotto_status_code(SOTTO_FORBIDDEN_CALLER));
    uint32_t len = (uint32_t)n;
    memcpy(frame, &len, 4);
    write_stdout(NULL, frame, len + 4);
    return 1;
  }
  host_config cfg = {
      .max_in = env_size("SOTTO_HOST_MAX_IN", HOST_MAX_IN_DEFAULT),
      .max_out = env_size("SOTTO_HOST_MAX_OUT", HOST_MAX_OUT_DEFAULT),
      .workers = (int)env_size("SOTTO_HOST_WORKERS", 2),
      .max_jobs = (int)env_size("SOTTO_HOST_MAX_JOBS", 32),
      .threads = (int)env_size("SOTTO_HOST_THREADS", 0),
      .memory_budget = env_size("SOTTO_HOST_MEMORY_BUDGET", 0),
  };
  if (cfg.workers < 1) cfg.workers = 1; /* the reader must never run requests itself */
  host *h = host_create(&cfg, NULL, write_stdout, NULL, caller);
  if (!h) return 1;
  host_log("serving %s (pid %ld)", caller, (long)getpid());
  static uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (host_feed(h, buf, (size_t)n) != 0) break;
  }
  host_destroy(h);
  host_log("port closed");
  return 0;
}

/* ---- the command line ---- */

static int store_open(host_store *s) {
  sotto_error e = {0};
  if (sotto_store_init() != 0 || store_setup(s, &e) != 0) {
    fprintf(stderr, "sotto-host: %s\n", e.message);
    return -1;
  }
  return 0;
}

static int report(const sotto_error *e) {
  fprintf(stderr, "sotto-host: %s (%s)\n", e->message, sotto_status_code(e->status));
  return 1;
}

static const char *opt(int argc, char **argv, const char *name) {
  for (int i = 0; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return NULL;
}

static int models_add(host_store *s, int argc, char **argv) {
  if (argc < 1 || argv[0][0] == '-') return usage(stderr), 2;
  const char *file = argv[0];
  const char *id = opt(argc, argv, "--id"), *format = opt(argc, argv, "--format");
  const char *task = opt(argc, argv, "--task"), *source = opt(argc, argv, "--source");
  const char *want = opt(argc, argv, "--sha256"), *runs_in = opt(argc, argv, "--runs-in");
  char idbuf[65], shahex[65];
  const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
  const char *dot = strrchr(base, '.');
  if (!id) { /* the file name without its extension */
    snprintf(idbuf, sizeof idbuf, "%.*s", (int)(dot && dot != base ? dot - base : (long)strlen(base)), base);
    id = idbuf;
  }
  if (!sotto_store_id_valid(id)) {
    fprintf(stderr, "sotto-host: \"%s\" is not a model id ([a-z0-9][a-z0-9._-]{0,63}); give --id\n", id);
    return 2;
  }
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    fprintf(stderr, "sotto-host: cannot read %s: %s\n", file, fd < 0 ? strerror(errno) : "not a file");
    if (fd >= 0) close(fd);
    return 1;
  }
  static uint8_t buf[1 << 20];
  /* The format from the content, as the engine recognises it, never from
   * the name; --format only for bytes in no format sotto recognises. */
  ssize_t head = pread(fd, buf, 64, 0);
  const char *detected = head > 0 ? sotto_format_detect(buf, (size_t)head) : NULL;
  if (format && detected && strcmp(format, detected) != 0) {
    fprintf(stderr, "sotto-host: %s is a %s file, not %s\n", file, detected, format);
    close(fd);
    return 2;
  }
  if (detected) format = detected;
  if (!format) {
    fprintf(stderr, "sotto-host: %s is in no model format sotto recognises (fastText, GGUF); "
                    "give --format to store it anyway\n", file);
    close(fd);
    return 2;
  }
  /* Pass 1: the sha256, which the sealer checks again in pass 2 (so a file
   * that changes while it is added is refused). */
  crypto_hash_sha256_state sha;
  crypto_hash_sha256_init(&sha);
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) crypto_hash_sha256_update(&sha, buf, (size_t)n);
  uint8_t digest[32];
  crypto_hash_sha256_final(&sha, digest);
  sodium_bin2hex(shahex, sizeof shahex, digest, sizeof digest);
  if (n < 0 || lseek(fd, 0, SEEK_SET) != 0) {
    fprintf(stderr, "sotto-host: cannot read %s: %s\n", file, strerror(errno));
    close(fd);
    return 1;
  }
  if (want && strcasecmp(want, shahex) != 0) {
    fprintf(stderr, "sotto-host: %s has sha256 %s, not %s\n", file, shahex, want);
    close(fd);
    return 1;
  }
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "id", id);
  cJSON_AddStringToObject(m, "format", format);
  if (task) cJSON_AddStringToObject(m, "task", task);
  cJSON_AddNumberToObject(m, "size", (double)st.st_size);
  cJSON_AddStringToObject(m, "sha256", shahex);
  if (source) cJSON_AddStringToObject(m, "source", source);
  if (runs_in) cJSON_AddStringToObject(m, "runs_in", runs_in);
  sotto_error e = {0};
  store_install *in = store_install_begin(s, m, &e);
  cJSON_Delete(m);
  if (!in) {
    close(fd);
    return report(&e);
  }
  int last_pct = -1, rc = 0;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    if (store_install_write(in, buf, (size_t)n, &e) != 0) {
      rc = 1;
      break;
    }
    uint64_t done = store_install_done(in), total = store_install_total(in);
    int pct = total ? (int)(done * 100 / total) : 100;
    if (pct / 10 != last_pct / 10 || done == total)
      fprintf(stderr, "sotto-host: %s: %d%% (%llu of %llu bytes)\n", id, pct,
              (unsigned long long)done, (unsigned long long)total);
    last_pct = pct;
  }
  close(fd);
  if (rc == 0 && n < 0) {
    sotto_error_set(&e, SOTTO_IO_ERROR, "cannot read %s: %s", file, strerror(errno));
    rc = 1;
  }
  if (rc != 0) {
    store_install_abort(in);
    return report(&e);
  }
  if (store_install_end(in, &e) != 0) return report(&e);
  printf("installed %s (%s, %lld bytes, sha256 %s)\n", id, format, (long long)st.st_size, shahex);
  return 0;
}

static int models_list(host_store *s, int json) {
  sotto_error e = {0};
  cJSON *list = store_list(s, &e);
  if (!list) return report(&e);
  if (json) {
    char *t = cJSON_Print(list);
    puts(t ? t : "[]");
    cJSON_free(t);
  } else {
    printf("%-28s %-14s %-10s %14s  %s\n", "ID", "TASK", "FORMAT", "BYTES", "RUNS IN");
    const cJSON *m;
    cJSON_ArrayForEach(m, list) {
      const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(m, "id"));
      const cJSON *err = cJSON_GetObjectItem(m, "error");
      if (err) {
        printf("%-28s (unreadable: %s)\n", id, cJSON_GetStringValue(cJSON_GetObjectItem(err, "message")));
        continue;
      }
      const char *task = cJSON_GetStringValue(cJSON_GetObjectItem(m, "task"));
      printf("%-28s %-14s %-10s %14.0f  %s\n", id, task ? task : "-",
             cJSON_GetStringValue(cJSON_GetObjectItem(m, "format")),
             cJSON_GetNumberValue(cJSON_GetObjectItem(m, "size")),
             cJSON_GetStringValue(cJSON_GetObjectItem(m, "runs_in")));
    }
  }
  cJSON_Delete(list);
  return 0;
}

static int models_verify(host_store *s, const char *id) {
  sotto_error e = {0};
  uint8_t *plain = NULL;
  size_t len = 0;
  cJSON *m = NULL;
  if (store_load(s, id, &plain, &len, &m, &e) != 0) return report(&e);
  printf("%s: ok, %zu bytes, sha256 %s\n", id, len,
         cJSON_GetStringValue(cJSON_GetObjectItem(m, "sha256")));
  free(plain);
  cJSON_Delete(m);
  return 0;
}

/* The models sotto offers (models/catalogue.json, which the build and
 * install.sh put beside the binary; $SOTTO_CATALOGUE names another): what
 * each is for, its licence and the URL to download it from, and whether the
 * store has it.
 * The host itself never goes on the network: the user downloads a file and
 * adds it with `models add`, which checks the sha256 Hugging Face publishes
 * for it when given with --sha256. */
static int models_catalogue(host_store *s, int json) {
  char path[4200];
  if (host_file("SOTTO_CATALOGUE", "catalogue.json", 1, path, sizeof path) != 0) {
    fputs("sotto-host: cannot find my own folder\n", stderr);
    return 1;
  }
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "sotto-host: no catalogue at %s (the build and native-host/install.sh put it there; or set $SOTTO_CATALOGUE)\n", path);
    return 1;
  }
  char *text = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (cap - n < 4096) {
      char *grown = realloc(text, cap = cap * 2 + 65536);
      if (!grown) {
        free(text);
        text = NULL;
        break;
      }
      text = grown;
    }
    size_t k = fread(text + n, 1, cap - n - 1, f);
    if (!k) break;
    n += k;
  }
  fclose(f);
  cJSON *doc = text ? cJSON_ParseWithLength(text, n) : NULL;
  free(text);
  const cJSON *models = cJSON_GetObjectItem(doc, "models");
  if (!cJSON_IsArray(models)) {
    fprintf(stderr, "sotto-host: %s is not a sotto catalogue\n", path);
    cJSON_Delete(doc);
    return 1;
  }
  cJSON *out = cJSON_CreateArray();
  const cJSON *m;
  cJSON_ArrayForEach(m, models) {
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(m, "id"));
    const char *url = cJSON_GetStringValue(cJSON_GetObjectItem(m, "url"));
    if (!id || !url) continue; /* bundled or built-in: nothing to download */
    cJSON *e = cJSON_Duplicate(m, 1);
    cJSON_AddBoolToObject(e, "installed", sotto_store_id_valid(id) && store_exists(s, id));
    cJSON_AddItemToArray(out, e);
  }
  if (json) {
    char *t = cJSON_Print(out);
    puts(t ? t : "[]");
    cJSON_free(t);
  } else {
    printf("%-40s %-10s %-10s %-28s %s\n", "ID", "TASK", "INSTALLED", "LICENCE", "URL");
    cJSON_ArrayForEach(m, out) {
      const char *lic = cJSON_GetStringValue(cJSON_GetObjectItem(m, "licence"));
      const cJSON *inst = cJSON_GetObjectItem(m, "installed");
      printf("%-40s %-10s %-10s %-28s %s%s\n", cJSON_GetStringValue(cJSON_GetObjectItem(m, "id")),
             cJSON_GetStringValue(cJSON_GetObjectItem(m, "task")), cJSON_IsTrue(inst) ? "yes" : "no",
             lic ? lic : "-", cJSON_GetStringValue(cJSON_GetObjectItem(m, "url")),
             cJSON_GetStringValue(cJSON_GetObjectItem(m, "install")) ? "  (a model folder: convert it with `sotto convert`)" : "");
    }
    puts("Download a file, then: sotto-host models add FILE --id ID --task TASK --sha256 SHA256\n"
         "(the sha256 Hugging Face publishes for the file is on its page, under \"Files\").");
  }
  cJSON_Delete(out);
  cJSON_Delete(doc);
  return 0;
}

static int store_init_cmd(host_store *s) {
  char line[1024];
  const char *pass = getenv("SOTTO_PASSPHRASE");
  if (!pass || !*pass) {
    if (isatty(0)) fputs("passphrase: ", stderr);
    if (!fgets(line, sizeof line, stdin)) {
      fputs("sotto-host: no passphrase\n", stderr);
      return 1;
    }
    line[strcspn(line, "\r\n")] = 0;
    pass = line;
  }
  sotto_error e = {0};
  int rc = store_init_passphrase(s, pass, strlen(pass), &e);
  sodium_memzero(line, sizeof line);
  if (rc != 0) return report(&e);
  printf("created the passphrase store key %s\n", s->key_path);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strncmp(argv[1], "chrome-extension://", 19) == 0) return serve(argv[1]);
  /* Firefox: the manifest's path, then the add-on id. */
  if (argc >= 3 && argv[1][0] == '/' && strlen(argv[1]) > 5 &&
      strcmp(argv[1] + strlen(argv[1]) - 5, ".json") == 0)
    return serve(argv[2]);
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    printf("sotto-host %s (%s, protocol %d)\n", sotto_version(), HOST_NAME, HOST_PROTOCOL);
    return 0;
  }
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    usage(stdout);
    return 0;
  }
  if (argc < 3) {
    usage(stderr);
    return 2;
  }
  host_store s;
  if (store_open(&s) != 0) return 1;
  const char *what = argv[1], *cmd = argv[2];
  int rc = 2;
  sotto_error e = {0};
  if (strcmp(what, "store") == 0 && strcmp(cmd, "path") == 0) {
    printf("models %s\nkey %s\n", s.dir, s.key_path);
    rc = 0;
  } else if (strcmp(what, "store") == 0 && strcmp(cmd, "init") == 0 && argc == 4 &&
             strcmp(argv[3], "--passphrase") == 0) {
    rc = store_init_cmd(&s);
  } else if (strcmp(what, "models") != 0) {
    usage(stderr);
  } else if (store_key(&s, &e) != 0) {
    rc = report(&e);
  } else if (strcmp(cmd, "add") == 0) {
    rc = models_add(&s, argc - 3, argv + 3);
  } else if (strcmp(cmd, "list") == 0) {
    rc = models_list(&s, argc > 3 && strcmp(argv[3], "--json") == 0);
  } else if (strcmp(cmd, "verify") == 0 && argc == 4) {
    rc = models_verify(&s, argv[3]);
  } else if (strcmp(cmd, "catalogue") == 0) {
    rc = models_catalogue(&s, argc > 3 && strcmp(argv[3], "--json") == 0);
  } else if (strcmp(cmd, "delete") == 0 && argc == 4) {
    rc = store_delete(&s, argv[3], &e) == 0 ? (printf("deleted %s\n", argv[3]), 0) : report(&e);
  } else {
    usage(stderr);
  }
  store_cleanup(&s);
  return rc;
}
