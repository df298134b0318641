/* Errors: filling lh_err, and the names of the codes. */
#include <stdio.h>
#include <string.h>

#include "util/util.h"

const char *
lh_rc_name(lh_rc rc)
{
    switch (rc) {
    case LH_OK:
        return "LH_OK";
    case LH_EINVAL:
        return "LH_EINVAL";
    case LH_ENOMEM:
        return "LH_ENOMEM";
    case LH_EIO:
        return "LH_EIO";
    case LH_ENOENT:
        return "LH_ENOENT";
    case LH_EEXIST:
        return "LH_EEXIST";
    case LH_ECONFLICT:
        return "LH_ECONFLICT";
    case LH_ELOCKED:
        return "LH_ELOCKED";
    case LH_EFORMAT:
        return "LH_EFORMAT";
    case LH_ENOSPC:
        return "LH_ENOSPC";
    case LH_ECORRUPT:
        return "LH_ECORRUPT";
    case LH_ELIMIT:
        return "LH_ELIMIT";
    case LH_ETIMEDOUT:
        return "LH_ETIMEDOUT";
    case LH_ECANCELED:
        return "LH_ECANCELED";
    case LH_EREADONLY:
        return "LH_EREADONLY";
    case LH_EUNSUPPORTED:
        return "LH_EUNSUPPORTED";
    case LH_EINTERNAL:
        return "LH_EINTERNAL";
    }
    return "LH_E?";
}

static void
reset_fields(lh_err *err, lh_rc code)
{
    err->code = code;
    err->sys_errno = 0;
    err->http_status = 0;
    err->offset = -1;
    err->index = -1;
    err->current_version = -1;
    err->field[0] = '\0';
    err->msg[0] = '\0';
}

/* Appends s to the NUL-terminated dst of cap bytes, cutting what does not
 * fit: a long message keeps its start, which says what failed. */
static void
append(char *dst, size_t cap, const char *s)
{
    size_t len = strnlen(dst, cap - 1);
    size_t n = strlen(s);
    if (n > cap - 1 - len) {
        n = cap - 1 - len;
    }
    memcpy(dst + len, s, n);
    dst[len + n] = '\0';
}

lh_rc
lh_err_setv(lh_err *err, lh_rc code, const char *fmt, va_list ap)
{
    if (err == NULL) {
        return code;
    }
    reset_fields(err, code);
    /* A message longer than msg is cut; the start says what failed. */
    if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) < 0) {
        err->msg[0] = '\0';
    }
    return code;
}

lh_rc
lh_err_set(lh_err *err, lh_rc code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_err_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

lh_rc
lh_err_sys(lh_err *err, lh_rc code, int errnum, const char *fmt, ...)
{
    if (err == NULL) {
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    lh_err_setv(err, code, fmt, ap);
    va_end(ap);
    err->sys_errno = errnum;

    char sbuf[128];
    /* GNU strerror_r: returns a string, maybe not sbuf; thread-safe. */
    const char *why = strerror_r(errnum, sbuf, sizeof(sbuf));
    append(err->msg, sizeof(err->msg), ": ");
    append(err->msg, sizeof(err->msg), why);
    return code;
}

void
lh_err_prefix(lh_err *err, const char *fmt, ...)
{
    if (err == NULL) {
        return;
    }
    char old[sizeof(err->msg)];
    memcpy(old, err->msg, sizeof(old));
    old[sizeof(old) - 1] = '\0';

    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        /* A broken format: keep the message as it was. */
        memcpy(err->msg, old, sizeof(old));
        return;
    }
    if (old[0] != '\0') {
        append(err->msg, sizeof(err->msg), ": ");
        append(err->msg, sizeof(err->msg), old);
    }
}

void
lh_err_clear(lh_err *err)
{
    if (err == NULL) {
        return;
    }
    reset_fields(err, LH_OK);
}
