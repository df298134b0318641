/*
 * Event tables in SQL: a session on a real data directory reads the hot
 * tier's SQLite shards (exec/hot_src.c). SELECT * shows the payload only;
 * the envelope columns can be named; a stream predicate reads one shard
 * (EXPLAIN ANALYZE counts the others as pruned) and a ts range goes into
 * SQLite's WHERE; INSERT appends events that the event API then reads back
 * (a new id, stream = the id, type = the table, version 1), with the
 * envelope given where named; columns the hot tier assigns are refused.
 */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lakehouse.h"
#include "sql_test.h"

static const char *const schema =
    "{\"name\": \"orders\", \"columns\": ["
    "{\"name\": \"tenant\", \"type\": \"VARCHAR\", \"nullable\": false},"
    "{\"name\": \"amount\", \"type\": \"DECIMAL(10,2)\"},"
    "{\"name\": \"qty\", \"type\": \"INTEGER\"}], \"shards\": 4}";

typedef struct fixture {
    char dir[64];
    lh_db *db;
    lh_session *s;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(fixture));
    snprintf(f->dir, sizeof f->dir, "/tmp/lh_sql_events_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    rmdir(f->dir);
    lh_err err;
    assert_int_equal(lh_db_init(f->dir, &err), LH_OK);
    assert_int_equal(lh_db_open(f->dir, NULL, &f->db, &err), LH_OK);
    assert_int_equal(lh_table_create(f->db, schema, strlen(schema), &err),
                     LH_OK);
    /* 40 events in 8 streams, ts one second apart from 2026-01-01 */
    lh_event_in evs[40];
    char streams[40][16], ts[40][32], data[40][64];
    for (int i = 0; i < 40; i++) {
        memset(&evs[i], 0, sizeof evs[i]);
        snprintf(streams[i], sizeof streams[i], "s%d", i % 8);
        snprintf(ts[i], sizeof ts[i], "2026-01-01T00:00:%02dZ", i);
        snprintf(data[i], sizeof data[i],
                 "{\"tenant\": \"t%d\", \"amount\": %d.25, \"qty\": %d}", i % 3,
                 i, i % 5);
        evs[i].stream = streams[i];
        evs[i].type = i % 2 ? "Paid" : "Placed";
        evs[i].ts = ts[i];
        evs[i].data_json = data[i];
    }
    lh_event_ack acks[40];
    assert_int_equal(lh_append(f->db, "orders", evs, 40, NULL, acks, &err),
                     LH_OK);
    lh_session_options o = {.threads = 2};
    assert_int_equal(lh_session_open(f->db, &o, &f->s, &err), LH_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    lh_session_close(f->s);
    lh_db_close(f->db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        return 1;
    }
    free(f);
    return 0;
}

static void
test_select(void **state)
{
    fixture *f = *state;
    /* SELECT * is the payload */
    sqlt_expect_csv(
        f->s, "SELECT * FROM orders WHERE qty = 4 ORDER BY amount",
        "tenant,amount,qty\nt1,4.25,4\nt0,9.25,4\nt2,14.25,4\n"
        "t1,19.25,4\nt0,24.25,4\nt2,29.25,4\nt1,34.25,4\nt0,39.25,4\n");
    /* the envelope by name */
    sqlt_expect_csv(
        f->s,
        "SELECT stream, version, type, ts, amount FROM orders WHERE "
        "stream = 's3' ORDER BY version",
        "stream,version,type,ts,amount\n"
        "s3,1,Paid,2026-01-01 00:00:03,3.25\n"
        "s3,2,Paid,2026-01-01 00:00:11,11.25\n"
        "s3,3,Paid,2026-01-01 00:00:19,19.25\n"
        "s3,4,Paid,2026-01-01 00:00:27,27.25\n"
        "s3,5,Paid,2026-01-01 00:00:35,35.25\n");
    sqlt_expect_csv(f->s,
                    "SELECT count(*) AS n, count(DISTINCT shard) AS shards, "
                    "count(DISTINCT event_id) AS ids, min(position) AS p "
                    "FROM orders",
                    "n,shards,ids,p\n40,4,40,1\n");
    /* (shard, position) is unique */
    sqlt_expect_csv(
        f->s,
        "SELECT count(*) AS n FROM (SELECT shard, position FROM orders "
        "GROUP BY 1, 2) x",
        "n\n40\n");
    /* a ts range */
    sqlt_expect_csv(
        f->s,
        "SELECT count(*) AS n, sum(amount) AS s FROM orders WHERE ts "
        ">= TIMESTAMP '2026-01-01 00:00:10' AND ts < TIMESTAMP "
        "'2026-01-01 00:00:20'",
        "n,s\n10,147.50\n");
    sqlt_expect_csv(
        f->s,
        "SELECT tenant, count(*) AS n FROM orders WHERE type = 'Paid' "
        "GROUP BY tenant ORDER BY tenant",
        "tenant,n\nt0,7\nt1,7\nt2,6\n");
    /* one stream reads one shard */
    lh_err err;
    char *o =
        sqlt_run(f->s,
                 "EXPLAIN ANALYZE SELECT count(*) FROM orders WHERE stream "
                 "IN ('s1')",
                 NULL, &err);
    if (strstr(o, "shards=4 shards_pruned=3") == NULL) {
        fail_msg("%s", o);
    }
    free(o);
    /* the shell's .schema */
    char *ddl = NULL;
    assert_int_equal(lh_session_describe(f->s, "orders", &ddl, &err), LH_OK);
    assert_non_null(strstr(ddl, "CREATE TABLE orders (tenant VARCHAR NOT "
                                "NULL, amount DECIMAL(10,2), qty INTEGER); "
                                "-- event table; hidden: event_id stream"));
    lh_free_mem(ddl);
    /* suggestions know the event tables */
    lh_rc rc;
    free(sqlt_run(f->s, "SELECT * FROM ordrs", &rc, &err));
    assert_int_equal(rc, LH_ENOENT);
    assert_non_null(strstr(err.msg, "\"orders\""));
}

static void
test_insert(void **state)
{
    fixture *f = *state;
    sqlt_expect_csv(
        f->s,
        "INSERT INTO orders VALUES ('t9', 1.50, 2), ('t9', NULL, NULL); "
        "SELECT count(*) AS n FROM orders WHERE tenant = 't9' AND "
        "version = 1 AND type = 'orders' AND stream = "
        "CAST(event_id AS VARCHAR)",
        "n\n2\n");
    sqlt_expect_csv(
        f->s,
        "INSERT INTO orders (tenant, stream, type, ts) VALUES ('t7', "
        "'s3', 'Shipped', TIMESTAMP '2026-02-01 10:00:00.5'); "
        "SELECT stream, version, type, ts FROM orders WHERE tenant = "
        "'t7'",
        "stream,version,type,ts\ns3,6,Shipped,2026-02-01 10:00:00.5\n");
}

static void
test_insert_read_back(void **state)
{
    fixture *f = *state;
    sqlt_expect_csv(f->s,
                    "INSERT INTO orders (tenant, stream, qty) SELECT 'copy', "
                    "'copies', qty FROM orders WHERE stream = 's0'",
                    "");
    lh_err err;
    lh_reader *r;
    assert_int_equal(
        lh_read_stream(f->db, "orders", "copies", 0, LH_FORWARD, 0, &r, &err),
        LH_OK);
    const lh_event *ev;
    int n = 0;
    while (lh_reader_next(r, &ev, &err) == LH_OK && ev) {
        n++;
        assert_int_equal(ev->version, n);
        assert_string_equal(ev->type, "orders");
        assert_non_null(strstr(ev->data_json, "\"tenant\":\"copy\""));
    }
    lh_reader_close(r);
    assert_int_equal(n, 5);
    /* what the hot tier assigns cannot be given; NOT NULL holds */
    lh_rc rc;
    free(sqlt_run(f->s, "INSERT INTO orders (tenant, position) VALUES ('x', 9)",
                  &rc, &err));
    assert_int_equal(rc, LH_EINVAL);
    assert_non_null(strstr(err.msg, "\"position\""));
    free(sqlt_run(f->s, "INSERT INTO orders (qty) VALUES (1)", &rc, &err));
    assert_int_not_equal(rc, LH_OK);
    sqlt_expect_csv(f->s,
                    "SELECT count(*) AS n FROM orders WHERE qty = 1 AND "
                    "tenant IS NULL",
                    "n\n0\n");
}

/* CREATE TABLE over a data directory makes an event table: the same
 * definition lh_table_create makes from JSON, there for the next session
 * and after a reopen; CREATE TEMP TABLE stays the session's. */
/* DROP TABLE of an event table: gone from the catalog, its name free for
 * a table of another shape, IF EXISTS, and a session table of the name
 * dropped before the event table. */
static void
test_drop_table(void **state)
{
    fixture *f = *state;
    lh_err err;
    lh_rc rc;
    sqlt_expect_csv(f->s,
                    "CREATE TABLE gone (a INT); INSERT INTO gone VALUES (1), "
                    "(2); SELECT count(*) AS n FROM gone",
                    "n\n2\n");
    sqlt_expect_csv(f->s, "DROP TABLE gone", "");
    char *desc = NULL;
    assert_int_equal(lh_table_describe(f->db, "gone", &desc, &err), LH_ENOENT);
    free(sqlt_run(f->s, "SELECT * FROM gone", &rc, &err));
    assert_int_not_equal(rc, LH_OK);
    assert_non_null(strstr(err.msg, "gone"));
    free(sqlt_run(f->s, "DROP TABLE gone", &rc, &err));
    assert_int_equal(rc, LH_ENOENT);
    assert_non_null(strstr(err.msg, "table \"gone\" does not exist"));
    sqlt_expect_csv(f->s, "DROP TABLE IF EXISTS gone", "");
    /* the name again, another shape, none of the old rows */
    sqlt_expect_csv(f->s,
                    "CREATE TABLE gone (b VARCHAR); INSERT INTO gone VALUES "
                    "('x'); SELECT * FROM gone",
                    "b\nx\n");
    /* a session table shadows the event table: dropped first */
    sqlt_expect_csv(f->s,
                    "CREATE TEMP TABLE gone (c INT); DROP TABLE gone; SELECT "
                    "* FROM gone",
                    "b\nx\n");
    sqlt_expect_csv(f->s, "DROP TABLE gone", "");
    assert_int_equal(lh_table_describe(f->db, "gone", &desc, &err), LH_ENOENT);
}

/* ALTER TABLE and CREATE INDEX on an event table say they are unsupported
 * there (not that the table is missing) and change nothing; on a name that
 * is no table they still say it does not exist. */
static void
test_alter_event_table(void **state)
{
    fixture *f = *state;
    lh_err err;
    lh_rc rc;
    sqlt_expect_csv(f->s,
                    "CREATE TABLE fixed (a INT, b VARCHAR); INSERT INTO fixed "
                    "VALUES (1, 'x')",
                    "");
    const char *stmts[] = {
        "ALTER TABLE fixed ADD COLUMN c INT",
        "ALTER TABLE IF EXISTS fixed RENAME COLUMN a TO z",
        "ALTER TABLE fixed DROP COLUMN b",
        "CREATE INDEX fixed_a ON fixed (a)",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        free(sqlt_run(f->s, stmts[i], &rc, &err));
        assert_int_equal(rc, LH_EUNSUPPORTED);
        assert_non_null(strstr(err.msg, "on event table \"fixed\""));
        assert_int_equal(err.offset, 0);
    }
    sqlt_expect_csv(f->s, "SELECT * FROM fixed", "a,b\n1,x\n");
    free(sqlt_run(f->s, "ALTER TABLE nowhere ADD COLUMN c INT", &rc, &err));
    assert_int_equal(rc, LH_ENOENT);
    assert_non_null(strstr(err.msg, "relation \"nowhere\" does not exist"));
    sqlt_expect_csv(f->s, "ALTER TABLE IF EXISTS nowhere ADD COLUMN c INT", "");
    free(sqlt_run(f->s, "CREATE INDEX i ON nowhere (a)", &rc, &err));
    assert_int_equal(rc, LH_ENOENT);
    /* a session table of the name is altered as before */
    sqlt_expect_csv(f->s,
                    "CREATE TEMP TABLE fixed (a INT); ALTER TABLE fixed ADD "
                    "COLUMN c INT; INSERT INTO fixed VALUES (2, 3); SELECT * "
                    "FROM fixed",
                    "a,c\n2,3\n");
}

static void
test_create_table(void **state)
{
    fixture *f = *state;
    lh_err err;
    lh_rc rc;
    sqlt_expect_csv(f->s,
                    "CREATE TABLE Sales (id INT PRIMARY KEY, customer TEXT "
                    "NOT NULL, amount NUMERIC(10,2), at TIMESTAMPTZ, "
                    "embedding FLOAT[3]) PARTITION BY month(ts) CLUSTER BY "
                    "(customer) WITH (hot_window = '24h', shards = 3, "
                    "flush_rows = 5000, vector_index = "
                    "'{\"metric\": \"cosine\", \"m\": 8}')",
                    "");
    const char *def =
        "{\"name\": \"sales_json\", \"columns\": ["
        "{\"name\": \"id\", \"type\": \"INTEGER\", \"nullable\": false},"
        "{\"name\": \"customer\", \"type\": \"VARCHAR\", \"nullable\": "
        "false}, {\"name\": \"amount\", \"type\": \"DECIMAL(10,2)\"},"
        "{\"name\": \"at\", \"type\": \"TIMESTAMPTZ\"}],"
        "\"partition_by\": \"month(ts)\", \"cluster_by\": [\"customer\"],"
        "\"hot_window\": \"24h\", \"shards\": 3, \"flush_rows\": 5000,"
        "\"embedding_dim\": 3, \"vector_index\": {\"metric\": \"cosine\","
        "\"m\": 8}}";
    assert_int_equal(lh_table_create(f->db, def, strlen(def), &err), LH_OK);
    char *a = NULL, *b = NULL;
    assert_int_equal(lh_table_describe(f->db, "sales", &a, &err), LH_OK);
    assert_int_equal(lh_table_describe(f->db, "sales_json", &b, &err), LH_OK);
    /* the same but for the name */
    char *at = strstr(b, "sales_json");
    assert_non_null(at);
    memmove(at + 5, at + 10, strlen(at + 10) + 1);
    assert_string_equal(a, b);
    lh_free_mem(a);
    lh_free_mem(b);
    sqlt_expect_csv(f->s,
                    "INSERT INTO sales (id, customer, amount, embedding) "
                    "VALUES (1, 'ann', 10.50, [1, 0, 0]), (2, 'bob', NULL, "
                    "[0, 1, 0]); SELECT id, customer, amount, type FROM sales "
                    "ORDER BY embedding <=> [0.1, 0.9, 0]::FLOAT[3] LIMIT 1",
                    "id,customer,amount,type\n2,bob,,sales\n");
    /* CREATE TABLE AS: the query's columns and rows */
    sqlt_expect_csv(f->s,
                    "CREATE TABLE per_tenant AS SELECT tenant, sum(amount) AS "
                    "total, count(*) AS n FROM orders GROUP BY tenant",
                    "");
    char *want = sqlt_run(f->s,
                          "SELECT tenant, sum(amount) AS total, count(*) AS n "
                          "FROM orders GROUP BY tenant ORDER BY tenant",
                          NULL, &err);
    assert_non_null(strstr(want, "t2,"));
    sqlt_expect_csv(f->s, "SELECT * FROM per_tenant ORDER BY tenant", want);
    free(want);
    /* exists: an error, or nothing with IF NOT EXISTS */
    free(sqlt_run(f->s, "CREATE TABLE sales (x INT)", &rc, &err));
    assert_int_equal(rc, LH_EEXIST);
    assert_non_null(strstr(err.msg, "relation \"sales\" already exists"));
    sqlt_expect_csv(f->s, "CREATE TABLE IF NOT EXISTS sales (x INT)", "");
    /* what an event's definition cannot hold, refused by name */
    static const struct {
        const char *sql, *part;
        int32_t offset;
    } bad[] = {
        {"CREATE TABLE t1 (a INT, ts TIMESTAMP)", "column \"ts\"", 24},
        {"CREATE TABLE t1 (a INT DEFAULT 3)", "DEFAULT on column \"a\"", 17},
        {"CREATE TABLE t1 (a INT UNIQUE)", "UNIQUE on column \"a\"", 17},
        {"CREATE TABLE t1 (a INT) PARTITION BY a + 1", "PARTITION BY", 37},
        {"CREATE TABLE t1 (a INT) WITH (shards = 'many')", "shards", -1},
        {"CREATE TABLE t1 (a INT) WITH (bogus = 1)", "bogus", -1},
        {"CREATE TABLE t1 (a INT) WITH (vector_index = '{')", "vector_index",
         -1},
        {"CREATE TABLE t1 (a FOO)", "FOO", 19},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        free(sqlt_run(f->s, bad[i].sql, &rc, &err));
        if (rc == LH_OK || strstr(err.msg, bad[i].part) == NULL ||
            (bad[i].offset >= 0 && err.offset != bad[i].offset)) {
            fail_msg("%s: rc %d offset %d: %s", bad[i].sql, rc, (int)err.offset,
                     err.msg);
        }
    }
    /* nothing of a refused table was left behind */
    free(sqlt_run(f->s, "SELECT * FROM t1", &rc, &err));
    assert_int_equal(rc, LH_ENOENT);
    /* a temporary table is the session's alone */
    sqlt_expect_csv(f->s,
                    "CREATE TEMP TABLE scratch (a INT DEFAULT 7, ts INT); "
                    "INSERT INTO scratch (ts) VALUES (1); SELECT * FROM "
                    "scratch",
                    "a,ts\n7,1\n");
    lh_session *s2;
    assert_int_equal(lh_session_open(f->db, NULL, &s2, &err), LH_OK);
    free(sqlt_run(s2, "SELECT * FROM scratch", &rc, &err));
    assert_int_equal(rc, LH_ENOENT);
    sqlt_expect_csv(s2, "SELECT count(*) AS n FROM sales", "n\n2\n");
    lh_session_close(s2);
    /* the tables and their rows outlive the handle */
    lh_session_close(f->s);
    lh_db_close(f->db);
    assert_int_equal(lh_db_open(f->dir, NULL, &f->db, &err), LH_OK);
    assert_int_equal(lh_session_open(f->db, NULL, &f->s, &err), LH_OK);
    sqlt_expect_csv(f->s, "SELECT id, customer FROM sales ORDER BY id",
                    "id,customer\n1,ann\n2,bob\n");
    sqlt_expect_csv(f->s, "SELECT sum(n) AS n FROM per_tenant", "n\n40\n");
    /* a read-only handle cannot create one, and says what to do */
    lh_db *ro;
    lh_db_options ropt = {.flags = LH_OPEN_READONLY};
    assert_int_equal(lh_db_open(f->dir, &ropt, &ro, &err), LH_OK);
    lh_session *rs;
    assert_int_equal(lh_session_open(ro, NULL, &rs, &err), LH_OK);
    free(sqlt_run(rs, "CREATE TABLE t2 (a INT)", &rc, &err));
    assert_int_equal(rc, LH_EREADONLY);
    assert_non_null(strstr(err.msg, "CREATE TEMP TABLE"));
    lh_session_close(rs);
    lh_db_close(ro);
}

/* The columns test_kept_statements picks from, and event i's value of
 * each as the CSV shows it. */
static const char *const kept_cols[] = {"tenant",  "amount", "qty",
                                        "version", "type",   "ts"};

static void
kept_value(int col, int i, char *buf, size_t n)
{
    switch (col) {
    case 0:
        snprintf(buf, n, "t%d", i % 3);
        break;
    case 1:
        snprintf(buf, n, "%d.25", i);
        break;
    case 2:
        snprintf(buf, n, "%d", i % 5);
        break;
    case 3:
        snprintf(buf, n, "%d", i / 8 + 1);
        break;
    case 4:
        snprintf(buf, n, "%s", i % 2 ? "Paid" : "Placed");
        break;
    default:
        snprintf(buf, n, "2026-01-01 00:00:%02d", i);
        break;
    }
}

static void
cat(char *to, size_t cap, const char *a, const char *b)
{
    size_t n = strlen(to);
    snprintf(to + n, cap - n, "%s%s", a, b);
}

/* A shard's reader connections keep the statements they ran (the scan's
 * text binds every value, so a point lookup's is the same each time):
 * more column lists than a connection keeps (16), asked in two orders,
 * answer as written, and a kept statement reads the rows appended since
 * it last ran. */
static void
test_kept_statements(void **state)
{
    fixture *f = *state;
    enum { NTEXTS = 24 };
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < NTEXTS; k++) {
            int mask = round == 1 ? NTEXTS - k : k + 1;
            char sql[256] = "SELECT ", want[1024] = "";
            for (int c = 0, first = 1; c < 6; c++) {
                if (mask & (1 << c)) {
                    cat(sql, sizeof sql, first ? "" : ", ", kept_cols[c]);
                    cat(want, sizeof want, first ? "" : ",", kept_cols[c]);
                    first = 0;
                }
            }
            cat(want, sizeof want, "\n", "");
            /* stream s5 (events 5, 13, ...), or every shard */
            bool one = round != 2;
            cat(sql, sizeof sql, " FROM orders WHERE ",
                one ? "stream = 's5' ORDER BY ts" : "qty = 3 ORDER BY ts");
            for (int i = 0; i < 40; i++) {
                if (one ? i % 8 != 5 : i % 5 != 3) {
                    continue;
                }
                for (int c = 0, first = 1; c < 6; c++) {
                    if (mask & (1 << c)) {
                        char v[32];
                        kept_value(c, i, v, sizeof v);
                        cat(want, sizeof want, first ? "" : ",", v);
                        first = 0;
                    }
                }
                cat(want, sizeof want, "\n", "");
            }
            sqlt_expect_csv(f->s, sql, want);
        }
    }
    const char *q = "SELECT count(*) AS n, max(version) AS v FROM orders "
                    "WHERE stream = 's5'";
    sqlt_expect_csv(f->s, q, "n,v\n5,5\n");
    lh_event_in ev = {
        .stream = "s5", .type = "Paid", .data_json = "{\"tenant\": \"t9\"}"};
    lh_err err;
    assert_int_equal(lh_append(f->db, "orders", &ev, 1, NULL, NULL, &err),
                     LH_OK);
    sqlt_expect_csv(f->s, q, "n,v\n6,6\n");
}

int
main(void)
{
    lh_err err;
    lh_global_init(&err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alter_event_table, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kept_statements, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
