/*
 * PostgreSQL frontend messages (protocol 3.0): framing and a bounded
 * reader over a message's payload. See server.h.
 */
#include <string.h>

#include "server/server.h"

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

lh_rc
lh__pg_split(const uint8_t *buf, size_t len, bool startup, lh_pg_msg *msg,
             size_t *used, lh_err *err)
{
    *used = 0;
    size_t head = startup ? 4 : 5;
    if (len < head) {
        return LH_OK;
    }
    uint32_t n = be32(buf + head - 4);
    if (n < 4) {
        return lh_err_set(err, LH_EINVAL, "invalid message length %u", n);
    }
    uint32_t max = startup ? LH_PG_MAX_STARTUP : LH_PG_MAX_MESSAGE;
    if (n > max) {
        return lh_err_set(err, LH_ELIMIT,
                          "message of %u bytes is longer than the limit of %u",
                          n, max);
    }
    if (len < head - 4 + (size_t)n) {
        return LH_OK;
    }
    msg->type = startup ? 0 : (char)buf[0];
    msg->data = buf + head;
    msg->len = (size_t)n - 4;
    *used = head - 4 + (size_t)n;
    return LH_OK;
}

void
lh__pg_reader_init(lh_pg_reader *r, const lh_pg_msg *m)
{
    r->p = m->data;
    r->len = m->len;
    r->off = 0;
    r->bad = false;
}

static bool
need(lh_pg_reader *r, size_t n)
{
    if (r->bad || r->len - r->off < n) {
        r->bad = true;
        return false;
    }
    return true;
}

bool
lh__pg_get_u8(lh_pg_reader *r, uint8_t *out)
{
    if (!need(r, 1)) {
        return false;
    }
    *out = r->p[r->off++];
    return true;
}

bool
lh__pg_get_i16(lh_pg_reader *r, int16_t *out)
{
    if (!need(r, 2)) {
        return false;
    }
    *out = (int16_t)((uint16_t)r->p[r->off] << 8 | r->p[r->off + 1]);
    r->off += 2;
    return true;
}

bool
lh__pg_get_i32(lh_pg_reader *r, int32_t *out)
{
    if (!need(r, 4)) {
        return false;
    }
    *out = (int32_t)be32(r->p + r->off);
    r->off += 4;
    return true;
}

bool
lh__pg_get_str(lh_pg_reader *r, const char **out)
{
    if (r->bad) {
        return false;
    }
    const uint8_t *z = memchr(r->p + r->off, 0, r->len - r->off);
    if (z == NULL) {
        r->bad = true;
        return false;
    }
    *out = (const char *)(r->p + r->off);
    r->off = (size_t)(z - r->p) + 1;
    return true;
}

bool
lh__pg_get_bytes(lh_pg_reader *r, size_t n, const uint8_t **out)
{
    if (!need(r, n)) {
        return false;
    }
    *out = r->p + r->off;
    r->off += n;
    return true;
}

bool
lh__pg_at_end(const lh_pg_reader *r)
{
    return !r->bad && r->off == r->len;
}
