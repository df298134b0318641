/*
 * One page of a column chunk: header, CRC, decompression, levels, values
 * (in any encoding the spec defines) converted to the leaf's type.
 *
 * Memory: a data page owns an arena holding the decompressed bytes, the
 * levels and the values; string views point into that arena or, for
 * uncompressed pages, straight into the file's mapping (which outlives
 * every page).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "format/parquet/codec.h"
#include "format/parquet/encoding.h"
#include "format/parquet/reader_int.h"

void
lh__pq_page_free(lh_pq_page *p)
{
    if (p) {
        lh_arena_release(&p->arena);
        free(p->mem);
        free(p);
    }
}

void
lh__pq_page_recycle(lh_pq_page *p, lh_pq_page **pool)
{
    if (!p) {
        return;
    }
    lh_arena_release(&p->arena);
    lh_arena_init(&p->arena, 0);
    if (p->want > p->cap) {
        /* Next time everything fits the block (a quarter to spare). */
        size_t cap = p->want + p->want / 4;
        uint8_t *m = malloc(cap);
        if (m) {
            free(p->mem);
            p->mem = m;
            p->cap = cap;
        }
    }
    p->off = p->want = 0;
    p->def = p->rep = NULL;
    p->vals = NULL;
    p->codes = NULL;
    p->keep_codes = false;
    p->nent = p->nvals = p->ent_pos = p->val_pos = 0;
    p->next = *pool;
    *pool = p;
}

/* Pages outlive scans in a process-wide pool of at most this many bytes,
 * so that a scan does not fault in fresh memory for its first pages (a
 * page fault per 4 KiB is a large part of a short scan's time). */
#define POOL_MAX ((size_t)256 << 20)

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static lh_pq_page *shared_pool;
static size_t shared_bytes;

void
lh__pq_pool_give(lh_pq_page **pool)
{
    while (*pool) {
        lh_pq_page *p = *pool;
        *pool = p->next;
        pthread_mutex_lock(&pool_mu);
        bool keep = shared_bytes + p->cap <= POOL_MAX;
        if (keep) {
            p->next = shared_pool;
            shared_pool = p;
            shared_bytes += p->cap;
        }
        pthread_mutex_unlock(&pool_mu);
        if (!keep) {
            lh__pq_page_free(p);
        }
    }
}

static lh_pq_page *
page_new(lh_pq_page **pool)
{
    if (pool && *pool) {
        lh_pq_page *p = *pool;
        *pool = p->next;
        p->next = NULL;
        return p;
    }
    pthread_mutex_lock(&pool_mu);
    lh_pq_page *sp = shared_pool;
    if (sp) {
        shared_pool = sp->next;
        shared_bytes -= sp->cap;
    }
    pthread_mutex_unlock(&pool_mu);
    if (sp) {
        sp->next = NULL;
        return sp;
    }
    lh_pq_page *p = calloc(1, sizeof *p);
    if (p) {
        lh_arena_init(&p->arena, 0);
    }
    return p;
}

static void *
page_alloc(lh_pq_page *pg, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) {
        n = 16;
    }
    pg->want += n;
    if (pg->mem && n <= pg->cap - pg->off) {
        void *p = pg->mem + pg->off;
        pg->off += n;
        return p;
    }
    return lh_arena_alloc(&pg->arena, n);
}

static lh_rc
oom(lh_err *err, const char *where)
{
    return lh_err_set(err, LH_ENOMEM, "%s: out of memory decoding a page",
                      where);
}

/* Decodes n values PLAIN-encoded into phys (lh__pq_phys_width each). */
static lh_rc
plain_values(const lh_pq_node *leaf, const uint8_t *p, size_t len, uint32_t n,
             void *phys, lh_err *err)
{
    int t = leaf->el->type;
    size_t w;
    switch (t) {
    case LH_PQ_TYPE_BOOLEAN:
        return lh_pq_plain_bool_decode(p, len, phys, n, err);
    case LH_PQ_TYPE_BYTE_ARRAY: {
        size_t used = 0;
        return lh_pq_plain_ba_decode(p, len, phys, n, &used, err);
    }
    case LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY: {
        size_t tl = (size_t)leaf->el->type_length;
        if (tl > UINT32_MAX || (tl && n > len / tl)) {
            return lh_err_set(err, LH_ECORRUPT,
                              "PLAIN: %u values of %zu bytes need more than "
                              "the page's %zu bytes",
                              n, tl, len);
        }
        lh_str *s = phys;
        for (uint32_t i = 0; i < n; i++) {
            s[i] = lh_str_make((const char *)p + i * tl, (uint32_t)tl);
        }
        return LH_OK;
    }
    default:
        w = lh__pq_phys_width(t);
        if (n > len / w) {
            return lh_err_set(err, LH_ECORRUPT,
                              "PLAIN: %u values of %zu bytes need more than "
                              "the page's %zu bytes",
                              n, w, len);
        }
        memcpy(phys, p, (size_t)n * w);
        return LH_OK;
    }
}

static lh_rc
check_codes(const lh_pq_dict *d, const uint32_t *codes, uint32_t n, lh_err *err)
{
    uint32_t bad = 0;
    for (uint32_t i = 0; i < n; i++) {
        bad |= codes[i] >= d->n; /* no branch in the loop */
    }
    for (uint32_t i = 0; bad && i < n; i++) {
        if (codes[i] >= d->n) {
            return lh_err_set(err, LH_ECORRUPT,
                              "dictionary code %u past the dictionary's %u "
                              "values",
                              codes[i], d->n);
        }
    }
    return LH_OK;
}

void
lh__pq_gather(const lh_pq_dict *d, const uint32_t *codes, uint32_t n, size_t w,
              void *out)
{
    switch (w) {
    case 1:
        for (uint32_t i = 0; i < n; i++) {
            ((uint8_t *)out)[i] = ((const uint8_t *)d->vals)[codes[i]];
        }
        break;
    case 2:
        for (uint32_t i = 0; i < n; i++) {
            ((uint16_t *)out)[i] = ((const uint16_t *)d->vals)[codes[i]];
        }
        break;
    case 4:
        for (uint32_t i = 0; i < n; i++) {
            ((uint32_t *)out)[i] = ((const uint32_t *)d->vals)[codes[i]];
        }
        break;
    case 8:
        for (uint32_t i = 0; i < n; i++) {
            ((uint64_t *)out)[i] = ((const uint64_t *)d->vals)[codes[i]];
        }
        break;
    case 16:
        for (uint32_t i = 0; i < n; i++) {
            memcpy((char *)out + (size_t)i * 16,
                   (const char *)d->vals + (size_t)codes[i] * 16, 16);
        }
        break;
    default:
        for (uint32_t i = 0; i < n; i++) {
            memcpy((char *)out + (size_t)i * w,
                   (const char *)d->vals + (size_t)codes[i] * w, w);
        }
        break;
    }
}

/* Decodes n values of encoding `enc` from p[0..len) into pg->vals. */
static lh_rc
decode_values(lh_pq_page *pg, const lh_pq_node *leaf, int enc, const uint8_t *p,
              size_t len, uint32_t n, const lh_pq_dict *dict, lh_err *err)
{
    size_t w = lh_type_width(leaf->type);
    int t = leaf->el->type;
    lh_rc rc;
    if (enc == LH_PQ_ENC_PLAIN_DICTIONARY || enc == LH_PQ_ENC_RLE_DICTIONARY) {
        if (!dict || !dict->page) {
            return lh_err_set(err, LH_ECORRUPT,
                              "a dictionary-encoded page without a dictionary "
                              "page");
        }
        uint32_t *codes = page_alloc(pg, (size_t)n * 4);
        if (!codes) {
            return LH_ENOMEM;
        }
        pg->codes = codes;
        if (!pg->keep_codes) {
            pg->vals = page_alloc(pg, (size_t)n * w);
            if (!pg->vals) {
                return LH_ENOMEM;
            }
        }
        if (n == 0) {
            return LH_OK;
        }
        if (len < 1) {
            return lh_err_set(err, LH_ECORRUPT,
                              "dictionary indices: no bit width byte");
        }
        if (p[0] > 32) {
            return lh_err_set(err, LH_ECORRUPT,
                              "dictionary indices: bit width %u exceeds 32",
                              p[0]);
        }
        rc = lh_pq_rle_decode(p + 1, len - 1, p[0], codes, n, err);
        if (rc == LH_OK) {
            rc = check_codes(dict, codes, n, err);
        }
        if (rc == LH_OK && pg->vals) {
            lh__pq_gather(dict, codes, n, w, pg->vals);
        }
        return rc;
    }
    size_t pw = lh__pq_phys_width(t);
    void *phys = page_alloc(pg, (size_t)n * (pw > w ? pw : w));
    if (!phys) {
        return LH_ENOMEM;
    }
    switch (enc) {
    case LH_PQ_ENC_PLAIN:
        rc = plain_values(leaf, p, len, n, phys, err);
        break;
    case LH_PQ_ENC_RLE:
        if (t != LH_PQ_TYPE_BOOLEAN) {
            goto bad;
        } else {
            uint32_t *bits = page_alloc(pg, (size_t)n * 4);
            if (!bits) {
                return LH_ENOMEM;
            }
            if (len < 4) {
                return lh_err_set(err, LH_ECORRUPT,
                                  "RLE booleans: no length prefix");
            }
            uint32_t l = lh_get_le32(p);
            if (l > len - 4) {
                return lh_err_set(err, LH_ECORRUPT,
                                  "RLE booleans: length %u past the page", l);
            }
            rc = lh_pq_rle_decode(p + 4, l, 1, bits, n, err);
            for (uint32_t i = 0; rc == LH_OK && i < n; i++) {
                ((uint8_t *)phys)[i] = (uint8_t)(bits[i] & 1);
            }
        }
        break;
    case LH_PQ_ENC_DELTA_BINARY_PACKED: {
        size_t used = 0;
        if (t == LH_PQ_TYPE_INT32) {
            rc = lh_pq_delta_decode_i32(p, len, phys, n, &used, err);
        } else if (t == LH_PQ_TYPE_INT64) {
            rc = lh_pq_delta_decode_i64(p, len, phys, n, &used, err);
        } else {
            goto bad;
        }
        break;
    }
    case LH_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: {
        size_t used = 0;
        if (t != LH_PQ_TYPE_BYTE_ARRAY) {
            goto bad;
        }
        rc = lh_pq_dlba_decode(p, len, phys, n, &pg->arena, &used, err);
        break;
    }
    case LH_PQ_ENC_DELTA_BYTE_ARRAY:
        if (t != LH_PQ_TYPE_BYTE_ARRAY &&
            t != LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY) {
            goto bad;
        }
        rc = lh_pq_dba_decode(p, len, phys, n, &pg->arena, err);
        if (rc == LH_OK && t == LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY) {
            const lh_str *s = phys;
            for (uint32_t i = 0; i < n; i++) {
                if (s[i].len != (uint32_t)leaf->el->type_length) {
                    return lh_err_set(err, LH_ECORRUPT,
                                      "DELTA_BYTE_ARRAY: a %u-byte value in a "
                                      "FIXED_LEN_BYTE_ARRAY(%d) column",
                                      s[i].len, leaf->el->type_length);
                }
            }
        }
        break;
    case LH_PQ_ENC_BYTE_STREAM_SPLIT:
        if (t == LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY) {
            size_t tl = (size_t)leaf->el->type_length;
            uint8_t *raw = page_alloc(pg, (size_t)n * tl);
            if (!raw) {
                return LH_ENOMEM;
            }
            rc = lh_pq_bss_decode(p, len, tl, n, raw, err);
            lh_str *s = phys;
            for (uint32_t i = 0; rc == LH_OK && i < n; i++) {
                s[i] = lh_str_make((const char *)raw + i * tl, (uint32_t)tl);
            }
        } else if (t == LH_PQ_TYPE_INT32 || t == LH_PQ_TYPE_INT64 ||
                   t == LH_PQ_TYPE_FLOAT || t == LH_PQ_TYPE_DOUBLE) {
            rc = lh_pq_bss_decode(p, len, pw, n, phys, err);
        } else {
            goto bad;
        }
        break;
    default:
        return lh_err_set(err, LH_EUNSUPPORTED, "unsupported: %s encoding (%d)",
                          lh__pq_enc_name(enc), enc);
    }
    if (rc != LH_OK) {
        return rc;
    }
    pg->vals = phys;
    /* Wider targets convert into a buffer of their own. */
    if (w > pw) {
        pg->vals = page_alloc(pg, (size_t)n * w);
        if (!pg->vals) {
            return LH_ENOMEM;
        }
    }
    return lh__pq_convert(leaf, phys, n, pg->vals, err);
bad:
    return lh_err_set(err, LH_ECORRUPT,
                      "%s encoding on a column of physical type %d",
                      lh__pq_enc_name(enc), t);
}

static lh_rc
levels_v1(lh_pq_page *pg, int enc, int16_t max, const uint8_t **p, size_t *len,
          uint32_t *out, lh_err *err)
{
    int bw = lh_pq_bit_width((uint32_t)max);
    if (enc == LH_PQ_ENC_BIT_PACKED) {
        size_t need = ((size_t)pg->nent * (size_t)bw + 7) / 8;
        if (need > *len) {
            return lh_err_set(err, LH_ECORRUPT,
                              "BIT_PACKED levels past the end of the page");
        }
        lh_rc rc =
            lh_pq_bitpacked_legacy_decode(*p, need, bw, out, pg->nent, err);
        *p += need;
        *len -= need;
        return rc;
    }
    if (enc != LH_PQ_ENC_RLE) {
        return lh_err_set(err, LH_ECORRUPT, "levels in %s encoding",
                          lh__pq_enc_name(enc));
    }
    if (*len < 4) {
        return lh_err_set(err, LH_ECORRUPT, "levels: no length prefix");
    }
    const uint8_t *q = *p;
    uint32_t l = lh_get_le32(q);
    if (l > *len - 4) {
        return lh_err_set(err, LH_ECORRUPT,
                          "levels: length %u past the end of the page", l);
    }
    lh_rc rc = lh_pq_rle_decode(q + 4, l, bw, out, pg->nent, err);
    *p += 4 + (size_t)l;
    *len -= 4 + (size_t)l;
    return rc;
}

/* Counts the entries that carry a value, checking every level. */
static lh_rc
count_values(lh_pq_page *pg, const lh_pq_node *leaf, lh_err *err)
{
    uint32_t nv = 0;
    if (pg->rep) {
        for (uint32_t i = 0; i < pg->nent; i++) {
            if (pg->rep[i] > (uint32_t)leaf->max_rep) {
                return lh_err_set(err, LH_ECORRUPT,
                                  "repetition level %u above the maximum %d",
                                  pg->rep[i], leaf->max_rep);
            }
        }
    }
    if (!pg->def) {
        pg->nvals = pg->nent;
        return LH_OK;
    }
    uint32_t max = (uint32_t)leaf->max_def;
    for (uint32_t i = 0; i < pg->nent; i++) {
        uint32_t d = pg->def[i];
        if (d > max) {
            return lh_err_set(err, LH_ECORRUPT,
                              "definition level %u above the maximum %u", d,
                              max);
        }
        nv += d == max;
    }
    pg->nvals = nv;
    return LH_OK;
}

static lh_rc
decompress(const lh_pq_column_metadata *cm, const uint8_t *src, size_t slen,
           size_t ulen, lh_pq_page *pg, const uint8_t **out, lh_err *err)
{
    if (cm->codec == LH_PQ_CODEC_UNCOMPRESSED) {
        if (slen != ulen) {
            return lh_err_set(err, LH_ECORRUPT,
                              "uncompressed page of %zu bytes says %zu", slen,
                              ulen);
        }
        *out = src;
        return LH_OK;
    }
    uint8_t *dst = page_alloc(pg, ulen);
    if (!dst) {
        return LH_ENOMEM;
    }
    lh_rc rc = lh_pq_decompress(cm->codec, src, slen, dst, ulen, err);
    *out = dst;
    return rc;
}

static lh_rc
read_dict(const lh_pq_node *leaf, const lh_pq_column_metadata *cm,
          const lh_pq_page_header *ph, const uint8_t *body, lh_pq_dict *dict,
          lh_pq_page **pool, const char *where, lh_err *err)
{
    if (!ph->has_dictionary_page_header) {
        return lh_err_set(err, LH_ECORRUPT,
                          "%s: dictionary page without its header", where);
    }
    const lh_pq_dictionary_page_header *dh = &ph->dictionary_page_header;
    if (dh->num_values < 0) {
        return lh_err_set(err, LH_ECORRUPT, "%s: dictionary of %d values",
                          where, dh->num_values);
    }
    if (dh->encoding != LH_PQ_ENC_PLAIN &&
        dh->encoding != LH_PQ_ENC_PLAIN_DICTIONARY) {
        return lh_err_set(err, LH_ECORRUPT,
                          "%s: dictionary page in %s encoding", where,
                          lh__pq_enc_name(dh->encoding));
    }
    if (dict->page) {
        return lh_err_set(err, LH_ECORRUPT, "%s: a second dictionary page",
                          where);
    }
    lh_pq_page *pg = page_new(pool);
    if (!pg) {
        return oom(err, where);
    }
    const uint8_t *data;
    size_t ulen = (size_t)ph->uncompressed_page_size;
    lh_rc rc = decompress(cm, body, (size_t)ph->compressed_page_size, ulen, pg,
                          &data, err);
    uint32_t n = (uint32_t)dh->num_values;
    if (rc == LH_OK && leaf->el->type != LH_PQ_TYPE_BOOLEAN &&
        n > ulen / (leaf->el->type == LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY
                        ? (leaf->el->type_length ? (size_t)leaf->el->type_length
                                                 : 1)
                    : leaf->el->type == LH_PQ_TYPE_BYTE_ARRAY
                        ? 4
                        : lh__pq_phys_width(leaf->el->type))) {
        rc = lh_err_set(err, LH_ECORRUPT,
                        "dictionary of %u values in %zu bytes", n, ulen);
    }
    if (rc == LH_OK) {
        rc = decode_values(pg, leaf, LH_PQ_ENC_PLAIN, data, ulen, n, NULL, err);
    }
    if (rc != LH_OK) {
        lh__pq_page_free(pg);
        if (rc == LH_ENOMEM) {
            return oom(err, where);
        }
        lh_err_prefix(err, "%s: dictionary page", where);
        return rc;
    }
    dict->page = pg;
    dict->vals = pg->vals;
    dict->n = n;
    return LH_OK;
}

/* RLE runs let a tiny page claim billions of values: bound what we
 * allocate for levels. */
#define LH_PQ_MAX_ENTRIES (64u << 20)

#define too_many(pg)                                                           \
    lh_err_set(err, LH_ELIMIT, "a page of %u values, past the limit of %u",    \
               (pg)->nent, LH_PQ_MAX_ENTRIES)

static lh_rc
read_data(const lh_pq_node *leaf, const lh_pq_column_metadata *cm,
          const lh_pq_page_header *ph, const uint8_t *body,
          const lh_pq_dict *dict, lh_pq_page *pg, lh_err *err)
{
    size_t clen = (size_t)ph->compressed_page_size;
    size_t ulen = (size_t)ph->uncompressed_page_size;
    const uint8_t *p;
    size_t len;
    int enc;
    lh_rc rc;
    if (ph->type == LH_PQ_PAGE_DATA_PAGE) {
        if (!ph->has_data_page_header) {
            return lh_err_set(err, LH_ECORRUPT, "data page without its header");
        }
        const lh_pq_data_page_header *h = &ph->data_page_header;
        if (h->num_values < 0) {
            return lh_err_set(err, LH_ECORRUPT, "data page of %d values",
                              h->num_values);
        }
        pg->nent = (uint32_t)h->num_values;
        enc = h->encoding;
        if (pg->nent > LH_PQ_MAX_ENTRIES) {
            return too_many(pg);
        }
        rc = decompress(cm, body, clen, ulen, pg, &p, err);
        if (rc != LH_OK) {
            return rc;
        }
        len = ulen;
        if (leaf->max_rep > 0) {
            pg->rep = page_alloc(pg, (size_t)pg->nent * 4);
            if (!pg->rep) {
                return LH_ENOMEM;
            }
            rc = levels_v1(pg, h->repetition_level_encoding, leaf->max_rep, &p,
                           &len, pg->rep, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        if (leaf->max_def > 0) {
            pg->def = page_alloc(pg, (size_t)pg->nent * 4);
            if (!pg->def) {
                return LH_ENOMEM;
            }
            rc = levels_v1(pg, h->definition_level_encoding, leaf->max_def, &p,
                           &len, pg->def, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
    } else {
        if (!ph->has_data_page_header_v2) {
            return lh_err_set(err, LH_ECORRUPT,
                              "data page v2 without its header");
        }
        const lh_pq_data_page_header_v2 *h = &ph->data_page_header_v2;
        if (h->num_values < 0 || h->definition_levels_byte_length < 0 ||
            h->repetition_levels_byte_length < 0) {
            return lh_err_set(err, LH_ECORRUPT,
                              "data page v2 with negative counts");
        }
        size_t rl = (size_t)h->repetition_levels_byte_length;
        size_t dl = (size_t)h->definition_levels_byte_length;
        if (rl + dl > clen || rl + dl > ulen) {
            return lh_err_set(err, LH_ECORRUPT,
                              "data page v2: levels of %zu bytes in a page of "
                              "%zu",
                              rl + dl, clen);
        }
        pg->nent = (uint32_t)h->num_values;
        enc = h->encoding;
        if (pg->nent > LH_PQ_MAX_ENTRIES) {
            return too_many(pg);
        }
        if (leaf->max_rep > 0) {
            pg->rep = page_alloc(pg, (size_t)pg->nent * 4);
            if (!pg->rep) {
                return LH_ENOMEM;
            }
            rc = lh_pq_rle_decode(body, rl,
                                  lh_pq_bit_width((uint32_t)leaf->max_rep),
                                  pg->rep, pg->nent, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        if (leaf->max_def > 0) {
            pg->def = page_alloc(pg, (size_t)pg->nent * 4);
            if (!pg->def) {
                return LH_ENOMEM;
            }
            rc = lh_pq_rle_decode(body + rl, dl,
                                  lh_pq_bit_width((uint32_t)leaf->max_def),
                                  pg->def, pg->nent, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        bool compressed = h->has_is_compressed ? h->is_compressed : true;
        size_t vclen = clen - rl - dl;
        len = ulen - rl - dl;
        if (vclen == 0 && len == 0) {
            p = body; /* nothing to decompress (an all-null page) */
        } else if (compressed) {
            rc = decompress(cm, body + rl + dl, vclen, len, pg, &p, err);
            if (rc != LH_OK) {
                return rc;
            }
        } else {
            if (vclen != len) {
                return lh_err_set(err, LH_ECORRUPT,
                                  "data page v2: uncompressed values of %zu "
                                  "bytes say %zu",
                                  vclen, len);
            }
            p = body + rl + dl;
        }
    }
    rc = count_values(pg, leaf, err);
    if (rc == LH_OK) {
        rc = decode_values(pg, leaf, enc, p, len, pg->nvals, dict, err);
    }
    return rc;
}

lh_rc
lh__pq_read_page(const lh_pq_file *f, const lh_pq_node *leaf,
                 const lh_pq_column_metadata *cm, uint64_t *pos, uint64_t end,
                 bool check_crc, bool keep_codes, lh_pq_dict *dict,
                 lh_pq_page **page, lh_pq_page **pool, const char *where,
                 lh_err *err)
{
    *page = NULL;
    if (end > f->size) {
        end = f->size;
    }
    if (*pos >= end) {
        return lh_err_set(err, LH_ECORRUPT,
                          "%s: the column chunk ends before all its values "
                          "were read",
                          where);
    }
    lh_arena scratch;
    lh_arena_init(&scratch, 0);
    lh_pq_page_header ph;
    size_t used = 0;
    lh_rc rc = lh_pq_decode_page_header(f->base + *pos, (size_t)(end - *pos),
                                        &scratch, &ph, &used, err);
    if (rc != LH_OK) {
        lh_arena_release(&scratch);
        lh_err_prefix(err, "%s: page header at offset %llu", where,
                      (unsigned long long)*pos);
        return rc;
    }
    uint64_t body_off = *pos + used;
    if (ph.compressed_page_size < 0 || ph.uncompressed_page_size < 0 ||
        (uint64_t)ph.compressed_page_size > end - body_off) {
        lh_arena_release(&scratch);
        return lh_err_set(err, LH_ECORRUPT,
                          "%s: page at offset %llu runs past its column "
                          "chunk",
                          where, (unsigned long long)*pos);
    }
    if ((size_t)ph.uncompressed_page_size > LH_PQ_MAX_PAGE) {
        lh_arena_release(&scratch);
        return lh_err_set(err, LH_ELIMIT,
                          "%s: page at offset %llu claims %d bytes "
                          "uncompressed, past the %zu MiB limit",
                          where, (unsigned long long)*pos,
                          ph.uncompressed_page_size, LH_PQ_MAX_PAGE >> 20);
    }
    const uint8_t *body = f->base + body_off;
    uint64_t at = *pos;
    *pos = body_off + (uint64_t)ph.compressed_page_size;
    if (check_crc && ph.has_crc) {
        uint32_t c = (uint32_t)crc32(0L, body, (uInt)ph.compressed_page_size);
        if (c != (uint32_t)ph.crc) {
            lh_arena_release(&scratch);
            return lh_err_set(err, LH_ECORRUPT,
                              "%s: page at offset %llu fails its CRC check "
                              "(stored %08x, computed %08x)",
                              where, (unsigned long long)at, (uint32_t)ph.crc,
                              c);
        }
    }
    if (ph.type == LH_PQ_PAGE_DICTIONARY_PAGE) {
        rc = read_dict(leaf, cm, &ph, body, dict, pool, where, err);
        lh_arena_release(&scratch);
        return rc;
    }
    if (ph.type != LH_PQ_PAGE_DATA_PAGE && ph.type != LH_PQ_PAGE_DATA_PAGE_V2) {
        lh_arena_release(&scratch); /* index pages and unknown kinds */
        return LH_OK;
    }
    lh_pq_page *pg = page_new(pool);
    if (!pg) {
        lh_arena_release(&scratch);
        return oom(err, where);
    }
    pg->keep_codes = keep_codes;
    rc = read_data(leaf, cm, &ph, body, dict, pg, err);
    lh_arena_release(&scratch);
    if (rc != LH_OK) {
        lh__pq_page_free(pg);
        if (rc == LH_ENOMEM) {
            return oom(err, where);
        }
        lh_err_prefix(err, "%s: page at offset %llu", where,
                      (unsigned long long)at);
        return rc;
    }
    *page = pg;
    return LH_OK;
}
