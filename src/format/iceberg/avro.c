/*
 * Avro Object Container Files (../shared/specs/avro/specification.md,
 * "Object Container Files") over memory: the header (magic, metadata map,
 * sync marker), the blocks (count, size, codec bytes, sync) and the codecs
 * null, deflate (raw RFC 1951), snappy (with the 4-byte CRC32 of the
 * uncompressed data) and zstandard. libavro cannot read or write container
 * headers with custom keys from memory (LIBRARY-NOTES.md), so the framing
 * is ours; the records inside a block are libavro's (manifest.c).
 */
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "format/iceberg/iceberg_int.h"

/* A block inflating past this is refused (a manifest block is a few MB). */
#define BLOCK_LIMIT ((size_t)1 << 30)
/* Header keys: at most this many (Iceberg writes about ten). */
#define META_MAX 4096

lh_rc
lh__ice_avro_read_long(const uint8_t **p, const uint8_t *end, int64_t *out)
{
    uint64_t v = 0;
    int shift = 0;
    const uint8_t *s = *p;
    for (;;) {
        if (s >= end || shift > 63) {
            return LH_ECORRUPT;
        }
        uint8_t b = *s++;
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if ((b & 0x80) == 0) {
            break;
        }
    }
    *p = s;
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return LH_OK;
}

void
lh__ice_avro_put_long(lh_buf *b, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    uint8_t tmp[10];
    size_t n = 0;
    while (z >= 0x80) {
        tmp[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    tmp[n++] = (uint8_t)z;
    lh_buf_append(b, tmp, n);
}

void
lh__ice_avro_put_bytes(lh_buf *b, const void *p, size_t n)
{
    lh__ice_avro_put_long(b, (int64_t)n);
    lh_buf_append(b, p, n);
}

static lh_rc
corrupt(const char *name, const char *what, lh_err *err)
{
    return lh_err_set(err, LH_ECORRUPT, "avro file \"%s\": %s", name, what);
}

/* A length-prefixed byte string within [*p, end). */
static lh_rc
read_bytes(const uint8_t **p, const uint8_t *end, const uint8_t **out,
           size_t *n)
{
    int64_t len;
    if (lh__ice_avro_read_long(p, end, &len) != LH_OK || len < 0 ||
        (uint64_t)len > (uint64_t)(end - *p)) {
        return LH_ECORRUPT;
    }
    *out = *p;
    *n = (size_t)len;
    *p += len;
    return LH_OK;
}

lh_rc
lh__ice_avro_open(const uint8_t *p, size_t n, const char *name, lh_arena *a,
                  lh__ice_avro_file *f, lh_err *err)
{
    memset(f, 0, sizeof(*f));
    f->name = name;
    const uint8_t *s = p, *end = p + n;
    if (n < 4 || memcmp(p, "Obj\x01", 4) != 0) {
        return lh_err_set(err, LH_EFORMAT,
                          "avro file \"%s\": not an Avro object container "
                          "file (no \"Obj\\1\" magic)",
                          name);
    }
    s += 4;
    /* The metadata map: blocks of entries, a zero count ends it; a
     * negative count is followed by the block's size in bytes. */
    size_t cap = 0;
    for (;;) {
        int64_t count;
        if (lh__ice_avro_read_long(&s, end, &count) != LH_OK) {
            return corrupt(name, "truncated header", err);
        }
        if (count == 0) {
            break;
        }
        if (count < 0) {
            int64_t size;
            if (count == INT64_MIN ||
                lh__ice_avro_read_long(&s, end, &size) != LH_OK) {
                return corrupt(name, "malformed header map", err);
            }
            count = -count;
        }
        if (count > META_MAX || f->nmeta + (size_t)count > META_MAX) {
            return corrupt(name, "too many header keys", err);
        }
        if (f->nmeta + (size_t)count > cap) {
            size_t ncap = f->nmeta + (size_t)count;
            lh__ice_avro_kv *nm =
                lh__ice_alloc_array(a, ncap, sizeof(lh__ice_avro_kv));
            if (nm == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            if (f->nmeta) {
                memcpy(nm, f->meta, f->nmeta * sizeof(*nm));
            }
            f->meta = nm;
            cap = ncap;
        }
        for (int64_t i = 0; i < count; i++) {
            const uint8_t *k, *v;
            size_t kn, vn;
            if (read_bytes(&s, end, &k, &kn) != LH_OK ||
                read_bytes(&s, end, &v, &vn) != LH_OK) {
                return corrupt(name, "truncated header", err);
            }
            lh__ice_avro_kv *kv = &f->meta[f->nmeta++];
            kv->key = lh_arena_strndup(a, (const char *)k, kn);
            kv->value = lh_arena_memdup(a, v, vn + 1);
            if (kv->key == NULL || kv->value == NULL) {
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
            ((char *)kv->value)[vn] = 0;
            kv->len = vn;
        }
    }
    if ((size_t)(end - s) < 16) {
        return corrupt(name, "truncated header (no sync marker)", err);
    }
    memcpy(f->sync, s, 16);
    s += 16;
    f->pos = s;
    f->end = end;
    const lh__ice_avro_kv *schema = lh__ice_avro_meta(f, "avro.schema");
    if (schema == NULL) {
        return lh_err_set(err, LH_EFORMAT,
                          "avro file \"%s\": no avro.schema in the header",
                          name);
    }
    const lh__ice_avro_kv *codec = lh__ice_avro_meta(f, "avro.codec");
    const char *c = codec ? codec->value : "null";
    if (strcmp(c, "null") == 0) {
        f->codec = LH__ICE_AVRO_NULL;
    } else if (strcmp(c, "deflate") == 0) {
        f->codec = LH__ICE_AVRO_DEFLATE;
    } else if (strcmp(c, "snappy") == 0) {
        f->codec = LH__ICE_AVRO_SNAPPY;
    } else if (strcmp(c, "zstandard") == 0) {
        f->codec = LH__ICE_AVRO_ZSTD;
    } else {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: avro codec \"%.40s\" in \"%s\"", c,
                          name);
    }
    return LH_OK;
}

const lh__ice_avro_kv *
lh__ice_avro_meta(const lh__ice_avro_file *f, const char *key)
{
    for (size_t i = 0; i < f->nmeta; i++) {
        if (strcmp(f->meta[i].key, key) == 0) {
            return &f->meta[i];
        }
    }
    return NULL;
}

static lh_rc
inflate_raw(const uint8_t *p, size_t n, lh_buf *out, const char *name,
            lh_err *err)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    lh_rc rc = LH_OK;
    for (;;) {
        if (lh_buf_reserve(out, LH_MAX(n * 2, (size_t)65536)) != LH_OK) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            break;
        }
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = (uInt)LH_MIN(out->cap - out->len - 1, (size_t)1 << 30);
        int zr = inflate(&z, Z_NO_FLUSH);
        out->len = (size_t)((char *)z.next_out - out->data);
        if (zr == Z_STREAM_END) {
            break;
        }
        if (out->len > BLOCK_LIMIT) {
            rc = corrupt(name, "a block inflates past 1 GiB", err);
            break;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0) {
            /* Some writers end the stream without a final block marker:
             * what came out is the block. */
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = corrupt(name, "corrupt deflate block", err);
            break;
        }
    }
    inflateEnd(&z);
    return rc;
}

static lh_rc
unzstd_block(const uint8_t *p, size_t n, lh_buf *out, const char *name,
             lh_err *err)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (ds == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    ZSTD_inBuffer in = {p, n, 0};
    lh_rc rc = LH_OK;
    while (in.pos < in.size) {
        if (lh_buf_reserve(out, 65536) != LH_OK) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            break;
        }
        ZSTD_outBuffer ob = {out->data + out->len, out->cap - out->len - 1, 0};
        size_t r = ZSTD_decompressStream(ds, &ob, &in);
        out->len += ob.pos;
        if (ZSTD_isError(r)) {
            rc = corrupt(name, "corrupt zstandard block", err);
            break;
        }
        if (out->len > BLOCK_LIMIT) {
            rc = corrupt(name, "a block decompresses past 1 GiB", err);
            break;
        }
        if (ob.pos == 0 && r != 0 && in.pos == in.size) {
            rc = corrupt(name, "truncated zstandard block", err);
            break;
        }
    }
    ZSTD_freeDStream(ds);
    return rc;
}

lh_rc
lh__ice_avro_next_block(lh__ice_avro_file *f, lh_buf *scratch,
                        const uint8_t **data, size_t *len, int64_t *count,
                        lh_err *err)
{
    *data = NULL;
    *len = 0;
    *count = 0;
    if (f->pos >= f->end) {
        return LH_OK; /* the end */
    }
    const uint8_t *s = f->pos;
    int64_t cnt, size;
    if (lh__ice_avro_read_long(&s, f->end, &cnt) != LH_OK ||
        lh__ice_avro_read_long(&s, f->end, &size) != LH_OK || cnt < 0 ||
        size < 0 || (uint64_t)size > (uint64_t)(f->end - s)) {
        return corrupt(f->name, "malformed block header", err);
    }
    const uint8_t *body = s;
    s += size;
    if ((size_t)(f->end - s) < 16 || memcmp(s, f->sync, 16) != 0) {
        return corrupt(f->name, "block does not end with the sync marker", err);
    }
    f->pos = s + 16;
    f->block++;
    lh_buf_reset(scratch);
    lh_rc rc = LH_OK;
    switch (f->codec) {
    case LH__ICE_AVRO_NULL:
        *data = body;
        *len = (size_t)size;
        break;
    case LH__ICE_AVRO_DEFLATE:
        rc = inflate_raw(body, (size_t)size, scratch, f->name, err);
        break;
    case LH__ICE_AVRO_SNAPPY: {
        size_t ulen;
        if (size < 4 ||
            snappy_uncompressed_length((const char *)body, (size_t)size - 4,
                                       &ulen) != SNAPPY_OK ||
            ulen > BLOCK_LIMIT) {
            return corrupt(f->name, "corrupt snappy block", err);
        }
        if (lh_buf_reserve(scratch, ulen + 1) != LH_OK) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        size_t got = ulen;
        if (snappy_uncompress((const char *)body, (size_t)size - 4,
                              scratch->data, &got) != SNAPPY_OK ||
            got != ulen) {
            return corrupt(f->name, "corrupt snappy block", err);
        }
        scratch->len = got;
        const uint8_t *c = body + size - 4;
        uint32_t want = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 |
                        (uint32_t)c[2] << 8 | c[3];
        if ((uint32_t)crc32(0, (const Bytef *)scratch->data, (uInt)got) !=
            want) {
            return corrupt(f->name, "snappy block fails its CRC32", err);
        }
        break;
    }
    case LH__ICE_AVRO_ZSTD:
        rc = unzstd_block(body, (size_t)size, scratch, f->name, err);
        break;
    default:
        return lh_err_set(err, LH_EINTERNAL, "codec %d", f->codec);
    }
    if (rc != LH_OK) {
        return rc;
    }
    if (f->codec != LH__ICE_AVRO_NULL) {
        *data = (const uint8_t *)scratch->data;
        *len = scratch->len;
    }
    *count = cnt;
    return LH_OK;
}

/* ---- writing
 * ------------------------------------------------------------------- */

lh_rc
lh__ice_avro_write_header(lh_buf *out, const lh__ice_avro_kv *meta,
                          size_t nmeta, int codec, const uint8_t sync[16])
{
    lh_buf_append(out, "Obj\x01", 4);
    lh__ice_avro_put_long(out, (int64_t)nmeta + 1);
    static const char *const names[] = {"null", "deflate", "snappy",
                                        "zstandard"};
    lh__ice_avro_put_bytes(out, "avro.codec", 10);
    lh__ice_avro_put_bytes(out, names[codec], strlen(names[codec]));
    for (size_t i = 0; i < nmeta; i++) {
        lh__ice_avro_put_bytes(out, meta[i].key, strlen(meta[i].key));
        lh__ice_avro_put_bytes(out, meta[i].value, meta[i].len);
    }
    lh__ice_avro_put_long(out, 0);
    lh_buf_append(out, sync, 16);
    return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
}

lh_rc
lh__ice_avro_write_block(lh_buf *out, int codec, const uint8_t sync[16],
                         int64_t count, const void *data, size_t len,
                         lh_err *err)
{
    lh_buf tmp = LH_BUF_INIT;
    const void *body = data;
    size_t blen = len;
    lh_rc rc = LH_OK;
    if (codec == LH__ICE_AVRO_DEFLATE) {
        z_stream z;
        memset(&z, 0, sizeof(z));
        if (deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK ||
            lh_buf_reserve(&tmp, deflateBound(&z, (uLong)len) + 1) != LH_OK) {
            deflateEnd(&z);
            lh_buf_release(&tmp);
            return lh_err_set(err, LH_ENOMEM, "out of memory compressing");
        }
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)tmp.data;
        z.avail_out = (uInt)(tmp.cap - 1);
        int zr = deflate(&z, Z_FINISH);
        tmp.len = z.total_out;
        deflateEnd(&z);
        if (zr != Z_STREAM_END) {
            lh_buf_release(&tmp);
            return lh_err_set(err, LH_EINTERNAL, "deflate did not finish");
        }
        body = tmp.data;
        blen = tmp.len;
    } else if (codec == LH__ICE_AVRO_ZSTD) {
        size_t bound = ZSTD_compressBound(len);
        if (lh_buf_reserve(&tmp, bound + 1) != LH_OK) {
            lh_buf_release(&tmp);
            return lh_err_set(err, LH_ENOMEM, "out of memory compressing");
        }
        size_t r = ZSTD_compress(tmp.data, bound, data, len, 3);
        if (ZSTD_isError(r)) {
            lh_buf_release(&tmp);
            return lh_err_set(err, LH_EINTERNAL, "zstd: %s",
                              ZSTD_getErrorName(r));
        }
        tmp.len = r;
        body = tmp.data;
        blen = r;
    } else if (codec == LH__ICE_AVRO_SNAPPY) {
        size_t bound = snappy_max_compressed_length(len);
        if (lh_buf_reserve(&tmp, bound + 5) != LH_OK) {
            lh_buf_release(&tmp);
            return lh_err_set(err, LH_ENOMEM, "out of memory compressing");
        }
        size_t got = bound;
        snappy_compress(data, len, tmp.data, &got);
        uint32_t c = (uint32_t)crc32(0, data, (uInt)len);
        uint8_t be[4] = {(uint8_t)(c >> 24), (uint8_t)(c >> 16),
                         (uint8_t)(c >> 8), (uint8_t)c};
        memcpy(tmp.data + got, be, 4);
        tmp.len = got + 4;
        body = tmp.data;
        blen = tmp.len;
    }
    lh__ice_avro_put_long(out, count);
    lh__ice_avro_put_long(out, (int64_t)blen);
    lh_buf_append(out, body, blen);
    lh_buf_append(out, sync, 16);
    lh_buf_release(&tmp);
    if (!lh_buf_ok(out)) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory writing avro");
    }
    return rc;
}
