/*
 * fuzz_iceberg_manifest: the Iceberg readers of binary files. Byte 0 picks
 * the reader, the rest is the file: 0 a manifest list, 1 a manifest, 2 a
 * Puffin file (and each blob's bytes), 3 a deletion-vector blob, 4 a
 * portable 64-bit Roaring bitmap. Failures carry a message; a deletion
 * vector that parses writes back to a blob that parses to the same
 * positions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/iceberg/iceberg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *fmt, ...) LH_PRINTF(1, 2);

static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_iceberg_manifest: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static void
check_dv(lh_ice_dv *dv)
{
    lh_buf b = LH_BUF_INIT;
    lh_err err;
    if (lh_ice_dv_serialize(dv, &b, &err) != LH_OK) {
        fail("could not write a parsed deletion vector: %s", err.msg);
    }
    lh_ice_dv *back;
    if (lh_ice_dv_parse((const uint8_t *)b.data, b.len, &back, &err) != LH_OK) {
        fail("our deletion vector does not parse: %s", err.msg);
    }
    if (lh_ice_dv_cardinality(back) != lh_ice_dv_cardinality(dv)) {
        fail("cardinality changed in a round trip");
    }
    lh_ice_dv_free(back);
    lh_buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err err;
    lh_rc rc;
    err.msg[0] = 0;
    switch (data[0] % 5) {
    case 0: {
        lh_ice_manifest_list ml;
        rc = lh_ice_manifest_list_read(p, n, "fuzz.avro", &a, &ml, &err);
        break;
    }
    case 1: {
        lh_ice_manifest m;
        rc = lh_ice_manifest_read(p, n, "fuzz.avro", NULL, NULL, &a, &m, &err);
        break;
    }
    case 2: {
        lh_ice_puffin pf;
        rc = lh_ice_puffin_read(p, n, "fuzz.puffin", &a, &pf, &err);
        for (uint32_t i = 0; rc == LH_OK && i < pf.nblobs; i++) {
            lh_buf b = LH_BUF_INIT;
            lh_err e2;
            if (lh_ice_puffin_blob_bytes(p, n, &pf.blobs[i], &b, &e2) !=
                    LH_OK &&
                e2.msg[0] == 0) {
                fail("blob error without a message");
            }
            lh_buf_release(&b);
        }
        break;
    }
    default: {
        lh_ice_dv *dv = NULL;
        rc = data[0] % 5 == 3 ? lh_ice_dv_parse(p, n, &dv, &err)
                              : lh_ice_roaring64_parse(p, n, &dv, &err);
        if (rc == LH_OK) {
            check_dv(dv);
        }
        lh_ice_dv_free(dv);
        break;
    }
    }
    if (rc != LH_OK && err.msg[0] == 0) {
        fail("%s without a message", lh_rc_name(rc));
    }
    lh_arena_release(&a);
    return 0;
}
