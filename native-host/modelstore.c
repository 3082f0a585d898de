/*
 * modelstore.c - the encrypted model store on disk.
 *
 *   Linux:  $XDG_DATA_HOME/sotto/models/<id>.sotto   (default ~/.local/share)
 *           $XDG_CONFIG_HOME/sotto/store.key          (default ~/.config)
 *   macOS:  ~/Library/Application Support/sotto/models/<id>.sotto
 *           ~/Library/Application Support/sotto/store.key
 *
 * Each model file is sealed by the engine's store layer (engine/src/store.c);
 * this file adds what only a native program has: folders, the key file,
 * and writes that are atomic (temp file, fsync, rename, fsync of the
 * folder). An install in progress holds an exclusive flock on its temp
 * file; at start-up, temp files whose lock can be taken belong to a dead
 * install and are removed.
 *
 * The key file (0600, in a 0700 folder) is text:
 *   sotto-store-key 1
 *   key <64 hex digits>
 * or, for a passphrase store, the Argon2id parameters and a key check value
 * (the passphrase itself is never stored):
 *   sotto-store-key 1
 *   argon2id <salt, 32 hex> <opslimit> <memlimit KiB> <key check, 32 hex>
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* flock() beside POSIX */
#endif
#ifndef _DARWIN_C_SOURCE
#define _DARWIN_C_SOURCE
#endif
#include <dirent.h>
#include <sodium.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "host.h"

#define KEY_FILE_MAX 1024
#define BROWSER_MODEL_MAX (1ull << 30) /* larger models run natively only */

static int path_join(char *out, size_t n, sotto_error *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int path_join(char *out, size_t n, sotto_error *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(out, n, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= n) return sotto_error_set(e, SOTTO_IO_ERROR, "path too long");
  return 0;
}

/* mkdir -p, new folders 0700. */
static int mkdirs(const char *path, sotto_error *e) {
  char p[4096];
  if (path_join(p, sizeof p, e, "%s", path) != 0) return -1;
  for (char *c = p + 1;; c++) {
    if (*c == '/' || *c == 0) {
      char saved = *c;
      *c = 0;
      if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return sotto_error_set(e, SOTTO_IO_ERROR, "cannot create %s: %s", p, strerror(errno));
      *c = saved;
      if (!saved) break;
    }
  }
  return 0;
}

static const char *home_dir(void) {
  const char *h = getenv("HOME");
  if (h && h[0] == '/') return h;
  struct passwd *pw = getpwuid(getuid());
  return pw && pw->pw_dir ? pw->pw_dir : NULL;
}

/* An XDG base directory: the variable when it holds an absolute path (the
 * spec says relative ones are to be ignored), else HOME/fallback. */
static int xdg_dir(char *out, size_t n, const char *var, const char *fallback, sotto_error *e) {
  const char *v = getenv(var);
  if (v && v[0] == '/') return path_join(out, n, e, "%s", v);
  const char *home = home_dir();
  if (!home) return sotto_error_set(e, SOTTO_IO_ERROR, "cannot find the home folder");
  return path_join(out, n, e, "%s/%s", home, fallback);
}

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    p += k, n -= (size_t)k;
  }
  return 0;
}

static int is_suffix(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Removes temp files (".*.tmp") nobody holds a lock on. */
static void remove_stale_temps(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] != '.' || !is_suffix(de->d_name, ".tmp")) continue;
    char p[4096 + 256];
    if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) >= (int)sizeof p) continue;
    int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      unlink(p);
      host_log("removed %s, left by an install that did not finish", p);
    }
    close(fd);
  }
  closedir(d);
}

int store_setup(host_store *s, sotto_error *e) {
  memset(s, 0, sizeof *s);
  pthread_mutex_init(&s->lock, NULL);
  char cfg[4096];
#ifdef __APPLE__
  const char *home = home_dir();
  if (!home) return sotto_error_set(e, SOTTO_IO_ERROR, "cannot find the home folder");
  if (path_join(cfg, sizeof cfg, e, "%s/Library/Application Support/sotto", home) != 0 ||
      path_join(s->dir, sizeof s->dir, e, "%s/models", cfg) != 0)
    return -1;
#else
  char data[4096], xdg_cfg[4000];
  if (xdg_dir(data, sizeof data, "XDG_DATA_HOME", ".local/share", e) != 0 ||
      xdg_dir(xdg_cfg, sizeof xdg_cfg, "XDG_CONFIG_HOME", ".config", e) != 0 ||
      path_join(s->dir, sizeof s->dir, e, "%s/sotto/models", data) != 0 ||
      path_join(cfg, sizeof cfg, e, "%s/sotto", xdg_cfg) != 0)
    return -1;
#endif
  if (path_join(s->key_path, sizeof s->key_path, e, "%s/store.key", cfg) != 0) return -1;
  if (mkdirs(s->dir, e) != 0 || mkdirs(cfg, e) != 0) return -1;
  remove_stale_temps(s->dir);
  remove_stale_temps(cfg);
  return 0;
}

void store_cleanup(host_store *s) {
  sodium_memzero(s->key, sizeof s->key);
  pthread_mutex_destroy(&s->lock);
}

/* ---- the key ---- */

static int key_parse(host_store *s, const char *text, sotto_error *e) {
  char hex[65] = "", salt[33] = "", check[33] = "";
  unsigned ops = 0, mem = 0;
  if (sscanf(text, "sotto-store-key 1 key %64[0-9a-f]", hex) == 1 && strlen(hex) == 64) {
    sodium_hex2bin(s->key, sizeof s->key, hex, 64, NULL, NULL, NULL);
    sodium_memzero(hex, sizeof hex);
    s->passphrase_mode = 0;
    s->key_state = KEY_READY;
    return 0;
  }
  if (sscanf(text, "sotto-store-key 1 argon2id %32[0-9a-f] %u %u %32[0-9a-f]", salt, &ops, &mem,
             check) == 4 && strlen(salt) == 32 && strlen(check) == 32 && ops >= 1 && ops <= 64 &&
      mem >= 8 && mem <= (4u << 20)) {
    sodium_hex2bin(s->salt, sizeof s->salt, salt, 32, NULL, NULL, NULL);
    sodium_hex2bin(s->check, sizeof s->check, check, 32, NULL, NULL, NULL);
    s->ops = ops, s->mem_kib = mem;
    s->passphrase_mode = 1;
    s->key_state = KEY_LOCKED;
    return 0;
  }
  return sotto_error_set(e, SOTTO_BAD_KEY_FILE, "%s is not a sotto key file", s->key_path);
}

/* Reads the key file: 0 = read, 1 = there is none, -1 = error. */
static int key_read(host_store *s, sotto_error *e) {
  int fd = open(s->key_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return 1;
  if (fd < 0) return sotto_error_set(e, SOTTO_IO_ERROR, "cannot open %s: %s", s->key_path, strerror(errno));
  struct stat st;
  char text[KEY_FILE_MAX + 1];
  ssize_t n = -1;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= KEY_FILE_MAX) {
    if (st.st_mode & 077) { /* e.g. restored from a backup: make it private again */
      host_log("%s was readable by others; making it 0600", s->key_path);
      if (fchmod(fd, 0600) != 0) host_log("chmod %s: %s", s->key_path, strerror(errno));
    }
    n = read(fd, text, KEY_FILE_MAX);
  }
  close(fd);
  if (n < 0) return sotto_error_set(e, SOTTO_BAD_KEY_FILE, "cannot read the key file %s", s->key_path);
  text[n] = 0;
  int rc = key_parse(s, text, e);
  sodium_memzero(text, sizeof text);
  return rc;
}

/* Creates the key file with text, never replacing one: it is written to a
 * temp file, then hard-linked into place (which fails if a key file appeared
 * meanwhile, e.g. made by a second host process). 1 = one already exists. */
static int key_write(host_store *s, const char *text, sotto_error *e) {
  char dir[4096], tmp[4200];
  snprintf(dir, sizeof dir, "%s", s->key_path);
  *strrchr(dir, '/') = 0;
  uint32_t r = randombytes_random();
  snprintf(tmp, sizeof tmp, "%s/.store.key.%ld.%08x.tmp", dir, (long)getpid(), r);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return sotto_error_set(e, SOTTO_IO_ERROR, "cannot create %s: %s", tmp, strerror(errno));
  flock(fd, LOCK_EX);
  int rc = 0;
  if (write_all(fd, (const uint8_t *)text, strlen(text)) != 0 || fsync(fd) != 0)
    rc = sotto_error_set(e, SOTTO_IO_ERROR, "cannot write %s: %s", tmp, strerror(errno));
  else if (link(tmp, s->key_path) != 0)
    rc = errno == EEXIST ? 1
                         : sotto_error_set(e, SOTTO_IO_ERROR, "cannot create %s: %s", s->key_path,
                                     strerror(errno));
  unlink(tmp);
  close(fd);
  fsync_dir(dir);
  return rc;
}

int store_key(host_store *s, sotto_error *e) {
  pthread_mutex_lock(&s->lock);
  int rc = 0;
  if (s->key_state == KEY_UNKNOWN) {
    rc = key_read(s, e);
    if (rc == 1) { /* first use: a new random key */
      uint8_t key[SOTTO_STORE_KEYBYTES];
      char text[128], hex[65];
      sotto_store_keygen(key);
      sodium_bin2hex(hex, sizeof hex, key, sizeof key);
      snprintf(text, sizeof text, "sotto-store-key 1\nkey %s\n", hex);
      rc = key_write(s, text, e);
      if (rc == 0) {
        memcpy(s->key, key, sizeof key);
        s->key_state = KEY_READY;
        host_log("created the store key %s", s->key_path);
      } else if (rc == 1) {
        rc = key_read(s, e);
      }
      sodium_memzero(key, sizeof key), sodium_memzero(text, sizeof text);
      sodium_memzero(hex, sizeof hex);
    }
    if (rc == 0 && s->key_state == KEY_LOCKED) {
      const char *pass = getenv("SOTTO_PASSPHRASE");
      if (pass && *pass) {
        pthread_mutex_unlock(&s->lock);
        if (store_unlock(s, pass, strlen(pass), e) != 0) return -1;
        pthread_mutex_lock(&s->lock);
      }
    }
  }
  if (rc == 0 && s->key_state == KEY_LOCKED)
    rc = sotto_error_set(e, SOTTO_STORE_LOCKED, "the model store is locked: it needs its passphrase");
  pthread_mutex_unlock(&s->lock);
  return rc ? -1 : 0;
}

int store_unlock(host_store *s, const char *passphrase, size_t len, sotto_error *e) {
  pthread_mutex_lock(&s->lock);
  int rc = 0;
  if (s->key_state == KEY_UNKNOWN) rc = key_read(s, e) == 0 ? 0 : -1;
  if (rc == 0 && !s->passphrase_mode)
    rc = sotto_error_set(e, SOTTO_BAD_REQUEST, "the model store uses a key file, not a passphrase");
  if (rc == 0) {
    uint8_t key[SOTTO_STORE_KEYBYTES], check[16];
    if (sotto_store_key_from_passphrase(key, passphrase, len, s->salt, s->ops, s->mem_kib) != 0) {
      rc = sotto_error_set(e, SOTTO_OUT_OF_MEMORY, "cannot derive the key from the passphrase");
    } else {
      sotto_store_key_check(key, check);
      if (sodium_memcmp(check, s->check, sizeof check) != 0) {
        rc = sotto_error_set(e, SOTTO_WRONG_PASSPHRASE, "wrong passphrase");
      } else {
        memcpy(s->key, key, sizeof key);
        s->key_state = KEY_READY;
      }
    }
    sodium_memzero(key, sizeof key);
  }
  pthread_mutex_unlock(&s->lock);
  return rc;
}

int store_init_passphrase(host_store *s, const char *passphrase, size_t len, sotto_error *e) {
  if (len < 8) return sotto_error_set(e, SOTTO_BAD_REQUEST, "the passphrase must have at least 8 characters");
  sotto_store_init();
  uint8_t key[SOTTO_STORE_KEYBYTES], salt[SOTTO_STORE_SALTBYTES], check[16];
  randombytes_buf(salt, sizeof salt);
  uint32_t ops = 2, mem = 65536; /* libsodium's INTERACTIVE limits: about 0.1 s */
  if (sotto_store_key_from_passphrase(key, passphrase, len, salt, ops, mem) != 0)
    return sotto_error_set(e, SOTTO_OUT_OF_MEMORY, "cannot derive the key from the passphrase");
  sotto_store_key_check(key, check);
  char text[256], hs[33], hc[33];
  sodium_bin2hex(hs, sizeof hs, salt, sizeof salt);
  sodium_bin2hex(hc, sizeof hc, check, sizeof check);
  snprintf(text, sizeof text, "sotto-store-key 1\nargon2id %s %u %u %s\n", hs, ops, mem, hc);
  pthread_mutex_lock(&s->lock);
  int rc = key_write(s, text, e);
  if (rc == 1) rc = sotto_error_set(e, SOTTO_KEY_EXISTS, "%s already exists", s->key_path);
  if (rc == 0) {
    memcpy(s->key, key, sizeof key);
    memcpy(s->salt, salt, sizeof salt);
    memcpy(s->check, check, sizeof check);
    s->ops = ops, s->mem_kib = mem;
    s->passphrase_mode = 1;
    s->key_state = KEY_READY;
  }
  pthread_mutex_unlock(&s->lock);
  sodium_memzero(key, sizeof key);
  return rc;
}

/* ---- models ---- */

static int model_path(host_store *s, const char *id, char *out, size_t n, sotto_error *e) {
  if (!sotto_store_id_valid(id))
    return sotto_error_set(e, SOTTO_BAD_REQUEST, "model ids are [a-z0-9][a-z0-9._-]{0,63}");
  return path_join(out, n, e, "%s/%s.sotto", s->dir, id);
}

int store_exists(host_store *s, const char *id) {
  char p[4200];
  struct stat st;
  return model_path(s, id, p, sizeof p, NULL) == 0 && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int open_model(host_store *s, const char *id, sotto_error *e) {
  char p[4200];
  if (model_path(s, id, p, sizeof p, e) != 0) return -1;
  int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    sotto_error_set(e, SOTTO_MODEL_NOT_FOUND, "no model \"%s\" is installed", id);
  else if (fd < 0)
    sotto_error_set(e, SOTTO_IO_ERROR, "cannot open %s: %s", p, strerror(errno));
  return fd;
}

static int store_error(sotto_error *e, sotto_store *st, const char *id) {
  const sotto_error *se = sotto_store_error(st);
  return sotto_error_set(e, se->status ? se->status : SOTTO_INTERNAL, "model \"%s\": %s", id,
                         se->message[0] ? se->message : "failed");
}

/* Reads a model file's manifest only (its header and first message). */
static cJSON *peek_manifest(host_store *s, const char *id, sotto_error *e) {
  int fd = open_model(s, id, e);
  if (fd < 0) return NULL;
  sotto_store *st = sotto_store_open_begin(s->key);
  cJSON *m = NULL;
  uint8_t buf[4096];
  ssize_t n = 0;
  while (st && !sotto_store_manifest(st) && (n = read(fd, buf, sizeof buf)) > 0)
    if (sotto_store_update(st, buf, (size_t)n) != 0) break;
  if (!st) sotto_error_set(e, SOTTO_OUT_OF_MEMORY, "out of memory");
  else if (sotto_store_manifest(st)) m = cJSON_Parse(sotto_store_manifest(st));
  else if (sotto_store_error(st)->status) store_error(e, st, id);
  else if (n < 0) sotto_error_set(e, SOTTO_IO_ERROR, "cannot read model \"%s\": %s", id, strerror(errno));
  else if (sotto_store_finish(st) != 0) store_error(e, st, id);
  sotto_store_free(st);
  close(fd);
  return m;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

cJSON *store_list(host_store *s, sotto_error *e) {
  if (store_key(s, e) != 0) return NULL;
  DIR *d = opendir(s->dir);
  if (!d) return sotto_error_set(e, SOTTO_IO_ERROR, "cannot list %s: %s", s->dir, strerror(errno)), NULL;
  char **ids = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    size_t len = strlen(de->d_name);
    if (!is_suffix(de->d_name, ".sotto") || len - 6 > 64) continue;
    char id[65];
    snprintf(id, sizeof id, "%.*s", (int)(len - 6), de->d_name);
    if (!sotto_store_id_valid(id)) continue;
    if (n == cap) {
      char **grown = realloc(ids, (cap = cap ? cap * 2 : 16) * sizeof *ids);
      if (!grown) break;
      ids = grown;
    }
    if (!(ids[n] = strdup(id))) break;
    n++;
  }
  closedir(d);
  if (n) qsort(ids, n, sizeof *ids, cmp_str);
  cJSON *list = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++) {
    sotto_error me = {0};
    cJSON *m = peek_manifest(s, ids[i], &me);
    if (!m) {
      m = cJSON_CreateObject();
      cJSON_AddStringToObject(m, "id", ids[i]);
      cJSON *err = cJSON_AddObjectToObject(m, "error");
      cJSON_AddStringToObject(err, "code", sotto_status_code(me.status ? me.status : SOTTO_INTERNAL));
      cJSON_AddStringToObject(err, "message", me.message);
    } else if (!cJSON_GetObjectItemCaseSensitive(m, "runs_in")) {
      double size = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "size"));
      cJSON_AddStringToObject(m, "runs_in", size <= (double)BROWSER_MODEL_MAX ? "both" : "native");
    }
    cJSON_AddItemToArray(list, m);
    free(ids[i]);
  }
  free(ids);
  return list;
}

int store_load(host_store *s, const char *id, uint8_t **plain, size_t *len, cJSON **manifest,
               sotto_error *e) {
  *plain = NULL, *len = 0;
  if (manifest) *manifest = NULL;
  if (store_key(s, e) != 0) return -1;
  int fd = open_model(s, id, e);
  if (fd < 0) return -1;
  sotto_store *st = sotto_store_open_begin(s->key);
  uint8_t *buf = malloc(1 << 20), *out = NULL;
  size_t have = 0, size = 0;
  int rc = -1;
  if (!st || !buf) {
    sotto_error_set(e, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  for (;;) {
    ssize_t n = read(fd, buf, 1 << 20);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      sotto_error_set(e, SOTTO_IO_ERROR, "cannot read model \"%s\": %s", id, strerror(errno));
      goto done;
    }
    if (n == 0 ? sotto_store_finish(st) != 0 : sotto_store_update(st, buf, (size_t)n) != 0) {
      store_error(e, st, id);
      goto done;
    }
    if (!out && sotto_store_manifest(st)) { /* authenticated: its size can be trusted */
      cJSON *m = cJSON_Parse(sotto_store_manifest(st));
      double sz = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "size"));
      cJSON_Delete(m);
      if (!(sz >= 0 && sz < (double)SIZE_MAX / 2) || !(out = malloc((size_t)sz + 1))) {
        sotto_error_set(e, SOTTO_OUT_OF_MEMORY, "no memory for model \"%s\" (%.0f bytes)", id, sz);
        goto done;
      }
      size = (size_t)sz;
    }
    size_t got;
    const uint8_t *p = sotto_store_output(st, &got);
    if (got) {
      if (!out || got > size - have) { /* cannot happen: the store checks sizes */
        sotto_error_set(e, SOTTO_TAMPERED, "model \"%s\" has more data than its manifest says", id);
        goto done;
      }
      memcpy(out + have, p, got);
      have += got;
    }
    if (n == 0) break;
  }
  if (manifest) *manifest = cJSON_Parse(sotto_store_manifest(st));
  *plain = out, *len = have;
  out = NULL;
  rc = 0;
done:
  free(out);
  free(buf);
  sotto_store_free(st);
  close(fd);
  return rc;
}

int store_delete(host_store *s, const char *id, sotto_error *e) {
  char p[4200];
  if (model_path(s, id, p, sizeof p, e) != 0) return -1;
  if (unlink(p) != 0) {
    if (errno == ENOENT) return sotto_error_set(e, SOTTO_MODEL_NOT_FOUND, "no model \"%s\" is installed", id);
    return sotto_error_set(e, SOTTO_IO_ERROR, "cannot delete %s: %s", p, strerror(errno));
  }
  fsync_dir(s->dir);
  return 0;
}

/* ---- installs ---- */

struct store_install {
  host_store *s;
  sotto_store *seal;
  int fd;
  char id[65];
  char tmp[4200], path[4200];
  uint64_t done, total;
};

uint64_t store_install_done(const store_install *in) { return in->done; }
uint64_t store_install_total(const store_install *in) { return in->total; }
const char *store_install_id(const store_install *in) { return in->id; }

static int install_flush(store_install *in, sotto_error *e) {
  size_t n;
  const uint8_t *p = sotto_store_output(in->seal, &n);
  if (n && write_all(in->fd, p, n) != 0)
    return sotto_error_set(e, errno == ENOSPC ? SOTTO_NO_SPACE : SOTTO_IO_ERROR, "cannot write %s: %s", in->tmp,
                     strerror(errno));
  return 0;
}

store_install *store_install_begin(host_store *s, const cJSON *manifest, sotto_error *e) {
  if (store_key(s, e) != 0) return NULL;
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(manifest, "id");
  const cJSON *size = cJSON_GetObjectItemCaseSensitive(manifest, "size");
  if (!cJSON_IsString(id) || !sotto_store_id_valid(id->valuestring))
    return sotto_error_set(e, SOTTO_BAD_REQUEST, "model ids are [a-z0-9][a-z0-9._-]{0,63}"), NULL;
  if (!cJSON_IsNumber(size) || size->valuedouble < 0)
    return sotto_error_set(e, SOTTO_BAD_REQUEST, "\"size\" must be the model's size in bytes"), NULL;
  store_install *in = calloc(1, sizeof *in);
  char *json = cJSON_PrintUnformatted(manifest);
  if (!in || !json) {
    free(in), cJSON_free(json);
    return sotto_error_set(e, SOTTO_OUT_OF_MEMORY, "out of memory"), NULL;
  }
  in->s = s;
  in->fd = -1;
  in->total = (uint64_t)size->valuedouble;
  snprintf(in->id, sizeof in->id, "%s", id->valuestring);
  in->seal = sotto_store_seal_begin(s->key, json, 0, e);
  cJSON_free(json);
  if (!in->seal) {
    free(in);
    return NULL;
  }
  struct statvfs vfs;
  if (statvfs(s->dir, &vfs) == 0 &&
      (double)vfs.f_bavail * (double)vfs.f_frsize < (double)in->total * 1.01 + 65536) {
    sotto_error_set(e, SOTTO_NO_SPACE, "not enough free space for %llu bytes in %s",
              (unsigned long long)in->total, s->dir);
    goto failed;
  }
  if (path_join(in->path, sizeof in->path, e, "%s/%s.sotto", s->dir, in->id) != 0 ||
      path_join(in->tmp, sizeof in->tmp, e, "%s/.%s.%ld.%08x.tmp", s->dir, in->id, (long)getpid(),
                randombytes_random()) != 0)
    goto failed;
  in->fd = open(in->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (in->fd < 0) {
    sotto_error_set(e, SOTTO_IO_ERROR, "cannot create %s: %s", in->tmp, strerror(errno));
    goto failed;
  }
  /* The lock tells other hosts' clean-up this file is alive; a clean-up
   * that ran between open and flock would have unlinked it: check. */
  struct stat a, b;
  if (flock(in->fd, LOCK_EX) != 0 || fstat(in->fd, &a) != 0 || stat(in->tmp, &b) != 0 ||
      a.st_ino != b.st_ino) {
    sotto_error_set(e, SOTTO_IO_ERROR, "cannot lock %s", in->tmp);
    goto failed;
  }
  if (install_flush(in, e) != 0) goto failed;
  return in;
failed:
  store_install_abort(in);
  return NULL;
}

int store_install_write(store_install *in, const void *data, size_t len, sotto_error *e) {
  if (sotto_store_update(in->seal, data, len) != 0) return store_error(e, in->seal, in->id);
  in->done += len;
  return install_flush(in, e);
}

int store_install_end(store_install *in, sotto_error *e) {
  int rc = -1;
  if (sotto_store_finish(in->seal) != 0) {
    store_error(e, in->seal, in->id);
  } else if (install_flush(in, e) == 0) {
    if (fsync(in->fd) != 0)
      sotto_error_set(e, SOTTO_IO_ERROR, "cannot write %s: %s", in->tmp, strerror(errno));
    else if (rename(in->tmp, in->path) != 0)
      sotto_error_set(e, SOTTO_IO_ERROR, "cannot rename %s: %s", in->tmp, strerror(errno));
    else
      rc = 0, in->tmp[0] = 0, fsync_dir(in->s->dir);
  }
  store_install_abort(in);
  return rc;
}

void store_install_abort(store_install *in) {
  if (!in) return;
  if (in->fd >= 0) {
    if (in->tmp[0]) unlink(in->tmp);
    close(in->fd);
  }
  sotto_store_free(in->seal);
  free(in);
}
