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

/* v7 counters (RFC 9562 section 6.2, method 1): 74 bits that follow the ms,
 * 12 in rand_a and 62 in rand_b. One counter follows the newest ms seen, so
 * ids made from the clock count up even when threads race on a clock tick;
 * a second one serves calls for an older ms (a straggler from a tick, an
 * explicit past time), so those neither disturb the first nor lose their
 * own order while repeated. Two counters and not one for each ms: a far
 * future ms passed once would otherwise leave the clock's ids unordered
 * until the clock caught up with it. */
typedef struct v7_counter {
    int64_t ms;  /* -1: unused */
    uint16_t hi; /* 12 bits */
    uint64_t lo; /* 62 bits */
} v7_counter;

static pthread_mutex_t v7_lock = PTHREAD_MUTEX_INITIALIZER;
static v7_counter v7_newest = {-1, 0, 0};
static v7_counter v7_older = {-1, 0, 0};

#define LO_MASK ((UINT64_C(1) << 62) - 1)

/* Seeds c for ms from 74 random bits, the top one clear so at least 2^73
 * increments fit in the same ms. */
static lh_rc
v7_seed(v7_counter *c, int64_t ms, lh_err *err)
{
    uint8_t r[10];
    lh_rc rc = random_bytes(r, sizeof(r), err);
    if (rc != LH_OK) {
        return rc;
    }
    uint64_t v = 0;
    for (int i = 2; i < 10; i++) {
        v = (v << 8) | r[i];
    }
    c->ms = ms;
    c->hi = (uint16_t)(((r[0] << 8) | r[1]) & 0x07ff);
    c->lo = v & LO_MASK;
    return LH_OK;
}

/* The next counter value for ms, under v7_lock. */
static lh_rc
v7_next(int64_t ms, uint16_t *hi, uint64_t *lo, lh_err *err)
{
    v7_counter *c = ms >= v7_newest.ms ? &v7_newest : &v7_older;
    if (c->ms == ms) {
        c->lo = (c->lo + 1) & LO_MASK;
        if (c->lo == 0) {
            c->hi = (c->hi + 1) & 0x0fff;
        }
    } else {
        lh_rc rc = v7_seed(c, ms, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    *hi = c->hi;
    *lo = c->lo;
    return LH_OK;
}

lh_rc
lh_uuid_v7(lh_uuid *out, int64_t unix_ms, lh_err *err)
{
    if (unix_ms < 0 || unix_ms >= (INT64_C(1) << 48)) {
        return lh_err_set(err, LH_EINVAL, "uuid v7 time %lld ms out of range",
                          (long long)unix_ms);
    }
    uint16_t hi;
    uint64_t lo;
    pthread_mutex_lock(&v7_lock);
    lh_rc rc = v7_next(unix_ms, &hi, &lo, err);
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
        int h = lh_hex_digit(p[j]);
        int l = lh_hex_digit(p[j + 1]);
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
