/* Appends: expected versions, idempotency, validation, shard keys,
 * conditional appends, persistence across reopen. */
#include <pthread.h>
#include <sqlite3.h>

#include "hot_test.h"

static const char *orders_json =
    "{\"name\": \"orders\", \"columns\": ["
    "{\"name\": \"tenant_id\", \"type\": \"VARCHAR(8)\", \"nullable\": false},"
    "{\"name\": \"qty\", \"type\": \"INT\"},"
    "{\"name\": \"price\", \"type\": \"DECIMAL(10,2)\"},"
    "{\"name\": \"at\", \"type\": \"TIMESTAMP\"},"
    "{\"name\": \"id\", \"type\": \"UUID\"}],"
    " \"shards\": 4, \"embedding_dim\": 3}";

typedef struct fixture {
    char *dir;
    lh_db *db;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = ht_tmpdir();
    f->db = ht_open(f->dir);
    ht_create(f->db, orders_json);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    lh_db_close(f->db);
    ht_rmdir(f->dir);
    free(f);
    return 0;
}

static void
test_versions_and_positions(void **state)
{
    fixture *f = *state;
    lh_event_ack ack;
    lh_err err;
    for (int i = 1; i <= 5; i++) {
        assert_int_equal(ht_append1(f->db, "orders", "s1", "T",
                                    "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0,
                                    NULL, &ack, &err),
                         LH_OK);
        assert_int_equal(ack.version, i);
        assert_false(ack.duplicate);
    }
    /* positions ascend within the shard */
    int64_t last = ack.position;
    assert_int_equal(ht_append1(f->db, "orders", "s1", "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_EXACT, 5,
                                NULL, &ack, &err),
                     LH_OK);
    assert_int_equal(ack.position, last + 1);
    int64_t v;
    assert_int_equal(lh_stream_info(f->db, "orders", "s1", &v, NULL, &err),
                     LH_OK);
    assert_int_equal(v, 6);
}

static void
test_expected_version_conflicts(void **state)
{
    fixture *f = *state;
    lh_event_ack ack;
    lh_err err;
    const char *d = "{\"tenant_id\": \"a\"}";
    assert_int_equal(ht_append1(f->db, "orders", "s", "T", d,
                                LH_EXPECT_STREAM_EXISTS, 0, NULL, &ack, &err),
                     LH_ECONFLICT);
    assert_int_equal(err.current_version, 0);
    assert_int_equal(ht_append1(f->db, "orders", "s", "T", d,
                                LH_EXPECT_NO_STREAM, 0, NULL, &ack, &err),
                     LH_OK);
    assert_int_equal(ht_append1(f->db, "orders", "s", "T", d,
                                LH_EXPECT_NO_STREAM, 0, NULL, &ack, &err),
                     LH_ECONFLICT);
    assert_int_equal(err.current_version, 1);
    assert_int_equal(ht_append1(f->db, "orders", "s", "T", d, LH_EXPECT_EXACT,
                                7, NULL, &ack, &err),
                     LH_ECONFLICT);
    assert_int_equal(err.current_version, 1);
    assert_non_null(strstr(err.msg, "current version 1"));
    assert_int_equal(ht_append1(f->db, "orders", "s", "T", d, LH_EXPECT_EXACT,
                                1, NULL, &ack, &err),
                     LH_OK);
    assert_int_equal(ack.version, 2);
}

static void
test_idempotent_retry(void **state)
{
    fixture *f = *state;
    lh_err err;
    const char *id1 = "0190f0a0-0000-7000-8000-000000000001";
    const char *id2 = "0190f0a0-0000-7000-8000-000000000002";
    lh_event_in evs[2] = {
        {.event_id = id1,
         .stream = "r",
         .type = "A",
         .data_json = "{\"tenant_id\": \"a\", \"qty\": 1}",
         .expect = LH_EXPECT_NO_STREAM},
        {.event_id = id2,
         .stream = "r",
         .type = "B",
         .data_json = "{\"tenant_id\": \"a\", \"qty\": 2}"},
    };
    lh_event_ack a1[2], a2[2];
    assert_int_equal(lh_append(f->db, "orders", evs, 2, NULL, a1, &err), LH_OK);
    /* the stream moves on */
    lh_event_ack other;
    assert_int_equal(ht_append1(f->db, "orders", "r", "C",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0,
                                NULL, &other, &err),
                     LH_OK);
    assert_int_equal(other.version, 3);
    /* the retry succeeds although no_stream no longer holds */
    assert_int_equal(lh_append(f->db, "orders", evs, 2, NULL, a2, &err), LH_OK);
    for (int i = 0; i < 2; i++) {
        assert_true(a2[i].duplicate);
        assert_int_equal(a2[i].version, a1[i].version);
        assert_int_equal(a2[i].position, a1[i].position);
        assert_int_equal(a2[i].shard, a1[i].shard);
        assert_string_equal(a2[i].event_id, a1[i].event_id);
    }
    int64_t v;
    lh_stream_info(f->db, "orders", "r", &v, NULL, &err);
    assert_int_equal(v, 3);
    /* same id, different content: an error, nothing written */
    evs[0].data_json = "{\"tenant_id\": \"a\", \"qty\": 9}";
    assert_int_equal(lh_append(f->db, "orders", evs, 1, NULL, a2, &err),
                     LH_EINVAL);
    assert_non_null(strstr(err.msg, "already used"));
    lh_stream_info(f->db, "orders", "r", &v, NULL, &err);
    assert_int_equal(v, 3);
}

static void
expect_bad(fixture *f, const char *data, const char *field, const char *frag)
{
    lh_event_in evs[2] = {
        {.stream = "ok", .type = "T", .data_json = "{\"tenant_id\": \"a\"}"},
        {.stream = "bad", .type = "T", .data_json = data},
    };
    lh_err err;
    lh_rc rc = lh_append(f->db, "orders", evs, 2, NULL, NULL, &err);
    if (rc != LH_EINVAL || err.index != 1 || strcmp(err.field, field) != 0 ||
        strstr(err.msg, frag) == NULL) {
        fail_msg("data %s: rc %d index %lld field \"%s\" msg \"%s\"; "
                 "expected field \"%s\" and \"%s\"",
                 data, rc, (long long)err.index, err.field, err.msg, field,
                 frag);
    }
    /* the whole call was rejected: the good event is not there either */
    int64_t v = -1;
    assert_int_equal(lh_stream_info(f->db, "orders", "ok", &v, NULL, &err),
                     LH_OK);
    assert_int_equal(v, 0);
}

static void
test_bad_input_rejects_whole_call(void **state)
{
    fixture *f = *state;
    expect_bad(f, "{\"qty\": 1}", "data.tenant_id", "required");
    expect_bad(f, "{\"tenant_id\": \"a\", \"qty\": \"x\"}", "data.qty", "qty");
    expect_bad(f, "{\"tenant_id\": \"a\", \"qty\": 3000000000}", "data.qty",
               "qty");
    expect_bad(f, "{\"tenant_id\": \"abcdefghi\"}", "data.tenant_id",
               "VARCHAR(8)");
    expect_bad(f, "{\"tenant_id\": \"a\", \"nope\": 1}", "data.nope",
               "unknown column");
    expect_bad(f, "{\"tenant_id\": \"a\"", "data", "not valid JSON");
    expect_bad(f, "{\"tenant_id\": \"a\", \"price\": 1.234}", "data.price",
               "price");
    expect_bad(f, "{\"tenant_id\": \"a\", \"at\": \"yesterday\"}", "data.at",
               "at");
    expect_bad(f, "{\"tenant_id\": \"a\", \"id\": \"not-a-uuid\"}", "data.id",
               "id");

    /* envelope fields */
    lh_err err;
    float emb[2] = {1, 2};
    lh_event_in e = {.stream = "x",
                     .type = "T",
                     .data_json = "{\"tenant_id\": \"a\"}",
                     .embedding = emb,
                     .embedding_len = 2};
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, NULL, &err),
                     LH_EINVAL);
    assert_string_equal(err.field, "embedding");
    e.embedding = NULL;
    e.stream = "";
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, NULL, &err),
                     LH_EINVAL);
    assert_string_equal(err.field, "stream");
    e.stream = "x";
    e.ts = "2026-13-01T00:00:00Z";
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, NULL, &err),
                     LH_EINVAL);
    assert_string_equal(err.field, "ts");
    e.ts = NULL;
    e.event_id = "zzz";
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, NULL, &err),
                     LH_EINVAL);
    assert_string_equal(err.field, "event_id");
    assert_int_equal(lh_append(f->db, "nosuch", &e, 1, NULL, NULL, &err),
                     LH_ENOENT);
}

static void
test_values_round_trip(void **state)
{
    fixture *f = *state;
    lh_err err;
    float emb[3] = {0.5f, -1.25f, 3};
    lh_event_in e = {.stream = "vals",
                     .type = "T",
                     .ts = "2026-01-02T03:04:05.5+01:00",
                     .data_json =
                         "{\"tenant_id\": \"ü\", \"qty\": -7, \"price\": "
                         "\"12345678.90\", \"at\": \"2026-01-01T00:00:00Z\", "
                         "\"id\": \"0190F0A0-0000-7000-8000-00000000000A\"}",
                     .embedding = emb,
                     .embedding_len = 3};
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, NULL, &err),
                     LH_OK);
    lh_reader *r;
    assert_int_equal(
        lh_read_stream(f->db, "orders", "vals", 1, LH_FORWARD, 0, &r, &err),
        LH_OK);
    const lh_event *ev;
    assert_int_equal(lh_reader_next(r, &ev, &err), LH_OK);
    assert_non_null(ev);
    assert_string_equal(ev->data_json,
                        "{\"tenant_id\":\"ü\",\"qty\":-7,\"price\":12345678.90,"
                        "\"at\":\"2026-01-01 00:00:00\","
                        "\"id\":\"0190f0a0-0000-7000-8000-00000000000a\"}");
    /* 03:04:05.5 at +01:00 is 02:04:05.5 UTC */
    assert_int_equal(ev->ts % (86400 * INT64_C(1000000)),
                     (2 * 3600 + 4 * 60 + 5) * INT64_C(1000000) + 500000);
    assert_int_equal(ev->embedding_len, 3);
    assert_true(ev->embedding[1] == -1.25f);
    assert_string_equal(ev->partition_key, "2026-01-02");
    assert_int_equal(lh_reader_next(r, &ev, &err), LH_OK);
    assert_null(ev);
    lh_reader_close(r);
}

static void
test_reopen_keeps_positions(void **state)
{
    fixture *f = *state;
    lh_err err;
    lh_event_ack a;
    assert_int_equal(ht_append1(f->db, "orders", "p", "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0,
                                NULL, &a, &err),
                     LH_OK);
    lh_db_close(f->db);
    f->db = ht_open(f->dir);
    lh_event_ack b;
    assert_int_equal(ht_append1(f->db, "orders", "p", "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_EXACT, 1,
                                NULL, &b, &err),
                     LH_OK);
    assert_int_equal(b.version, 2);
    assert_int_equal(b.shard, a.shard);
    assert_int_equal(b.position, a.position + 1);
}

static void
test_second_writer_is_refused(void **state)
{
    fixture *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lh_db *db2 = NULL;
        lh_err err;
        lh_rc rc = lh_db_open(f->dir, NULL, &db2, &err);
        char want[64];
        snprintf(want, sizeof(want), "process %ld", (long)getppid());
        _exit(rc == LH_ELOCKED && strstr(err.msg, want) != NULL ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* a reader needs no lock */
    lh_db *ro = NULL;
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_READONLY};
    assert_int_equal(lh_db_open(f->dir, &o, &ro, &err), LH_OK);
    assert_int_equal(lh_append(ro, "orders", NULL, 0, NULL, NULL, &err),
                     LH_EREADONLY);
    lh_db_close(ro);
}

static void
test_format_version_checked(void **state)
{
    fixture *f = *state;
    char path[600];
    snprintf(path, sizeof(path), "%s/lakehouse.json", f->dir);
    lh_db_close(f->db);
    f->db = NULL;
    FILE *fp = fopen(path, "w");
    fputs("{\"format\": \"lakehouse\", \"format_version\": 99}\n", fp);
    fclose(fp);
    lh_db *db = NULL;
    lh_err err;
    assert_int_equal(lh_db_open(f->dir, NULL, &db, &err), LH_EFORMAT);
    assert_non_null(strstr(err.msg, "format version 99"));
    fp = fopen(path, "w");
    fputs("{\"format\": \"lakehouse\", \"format_version\": 1}\n", fp);
    fclose(fp);
    f->db = ht_open(f->dir);
    assert_int_equal(lh_db_open("/nonexistent/x", NULL, &db, &err), LH_ENOENT);
}

static void
test_payload_shard_key(void **state)
{
    fixture *f = *state;
    ht_create(f->db, "{\"name\": \"bytenant\", \"columns\": [{\"name\": "
                     "\"tenant\", \"type\": \"VARCHAR\"}], \"shard_by\": "
                     "\"tenant\", \"shards\": 8}");
    lh_err err;
    lh_event_ack a, b;
    assert_int_equal(ht_append1(f->db, "bytenant", "st", "T",
                                "{\"tenant\": \"t1\"}", LH_EXPECT_ANY, 0, NULL,
                                &a, &err),
                     LH_OK);
    assert_int_equal(ht_append1(f->db, "bytenant", "st", "T",
                                "{\"tenant\": \"t2\"}", LH_EXPECT_ANY, 0, NULL,
                                &b, &err),
                     LH_EINVAL);
    assert_non_null(strstr(err.msg, "t1"));
    assert_int_equal(ht_append1(f->db, "bytenant", "st", "T", "{}",
                                LH_EXPECT_ANY, 0, NULL, &b, &err),
                     LH_EINVAL);
    /* after a reopen the key comes back from the shards */
    lh_db_close(f->db);
    f->db = ht_open(f->dir);
    assert_int_equal(ht_append1(f->db, "bytenant", "st", "T",
                                "{\"tenant\": \"t2\"}", LH_EXPECT_ANY, 0, NULL,
                                &b, &err),
                     LH_EINVAL);
    assert_int_equal(ht_append1(f->db, "bytenant", "st", "T",
                                "{\"tenant\": \"t1\"}", LH_EXPECT_ANY, 0, NULL,
                                &b, &err),
                     LH_OK);
    assert_int_equal(b.shard, a.shard);
    assert_int_equal(b.version, 2);
    /* reads find the stream without knowing the tenant */
    lh_reader *r;
    assert_int_equal(
        lh_read_stream(f->db, "bytenant", "st", 1, LH_FORWARD, 0, &r, &err),
        LH_OK);
    const lh_event *ev;
    int n = 0;
    while (lh_reader_next(r, &ev, &err) == LH_OK && ev != NULL) {
        n++;
    }
    lh_reader_close(r);
    assert_int_equal(n, 2);
}

static void
test_conditional_append(void **state)
{
    fixture *f = *state;
    lh_err err;
    lh_event_ack a;
    /* "reserve seat" only if no reservation for tenant "zz" exists */
    const char *types[] = {"Reserved"};
    lh_append_condition c = {.types = types,
                             .ntypes = 1,
                             .column = "tenant_id",
                             .value_json = "\"zz\"",
                             .after = "0"};
    lh_event_in e = {.stream = "seat-1",
                     .type = "Reserved",
                     .data_json = "{\"tenant_id\": \"zz\"}"};
    assert_int_equal(lh_append(f->db, "orders", &e, 1, &c, &a, &err), LH_OK);
    e.stream = "seat-2";
    assert_int_equal(lh_append(f->db, "orders", &e, 1, &c, &a, &err),
                     LH_ECONFLICT);
    /* another tenant does not match */
    c.value_json = "\"yy\"";
    e.data_json = "{\"tenant_id\": \"yy\"}";
    assert_int_equal(lh_append(f->db, "orders", &e, 1, &c, &a, &err), LH_OK);
    /* after the checkpoint that includes everything, the condition holds */
    lh_reader *r;
    assert_int_equal(lh_read_all(f->db, "orders", "0", false, &r, &err), LH_OK);
    const lh_event *ev;
    while (lh_reader_next(r, &ev, &err) == LH_OK && ev != NULL) {
    }
    char ck[256];
    snprintf(ck, sizeof(ck), "%s", lh_reader_checkpoint(r));
    lh_reader_close(r);
    c.after = ck;
    c.value_json = "\"zz\"";
    e.data_json = "{\"tenant_id\": \"zz\"}";
    e.stream = "seat-3";
    assert_int_equal(lh_append(f->db, "orders", &e, 1, &c, &a, &err), LH_OK);
    c.after = "ck1.1";
    assert_int_equal(lh_append(f->db, "orders", &e, 1, &c, &a, &err),
                     LH_EINVAL);
}

static void
test_stream_meta(void **state)
{
    fixture *f = *state;
    lh_err err;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(ht_append1(f->db, "orders", "m", "T",
                                    "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0,
                                    NULL, NULL, &err),
                         LH_OK);
    }
    lh_stream_meta m = {.max_count = 3};
    assert_int_equal(lh_stream_set_meta(f->db, "orders", "m", &m, &err), LH_OK);
    lh_reader *r;
    assert_int_equal(
        lh_read_stream(f->db, "orders", "m", 1, LH_FORWARD, 0, &r, &err),
        LH_OK);
    const lh_event *ev;
    int64_t first = 0;
    int n = 0;
    while (lh_reader_next(r, &ev, &err) == LH_OK && ev != NULL) {
        if (n++ == 0) {
            first = ev->version;
        }
    }
    lh_reader_close(r);
    assert_int_equal(n, 3);
    assert_int_equal(first, 8);
    m.max_count = 0;
    m.truncate_before = 6;
    assert_int_equal(lh_stream_set_meta(f->db, "orders", "m", &m, &err), LH_OK);
    assert_int_equal(
        lh_read_stream(f->db, "orders", "m", -1, LH_BACKWARD, 0, &r, &err),
        LH_OK);
    n = 0;
    int64_t last = 0;
    while (lh_reader_next(r, &ev, &err) == LH_OK && ev != NULL) {
        last = ev->version;
        n++;
    }
    lh_reader_close(r);
    assert_int_equal(n, 5);
    assert_int_equal(last, 6);
    /* the version survives metadata changes */
    int64_t v;
    lh_stream_info(f->db, "orders", "m", &v, &m, &err);
    assert_int_equal(v, 10);
    assert_int_equal(m.truncate_before, 6);
}

static void
test_typed_cells(void **state)
{
    fixture *f = *state;
    lh_err err;
    /* orders: tenant_id VARCHAR(8) NOT NULL, qty INT, price DECIMAL(10,2),
     * at TIMESTAMP, id UUID */
    uint8_t uuid[16] = {1,    2,  3,  4,  5,  6,  0x70, 8,
                        0x80, 10, 11, 12, 13, 14, 15,   16};
    lh_cell cells[5] = {
        {.kind = LH_CELL_TEXT, .u.s = {"acme", 4}},
        {.kind = LH_CELL_INT, .u.i = 7},
        {.kind = LH_CELL_TEXT, .u.s = {"19.99", 5}},
        {.kind = LH_CELL_INT, .u.i = INT64_C(1767225600000000)},
        {.kind = LH_CELL_BYTES, .u.s = {uuid, 16}},
    };
    const char *id = "0190f0a0-0000-7000-8000-0000000000c1";
    lh_event_in e = {.event_id = id,
                     .stream = "cells",
                     .type = "T",
                     .cells = cells,
                     .ncells = 5};
    lh_event_ack a, b;
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, &a, &err), LH_OK);
    lh_reader *r;
    assert_int_equal(
        lh_read_stream(f->db, "orders", "cells", 1, LH_FORWARD, 0, &r, &err),
        LH_OK);
    const lh_event *ev;
    assert_int_equal(lh_reader_next(r, &ev, &err), LH_OK);
    assert_non_null(ev);
    assert_string_equal(ev->data_json,
                        "{\"tenant_id\":\"acme\",\"qty\":7,\"price\":19.99,"
                        "\"at\":\"2026-01-01 00:00:00\",\"id\":"
                        "\"01020304-0506-7008-800a-0b0c0d0e0f10\"}");
    lh_reader_close(r);
    /* the same payload as JSON is the same event: an idempotent retry */
    lh_event_in j = {.event_id = id,
                     .stream = "cells",
                     .type = "T",
                     .data_json = "{\"tenant_id\": \"acme\", \"qty\": 7, "
                                  "\"price\": 19.99, \"at\": "
                                  "\"2026-01-01T00:00:00Z\", \"id\": "
                                  "\"01020304-0506-7008-800a-0b0c0d0e0f10\"}"};
    assert_int_equal(lh_append(f->db, "orders", &j, 1, NULL, &b, &err), LH_OK);
    assert_true(b.duplicate);
    assert_int_equal(b.position, a.position);
    /* mismatches name the column */
    e.event_id = NULL;
    cells[1] = (lh_cell){.kind = LH_CELL_INT, .u.i = INT64_C(1) << 40};
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, NULL, &err),
                     LH_EINVAL);
    assert_string_equal(err.field, "data.qty");
    cells[1] = (lh_cell){.kind = LH_CELL_DOUBLE, .u.d = 1.5};
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, NULL, &err),
                     LH_EINVAL);
    assert_string_equal(err.field, "data.qty");
    cells[1] = (lh_cell){.kind = LH_CELL_NULL};
    cells[0] = (lh_cell){.kind = LH_CELL_TEXT, .u.s = {"abcdefghi", 9}};
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, NULL, &err),
                     LH_EINVAL);
    assert_string_equal(err.field, "data.tenant_id");
    cells[0] = (lh_cell){.kind = LH_CELL_NULL};
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, NULL, &err),
                     LH_EINVAL);
    assert_string_equal(err.field, "data.tenant_id");
    cells[0] = (lh_cell){.kind = LH_CELL_TEXT, .u.s = {"a", 1}};
    cells[4] = (lh_cell){.kind = LH_CELL_BYTES, .u.s = {uuid, 15}};
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, NULL, &err),
                     LH_EINVAL);
    assert_string_equal(err.field, "data.id");
    e.ncells = 4;
    assert_int_equal(lh_append(f->db, "orders", &e, 1, NULL, NULL, &err),
                     LH_EINVAL);
    int64_t v;
    lh_stream_info(f->db, "orders", "cells", &v, NULL, &err);
    assert_int_equal(v, 1);
}

static void
test_failed_calls_leave_no_trace(void **state)
{
    fixture *f = *state;
    lh_err err;
    /* B: events in several shards; one shard's part conflicts. Its acks
     * say position 0, the others' are real. */
    lh_event_in evs[8];
    lh_event_ack acks[8];
    char streams[8][16];
    for (int i = 0; i < 8; i++) {
        snprintf(streams[i], sizeof(streams[i]), "multi-%d", i);
        evs[i] = (lh_event_in){.stream = streams[i],
                               .type = "T",
                               .data_json = "{\"tenant_id\": \"a\"}"};
    }
    evs[5].expect = LH_EXPECT_EXACT;
    evs[5].expected_version = 9;
    assert_int_equal(lh_append(f->db, "orders", evs, 8, NULL, acks, &err),
                     LH_ECONFLICT);
    for (int i = 0; i < 8; i++) {
        int64_t v;
        lh_stream_info(f->db, "orders", streams[i], &v, NULL, &err);
        if ((acks[i].position > 0) != (v == 1)) {
            fail_msg("event %d: ack position %lld but stream version %lld", i,
                     (long long)acks[i].position, (long long)v);
        }
    }
    assert_int_equal(acks[5].position, 0);

    /* A: a failed call's claim on a new stream's shard key is dropped */
    ht_create(f->db, "{\"name\": \"bykey\", \"columns\": [{\"name\": "
                     "\"k\", \"type\": \"VARCHAR\"}], \"shard_by\": \"k\", "
                     "\"shards\": 4}");
    assert_int_equal(ht_append1(f->db, "bykey", "S", "T", "{\"k\": \"a\"}",
                                LH_EXPECT_EXACT, 5, NULL, NULL, &err),
                     LH_ECONFLICT);
    assert_int_equal(ht_append1(f->db, "bykey", "S", "T", "{\"k\": \"b\"}",
                                LH_EXPECT_ANY, 0, NULL, NULL, &err),
                     LH_OK);
    assert_int_equal(ht_append1(f->db, "bykey", "S", "T", "{\"k\": \"a\"}",
                                LH_EXPECT_ANY, 0, NULL, NULL, &err),
                     LH_EINVAL);

    /* C: a retried conditional append is acked as it was, although its
     * own event now matches its condition */
    const char *types[] = {"Booked"};
    lh_append_condition c = {.types = types,
                             .ntypes = 1,
                             .column = "tenant_id",
                             .value_json = "\"room\"",
                             .after = "0"};
    lh_event_in e = {.event_id = "0190f0a0-0000-7000-8000-0000000000d1",
                     .stream = "booking",
                     .type = "Booked",
                     .data_json = "{\"tenant_id\": \"room\"}"};
    lh_event_ack a1, a2;
    assert_int_equal(lh_append(f->db, "orders", &e, 1, &c, &a1, &err), LH_OK);
    assert_int_equal(lh_append(f->db, "orders", &e, 1, &c, &a2, &err), LH_OK);
    assert_true(a2.duplicate);
    assert_int_equal(a2.position, a1.position);
    e.event_id = NULL;
    assert_int_equal(lh_append(f->db, "orders", &e, 1, &c, &a2, &err),
                     LH_ECONFLICT);
    assert_int_equal(a2.position, 0);
}

static void
test_large_call(void **state)
{
    fixture *f = *state;
    lh_err err;
    enum { N = 3000 };
    lh_event_in *evs = calloc(N, sizeof(*evs));
    lh_event_ack *acks = calloc(N, sizeof(*acks));
    char(*streams)[16] = calloc(N, 16);
    for (int i = 0; i < N; i++) {
        snprintf(streams[i], 16, "big-%d", i % 97);
        evs[i] = (lh_event_in){.stream = streams[i],
                               .type = "T",
                               .data_json = "{\"tenant_id\": \"a\"}"};
    }
    /* large calls are validated in chunks: the first bad event is the one
     * reported, wherever the chunks split, and nothing is written */
    evs[2999].data_json = "{\"qty\": 1}";
    evs[1700].data_json = "{\"tenant_id\": 5}";
    assert_int_equal(lh_append(f->db, "orders", evs, N, NULL, acks, &err),
                     LH_EINVAL);
    assert_int_equal(err.index, 1700);
    assert_string_equal(err.field, "data.tenant_id");
    int64_t v;
    lh_stream_info(f->db, "orders", "big-0", &v, NULL, &err);
    assert_int_equal(v, 0);
    evs[2999].data_json = evs[1700].data_json = "{\"tenant_id\": \"a\"}";
    evs[2500].event_id = evs[10].event_id =
        "0190f0a0-0000-7000-8000-0000000000e1";
    assert_int_equal(lh_append(f->db, "orders", evs, N, NULL, acks, &err),
                     LH_EINVAL);
    assert_int_equal(err.index, 2500);
    evs[2500].event_id = NULL;
    assert_int_equal(lh_append(f->db, "orders", evs, N, NULL, acks, &err),
                     LH_OK);
    for (int s = 0; s < 97; s++) {
        char name[16];
        snprintf(name, sizeof(name), "big-%d", s);
        lh_stream_info(f->db, "orders", name, &v, NULL, &err);
        assert_int_equal(v, N / 97 + (s < N % 97));
    }
    for (int i = 0; i < N; i++) {
        assert_true(acks[i].position > 0);
        assert_int_equal(acks[i].version, i / 97 + 1);
    }
    free(evs);
    free(acks);
    free(streams);
}

typedef struct appender {
    lh_db *db;
    int id, count, failed;
} appender;

static void *
appender_main(void *arg)
{
    appender *ap = arg;
    for (int i = 0; i < ap->count; i++) {
        char stream[32];
        snprintf(stream, sizeof(stream), "ck-%d-%d", ap->id, i % 5);
        lh_err err;
        if (ht_append1(ap->db, "one", stream, "T", "{}", LH_EXPECT_ANY, 0, NULL,
                       NULL, &err) != LH_OK) {
            ap->failed++;
        }
    }
    return NULL;
}

/* Thousands of single-event commits: the WAL passes the checkpoint
 * threshold several times while appends go on (checkpointer thread). */
static void
test_checkpoints_while_appending(void **state)
{
    fixture *f = *state;
    ht_create(f->db, "{\"name\": \"one\", \"shards\": 1}");
    appender ap[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        ap[i] = (appender){f->db, i, 600, 0};
        pthread_create(&th[i], NULL, appender_main, &ap[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ap[i].failed, 0);
    }
    lh_db_close(f->db);
    f->db = ht_open(f->dir);
    lh_reader *r;
    lh_err err;
    assert_int_equal(lh_read_all(f->db, "one", "0", false, &r, &err), LH_OK);
    const lh_event *ev;
    int n = 0;
    int64_t last = 0;
    while (lh_reader_next(r, &ev, &err) == LH_OK && ev != NULL) {
        assert_int_equal(ev->position, last + 1);
        last = ev->position;
        n++;
    }
    lh_reader_close(r);
    assert_int_equal(n, 2400);
}

/* What a flush will leave behind when events move to the lake: the ids in
 * `dedup` and the stream's version in `streams`. Simulated here by moving
 * rows by hand; appends must keep honouring both. */
static void
test_after_events_leave(void **state)
{
    fixture *f = *state;
    lh_err err;
    const char *id = "0190f0a0-0000-7000-8000-0000000000f1";
    lh_event_ack a, b;
    assert_int_equal(ht_append1(f->db, "orders", "gone", "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0, id,
                                &a, &err),
                     LH_OK);
    lh_db_close(f->db);
    char path[700];
    snprintf(path, sizeof(path), "%s/tables/orders/shard-%03d.db", f->dir,
             a.shard);
    sqlite3 *c;
    assert_int_equal(sqlite3_open(path, &c), SQLITE_OK);
    char *msg = NULL;
    int r = sqlite3_exec(
        c,
        "BEGIN;"
        "INSERT INTO dedup SELECT event_id, stream, version, position, "
        "content_hash, committed_at FROM events WHERE stream = 'gone';"
        "INSERT INTO streams(stream, version) VALUES ('gone', 7);"
        "INSERT OR REPLACE INTO meta VALUES ('last_position', "
        "(SELECT max(position) FROM events));"
        "DELETE FROM events WHERE stream = 'gone';"
        "COMMIT;",
        NULL, NULL, &msg);
    if (r != SQLITE_OK) {
        fail_msg("simulate a flush: %s", msg);
    }
    sqlite3_close(c);
    f->db = ht_open(f->dir);
    /* the retry is recognised from the dedup table */
    assert_int_equal(ht_append1(f->db, "orders", "gone", "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0, id,
                                &b, &err),
                     LH_OK);
    assert_true(b.duplicate);
    assert_int_equal(b.position, a.position);
    /* the version continues from the floor, positions never repeat */
    assert_int_equal(ht_append1(f->db, "orders", "gone", "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_EXACT, 7,
                                NULL, &b, &err),
                     LH_OK);
    assert_int_equal(b.version, 8);
    assert_true(b.position > a.position);
    assert_int_equal(ht_append1(f->db, "orders", "gone", "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_NO_STREAM,
                                0, NULL, &b, &err),
                     LH_ECONFLICT);
    assert_int_equal(err.current_version, 8);
}

/* An event id names one event in the whole table, whichever shard its
 * stream lives in. */
static void
test_id_unique_across_shards(void **state)
{
    fixture *f = *state;
    lh_err err;
    const char *id = "0190f0a0-0000-7000-8000-0000000000a7";
    lh_event_ack a;
    assert_int_equal(ht_append1(f->db, "orders", "x-0", "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0, id,
                                &a, &err),
                     LH_OK);
    /* find a stream in another shard */
    char other[32];
    lh_event_ack b;
    for (int i = 1;; i++) {
        snprintf(other, sizeof(other), "x-%d", i);
        assert_int_equal(ht_append1(f->db, "orders", other, "Probe",
                                    "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0,
                                    NULL, &b, &err),
                         LH_OK);
        if (b.shard != a.shard) {
            break;
        }
    }
    assert_int_equal(ht_append1(f->db, "orders", other, "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0, id,
                                NULL, &err),
                     LH_EINVAL);
    assert_string_equal(err.field, "event_id");
    assert_non_null(strstr(err.msg, "x-0"));
    /* also after a reopen (the filter is rebuilt from the shards) */
    lh_db_close(f->db);
    f->db = ht_open(f->dir);
    assert_int_equal(ht_append1(f->db, "orders", other, "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0, id,
                                NULL, &err),
                     LH_EINVAL);
    /* and a generated id cannot be reused elsewhere either */
    lh_event_ack g;
    assert_int_equal(ht_append1(f->db, "orders", "x-0", "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0,
                                NULL, &g, &err),
                     LH_OK);
    assert_int_equal(ht_append1(f->db, "orders", other, "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0,
                                g.event_id, NULL, &err),
                     LH_EINVAL);
    /* the retry of the original still works */
    lh_event_ack r;
    assert_int_equal(ht_append1(f->db, "orders", "x-0", "T",
                                "{\"tenant_id\": \"a\"}", LH_EXPECT_ANY, 0, id,
                                &r, &err),
                     LH_OK);
    assert_true(r.duplicate);
    assert_int_equal(r.position, a.position);
}

/* A damaged table is refused alone; the others stay writable. */
static void
test_damaged_table_is_isolated(void **state)
{
    fixture *f = *state;
    ht_create(f->db, "{\"name\": \"other\", \"shards\": 2}");
    lh_db_close(f->db);
    char path[700];
    snprintf(path, sizeof(path), "%s/tables/orders/shard-001.db", f->dir);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    char junk[100];
    memset(junk, 0x5a, sizeof(junk));
    fwrite(junk, 1, sizeof(junk), fp); /* destroys the SQLite header */
    fclose(fp);
    f->db = ht_open(f->dir);
    lh_err err;
    assert_int_equal(ht_append1(f->db, "other", "s", "T", "{}", LH_EXPECT_ANY,
                                0, NULL, NULL, &err),
                     LH_OK);
    lh_rc rc = ht_append1(f->db, "orders", "s", "T", "{\"tenant_id\": \"a\"}",
                          LH_EXPECT_ANY, 0, NULL, NULL, &err);
    assert_true(rc == LH_ECORRUPT || rc == LH_EIO);
    assert_non_null(strstr(err.msg, "shard-001.db"));
    assert_int_equal(lh_table_create(f->db, "{\"name\": \"orders\"}", 18, &err),
                     LH_EEXIST);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_versions_and_positions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expected_version_conflicts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_rejects_whole_call,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_round_trip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_positions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_second_writer_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_format_version_checked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_payload_shard_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_conditional_append, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typed_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_table_is_isolated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_id_unique_across_shards, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_after_events_leave, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_while_appending, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_calls_leave_no_trace, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
