/* UUIDs: v4 and v7 (RFC 9562), text form. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "util/util.h"

static lh_rc
random_bytes(void *p, size_t n, lh_err *err)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = getrandom(b, n, 0);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return lh_err_sys(err, LH_EIO, errno,
                              "could not read random bytes");
        }
        b += r;
        n -= (size_t)r;
    }
    return LH_OK;
}

lh_rc
lh_uuid_v4(lh_uuid *out, lh_err *err)
{
    lh_rc rc = random_bytes(out->b, sizeof(out->b), err);
    if (rc != LH_OK) {
        return rc;
    }
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x40);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
    return LH_OK;
}

/* The v7 state: the highest ms used so far and the 74-bit counter that
 * follows it (12 bits in rand_a, 62 in rand_b). */
static pthread_mutex_t v7_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t v7_ms = -1;
static uint16_t v7_hi; /* 12 bits */
static uint64_t v7_lo; /* 62 bits */

#define LO_MASK ((UINT64_C(1) << 62) - 1)

/* Seeds a counter from 74 random bits, the top one clear so at least 2^73
 * increments fit in the same ms. */
static lh_rc
v7_seed(uint16_t *hi, uint64_t *lo, lh_err *err)
{
    uint8_t r[10];
    lh_rc rc = random_bytes(r, sizeof(r), err);
    if (rc != LH_OK) {
        return rc;
    }
    *hi = (uint16_t)(((r[0] << 8) | r[1]) & 0x07ff);
    uint64_t v = 0;
    for (int i = 2; i < 10; i++) {
        v = (v << 8) | r[i];
    }
    *lo = v & LO_MASK;
    return LH_OK;
}

lh_rc
lh_uuid_v7(lh_uuid *out, int64_t unix_ms, lh_err *err)
{
    if (unix_ms < 0 || unix_ms >= (INT64_C(1) << 48)) {
        return lh_err_set(err, LH_EINVAL,
                          "uuid v7 time %lld ms out of range",
                          (long long)unix_ms);
    }
    uint16_t hi;
    uint64_t lo;
    lh_rc rc = LH_OK;
    pthread_mutex_lock(&v7_lock);
    if (unix_ms == v7_ms) {
        v7_lo = (v7_lo + 1) & LO_MASK;
        if (v7_lo == 0) {
            v7_hi = (v7_hi + 1) & 0x0fff;
        }
        hi = v7_hi;
        lo = v7_lo;
    } else {
        rc = v7_seed(&hi, &lo, err);
        /* An earlier ms than the last one (a clock step, an explicit past
         * time) gets random bits and leaves the state alone, so later ids
         * for the last ms still count up from it. */
        if (rc == LH_OK && unix_ms > v7_ms) {
            v7_ms = unix_ms;
            v7_hi = hi;
            v7_lo = lo;
        }
    }
    pthread_mutex_unlock(&v7_lock);
    if (rc != LH_OK) {
        return rc;
    }
    uint64_t ms = (uint64_t)unix_ms;
    for (int i = 0; i < 6; i++) {
        out->b[i] = (uint8_t)(ms >> (40 - 8 * i));
    }
    out->b[6] = (uint8_t)(0x70 | (hi >> 8));
    out->b[7] = (uint8_t)hi;
    out->b[8] = (uint8_t)(0x80 | (lo >> 56));
    for (int i = 9; i < 16; i++) {
        out->b[i] = (uint8_t)(lo >> (8 * (15 - i)));
    }
    return LH_OK;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

lh_rc
lh_uuid_parse(const char *s, size_t len, lh_uuid *out, lh_err *err)
{
    const char *p = s;
    size_t n = len;
    bool dashes = true;
    if (n == 38 && p[0] == '{' && p[37] == '}') {
        p++;
        n = 36;
    }
    if (n == 32) {
        dashes = false;
    } else if (n != 36) {
        goto bad;
    }
    lh_uuid u;
    size_t j = 0;
    for (int i = 0; i < 16; i++) {
        if (dashes && (i == 4 || i == 6 || i == 8 || i == 10)) {
            if (p[j++] != '-') {
                goto bad;
            }
        }
        int h = hexval(p[j]);
        int l = hexval(p[j + 1]);
        if (h < 0 || l < 0) {
            goto bad;
        }
        u.b[i] = (uint8_t)(h << 4 | l);
        j += 2;
    }
    *out = u;
    return LH_OK;
bad:;
    int q = len > 64 ? 64 : (int)len;
    return lh_err_set(err, LH_EINVAL, "invalid uuid \"%.*s%s\"", q, s,
                      len > 64 ? "..." : "");
}

void
lh_uuid_format(const lh_uuid *u, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    char *p = buf;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *p++ = '-';
        }
        *p++ = hex[u->b[i] >> 4];
        *p++ = hex[u->b[i] & 0x0f];
    }
    *p = '\0';
}

bool
lh_uuid_is_nil(const lh_uuid *u)
{
    for (int i = 0; i < 16; i++) {
        if (u->b[i] != 0) {
            return false;
        }
    }
    return true;
}
