/*
 * error.c - the engine's one error type: a status from the list in sotto.h
 * and a message. The code strings are part of the protocol (README.md,
 * "Errors"); the enum order is not.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

static const char *const codes[SOTTO_STATUS_COUNT] = {
#define SOTTO_STATUS_STRING(name, code) code,
    SOTTO_STATUS_LIST(SOTTO_STATUS_STRING)
#undef SOTTO_STATUS_STRING
};

const char *sotto_status_code(sotto_status status) {
  return (unsigned)status < SOTTO_STATUS_COUNT ? codes[status] : "internal";
}

sotto_status sotto_status_from_code(const char *code) {
  for (int i = 0; code && i < SOTTO_STATUS_COUNT; i++)
    if (strcmp(codes[i], code) == 0) return (sotto_status)i;
  return SOTTO_INTERNAL;
}

int sotto_error_set(sotto_error *e, sotto_status status, const char *fmt, ...) {
  if (e) {
    e->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
  }
  return -1;
}
