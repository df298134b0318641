/*
 * Table metadata JSON: every valid fixture of fixtures/iceberg/metadata
 * parses with the fields the file holds, every invalid one is refused
 * with a message naming the problem, compressed metadata is sniffed, and
 * what we write parses back to the same metadata.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "format/iceberg/iceberg.h"
#include "ice_test.h"

static lh_rc
parse_fixture(const char *rel, lh_arena *a, lh_ice_meta **m, lh_err *err)
{
    size_t n = 0;
    uint8_t *p = ice_fixture(rel, &n);
    if (p == NULL) {
        fail_msg("cannot read fixture %s", rel);
    }
    lh_rc rc = lh_ice_meta_parse(p, n, a, m, err);
    free(p);
    return rc;
}

/* Our JSON of the metadata, malloc'ed. */
static char *
to_json(const lh_ice_meta *m)
{
    lh_buf b = LH_BUF_INIT;
    lh_err err;
    lh_rc rc = lh_ice_meta_to_json(m, &b, &err);
    assert_int_equal(rc, LH_OK);
    return lh_buf_take(&b, NULL);
}

static void
check_roundtrip(const lh_ice_meta *m)
{
    if (m->format_version < 2) {
        return; /* we write v2 and v3 only */
    }
    char *j1 = to_json(m);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_meta *m2;
    lh_err err;
    lh_rc rc =
        lh_ice_meta_parse((const uint8_t *)j1, strlen(j1), &a, &m2, &err);
    if (rc != LH_OK) {
        fail_msg("our JSON does not parse back: %s\n%s", err.msg, j1);
    }
    char *j2 = to_json(m2);
    assert_string_equal(j1, j2);
    lh_free(j1);
    lh_free(j2);
    lh_arena_release(&a);
}

static const char *const valid[] = {
    "metadata/go/TableMetadataV2Valid.zstd.metadata.json",
    "metadata/go/TableMetadataV2ValidMinimal.json",
    "metadata/go/TableMetadataV3WithPartitionStatistics.json",
    "metadata/java/TableMetadataPartitionStatisticsFiles.json",
    "metadata/java/TableMetadataStatisticsFiles.json",
    "metadata/java/TableMetadataV1Valid.json",
    "metadata/java/TableMetadataV2Valid.json",
    "metadata/java/TableMetadataV2ValidMinimal.json",
    "metadata/java/TableMetadataV3ValidMinimal.json",
    "metadata/rust/TableMetadataV1Compat.json",
    "metadata/rust/TableMetadataV1PartitionSpecsWithoutDefaultId.json",
    "metadata/rust/TableMetadataV1SchemasWithoutCurrentId.json",
    "metadata/rust/TableMetadataV3ValidEncryption.json",
    "metadata/rust/TableMetadataV3ValidMinimal.json",
    "metadata/rust/example_table_metadata_v2_deep_history.json",
    "tables/lineitem_iceberg/metadata/v1.metadata.json",
    "tables/lineitem_iceberg/metadata/v2.metadata.json",
};

static void
test_valid_fixtures(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    for (size_t i = 0; i < LH_ARRAY_LEN(valid); i++) {
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_ice_meta *m = NULL;
        lh_err err;
        lh_rc rc = parse_fixture(valid[i], &a, &m, &err);
        if (rc != LH_OK) {
            fail_msg("%s: %s", valid[i], err.msg);
        }
        assert_non_null(lh_ice_meta_current_schema(m));
        assert_non_null(lh_ice_meta_spec(m, m->default_spec_id));
        check_roundtrip(m);
        lh_arena_release(&a);
    }
}

/* The templates of iceberg-rust, with their placeholders filled in. */
static void
test_templates(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    static const char *const files[] = {
        "metadata/rust/example_empty_table_metadata_v2.json",
        "metadata/rust/example_table_metadata_v2.json",
        "metadata/rust/example_table_metadata_v2_partition_evolution.json",
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(files); i++) {
        size_t n;
        char *p = (char *)ice_fixture(files[i], &n);
        assert_non_null(p);
        lh_buf b = LH_BUF_INIT;
        for (const char *s = p; *s;) {
            if (strncmp(s, "{{", 2) == 0) {
                const char *e = strstr(s, "}}");
                assert_non_null(e);
                lh_buf_puts(&b, "s3://bucket/x");
                s = e + 2;
            } else {
                lh_buf_putc(&b, *s++);
            }
        }
        free(p);
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_ice_meta *m;
        lh_err err;
        lh_rc rc =
            lh_ice_meta_parse((const uint8_t *)b.data, b.len, &a, &m, &err);
        if (rc != LH_OK) {
            fail_msg("%s: %s", files[i], err.msg);
        }
        check_roundtrip(m);
        lh_arena_release(&a);
        lh_buf_release(&b);
    }
}

static void
test_invalid_fixtures(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    static const struct {
        const char *file;
        lh_rc rc;
        const char *msg;
    } cases[] = {
        {"metadata/java/TableMetadataUnsupportedVersion.json", LH_EUNSUPPORTED,
         "format-version 42"},
        {"metadata/java/TableMetadataV1MissingSchemaType.json", LH_EFORMAT,
         "\"type\": \"struct\""},
        {"metadata/java/TableMetadataV2CurrentSchemaNotFound.json", LH_EFORMAT,
         "current-schema-id 2 is not one of the schemas"},
        {"metadata/java/TableMetadataV2MissingLastPartitionId.json", LH_EFORMAT,
         "missing \"last-partition-id\""},
        {"metadata/java/TableMetadataV2MissingPartitionSpecs.json", LH_EFORMAT,
         "missing \"partition-specs\""},
        {"metadata/java/TableMetadataV2MissingSchemas.json", LH_EFORMAT,
         "missing \"schemas\""},
        {"metadata/java/TableMetadataV2MissingSortOrder.json", LH_EFORMAT,
         "missing \"sort-orders\""},
        {"metadata/rust/TableMetadataV1NoValidSchema.json", LH_EFORMAT,
         "no valid schema"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_ice_meta *m = NULL;
        lh_err err;
        lh_rc rc = parse_fixture(cases[i].file, &a, &m, &err);
        if (rc != cases[i].rc || strstr(err.msg, cases[i].msg) == NULL) {
            fail_msg("%s: got %s \"%s\", want %s \"%s\"", cases[i].file,
                     lh_rc_name(rc), rc == LH_OK ? "" : err.msg,
                     lh_rc_name(cases[i].rc), cases[i].msg);
        }
        assert_null(m);
        lh_arena_release(&a);
    }
}

static void
test_v2_fields(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_meta *m;
    lh_err err;
    assert_int_equal(
        parse_fixture("metadata/java/TableMetadataV2Valid.json", &a, &m, &err),
        LH_OK);
    assert_int_equal(m->format_version, 2);
    assert_string_equal(m->table_uuid, "9c12d441-03fe-4693-9a96-a0705ddf69c1");
    assert_string_equal(m->location, "s3://bucket/test/location");
    assert_int_equal(m->last_sequence_number, 34);
    assert_int_equal(m->last_updated_ms, 1602638573590);
    assert_int_equal(m->last_column_id, 3);
    assert_int_equal(m->nschemas, 2);
    const lh_ice_schema *s = lh_ice_meta_current_schema(m);
    assert_int_equal(s->schema_id, 1);
    assert_int_equal(s->type.nfields, 3);
    assert_string_equal(s->type.fields[1].name, "y");
    assert_string_equal(s->type.fields[1].doc, "comment");
    assert_true(s->type.fields[1].required);
    assert_int_equal(s->type.fields[1].type.id, LH_ICE_LONG);
    assert_int_equal(s->nidentifiers, 2);
    assert_int_equal(s->identifier_ids[1], 2);
    const lh_ice_partition_spec *spec = lh_ice_meta_spec(m, 0);
    assert_int_equal(spec->nfields, 1);
    assert_int_equal(spec->fields[0].field_id, 1000);
    assert_int_equal(spec->fields[0].source_id, 1);
    assert_int_equal(spec->fields[0].transform.kind, LH_ICE_TR_IDENTITY);
    assert_int_equal(m->last_partition_id, 1000);
    assert_int_equal(m->default_sort_order_id, 3);
    assert_int_equal(m->nsort_orders, 1);
    assert_int_equal(m->sort_orders[0].nfields, 2);
    assert_int_equal(m->sort_orders[0].fields[1].transform.kind,
                     LH_ICE_TR_BUCKET);
    assert_int_equal(m->sort_orders[0].fields[1].transform.param, 4);
    assert_true(m->sort_orders[0].fields[1].descending);
    assert_false(m->sort_orders[0].fields[1].nulls_first);
    assert_int_equal(m->nsnapshots, 2);
    const lh_ice_snapshot *cur = lh_ice_meta_current_snapshot(m);
    assert_int_equal(cur->snapshot_id, 3055729675574597004);
    assert_true(cur->has_parent);
    assert_int_equal(cur->parent_id, 3051729675574597004);
    assert_int_equal(cur->sequence_number, 1);
    assert_string_equal(cur->operation, "append");
    assert_string_equal(cur->manifest_list, "s3://a/b/2.avro");
    assert_true(cur->has_schema_id);
    assert_int_equal(m->nsnapshot_log, 2);
    assert_int_equal(m->nmetadata_log, 0);
    /* No refs in the file: main is the current snapshot. */
    const lh_ice_ref *main = lh_ice_meta_ref(m, "main");
    assert_non_null(main);
    assert_false(main->is_tag);
    assert_int_equal(main->snapshot_id, 3055729675574597004);
    /* Time travel by the snapshot log. */
    const lh_ice_snapshot *at;
    assert_int_equal(lh_ice_meta_snapshot_at(m, 1515100955770, &at, &err),
                     LH_OK);
    assert_int_equal(at->snapshot_id, 3051729675574597004);
    assert_int_equal(lh_ice_meta_snapshot_at(m, 1555100955770 + 5, &at, &err),
                     LH_OK);
    assert_int_equal(at->snapshot_id, 3055729675574597004);
    assert_int_equal(lh_ice_meta_snapshot_at(m, 1000, &at, &err), LH_ENOENT);
    lh_arena_release(&a);
}

static void
test_zstd_equals_plain(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_meta *z, *p;
    lh_err err;
    assert_int_equal(
        parse_fixture("metadata/go/TableMetadataV2Valid.zstd.metadata.json", &a,
                      &z, &err),
        LH_OK);
    assert_int_equal(
        parse_fixture("metadata/go/TableMetadataV2ValidMinimal.json", &a, &p,
                      &err),
        LH_OK);
    char *jz = to_json(z), *jp = to_json(p);
    assert_string_equal(jz, jp);
    lh_free(jz);
    lh_free(jp);
    /* gzip, as Java writes *.gz.metadata.json. */
    size_t n = 0;
    uint8_t *raw = ice_fixture("metadata/java/TableMetadataV2Valid.json", &n);
    char cmd[8300];
    snprintf(cmd, sizeof(cmd),
             "gzip -c '%s/metadata/java/TableMetadataV2Valid.json'",
             ice_fixtures);
    FILE *gz = popen(cmd, "r");
    assert_non_null(gz);
    uint8_t buf[65536];
    size_t gn = fread(buf, 1, sizeof(buf), gz);
    pclose(gz);
    assert_true(gn > 20 && buf[0] == 0x1f && buf[1] == 0x8b);
    lh_ice_meta *g, *r;
    assert_int_equal(lh_ice_meta_parse(buf, gn, &a, &g, &err), LH_OK);
    assert_int_equal(lh_ice_meta_parse(raw, n, &a, &r, &err), LH_OK);
    char *jg = to_json(g), *jr = to_json(r);
    assert_string_equal(jg, jr);
    lh_free(jg);
    lh_free(jr);
    /* A damaged gzip stream is refused as such. */
    buf[gn / 2] ^= 0x55;
    buf[gn / 2 + 1] ^= 0x55;
    lh_rc rc = lh_ice_meta_parse(buf, gn, &a, &g, &err);
    assert_int_not_equal(rc, LH_OK);
    free(raw);
    lh_arena_release(&a);
}

static void
test_v1_and_v3_fields(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_meta *m;
    lh_err err;
    assert_int_equal(
        parse_fixture("metadata/java/TableMetadataV1Valid.json", &a, &m, &err),
        LH_OK);
    assert_int_equal(m->format_version, 1);
    assert_int_equal(m->nschemas, 1);
    assert_int_equal(m->nspecs, 1);
    assert_int_equal(m->specs[0].fields[0].field_id, 1000);
    assert_int_equal(m->last_sequence_number, 0);
    assert_int_equal(m->nsort_orders, 1);
    assert_int_equal(m->sort_orders[0].order_id, 0);

    assert_int_equal(
        parse_fixture("metadata/java/TableMetadataV3ValidMinimal.json", &a, &m,
                      &err),
        LH_OK);
    assert_int_equal(m->format_version, 3);
    assert_true(m->has_next_row_id);
    const lh_ice_field *x =
        lh_ice_schema_find(lh_ice_meta_current_schema(m), 1);
    assert_true(x->initial_default.set);
    assert_int_equal(x->initial_default.v.type.id, LH_T_BIGINT);
    assert_int_equal(x->initial_default.v.u.i, 1);
    assert_true(x->write_default.set);

    assert_int_equal(
        parse_fixture("metadata/rust/TableMetadataV3ValidEncryption.json", &a,
                      &m, &err),
        LH_OK);
    assert_int_equal(m->nencryption_keys, 2);
    assert_string_equal(m->encryption_keys[0].encrypted_by_id, "master-1");
    assert_int_equal(m->encryption_keys[0].nproperties, 1);
    assert_string_equal(lh_ice_meta_current_snapshot(m)->key_id,
                        "1fb95f04-7f98-4b1f-a08f-e810cfb907ff");

    assert_int_equal(
        parse_fixture("metadata/go/TableMetadataV3WithPartitionStatistics.json",
                      &a, &m, &err),
        LH_OK);
    assert_int_equal(m->npartition_statistics, 2);
    assert_int_equal(m->partition_statistics[1].file_size, 65871);
    assert_int_equal(m->next_row_id, 3000);
    assert_true(m->snapshots[1].has_first_row_id);
    assert_int_equal(m->snapshots[1].first_row_id, 2000);
    const lh_ice_ref *tag = lh_ice_meta_ref(m, "test");
    assert_true(tag->is_tag);
    assert_int_equal(tag->max_ref_age_ms, 10000000);

    assert_int_equal(
        parse_fixture("metadata/java/TableMetadataStatisticsFiles.json", &a, &m,
                      &err),
        LH_OK);
    assert_int_equal(m->nstatistics, 1);
    assert_int_equal(m->statistics[0].footer_size, 42);
    assert_string_equal(m->statistics[0].blobs[0].type, "ndv");
    assert_int_equal(m->statistics[0].blobs[0].fields[0], 1);

    assert_int_equal(
        parse_fixture(
            "metadata/rust/TableMetadataV1PartitionSpecsWithoutDefaultId.json",
            &a, &m, &err),
        LH_OK);
    assert_int_equal(m->nspecs, 2);
    assert_int_equal(m->default_spec_id, 2);
    lh_arena_release(&a);
}

/* Every kind of type, nested ones and defaults, through JSON and back. */
static void
test_schema_types(void **state)
{
    (void)state;
    const char *json =
        "{\"type\":\"struct\",\"schema-id\":7,\"identifier-field-ids\":[1],"
        "\"fields\":["
        "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"uuid\","
        "\"initial-default\":\"0db3e2a8-9d1d-42b9-aa7b-74ebe558dceb\","
        "\"write-default\":\"ec5911be-b0a7-458c-8438-c9a3e53cffae\"},"
        "{\"id\":2,\"name\":\"b\",\"required\":false,\"type\":\"boolean\"},"
        "{\"id\":3,\"name\":\"i\",\"required\":false,\"type\":\"int\","
        "\"initial-default\":34},"
        "{\"id\":4,\"name\":\"d\",\"required\":false,\"type\":\"decimal(9, "
        "2)\","
        "\"initial-default\":\"14.20\"},"
        "{\"id\":5,\"name\":\"f\",\"required\":false,\"type\":\"fixed[16]\"},"
        "{\"id\":6,\"name\":\"ts\",\"required\":false,\"type\":\"timestamptz\","
        "\"initial-default\":\"2017-11-16T22:31:08.123456+00:00\"},"
        "{\"id\":7,\"name\":\"ns\",\"required\":false,\"type\":\"timestamp_"
        "ns\"},"
        "{\"id\":8,\"name\":\"l\",\"required\":false,\"type\":{\"type\":"
        "\"list\","
        "\"element-id\":9,\"element-required\":true,\"element\":\"string\"}},"
        "{\"id\":10,\"name\":\"m\",\"required\":false,\"type\":{\"type\":"
        "\"map\","
        "\"key-id\":11,\"key\":\"string\",\"value-id\":12,\"value-required\":"
        "false,\"value\":{\"type\":\"struct\",\"fields\":[{\"id\":13,\"name\":"
        "\"x\",\"required\":false,\"type\":\"double\",\"initial-default\":1.5}]"
        "}}},"
        "{\"id\":14,\"name\":\"p\",\"required\":false,\"type\":{\"type\":"
        "\"struct\",\"fields\":[]},\"initial-default\":{}},"
        "{\"id\":15,\"name\":\"g\",\"required\":false,\"type\":"
        "\"geography(srid:4326, vincenty)\"},"
        "{\"id\":16,\"name\":\"v\",\"required\":false,\"type\":\"variant\"},"
        "{\"id\":17,\"name\":\"u\",\"required\":false,\"type\":\"unknown\"},"
        "{\"id\":18,\"name\":\"bin\",\"required\":false,\"type\":\"binary\","
        "\"initial-default\":\"000102ff\"},"
        "{\"id\":19,\"name\":\"t\",\"required\":false,\"type\":\"time\"},"
        "{\"id\":20,\"name\":\"dt\",\"required\":false,\"type\":\"date\","
        "\"write-default\":\"2017-11-16\"}]}";
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_schema s;
    lh_err err;
    lh_rc rc = lh_ice_schema_parse_json(json, strlen(json), &a, &s, &err);
    if (rc != LH_OK) {
        fail_msg("%s", err.msg);
    }
    assert_int_equal(s.schema_id, 7);
    assert_int_equal(s.highest_id, 20);
    assert_int_equal(s.type.nfields, 16);
    const lh_ice_field *d = lh_ice_schema_find(&s, 4);
    assert_int_equal(d->type.id, LH_ICE_DECIMAL);
    assert_int_equal(d->type.precision, 9);
    assert_int_equal(d->type.scale, 2);
    assert_true(d->initial_default.v.u.dec == 1420);
    const lh_ice_field *x = lh_ice_schema_find(&s, 13);
    assert_non_null(x);
    assert_true(x->initial_default.v.u.d == 1.5);
    const lh_ice_field *g = lh_ice_schema_find(&s, 15);
    assert_string_equal(g->type.crs, "srid:4326");
    assert_string_equal(g->type.algorithm, "vincenty");
    const lh_ice_field *ts = lh_ice_schema_find(&s, 6);
    assert_int_equal(ts->initial_default.v.u.i, 1510871468123456);
    assert_non_null(lh_ice_schema_find(&s, 9));
    assert_non_null(lh_ice_schema_find(&s, 12));
    /* Out and in again: the same JSON. */
    lh_buf b1 = LH_BUF_INIT, b2 = LH_BUF_INIT;
    assert_int_equal(lh_ice_schema_to_json(&s, &b1), LH_OK);
    lh_ice_schema s2;
    rc = lh_ice_schema_parse_json(b1.data, b1.len, &a, &s2, &err);
    if (rc != LH_OK) {
        fail_msg("%s\n%s", err.msg, b1.data);
    }
    assert_int_equal(lh_ice_schema_to_json(&s2, &b2), LH_OK);
    assert_string_equal(b1.data, b2.data);
    assert_non_null(strstr(b1.data, "\"decimal(9,2)\""));
    lh_buf_release(&b1);
    lh_buf_release(&b2);

    static const struct {
        const char *json;
        const char *msg;
    } bad[] = {
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\","
         "\"required\":"
         "true,\"type\":\"long\"},{\"id\":1,\"name\":\"b\",\"required\":true,"
         "\"type\":\"int\"}]}",
         "field id 1 is used twice"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\","
         "\"required\":"
         "true,\"type\":\"decimal(40,2)\"}]}",
         "precision must be 1..38"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\","
         "\"required\":"
         "true,\"type\":\"strin\"}]}",
         "unknown type \"strin\""},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\","
         "\"type\":\"int\"}]}",
         "missing \"required\""},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\","
         "\"required\":"
         "false,\"type\":\"int\",\"initial-default\":\"x\"}]}",
         "initial-default"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\","
         "\"required\":"
         "false,\"type\":\"variant\",\"write-default\":1}]}",
         "must be null"},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"a\","
         "\"required\":"
         "false,\"type\":{\"type\":\"list\",\"element-id\":2,\"element\":"
         "\"int\"}}]}",
         "missing \"element-required\""},
        {"{\"type\":\"struct\",\"fields\":[{\"id\":2147483600,\"name\":\"a\","
         "\"required\":false,\"type\":\"int\"}]}",
         "out of range"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++) {
        rc = lh_ice_schema_parse_json(bad[i].json, strlen(bad[i].json), &a, &s2,
                                      &err);
        if (rc == LH_OK || strstr(err.msg, bad[i].msg) == NULL) {
            fail_msg("case %zu: got %s \"%s\", want \"%s\"", i, lh_rc_name(rc),
                     rc ? err.msg : "", bad[i].msg);
        }
    }
    lh_arena_release(&a);
}

/* Small documents that each break one rule. */
static void
test_rules(void **state)
{
    (void)state;
    const char *base_head =
        "{\"format-version\":2,\"table-uuid\":\"9c12d441-03fe-4693-9a96-"
        "a0705ddf69c1\",\"location\":\"s3://b/t\",\"last-sequence-number\":1,"
        "\"last-updated-ms\":1,\"last-column-id\":2,\"current-schema-id\":0,"
        "\"schemas\":[{\"type\":\"struct\",\"schema-id\":0,\"fields\":[{\"id\":"
        "1,\"name\":\"a\",\"required\":true,\"type\":\"long\"},{\"id\":2,"
        "\"name\":\"ts\",\"required\":false,\"type\":\"timestamp\"}]}],"
        "\"default-spec-id\":0,\"last-partition-id\":1001,\"default-sort-order-"
        "id\":0,\"sort-orders\":[{\"order-id\":0,\"fields\":[]}],";
    static const struct {
        const char *tail;
        const char *msg; /* NULL: valid */
    } cases[] = {
        {"\"partition-specs\":[{\"spec-id\":0,\"fields\":[{\"source-id\":2,"
         "\"field-id\":1000,\"name\":\"d\",\"transform\":\"day\"},{\"source-"
         "id\""
         ":1,\"field-id\":1001,\"name\":\"b\",\"transform\":\"bucket[16]\"}]}]"
         "}",
         NULL},
        {"\"partition-specs\":[{\"spec-id\":0,\"fields\":[{\"source-id\":9,"
         "\"field-id\":1000,\"name\":\"d\",\"transform\":\"day\"}]}]}",
         "source id 9 is not a field"},
        {"\"partition-specs\":[{\"spec-id\":0,\"fields\":[{\"source-id\":1,"
         "\"field-id\":1005,\"name\":\"d\",\"transform\":\"identity\"}]}]}",
         "last-partition-id 1001 is below"},
        {"\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
         "\"current-snapshot-id\":5}",
         "current-snapshot-id 5 is not one of the snapshots"},
        {"\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
         "\"snapshots\":[{\"snapshot-id\":5,\"timestamp-ms\":1,\"sequence-"
         "number\":1,\"manifest-list\":\"x\"}]}",
         "missing \"summary\""},
        {"\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
         "\"snapshots\":[{\"snapshot-id\":5,\"timestamp-ms\":1,\"sequence-"
         "number\":9,\"manifest-list\":\"x\",\"summary\":{\"operation\":"
         "\"append\"}}]}",
         "above last-sequence-number"},
        {"\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
         "\"snapshots\":[{\"snapshot-id\":5,\"timestamp-ms\":1,\"sequence-"
         "number\":1,\"manifest-list\":\"x\",\"summary\":{\"operation\":"
         "\"merge\"}}]}",
         "unknown operation \"merge\""},
        {"\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
         "\"refs\":{\"b\":{\"snapshot-id\":4,\"type\":\"branch\"}}}",
         "snapshot 4 is not one of the snapshots"},
        {"\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
         "\"snapshots\":[{\"snapshot-id\":5,\"timestamp-ms\":1,\"sequence-"
         "number\":1,\"manifest-list\":\"x\",\"summary\":{\"operation\":"
         "\"append\"}}],\"refs\":{\"main\":{\"snapshot-id\":5,\"type\":"
         "\"tag\"}}}",
         "main must be a branch"},
        {"\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
         "\"properties\":{\"a\":1}}",
         "must be a string"},
        {"\"partition-specs\":[{\"spec-id\":0,\"fields\":[]}],"
         "\"default-spec-id\":3}",
         NULL /* duplicate key: refused by the JSON reader */},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        char doc[4096];
        snprintf(doc, sizeof(doc), "%s%s", base_head, cases[i].tail);
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_ice_meta *m;
        lh_err err;
        lh_rc rc =
            lh_ice_meta_parse((const uint8_t *)doc, strlen(doc), &a, &m, &err);
        const char *want = cases[i].msg;
        if (i == LH_ARRAY_LEN(cases) - 1) {
            want = "duplicate object key";
        }
        if (want == NULL) {
            if (rc != LH_OK) {
                fail_msg("case %zu: %s", i, err.msg);
            }
            check_roundtrip(m);
        } else if (rc == LH_OK || strstr(err.msg, want) == NULL) {
            fail_msg("case %zu: got %s \"%s\", want \"%s\"", i, lh_rc_name(rc),
                     rc ? err.msg : "", want);
        }
        lh_arena_release(&a);
    }
}

/* Out-of-memory at every allocation: a code, never a crash or a leak. */
static void
test_alloc_failures(void **state)
{
    (void)state;
    ICE_NEED_FIXTURES();
    size_t n;
    uint8_t *p = ice_fixture("metadata/java/TableMetadataV2Valid.json", &n);
    assert_non_null(p);
    for (uint64_t k = 1; k < 2000; k++) {
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_ice_meta *m = NULL;
        lh_err err;
        lh_alloc_fail_at(k, false);
        lh_rc rc = lh_ice_meta_parse(p, n, &a, &m, &err);
        lh_alloc_fail_at(0, false);
        lh_arena_release(&a);
        if (rc == LH_OK) {
            break;
        }
        assert_int_equal(rc, LH_ENOMEM);
    }
    free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_fixtures),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_invalid_fixtures),
        cmocka_unit_test(test_v2_fields),
        cmocka_unit_test(test_zstd_equals_plain),
        cmocka_unit_test(test_v1_and_v3_fields),
        cmocka_unit_test(test_schema_types),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
