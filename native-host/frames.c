/*
 * frames.c - the native messaging wire format, both directions.
 *
 * Browser -> host: a 32-bit length in native byte order, then that many
 * bytes of UTF-8 JSON. The length is checked against the configured limit
 * before anything is allocated; an oversized frame is answered and skipped
 * without buffering it, and a length of 2^31 or more (which no browser
 * sends) ends the connection, since nothing after it can be trusted to be
 * in step.
 *
 * Host -> browser: the same framing, and no message over the size limit
 * (1 MB in Chrome and Firefox). A longer message is sent as a run of chunk
 * messages, each a piece of its JSON text:
 *   {"id":ID,"chunk":"<piece>","seq":0,"last":false} ... {"id":ID,"chunk":"<piece>","seq":N,"last":true}
 * Joining the pieces in seq order gives the original message's JSON text.
 * Pieces end on UTF-8 character boundaries and a run is never interleaved
 * with other messages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

int host_utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c == 0) return 0;
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return 0;
    if (n - i < len) return 0;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    i += len;
  }
  return 1;
}

/* Length of the valid UTF-8 character at s (0 = not valid). */
static size_t utf8_char(const uint8_t *s, size_t n) {
  size_t len = s[0] < 0x80 ? 1 : s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
  if (len > n) return 0;
  return host_utf8_valid(s, len) ? len : 0;
}

/* A copy with each invalid byte replaced by U+FFFD, so the browser never
 * gets a message it cannot decode. */
static char *utf8_sanitize(const char *json, size_t n, size_t *out_n) {
  char *o = malloc(n * 3 + 1);
  if (!o) return NULL;
  size_t j = 0;
  for (size_t i = 0; i < n;) {
    size_t len = utf8_char((const uint8_t *)json + i, n - i);
    if (len) {
      memcpy(o + j, json + i, len);
      i += len, j += len;
    } else {
      memcpy(o + j, "\xEF\xBF\xBD", 3);
      i++, j += 3;
    }
  }
  o[j] = 0;
  *out_n = j;
  return o;
}

static int write_frame(struct host_io *io, uint8_t *frame, size_t payload) {
  if (io->out_dead) return -1;
  uint32_t len = (uint32_t)payload;
  memcpy(frame, &len, 4); /* native byte order, as the browsers expect */
  if (io->write(io->write_user, frame, payload + 4) != 0) {
    io->out_dead = 1;
    return -1;
  }
  return 0;
}

/* Sends json as chunk messages of at most max_out bytes each. */
static int send_chunked(struct host_io *io, const cJSON *id, const char *json, size_t n) {
  char *idj = id ? cJSON_PrintUnformatted(id) : NULL, *clean = NULL;
  size_t clean_len;
  /* The id as the rest of the message: valid UTF-8 (bad bytes replaced). */
  if (idj && !host_utf8_valid((const uint8_t *)idj, strlen(idj)))
    clean = utf8_sanitize(idj, strlen(idj), &clean_len);
  const char *ids = clean ? clean : idj ? idj : "null";
  size_t max = io->cfg.max_out;
  uint8_t *buf = malloc(max + 4);
  int rc = -1;
  if (!buf) goto done;
  /* The tail ",\"seq\":N,\"last\":false}" needs at most 40 bytes. */
  size_t head = (size_t)snprintf((char *)buf + 4, max, "{\"id\":%s,\"chunk\":\"", ids);
  /* Cannot happen: ids are at most HOST_ID_MAX + 2 bytes of JSON text, 3
   * times that once sanitised, and max_out at least HOST_MAX_OUT_MIN. */
  if (head + 40 + 6 > max) goto done;
  size_t budget = max - 40;
  unsigned seq = 0;
  for (size_t pos = 0; pos < n || seq == 0;) {
    size_t o = 4 + head;
    while (pos < n) {
      uint8_t c = (uint8_t)json[pos];
      size_t len = c < 0x80 ? 1 : utf8_char((const uint8_t *)json + pos, n - pos);
      int quote = c == '"' || c == '\\', control = c < 0x20;
      size_t need = quote ? 2 : control ? 6 : len; /* bytes once escaped */
      if (!len) goto done; /* invalid UTF-8: the caller sanitises first */
      if (o - 4 + need > budget) break;
      if (quote) buf[o++] = '\\', buf[o++] = c;
      else if (control) o += (size_t)snprintf((char *)buf + o, 7, "\\u%04x", c);
      else memcpy(buf + o, json + pos, len), o += len;
      pos += len;
    }
    o += (size_t)snprintf((char *)buf + o, 41, "\",\"seq\":%u,\"last\":%s}", seq,
                          pos >= n ? "true" : "false");
    if (write_frame(io, buf, o - 4) != 0) goto done;
    seq++;
  }
  rc = 0;
done:
  free(buf);
  free(clean);
  cJSON_free(idj);
  return rc;
}

int host_send_locked(host *h, const cJSON *id, const char *json) {
  struct host_io *io = host_io(h);
  if (!json || io->out_dead) return -1;
  size_t n = strlen(json);
  char *clean = NULL;
  if (!host_utf8_valid((const uint8_t *)json, n)) {
    clean = utf8_sanitize(json, n, &n);
    if (!clean) return -1;
    json = clean;
  }
  int rc;
  if (n <= io->cfg.max_out) {
    uint8_t *frame = malloc(n + 4);
    rc = frame ? (memcpy(frame + 4, json, n), write_frame(io, frame, n)) : -1;
    free(frame);
  } else {
    rc = send_chunked(io, id, json, n);
  }
  free(clean);
  return rc;
}

int host_send(host *h, const cJSON *id, const char *json) {
  struct host_io *io = host_io(h);
  pthread_mutex_lock(&io->out_lock);
  int rc = host_send_locked(h, id, json);
  pthread_mutex_unlock(&io->out_lock);
  return rc;
}

/* Sends {"id":id,key:item}; takes ownership of item. */
static int send_reply(host *h, const cJSON *id, const char *key, cJSON *item) {
  cJSON *r = cJSON_CreateObject();
  cJSON_AddItemToObject(r, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
  cJSON_AddItemToObject(r, key, item);
  char *s = cJSON_PrintUnformatted(r);
  cJSON_Delete(r);
  int rc = s ? host_send(h, id, s) : -1;
  cJSON_free(s);
  return rc;
}

int host_send_error(host *h, const cJSON *id, sotto_status status, const char *message) {
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "code", sotto_status_code(status));
  cJSON_AddStringToObject(e, "message", message);
  return send_reply(h, id, "error", e);
}

int host_send_result(host *h, const cJSON *id, cJSON *result) {
  return send_reply(h, id, "result", result);
}

int host_feed(host *h, const uint8_t *p, size_t n) {
  struct host_io *io = host_io(h);
  char msg[160];
  while (n > 0 && !io->broken) {
    if (io->skip) { /* the rest of an oversized frame */
      size_t k = io->skip < n ? (size_t)io->skip : n;
      io->skip -= k, p += k, n -= k;
      continue;
    }
    if (!io->msg) { /* the length prefix */
      size_t k = 4 - io->hdr_len < n ? 4 - io->hdr_len : n;
      memcpy(io->hdr + io->hdr_len, p, k);
      io->hdr_len += k, p += k, n -= k;
      if (io->hdr_len < 4) break;
      io->hdr_len = 0;
      uint32_t len;
      memcpy(&len, io->hdr, 4);
      if (len == 0) {
        host_send_error(h, NULL, SOTTO_BAD_FRAME, "empty message");
      } else if (len >= 0x80000000u) {
        snprintf(msg, sizeof msg, "impossible message length %u; closing", len);
        host_send_error(h, NULL, SOTTO_BAD_FRAME, msg);
        io->broken = 1;
      } else if (len > io->cfg.max_in) {
        snprintf(msg, sizeof msg, "a message of %u bytes is over the limit of %zu; skipped", len,
                 io->cfg.max_in);
        host_send_error(h, NULL, SOTTO_TOO_LARGE, msg);
        io->skip = len;
      } else if (!(io->msg = malloc((size_t)len + 1))) {
        host_send_error(h, NULL, SOTTO_OUT_OF_MEMORY, "no memory for the message; skipped");
        io->skip = len;
      } else {
        io->msg_len = len;
        io->msg_got = 0;
      }
      continue;
    }
    size_t k = io->msg_len - io->msg_got < n ? io->msg_len - io->msg_got : n;
    memcpy(io->msg + io->msg_got, p, k);
    io->msg_got += k, p += k, n -= k;
    if (io->msg_got == io->msg_len) {
      uint8_t *m = io->msg;
      io->msg = NULL;
      m[io->msg_len] = 0;
      host_message(h, m, io->msg_len); /* takes m */
    }
  }
  return io->broken || io->out_dead ? -1 : 0;
}
