/*
 * Puffin files (../shared/specs/iceberg/puffin-spec.md) and the
 * deletion-vector-v1 blob: 64-bit positions as 32-bit Roaring bitmaps
 * keyed by their high 32 bits (CRoaring 0.2 has 32-bit bitmaps only;
 * LIBRARY-NOTES.md).
 *
 * File:   "PFA1" blob... footer
 * Footer: "PFA1" payload(JSON, maybe LZ4 frame) payload-size(i32 LE)
 *         flags(4 bytes; byte 0 bit 0 = compressed) "PFA1"
 * DV blob: length(u32 BE, of magic + vector) D1 D3 39 64 vector
 *          crc32(u32 BE, of magic + vector)
 * vector: count(u64 LE) then per bitmap, keys ascending: key(u32 LE)
 *         portable 32-bit Roaring bitmap
 */
#include <lz4frame.h>
#include <roaring/roaring.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "format/iceberg/iceberg_int.h"

static const uint8_t MAGIC[4] = {'P', 'F', 'A', '1'};
static const uint8_t DV_MAGIC[4] = {0xD1, 0xD3, 0x39, 0x64};

#define FOOTER_LIMIT ((size_t)64 << 20)

static uint32_t
get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static lh_rc
lz4_frame(const uint8_t *p, size_t n, size_t limit, lh_buf *out, lh_err *err)
{
    LZ4F_dctx *d;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_rc rc = LH_OK;
    size_t pos = 0;
    for (;;) {
        if (lh_buf_reserve(out, 65536) != LH_OK) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
            break;
        }
        size_t dst = out->cap - out->len - 1, src = n - pos;
        size_t r =
            LZ4F_decompress(d, out->data + out->len, &dst, p + pos, &src, NULL);
        if (LZ4F_isError(r)) {
            rc = lh_err_set(err, LH_ECORRUPT, "corrupt LZ4 frame: %s",
                            LZ4F_getErrorName(r));
            break;
        }
        out->len += dst;
        pos += src;
        if (out->len > limit) {
            rc = lh_err_set(err, LH_ELIMIT, "LZ4 frame past %zu bytes", limit);
            break;
        }
        if (r == 0) {
            break;
        }
        if (pos >= n && dst == 0) {
            rc = lh_err_set(err, LH_ECORRUPT, "truncated LZ4 frame");
            break;
        }
    }
    LZ4F_freeDecompressionContext(d);
    return rc;
}

lh_rc
lh_ice_puffin_read(const uint8_t *p, size_t n, const char *name, lh_arena *a,
                   lh_ice_puffin *out, lh_err *err)
{
    memset(out, 0, sizeof(*out));
    if (n < 4 + 16 || memcmp(p, MAGIC, 4) != 0 ||
        memcmp(p + n - 4, MAGIC, 4) != 0) {
        return lh_err_set(err, LH_EFORMAT,
                          "puffin file \"%s\": no PFA1 magic at both ends",
                          name);
    }
    int32_t psize = (int32_t)lh_get_le32(p + n - 12);
    uint8_t flags = p[n - 8];
    if (psize < 0 || (size_t)psize > n - 4 - 16 - 0 ||
        (size_t)psize + 16 > n - 4) {
        return lh_err_set(err, LH_ECORRUPT,
                          "puffin file \"%s\": footer size %d does not fit "
                          "in %zu bytes",
                          name, psize, n);
    }
    size_t foot = n - 12 - (size_t)psize - 4; /* the footer's magic */
    if (memcmp(p + foot, MAGIC, 4) != 0) {
        return lh_err_set(err, LH_ECORRUPT,
                          "puffin file \"%s\": no magic at the footer's "
                          "start",
                          name);
    }
    out->footer_size = n - foot;
    const uint8_t *payload = p + foot + 4;
    lh_buf text = LH_BUF_INIT;
    lh_rc rc;
    if (flags & 1) {
        rc = lz4_frame(payload, (size_t)psize, FOOTER_LIMIT, &text, err);
    } else {
        rc = lh_buf_append(&text, payload, (size_t)psize);
    }
    json_t *j = NULL;
    if (rc == LH_OK) {
        rc = lh__ice_j_load(text.data ? text.data : "", text.len, &j,
                            "puffin footer", err);
    }
    lh_buf_release(&text);
    if (rc != LH_OK) {
        lh_err_prefix(err, "puffin file \"%s\"", name);
        return rc;
    }
    char where[600];
    snprintf(where, sizeof(where), "puffin file \"%.500s\": footer", name);
    const json_t *blobs;
    rc = json_is_object(j)
             ? lh__ice_j_array(j, "blobs", true, &blobs, where, err)
             : lh_err_set(err, LH_EFORMAT, "%s: not a JSON object", where);
    if (rc == LH_OK) {
        rc = lh__ice_j_string_map(j, "properties", a, &out->properties,
                                  &out->nproperties, where, err);
    }
    size_t nb = rc == LH_OK ? json_array_size(blobs) : 0;
    if (rc == LH_OK) {
        out->blobs = lh__ice_alloc_array(a, nb, sizeof(lh_ice_puffin_blob));
        if (out->blobs == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    for (size_t i = 0; rc == LH_OK && i < nb; i++) {
        char bw[700];
        snprintf(bw, sizeof(bw), "%s.blobs[%zu]", where, i);
        const json_t *b = json_array_get(blobs, i);
        lh_ice_puffin_blob *bl = &out->blobs[i];
        const json_t *fields;
        if (!json_is_object(b)) {
            rc = lh_err_set(err, LH_EFORMAT, "%s: must be an object", bw);
            break;
        }
        rc = lh__ice_j_str(b, "type", true, a, &bl->type, bw, err);
        if (rc == LH_OK) {
            rc = lh__ice_j_array(b, "fields", true, &fields, bw, err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_j_int_list(fields, a, &bl->fields, &bl->nfields, bw,
                                    err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_j_i64(b, "snapshot-id", true, &bl->snapshot_id, NULL,
                               bw, err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_j_i64(b, "sequence-number", true, &bl->sequence_number,
                               NULL, bw, err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_j_i64(b, "offset", true, &bl->offset, NULL, bw, err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_j_i64(b, "length", true, &bl->length, NULL, bw, err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_j_str(b, "compression-codec", false, a, &bl->codec, bw,
                               err);
        }
        if (rc == LH_OK) {
            rc = lh__ice_j_string_map(b, "properties", a, &bl->properties,
                                      &bl->nproperties, bw, err);
        }
        if (rc == LH_OK &&
            (bl->offset < 4 || bl->length < 0 ||
             (uint64_t)bl->offset + (uint64_t)bl->length > foot)) {
            rc = lh_err_set(err, LH_ECORRUPT,
                            "%s: offset %lld and length %lld run outside the "
                            "blobs",
                            bw, (long long)bl->offset, (long long)bl->length);
        }
        if (rc == LH_OK && bl->codec != NULL &&
            strcmp(bl->codec, "zstd") != 0 && strcmp(bl->codec, "lz4") != 0) {
            rc = lh_err_set(err, LH_EUNSUPPORTED,
                            "unsupported: %s: compression-codec \"%.40s\"", bw,
                            bl->codec);
        }
    }
    out->nblobs = (uint32_t)nb;
    json_decref(j);
    return rc;
}

const char *
lh_ice_puffin_blob_property(const lh_ice_puffin_blob *b, const char *key)
{
    for (uint32_t i = 0; i < b->nproperties; i++) {
        if (strcmp(b->properties[i].key, key) == 0) {
            return b->properties[i].value;
        }
    }
    return NULL;
}

lh_rc
lh_ice_puffin_blob_bytes(const uint8_t *file, size_t n,
                         const lh_ice_puffin_blob *b, lh_buf *out, lh_err *err)
{
    lh_buf_reset(out);
    if (b->offset < 0 || b->length < 0 ||
        (uint64_t)b->offset + (uint64_t)b->length > n) {
        return lh_err_set(err, LH_ECORRUPT, "blob runs past the file");
    }
    const uint8_t *p = file + b->offset;
    size_t len = (size_t)b->length;
    if (b->codec == NULL) {
        return lh_buf_append(out, p, len) == LH_OK
                   ? LH_OK
                   : lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (strcmp(b->codec, "lz4") == 0) {
        return lz4_frame(p, len, (size_t)1 << 30, out, err);
    }
    return lh_ice_decompress_sniff(p, len, (size_t)1 << 30, out, err);
}

/* ---- deletion vectors
 * ---------------------------------------------------------- */

struct lh_ice_dv {
    uint32_t *keys;
    roaring_bitmap_t **maps;
    uint32_t n, cap;
};

lh_rc
lh_ice_dv_new(lh_ice_dv **out, lh_err *err)
{
    *out = lh_calloc(1, sizeof(lh_ice_dv));
    return *out ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
}

void
lh_ice_dv_free(lh_ice_dv *dv)
{
    if (dv == NULL) {
        return;
    }
    for (uint32_t i = 0; i < dv->n; i++) {
        roaring_bitmap_free(dv->maps[i]);
    }
    lh_free(dv->keys);
    lh_free(dv->maps);
    lh_free(dv);
}

/* The index of key, or where it would go (*found false). */
static uint32_t
find_key(const lh_ice_dv *dv, uint32_t key, bool *found)
{
    uint32_t lo = 0, hi = dv->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (dv->keys[mid] < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = lo < dv->n && dv->keys[lo] == key;
    return lo;
}

static lh_rc
insert_map(lh_ice_dv *dv, uint32_t at, uint32_t key, roaring_bitmap_t *m)
{
    if (dv->n == dv->cap) {
        uint32_t cap = dv->cap ? dv->cap * 2 : 4;
        uint32_t *k = lh_realloc(dv->keys, cap * sizeof(*k));
        if (k == NULL) {
            return LH_ENOMEM;
        }
        dv->keys = k;
        roaring_bitmap_t **mm = lh_realloc(dv->maps, cap * sizeof(*mm));
        if (mm == NULL) {
            return LH_ENOMEM;
        }
        dv->maps = mm;
        dv->cap = cap;
    }
    memmove(dv->keys + at + 1, dv->keys + at, (dv->n - at) * sizeof(uint32_t));
    memmove(dv->maps + at + 1, dv->maps + at, (dv->n - at) * sizeof(void *));
    dv->keys[at] = key;
    dv->maps[at] = m;
    dv->n++;
    return LH_OK;
}

lh_rc
lh_ice_dv_add(lh_ice_dv *dv, int64_t pos, lh_err *err)
{
    if (pos < 0) {
        return lh_err_set(err, LH_EINVAL, "position %lld is negative",
                          (long long)pos);
    }
    uint32_t key = (uint32_t)((uint64_t)pos >> 32);
    bool found;
    uint32_t at = find_key(dv, key, &found);
    if (!found) {
        roaring_bitmap_t *m = roaring_bitmap_create();
        if (m == NULL || insert_map(dv, at, key, m) != LH_OK) {
            roaring_bitmap_free(m);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    roaring_bitmap_add(dv->maps[at], (uint32_t)pos);
    return LH_OK;
}

bool
lh_ice_dv_contains(const lh_ice_dv *dv, int64_t pos)
{
    if (pos < 0 || dv == NULL) {
        return false;
    }
    bool found;
    uint32_t at = find_key(dv, (uint32_t)((uint64_t)pos >> 32), &found);
    return found && roaring_bitmap_contains(dv->maps[at], (uint32_t)pos);
}

uint64_t
lh_ice_dv_cardinality(const lh_ice_dv *dv)
{
    uint64_t c = 0;
    for (uint32_t i = 0; i < dv->n; i++) {
        c += roaring_bitmap_get_cardinality(dv->maps[i]);
    }
    return c;
}

lh_rc
lh_ice_dv_positions(const lh_ice_dv *dv, int64_t *out, uint64_t max,
                    uint64_t *n)
{
    uint64_t k = 0;
    for (uint32_t i = 0; i < dv->n; i++) {
        roaring_uint32_iterator_t *it = roaring_create_iterator(dv->maps[i]);
        if (it == NULL) {
            return LH_ENOMEM;
        }
        while (it->has_value && k < max) {
            out[k++] =
                (int64_t)((uint64_t)dv->keys[i] << 32 | it->current_value);
            roaring_advance_uint32_iterator(it);
        }
        roaring_free_uint32_iterator(it);
    }
    *n = k;
    return LH_OK;
}

lh_rc
lh_ice_roaring64_parse(const uint8_t *p, size_t n, lh_ice_dv **out, lh_err *err)
{
    *out = NULL;
    if (n < 8) {
        return lh_err_set(err, LH_ECORRUPT,
                          "64-bit roaring bitmap: %zu bytes, not even a count",
                          n);
    }
    uint64_t count = (uint64_t)lh_get_le32(p) | (uint64_t)lh_get_le32(p + 4)
                                                    << 32;
    if (count > (n - 8) / 12) { /* a key and a minimal bitmap each */
        return lh_err_set(err, LH_ECORRUPT,
                          "64-bit roaring bitmap: %llu bitmaps do not fit in "
                          "%zu bytes",
                          (unsigned long long)count, n);
    }
    lh_ice_dv *dv;
    lh_rc rc = lh_ice_dv_new(&dv, err);
    if (rc != LH_OK) {
        return rc;
    }
    size_t pos = 8;
    for (uint64_t i = 0; i < count; i++) {
        if (n - pos < 4) {
            lh_ice_dv_free(dv);
            return lh_err_set(err, LH_ECORRUPT,
                              "64-bit roaring bitmap: truncated at bitmap "
                              "%llu",
                              (unsigned long long)i);
        }
        uint32_t key = lh_get_le32(p + pos);
        pos += 4;
        if (key & 0x80000000u) {
            lh_ice_dv_free(dv);
            return lh_err_set(err, LH_ECORRUPT,
                              "64-bit roaring bitmap: invalid unsigned key "
                              "%u (positions must be below 2^63)",
                              key);
        }
        if (dv->n > 0 && key <= dv->keys[dv->n - 1]) {
            uint32_t prev = dv->keys[dv->n - 1];
            lh_ice_dv_free(dv);
            return lh_err_set(err, LH_ECORRUPT,
                              "64-bit roaring bitmap: keys are not ascending "
                              "(%u after %u)",
                              key, prev);
        }
        size_t size = roaring_bitmap_portable_deserialize_size(
            (const char *)p + pos, n - pos);
        roaring_bitmap_t *m = size == 0
                                  ? NULL
                                  : roaring_bitmap_portable_deserialize_safe(
                                        (const char *)p + pos, n - pos);
        if (m == NULL) {
            lh_ice_dv_free(dv);
            return lh_err_set(err, LH_ECORRUPT,
                              "64-bit roaring bitmap: bitmap %llu (key %u) "
                              "does not decode",
                              (unsigned long long)i, key);
        }
        pos += size;
        if (insert_map(dv, dv->n, key, m) != LH_OK) {
            roaring_bitmap_free(m);
            lh_ice_dv_free(dv);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    if (pos != n) {
        lh_ice_dv_free(dv);
        return lh_err_set(err, LH_ECORRUPT,
                          "64-bit roaring bitmap: %zu bytes after the last "
                          "bitmap",
                          n - pos);
    }
    *out = dv;
    return LH_OK;
}

lh_rc
lh_ice_dv_parse(const uint8_t *p, size_t n, lh_ice_dv **out, lh_err *err)
{
    *out = NULL;
    if (n < 12) {
        return lh_err_set(err, LH_ECORRUPT,
                          "deletion vector: %zu bytes is too short", n);
    }
    uint32_t len = get_be32(p);
    if ((uint64_t)len + 8 != n) {
        return lh_err_set(err, LH_ECORRUPT,
                          "deletion vector: length %u does not match the "
                          "blob's %zu bytes",
                          len, n);
    }
    if (memcmp(p + 4, DV_MAGIC, 4) != 0) {
        return lh_err_set(err, LH_ECORRUPT,
                          "deletion vector: no D1 D3 39 64 magic");
    }
    uint32_t want = get_be32(p + n - 4);
    uint32_t got = (uint32_t)crc32(0, p + 4, (uInt)len);
    if (want != got) {
        return lh_err_set(err, LH_ECORRUPT,
                          "deletion vector: CRC-32 %08x, the blob says %08x",
                          got, want);
    }
    return lh_ice_roaring64_parse(p + 8, len - 4, out, err);
}

lh_rc
lh_ice_dv_serialize(const lh_ice_dv *dv, lh_buf *out, lh_err *err)
{
    size_t start = out->len;
    uint8_t head[8] = {0};
    lh_buf_append(out, head, 8); /* length + magic, filled below */
    uint8_t cnt[8];
    lh_put_le32(cnt, dv->n);
    lh_put_le32(cnt + 4, 0);
    lh_buf_append(out, cnt, 8);
    for (uint32_t i = 0; i < dv->n; i++) {
        roaring_bitmap_run_optimize(dv->maps[i]);
        size_t size = roaring_bitmap_portable_size_in_bytes(dv->maps[i]);
        uint8_t k[4];
        lh_put_le32(k, dv->keys[i]);
        lh_buf_append(out, k, 4);
        if (lh_buf_reserve(out, size + 1) != LH_OK) {
            break;
        }
        out->len += roaring_bitmap_portable_serialize(dv->maps[i],
                                                      out->data + out->len);
    }
    if (!lh_buf_ok(out)) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    uint8_t *b = (uint8_t *)out->data + start;
    size_t len = out->len - start - 4; /* magic + vector */
    put_be32(b, (uint32_t)len);
    memcpy(b + 4, DV_MAGIC, 4);
    uint8_t crc[4];
    put_be32(crc, (uint32_t)crc32(0, b + 4, (uInt)len));
    return lh_buf_append(out, crc, 4) == LH_OK
               ? LH_OK
               : lh_err_set(err, LH_ENOMEM, "out of memory");
}

lh_rc
lh_ice_puffin_write(lh_buf *out, const lh_ice_puffin_blob *blobs,
                    const lh_buf *payloads, uint32_t n, const char *created_by,
                    lh_err *err)
{
    (void)payloads;
    lh_buf_reset(out);
    lh_buf_append(out, MAGIC, 4);
    lh_buf json = LH_BUF_INIT;
    lh_buf_puts(&json, "{\"blobs\":[");
    for (uint32_t i = 0; i < n; i++) {
        const lh_ice_puffin_blob *b = &blobs[i];
        int64_t offset = (int64_t)out->len;
        lh_buf_append(out, payloads[i].data, payloads[i].len);
        lh_buf_puts(&json, i ? ",{\"type\":" : "{\"type\":");
        lh_buf_json_string(&json, b->type, strlen(b->type));
        lh_buf_puts(&json, ",\"fields\":[");
        for (uint32_t k = 0; k < b->nfields; k++) {
            lh_buf_printf(&json, "%s%d", k ? "," : "", b->fields[k]);
        }
        lh_buf_printf(&json,
                      "],\"snapshot-id\":%lld,\"sequence-number\":%lld,"
                      "\"offset\":%lld,\"length\":%zu",
                      (long long)b->snapshot_id, (long long)b->sequence_number,
                      (long long)offset, payloads[i].len);
        if (b->nproperties > 0) {
            lh_buf_puts(&json, ",\"properties\":{");
            for (uint32_t k = 0; k < b->nproperties; k++) {
                if (k > 0) {
                    lh_buf_putc(&json, ',');
                }
                lh_buf_json_string(&json, b->properties[k].key,
                                   strlen(b->properties[k].key));
                lh_buf_putc(&json, ':');
                lh_buf_json_string(&json, b->properties[k].value,
                                   strlen(b->properties[k].value));
            }
            lh_buf_putc(&json, '}');
        }
        lh_buf_putc(&json, '}');
    }
    lh_buf_puts(&json, "],\"properties\":{\"created-by\":");
    lh_buf_json_string(&json, created_by, strlen(created_by));
    lh_buf_puts(&json, "}}");
    lh_buf_append(out, MAGIC, 4);
    lh_buf_append(out, json.data, json.len);
    uint8_t tail[12];
    lh_put_le32(tail, (uint32_t)json.len);
    memset(tail + 4, 0, 4);
    memcpy(tail + 8, MAGIC, 4);
    lh_buf_append(out, tail, 12);
    bool ok = lh_buf_ok(out) && lh_buf_ok(&json);
    lh_buf_release(&json);
    return ok ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
}
