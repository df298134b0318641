/*
 * Avro container files, manifest lists and manifests, Puffin files and
 * deletion vectors: the fixtures written by Spark, Java, iceberg-rust,
 * iceberg-go and DuckDB read with the values they hold; our own container
 * writer read back through every codec; damaged files refused with a
 * message that names the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "format/iceberg/iceberg_int.h"
#include "ice_test.h"

#define LINEITEM "tables/lineitem_iceberg/metadata/"

static const lh_ice_metric *
metric(const lh_ice_metric *m, uint32_t n, int32_t id)
{
    for (uint32_t i = 0; i < n; i++) {
        if (m[i].id == id) {
            return &m[i];
        }
    }
    return NULL;
}

static void
test_manifest_lists(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err err;
    size_t n = 0;
    uint8_t *p = ice_fixture(
        LINEITEM "snap-2354745328521181395-1-179b4fb1-0366-4f7d-ad35-"
                 "99ee8da0abf5.avro",
        &n);
    assert_non_null(p);
    lh_ice_manifest_list ml;
    lh_rc rc = lh_ice_manifest_list_read(p, n, "snap-2354", &a, &ml, &err);
    if (rc != LH_OK) {
        fail_msg("%s", err.msg);
    }
    free(p);
    assert_int_equal(ml.format_version, 2);
    assert_true(ml.has_snapshot_id);
    assert_int_equal(ml.snapshot_id, 2354745328521181395);
    assert_int_equal(ml.nfiles, 2);
    int added = -1, deleted = -1;
    for (uint32_t i = 0; i < 2; i++) {
        const lh_ice_manifest_file *mf = &ml.files[i];
        assert_int_equal(mf->content, 0);
        assert_int_equal(mf->spec_id, 0);
        assert_int_equal(mf->sequence_number, 2);
        assert_non_null(strstr(mf->path, "lineitem_iceberg/metadata/"));
        if (mf->added_files == 1) {
            added = (int)i;
        }
        if (mf->deleted_files == 1) {
            deleted = (int)i;
        }
    }
    assert_true(added >= 0 && deleted >= 0 && added != deleted);
    assert_int_equal(ml.files[added].added_rows, 51793);
    assert_int_equal(ml.files[deleted].deleted_rows, 60175);
    assert_int_equal(ml.files[added].npartitions, 0);

    /* iceberg-rust's, with partition summaries. */
    p = ice_fixture("manifest_lists/manifest-list-v2-1.avro", &n);
    rc = lh_ice_manifest_list_read(p, n, "v2-1", &a, &ml, &err);
    free(p);
    if (rc != LH_OK) {
        fail_msg("%s", err.msg);
    }
    assert_int_equal(ml.nfiles, 1);
    assert_int_equal(ml.snapshot_id, 6653143792592159268);
    assert_int_equal(ml.sequence_number, 1);

    /* DuckDB's v3 list: no Iceberg keys in the header. */
    p = ice_fixture("manifest_lists/duckdb_v3_manifest_list.avro", &n);
    rc = lh_ice_manifest_list_read(p, n, "duckdb", &a, &ml, &err);
    free(p);
    if (rc != LH_OK) {
        fail_msg("%s", err.msg);
    }
    assert_int_equal(ml.nfiles, 2);
    assert_false(ml.has_snapshot_id);
    int data = ml.files[0].content == 0 ? 0 : 1;
    assert_int_equal(ml.files[data].content, 0);
    assert_int_equal(ml.files[1 - data].content, 1);
    assert_int_equal(ml.files[data].added_rows, 100);
    assert_int_equal(ml.files[1 - data].added_rows, 10);
    assert_non_null(strstr(ml.files[0].path, "s3://warehouse/wh/db/logs/"));

    /* An encrypted list is not an Avro file: refused as such. */
    p = ice_fixture("manifest_lists/manifest-list-v3-encrypted.avro", &n);
    rc = lh_ice_manifest_list_read(p, n, "enc.avro", &a, &ml, &err);
    free(p);
    assert_int_equal(rc, LH_EFORMAT);
    assert_non_null(strstr(err.msg, "enc.avro"));
    lh_arena_release(&a);
}

static void
test_manifests(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err err;
    size_t n = 0;
    uint8_t *p = ice_fixture(LINEITEM "v2.metadata.json", &n);
    lh_ice_meta *meta;
    assert_int_equal(lh_ice_meta_parse(p, n, &a, &meta, &err), LH_OK);
    free(p);
    p = ice_fixture(LINEITEM
                    "snap-2354745328521181395-1-179b4fb1-0366-4f7d-ad35-"
                    "99ee8da0abf5.avro",
                    &n);
    lh_ice_manifest_list ml;
    assert_int_equal(lh_ice_manifest_list_read(p, n, "snap", &a, &ml, &err),
                     LH_OK);
    free(p);
    int64_t live = 0, gone = 0;
    for (uint32_t i = 0; i < ml.nfiles; i++) {
        const char *base = strrchr(ml.files[i].path, '/') + 1;
        char rel[512];
        snprintf(rel, sizeof(rel), LINEITEM "%s", base);
        p = ice_fixture(rel, &n);
        assert_non_null(p);
        assert_int_equal(n, ml.files[i].length);
        lh_ice_manifest m;
        lh_rc rc =
            lh_ice_manifest_read(p, n, base, &ml.files[i], meta, &a, &m, &err);
        free(p);
        if (rc != LH_OK) {
            fail_msg("%s", err.msg);
        }
        assert_int_equal(m.format_version, 2);
        assert_int_equal(m.content, 0);
        assert_int_equal(m.nentries, 1);
        assert_int_equal(m.partition_type.nfields, 0);
        assert_non_null(m.schema_json);
        assert_string_equal(m.spec_json, "[]");
        const lh_ice_entry *e = &m.entries[0];
        const lh_ice_data_file *f = &e->file;
        assert_string_equal(f->format, "PARQUET");
        assert_int_equal(f->content, LH_ICE_CONTENT_DATA);
        assert_true(f->file_size > 1000000);
        assert_int_equal(f->nvalue_counts, 16);
        assert_int_equal(f->nlower, 16);
        assert_int_equal(metric(f->value_counts, f->nvalue_counts, 1)->v,
                         f->record_count);
        assert_int_equal(metric(f->null_counts, f->nnull_counts, 5)->v, 0);
        assert_non_null(metric(f->column_sizes, f->ncolumn_sizes, 16));
        if (e->status == LH_ICE_ADDED) {
            live += f->record_count;
            assert_int_equal(e->sequence_number, 2); /* inherited */
            assert_int_equal(e->snapshot_id, 2354745328521181395);
        } else {
            assert_int_equal(e->status, LH_ICE_DELETED);
            gone += f->record_count;
            assert_int_equal(e->sequence_number, 1); /* written explicitly */
        }
        /* l_orderkey (id 1) bounds decode as longs. */
        lh_ice_type t_long = {.id = LH_ICE_LONG};
        for (uint32_t k = 0; k < f->nlower; k++) {
            if (f->lower[k].id == 1) {
                lh_value lo, hi;
                assert_int_equal(lh_ice_value_from_bytes(&t_long, f->lower[k].p,
                                                         f->lower[k].n, &lo,
                                                         &err),
                                 LH_OK);
                assert_int_equal(lh_ice_value_from_bytes(&t_long, f->upper[k].p,
                                                         f->upper[k].n, &hi,
                                                         &err),
                                 LH_OK);
                assert_true(lo.u.i >= 1 && hi.u.i <= 60000 && lo.u.i < hi.u.i);
            }
        }
    }
    assert_int_equal(live, 51793);
    assert_int_equal(gone, 60175);
    lh_arena_release(&a);
}

/* Our container writer, through every codec, read back by our reader;
 * damage to a block or a sync marker is caught. */
static void
test_container_codecs(void **state)
{
    (void)state;
    for (int codec = 0; codec < 4; codec++) {
        lh_arena a;
        lh_arena_init(&a, 0);
        uint8_t sync[16];
        for (int i = 0; i < 16; i++) {
            sync[i] = (uint8_t)(i * 7 + codec);
        }
        static const char schema[] = "{\"type\":\"record\",\"name\":\"r\","
                                     "\"fields\":[{\"name\":\"x\",\"type\":"
                                     "\"long\",\"field-id\":1}]}";
        lh__ice_avro_kv meta[] = {{"avro.schema", schema, sizeof(schema) - 1},
                                  {"custom-key", "v", 1}};
        lh_buf file = LH_BUF_INIT, block = LH_BUF_INIT;
        assert_int_equal(lh__ice_avro_write_header(&file, meta, 2, codec, sync),
                         LH_OK);
        lh_err err;
        for (int b = 0; b < 3; b++) {
            lh_buf_reset(&block);
            for (int i = 0; i < 1000; i++) {
                lh__ice_avro_put_long(&block, (int64_t)b * 1000 + i);
            }
            assert_int_equal(lh__ice_avro_write_block(&file, codec, sync, 1000,
                                                      block.data, block.len,
                                                      &err),
                             LH_OK);
        }
        lh__ice_avro_file f;
        assert_int_equal(lh__ice_avro_open((const uint8_t *)file.data, file.len,
                                           "t.avro", &a, &f, &err),
                         LH_OK);
        assert_string_equal(lh__ice_avro_meta(&f, "custom-key")->value, "v");
        assert_int_equal(f.codec, codec);
        lh_buf scratch = LH_BUF_INIT;
        int64_t want = 0;
        for (;;) {
            const uint8_t *d;
            size_t len;
            int64_t count;
            assert_int_equal(
                lh__ice_avro_next_block(&f, &scratch, &d, &len, &count, &err),
                LH_OK);
            if (d == NULL && count == 0) {
                break;
            }
            const uint8_t *s = d, *end = d + len;
            for (int64_t i = 0; i < count; i++) {
                int64_t v;
                assert_int_equal(lh__ice_avro_read_long(&s, end, &v), LH_OK);
                assert_int_equal(v, want++);
            }
            assert_ptr_equal(s, end);
        }
        assert_int_equal(want, 3000);
        /* A wrong sync marker after the last block. */
        file.data[file.len - 3] ^= 1; /* the last sync marker */
        assert_int_equal(lh__ice_avro_open((const uint8_t *)file.data, file.len,
                                           "t.avro", &a, &f, &err),
                         LH_OK);
        lh_rc rc = LH_OK;
        for (int i = 0; i < 4 && rc == LH_OK; i++) {
            const uint8_t *d;
            size_t len;
            int64_t count;
            rc = lh__ice_avro_next_block(&f, &scratch, &d, &len, &count, &err);
        }
        assert_int_equal(rc, LH_ECORRUPT);
        assert_non_null(strstr(err.msg, "t.avro"));
        lh_buf_release(&scratch);
        lh_buf_release(&file);
        lh_buf_release(&block);
        lh_arena_release(&a);
    }
}

/* Every truncation of a real manifest fails cleanly. */
static void
test_truncated_manifest(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    size_t n = 0;
    uint8_t *p = ice_fixture(
        LINEITEM "787a5996-87e9-4d93-b258-066d524e82cc-m0.avro", &n);
    assert_non_null(p);
    for (size_t cut = 0; cut < n; cut += 97) {
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_ice_manifest m;
        lh_err err;
        uint8_t *q = malloc(cut + 1);
        memcpy(q, p, cut);
        lh_rc rc =
            lh_ice_manifest_read(q, cut, "m0.avro", NULL, NULL, &a, &m, &err);
        assert_int_not_equal(rc, LH_OK);
        assert_non_null(strstr(err.msg, "m0.avro"));
        free(q);
        lh_arena_release(&a);
    }
    free(p);
}

static void
test_puffin(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err err;
    size_t n = 0;
    lh_ice_puffin pf;
    uint8_t *p = ice_fixture("puffin/java/empty-puffin-uncompressed.bin", &n);
    assert_int_equal(lh_ice_puffin_read(p, n, "empty", &a, &pf, &err), LH_OK);
    assert_int_equal(pf.nblobs, 0);
    free(p);
    lh_buf plain[2] = {LH_BUF_INIT, LH_BUF_INIT};
    static const char *const files[] = {
        "puffin/java/sample-metric-data-uncompressed.bin",
        "puffin/java/sample-metric-data-compressed-zstd.bin"};
    for (int f = 0; f < 2; f++) {
        p = ice_fixture(files[f], &n);
        lh_rc rc = lh_ice_puffin_read(p, n, files[f], &a, &pf, &err);
        if (rc != LH_OK) {
            fail_msg("%s", err.msg);
        }
        assert_int_equal(pf.nblobs, 2);
        assert_string_equal(pf.blobs[0].type, "some-blob");
        assert_string_equal(pf.blobs[1].type, "some-other-blob");
        assert_int_equal(pf.blobs[0].fields[0], 1);
        assert_string_equal(pf.properties[0].key, "created-by");
        for (int b = 0; b < 2; b++) {
            lh_buf out = LH_BUF_INIT;
            assert_int_equal(
                lh_ice_puffin_blob_bytes(p, n, &pf.blobs[b], &out, &err),
                LH_OK);
            if (f == 0) {
                lh_buf_append(&plain[b], out.data, out.len);
            } else {
                assert_int_equal(out.len, plain[b].len);
                assert_memory_equal(out.data, plain[b].data, out.len);
            }
            lh_buf_release(&out);
        }
        assert_string_equal(plain[0].data, "abcdefghi");
        free(p);
    }
    lh_buf_release(&plain[0]);
    lh_buf_release(&plain[1]);

    /* Java-authored deletion vectors inside Puffin files. */
    p = ice_fixture("puffin/go/multi-blob-dv.puffin", &n);
    assert_int_equal(lh_ice_puffin_read(p, n, "multi", &a, &pf, &err), LH_OK);
    assert_int_equal(pf.nblobs, 2);
    for (uint32_t b = 0; b < 2; b++) {
        const lh_ice_puffin_blob *bl = &pf.blobs[b];
        assert_string_equal(bl->type, "deletion-vector-v1");
        assert_int_equal(bl->fields[0], LH_ICE_FIELD_POS);
        assert_int_equal(bl->snapshot_id, -1);
        lh_ice_dv *dv;
        assert_int_equal(
            lh_ice_dv_parse(p + bl->offset, (size_t)bl->length, &dv, &err),
            LH_OK);
        assert_int_equal(
            lh_ice_dv_cardinality(dv),
            strtoull(lh_ice_puffin_blob_property(bl, "cardinality"), NULL, 10));
        lh_ice_dv_free(dv);
    }
    free(p);
    p = ice_fixture("puffin/go/deletion-vector-v1.puffin", &n);
    assert_int_equal(lh_ice_puffin_read(p, n, "go", &a, &pf, &err), LH_OK);
    lh_ice_dv *dv;
    assert_int_equal(lh_ice_dv_parse(p + pf.blobs[0].offset,
                                     (size_t)pf.blobs[0].length, &dv, &err),
                     LH_OK);
    for (int64_t i = 0; i < 12; i++) {
        assert_int_equal(lh_ice_dv_contains(dv, i), i % 2 == 1 && i < 10);
    }
    lh_ice_dv_free(dv);
    /* Damage: the footer size, the magic. */
    p[n - 12] ^= 0x40;
    assert_int_not_equal(lh_ice_puffin_read(p, n, "bad", &a, &pf, &err), LH_OK);
    p[n - 12] ^= 0x40;
    p[0] = 'X';
    assert_int_equal(lh_ice_puffin_read(p, n, "bad", &a, &pf, &err),
                     LH_EFORMAT);
    free(p);
    lh_arena_release(&a);
}

static void
check_dv(const char *file, const int64_t *want, size_t nwant)
{
    size_t n = 0;
    uint8_t *p = ice_fixture(file, &n);
    assert_non_null(p);
    lh_ice_dv *dv;
    lh_err err;
    lh_rc rc = lh_ice_dv_parse(p, n, &dv, &err);
    if (rc != LH_OK) {
        fail_msg("%s: %s", file, err.msg);
    }
    assert_int_equal(lh_ice_dv_cardinality(dv), nwant);
    for (size_t i = 0; i < nwant; i++) {
        assert_true(lh_ice_dv_contains(dv, want[i]));
    }
    /* Written back, the same bytes as Java wrote. */
    lh_buf out = LH_BUF_INIT;
    assert_int_equal(lh_ice_dv_serialize(dv, &out, &err), LH_OK);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, p, n);
    lh_buf_release(&out);
    lh_ice_dv_free(dv);
    free(p);
}

static void
test_deletion_vectors(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    check_dv("deletion_vectors/empty-position-index.bin", NULL, 0);
    static const int64_t alt[] = {1, 3, 5, 7, 9};
    check_dv("deletion_vectors/small-alternating-values-position-index.bin",
             alt, 5);
    static const int64_t big[] = {100, 101, 2147483747, 2147483748};
    check_dv("deletion_vectors/small-and-large-values-position-index.bin", big,
             4);
    /* All container kinds across two keys: parse, and the CRC holds. */
    size_t n = 0;
    uint8_t *p = ice_fixture(
        "deletion_vectors/all-container-types-position-index.bin", &n);
    lh_ice_dv *dv;
    lh_err err;
    assert_int_equal(lh_ice_dv_parse(p, n, &dv, &err), LH_OK);
    assert_true(lh_ice_dv_cardinality(dv) > 1000);
    lh_ice_dv_free(dv);
    p[n / 2] ^= 1;
    assert_int_equal(lh_ice_dv_parse(p, n, &dv, &err), LH_ECORRUPT);
    assert_non_null(strstr(err.msg, "CRC"));
    free(p);

    /* The RoaringFormatSpec 64-bit examples. */
    static const char *const ok[] = {"deletion_vectors/64mapempty.bin",
                                     "deletion_vectors/64map32bitvals.bin",
                                     "deletion_vectors/64mapspreadvals.bin"};
    for (size_t i = 0; i < LH_ARRAY_LEN(ok); i++) {
        p = ice_fixture(ok[i], &n);
        lh_rc rc = lh_ice_roaring64_parse(p, n, &dv, &err);
        if (rc != LH_OK) {
            fail_msg("%s: %s", ok[i], err.msg);
        }
        if (i > 0) {
            assert_true(lh_ice_dv_cardinality(dv) > 0);
        }
        lh_ice_dv_free(dv);
        free(p);
    }
    p = ice_fixture("deletion_vectors/64maphighvals.bin", &n);
    assert_int_equal(lh_ice_roaring64_parse(p, n, &dv, &err), LH_ECORRUPT);
    assert_non_null(strstr(err.msg, "invalid unsigned key"));
    free(p);

    /* Ours, through a Puffin file and back. */
    assert_int_equal(lh_ice_dv_new(&dv, &err), LH_OK);
    static const int64_t pos[] = {
        0, 5, 65535, 65536, 4294967295LL, 4294967296LL, (int64_t)1 << 40};
    for (size_t i = 0; i < LH_ARRAY_LEN(pos); i++) {
        assert_int_equal(lh_ice_dv_add(dv, pos[i], &err), LH_OK);
    }
    assert_int_equal(lh_ice_dv_add(dv, -1, &err), LH_EINVAL);
    lh_buf blob = LH_BUF_INIT, file = LH_BUF_INIT;
    assert_int_equal(lh_ice_dv_serialize(dv, &blob, &err), LH_OK);
    lh_ice_kv props[] = {{"referenced-data-file", "file:/x.parquet"},
                         {"cardinality", "7"}};
    int32_t fields[] = {LH_ICE_FIELD_POS};
    lh_ice_puffin_blob b = {.type = "deletion-vector-v1",
                            .fields = fields,
                            .nfields = 1,
                            .snapshot_id = -1,
                            .sequence_number = -1,
                            .properties = props,
                            .nproperties = 2};
    assert_int_equal(
        lh_ice_puffin_write(&file, &b, &blob, 1, "lakehouse", &err), LH_OK);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_puffin pf;
    assert_int_equal(lh_ice_puffin_read((const uint8_t *)file.data, file.len,
                                        "ours", &a, &pf, &err),
                     LH_OK);
    assert_int_equal(pf.blobs[0].length, blob.len);
    lh_ice_dv *back;
    assert_int_equal(
        lh_ice_dv_parse((const uint8_t *)file.data + pf.blobs[0].offset,
                        (size_t)pf.blobs[0].length, &back, &err),
        LH_OK);
    int64_t got[16];
    uint64_t ng;
    assert_int_equal(lh_ice_dv_positions(back, got, 16, &ng), LH_OK);
    assert_int_equal(ng, LH_ARRAY_LEN(pos));
    for (size_t i = 0; i < ng; i++) {
        assert_int_equal(got[i], pos[i]);
    }
    lh_ice_dv_free(back);
    lh_ice_dv_free(dv);
    lh_buf_release(&blob);
    lh_buf_release(&file);
    lh_arena_release(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_lists),
        cmocka_unit_test(test_manifests),
        cmocka_unit_test(test_container_codecs),
        cmocka_unit_test(test_truncated_manifest),
        cmocka_unit_test(test_puffin),
        cmocka_unit_test(test_deletion_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
