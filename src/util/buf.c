/* The growable, NUL-terminated byte buffer with sticky out-of-memory. */
#include <stdio.h>
#include <string.h>

#include "util/util.h"

/* The first allocation: most buffers hold a short string. */
#define MIN_CAP ((size_t)64)

void
lh_buf_init(lh_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = false;
}

lh_rc
lh_buf_reserve(lh_buf *b, size_t extra)
{
    if (b->oom) {
        return LH_ENOMEM;
    }
    if (extra >= SIZE_MAX - b->len) {
        b->oom = true;
        return LH_ENOMEM;
    }
    size_t need = b->len + extra + 1; /* + the NUL */
    if (need <= b->cap) {
        return LH_OK;
    }
    size_t cap = b->cap ? b->cap : MIN_CAP;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    char *d = lh_realloc(b->data, cap);
    if (d == NULL) {
        b->oom = true;
        return LH_ENOMEM;
    }
    if (b->data == NULL) {
        d[0] = '\0';
    }
    b->data = d;
    b->cap = cap;
    return LH_OK;
}

lh_rc
lh_buf_append(lh_buf *b, const void *p, size_t n)
{
    lh_rc rc = lh_buf_reserve(b, n);
    if (rc != LH_OK) {
        return rc;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return LH_OK;
}

lh_rc
lh_buf_puts(lh_buf *b, const char *s)
{
    return lh_buf_append(b, s, strlen(s));
}

lh_rc
lh_buf_putc(lh_buf *b, char c)
{
    return lh_buf_append(b, &c, 1);
}

lh_rc
lh_buf_vprintf(lh_buf *b, const char *fmt, va_list ap)
{
    if (b->oom) {
        return LH_ENOMEM;
    }
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        /* Only an invalid format or wide conversion fails; a bug. */
        if (b->data != NULL) {
            b->data[b->len] = '\0';
        }
        return LH_EINVAL;
    }
    if ((size_t)n >= room) {
        lh_rc rc = lh_buf_reserve(b, (size_t)n);
        if (rc != LH_OK) {
            if (b->data != NULL) {
                b->data[b->len] = '\0'; /* undo the partial write */
            }
            return rc;
        }
        va_copy(ap2, ap);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
        va_end(ap2);
    }
    b->len += (size_t)n;
    return LH_OK;
}

lh_rc
lh_buf_printf(lh_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lh_rc rc = lh_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void
lh_buf_reset(lh_buf *b)
{
    /* oom stays: a caller that flushes and resets in the middle of a long
     * run checks lh_buf_ok() once at the end and must still see it. */
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

char *
lh_buf_take(lh_buf *b, size_t *len)
{
    char *d = b->data;
    size_t n = b->len;
    if (b->oom) {
        lh_free(d);
        d = NULL;
        n = 0;
    } else if (d == NULL) {
        d = lh_strdup("");
    }
    lh_buf_init(b);
    if (len != NULL) {
        *len = n;
    }
    return d;
}

void
lh_buf_release(lh_buf *b)
{
    lh_free(b->data);
    lh_buf_init(b);
}
