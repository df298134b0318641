/*
 * fuzz_vector_files: the readers of vector search's files
 * (docs/internals/vector.md): byte 0 picks one, the rest is the file.
 *   0  lh_hnsw_load_mem (the hot tier's HNSW file)
 *   1  lh_ivfpq_codebook_read (the warm tier's IVF-PQ codebook)
 *   2  lh_cold_layout_read (the cold tier's cluster layout)
 * With bit 7 of byte 0 set, the file's CRC-32C is recomputed first, so
 * that mutations get past the checksum to the structural checks behind it
 * (every file ends in a CRC of the bytes before it; the HNSW file has an
 * 8-byte end magic after its CRC). Whatever reads gets used: an HNSW
 * index answers a search, a codebook or layout writes bytes that read back
 * and write the same bytes again. A refusal is LH_ECORRUPT, LH_EFORMAT or
 * LH_ENOMEM with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vector/vector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *fmt, ...) LH_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_vector_files: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static void
check_refusal(const char *what, lh_rc rc, const lh_err *err)
{
    if (rc != LH_ECORRUPT && rc != LH_EFORMAT && rc != LH_ENOMEM) {
        fail("%s refused with %s (\"%s\")", what, lh_rc_name(rc), err->msg);
    }
    if (err->msg[0] == 0) {
        fail("%s refused with %s and no message", what, lh_rc_name(rc));
    }
}

/* A query of dim values, finite. */
static float *
query(size_t dim)
{
    float *q = malloc((dim ? dim : 1) * sizeof *q);
    for (size_t i = 0; i < dim; i++) {
        q[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    }
    return q;
}

static void
fuzz_hnsw(const uint8_t *p, size_t n)
{
    lh_hnsw *h = NULL;
    lh_err err;
    lh_err_clear(&err);
    uint64_t covers = 0;
    lh_rc rc = lh_hnsw_load_mem(p, n, "fuzz.hnsw", NULL, &covers, &h, &err);
    if (rc != LH_OK) {
        check_refusal("hnsw file", rc, &err);
        return;
    }
    const lh_hnsw_config *c = lh_hnsw_config_of(h);
    if (c->dim > 4096) {
        lh_hnsw_free(h);
        return; /* valid but too big to exercise cheaply */
    }
    float *q = query(c->dim);
    lh_vec_hit hits[10];
    size_t got = 0;
    rc = lh_hnsw_search(h, q, 10, 32, NULL, hits, &got, NULL, &err);
    if (rc != LH_OK && rc != LH_ENOMEM) {
        fail("search of a loaded index failed: %s", err.msg);
    }
    if (rc == LH_OK && got > lh_hnsw_count(h)) {
        fail("search gave %zu hits from %zu live rows", got, lh_hnsw_count(h));
    }
    free(q);
    lh_hnsw_free(h);
}

static void
fuzz_codebook(const uint8_t *p, size_t n)
{
    lh_ivfpq *x = NULL;
    lh_err err;
    lh_err_clear(&err);
    lh_rc rc = lh_ivfpq_codebook_read(p, n, 1, &x, &err);
    if (rc != LH_OK) {
        check_refusal("codebook", rc, &err);
        return;
    }
    lh_buf a, b;
    lh_buf_init(&a);
    lh_buf_init(&b);
    if (lh_ivfpq_codebook_write(x, &a) == LH_OK) {
        lh_ivfpq *y = NULL;
        rc = lh_ivfpq_codebook_read(a.data, a.len, 1, &y, &err);
        if (rc != LH_OK && rc != LH_ENOMEM) {
            fail("a codebook we wrote does not read back: %s", err.msg);
        }
        if (rc == LH_OK && lh_ivfpq_codebook_write(y, &b) == LH_OK &&
            (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)) {
            fail("a codebook read back writes other bytes");
        }
        lh_ivfpq_free(y);
    }
    lh_buf_release(&a);
    lh_buf_release(&b);
    lh_ivfpq_free(x);
}

static void
fuzz_layout(const uint8_t *p, size_t n)
{
    lh_cold *x = NULL;
    lh_err err;
    lh_err_clear(&err);
    lh_rc rc = lh_cold_layout_read(p, n, &x, &err);
    if (rc != LH_OK) {
        check_refusal("cold layout", rc, &err);
        return;
    }
    const uint64_t *off = lh_cold_offsets(x);
    size_t k = lh_cold_config_of(x)->nclusters;
    for (size_t i = 0; i < k; i++) {
        if (off[i] > off[i + 1]) {
            fail("cluster %zu's rows end before they start", i);
        }
    }
    if (off[k] != lh_cold_count(x)) {
        fail("the clusters hold %llu rows, the layout %zu",
             (unsigned long long)off[k], lh_cold_count(x));
    }
    lh_buf a, b;
    lh_buf_init(&a);
    lh_buf_init(&b);
    if (lh_cold_layout_write(x, &a) == LH_OK) {
        lh_cold *y = NULL;
        rc = lh_cold_layout_read(a.data, a.len, &y, &err);
        if (rc != LH_OK && rc != LH_ENOMEM) {
            fail("a layout we wrote does not read back: %s", err.msg);
        }
        if (rc == LH_OK && lh_cold_layout_write(y, &b) == LH_OK &&
            (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)) {
            fail("a layout read back writes other bytes");
        }
        lh_cold_free(y);
    }
    lh_buf_release(&a);
    lh_buf_release(&b);
    lh_cold_free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    int kind = (data[0] & 0x7f) % 3;
    size_t n = size - 1;
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, data + 1, n);
    size_t tail = kind == 0 ? 12 : 4; /* CRC (+ end magic) */
    if ((data[0] & 0x80) && n >= tail) {
        lh_put_le32(p + n - tail, lh_crc32c(0, p, n - tail));
    }
    switch (kind) {
    case 0:
        fuzz_hnsw(p, n);
        break;
    case 1:
        fuzz_codebook(p, n);
        break;
    default:
        fuzz_layout(p, n);
        break;
    }
    free(p);
    return 0;
}
