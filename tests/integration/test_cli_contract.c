/*
 * The CLI contract, through the commands independent checks run:
 *   lakehouse init DIR
 *   lakehouse table create DIR --schema FILE.json
 *   lakehouse append DIR TABLE [FILE|-] [--batch N]
 *   lakehouse read DIR TABLE --stream ID
 *   lakehouse read DIR TABLE --from CHECKPOINT [--follow]
 * Exit codes: 0 all appended, 3 version conflict, 2 bad input, 1 otherwise;
 * one NDJSON ack line per event after each durable call; calls before a
 * failing one stay committed; options before or after positionals.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "it.h"

static const char *schema =
    "{\"name\": \"t\", \"columns\": [{\"name\": \"qty\", \"type\": \"INT\"},"
    " {\"name\": \"note\", \"type\": \"VARCHAR(20)\"}], \"shards\": 4}";

typedef struct fixture {
    char *top; /* scratch directory */
    char *dir; /* the data directory in it */
} fixture;

/* `lakehouse init` + `table create`, made once and copied for each test
 * (creating a table fsyncs a lot). */
static char *template_top, *template_dir;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->top = it_tmpdir();
    f->dir = it_path(f->top, "data");
    it_copy_tree(template_dir, f->dir);
    *state = f;
    return 0;
}

static int
group_setup(void **state)
{
    (void)state;
    template_top = it_tmpdir();
    template_dir = it_path(template_top, "data");
    const char *schemas[] = {schema, NULL};
    it_make_db(template_dir, schemas);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    free(template_dir);
    it_rmrf(template_top);
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    free(f->dir);
    it_rmrf(f->top);
    free(f);
    return 0;
}

/* Writes text to a file in the scratch directory; returns its path. */
static char *
input_file(const fixture *f, const char *name, const char *text)
{
    char *p = it_path(f->top, name);
    it_write_file(p, text);
    return p;
}

static json_t *
read_from(const fixture *f, const char *checkpoint)
{
    it_result r;
    it_run(&r, NULL, NULL, "read", f->dir, "t", "--from", checkpoint, NULL);
    it_expect_code(&r, 0, "read --from");
    json_t *evs = it_ndjson(r.out, "read --from");
    it_result_release(&r);
    return evs;
}

static const char *
str_field(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s == NULL) {
        fail_msg("no string \"%s\" in %s", key, json_dumps(o, JSON_COMPACT));
    }
    return s;
}

static int64_t
int_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) {
        fail_msg("no integer \"%s\" in %s", key, json_dumps(o, JSON_COMPACT));
    }
    return json_integer_value(v);
}

/* The event ids of an NDJSON output, in order, joined by spaces. */
static void
id_list(json_t *evs, char *buf, size_t n)
{
    size_t i, off = 0;
    json_t *o;
    buf[0] = 0;
    json_array_foreach(evs, i, o)
    {
        off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? " " : "",
                                str_field(o, "event_id"));
        if (off >= n) {
            fail_msg("id list too long");
        }
    }
}

static void
expect_ids(json_t *evs, const char *want, const char *what)
{
    char got[4096];
    id_list(evs, got, sizeof(got));
    if (strcmp(got, want) != 0) {
        fail_msg("%s: read events\n  %s\nexpected\n  %s", what, got, want);
    }
}

/* An event line with a fixed id: id number i ("...-00000000000i"). */
static void
event_line(char *buf, size_t n, int i, const char *stream, const char *extra)
{
    snprintf(buf, n,
             "{\"event_id\": \"0190f0a0-0000-4000-8000-%012d\", \"stream\": "
             "\"%s\", \"type\": \"T\", \"data\": {\"qty\": %d}%s}\n",
             i, stream, i, extra ? extra : "");
}

static void
id_of(char *buf, size_t n, int i)
{
    snprintf(buf, n, "0190f0a0-0000-4000-8000-%012d", i);
}

/* ---- init, table create ------------------------------------------------ */

static void
test_init_and_table_create(void **state)
{
    fixture *f = *state;
    it_result r;
    /* init on an existing data directory: refused, not re-initialized */
    it_run(&r, NULL, NULL, "init", f->dir, NULL);
    it_expect_code(&r, 1, "init twice");
    it_expect_contains(r.err, "already", "init twice");
    it_result_release(&r);

    /* options before positionals */
    char *p = input_file(f, "u.json",
                         "{\"name\": \"u\", \"columns\": [{\"name\": \"x\", "
                         "\"type\": \"BIGINT\"}]}");
    it_run(&r, NULL, NULL, "table", "create", "--schema", p, f->dir, NULL);
    it_expect_code(&r, 0, "table create --schema FILE DIR");
    json_t *desc = json_loads(r.out, 0, NULL);
    if (desc == NULL || strcmp(str_field(desc, "name"), "u") != 0) {
        fail_msg("table create printed %s", r.out);
    }
    json_decref(desc);
    it_result_release(&r);
    it_run(&r, NULL, NULL, "table", "create", f->dir, "--schema", p, NULL);
    it_expect_code(&r, 1, "creating a table twice");
    it_expect_contains(r.err, "already exists", "creating a table twice");
    it_result_release(&r);
    free(p);

    /* a bad schema: bad input, naming the field */
    p = input_file(f, "bad.json",
                   "{\"name\": \"v\", \"columns\": [{\"name\": \"x\", "
                   "\"type\": \"WHATEVER\"}]}");
    it_run(&r, NULL, NULL, "table", "create", f->dir, "--schema", p, NULL);
    it_expect_code(&r, 2, "table create with an unknown type");
    it_expect_contains(r.err, "WHATEVER", "table create with an unknown type");
    it_result_release(&r);
    free(p);
    it_run(&r, NULL, NULL, "table", "create", f->dir, "--schema",
           "/nonexistent/schema.json", NULL);
    it_expect_code(&r, 2, "table create with a missing schema file");
    it_expect_contains(r.err, "/nonexistent/schema.json", "missing schema");
    it_result_release(&r);

    /* a directory that is not a data directory */
    char *other = it_path(f->top, "nothing-here");
    it_run(&r, NULL, NULL, "read", other, "t", "--from", "0", NULL);
    it_expect_code(&r, 1, "read from a missing data directory");
    it_expect_contains(r.err, "not a lakehouse data directory",
                       "read from a missing data directory");
    it_result_release(&r);
    free(other);
}

/* ---- append and its acks ------------------------------------------------- */

static void
test_append_acks_and_read(void **state)
{
    fixture *f = *state;
    char in[2048] = "", line[256];
    const char *streams[] = {"a", "b", "a", "a", "b"};
    for (int i = 1; i <= 5; i++) {
        event_line(line, sizeof(line), i, streams[i - 1], NULL);
        strcat(in, line);
    }
    char *p = input_file(f, "in.ndjson", in);
    it_result r;
    it_run(&r, NULL, NULL, "append", f->dir, "t", p, NULL);
    it_expect_code(&r, 0, "append");
    json_t *acks = it_ndjson(r.out, "append acks");
    it_result_release(&r);
    assert_int_equal(json_array_size(acks), 5);
    json_t *all = read_from(f, "0");
    assert_int_equal(json_array_size(all), 5);
    const int64_t want_version[] = {1, 1, 2, 3, 2};
    for (int i = 0; i < 5; i++) {
        json_t *a = json_array_get(acks, (size_t)i);
        char id[40];
        id_of(id, sizeof(id), i + 1);
        /* exactly the five fields of an ack */
        if (json_object_size(a) != 5 ||
            strcmp(str_field(a, "event_id"), id) != 0 ||
            strcmp(str_field(a, "stream"), streams[i]) != 0 ||
            int_field(a, "version") != want_version[i] ||
            int_field(a, "position") < 1 || int_field(a, "shard") < 0 ||
            int_field(a, "shard") > 3) {
            fail_msg("ack %d is %s; expected event_id %s, stream %s, version "
                     "%lld, a position and a shard in 0..3",
                     i, json_dumps(a, JSON_COMPACT), id, streams[i],
                     (long long)want_version[i]);
        }
        /* the read agrees with the ack */
        bool found = false;
        size_t k;
        json_t *e;
        json_array_foreach(all, k, e)
        {
            if (strcmp(str_field(e, "event_id"), id) != 0) {
                continue;
            }
            found = true;
            const char *keys[] = {
                "event_id",     "stream", "version",  "type",       "ts",
                "committed_at", "shard",  "position", "checkpoint", "data"};
            for (size_t q = 0; q < sizeof(keys) / sizeof(keys[0]); q++) {
                if (json_object_get(e, keys[q]) == NULL) {
                    fail_msg("read event lacks \"%s\": %s", keys[q],
                             json_dumps(e, JSON_COMPACT));
                }
            }
            if (int_field(e, "version") != int_field(a, "version") ||
                int_field(e, "position") != int_field(a, "position") ||
                int_field(e, "shard") != int_field(a, "shard") ||
                strcmp(str_field(e, "type"), "T") != 0 ||
                json_integer_value(json_object_get(json_object_get(e, "data"),
                                                   "qty")) != i + 1) {
                fail_msg("ack %s but read %s", json_dumps(a, JSON_COMPACT),
                         json_dumps(e, JSON_COMPACT));
            }
        }
        if (!found) {
            fail_msg("acked event %s not read", id);
        }
    }
    json_decref(acks);
    json_decref(all);

    /* one stream, in version order */
    it_run(&r, NULL, NULL, "read", f->dir, "t", "--stream", "a", NULL);
    it_expect_code(&r, 0, "read --stream a");
    json_t *sa = it_ndjson(r.out, "read --stream a");
    it_result_release(&r);
    char want[256], i1[40], i3[40], i4[40];
    id_of(i1, sizeof(i1), 1);
    id_of(i3, sizeof(i3), 3);
    id_of(i4, sizeof(i4), 4);
    snprintf(want, sizeof(want), "%s %s %s", i1, i3, i4);
    expect_ids(sa, want, "read --stream a");
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(int_field(json_array_get(sa, i), "version"),
                         (int64_t)i + 1);
    }
    json_decref(sa);
    /* a stream never written reads as empty */
    it_run(&r, NULL, NULL, "read", f->dir, "t", "--stream", "zz", NULL);
    it_expect_code(&r, 0, "read --stream of a new stream");
    assert_string_equal(r.out, "");
    it_result_release(&r);

    /* "-" and no FILE both read stdin */
    event_line(line, sizeof(line), 6, "c", NULL);
    it_run(&r, line, NULL, "append", f->dir, "t", "-", NULL);
    it_expect_code(&r, 0, "append -");
    it_expect_contains(r.out, "\"stream\":\"c\"", "append -");
    it_result_release(&r);
    event_line(line, sizeof(line), 7, "c", NULL);
    it_run(&r, line, NULL, "append", f->dir, "t", NULL);
    it_expect_code(&r, 0, "append from stdin");
    it_expect_contains(r.out, "\"version\":2", "append from stdin");
    it_result_release(&r);
    free(p);
}

/* ---- exit codes; earlier calls stay committed ------------------------------
 */

static int
count_events(const fixture *f)
{
    json_t *all = read_from(f, "0");
    int n = (int)json_array_size(all);
    json_decref(all);
    return n;
}

static void
test_bad_json_line(void **state)
{
    fixture *f = *state;
    char in[1024] = "", line[256];
    event_line(line, sizeof(line), 1, "a", NULL);
    strcat(in, line);
    event_line(line, sizeof(line), 2, "a", NULL);
    strcat(in, line);
    strcat(in, "{\"stream\": \"a\", \"type\": \"T\"\n");
    event_line(line, sizeof(line), 4, "a", NULL);
    strcat(in, line);
    char *p = input_file(f, "bad.ndjson", in);
    it_result r;
    it_run(&r, NULL, NULL, "append", f->dir, "t", p, NULL);
    it_expect_code(&r, 2, "append with malformed JSON on line 3");
    it_expect_contains(r.err, "line 3", "malformed JSON on line 3");
    json_t *acks = it_ndjson(r.out, "acks");
    assert_int_equal(json_array_size(acks), 2);
    json_decref(acks);
    it_result_release(&r);
    /* lines 1 and 2 were separate calls (--batch 1): committed */
    assert_int_equal(count_events(f), 2);
    free(p);
}

static void
test_wrong_type(void **state)
{
    fixture *f = *state;
    char in[1024] = "", line[256];
    event_line(line, sizeof(line), 1, "a", NULL);
    strcat(in, line);
    event_line(line, sizeof(line), 2, "b", NULL);
    strcat(in, line);
    strcat(in, "{\"stream\": \"a\", \"type\": \"T\", \"data\": {\"qty\": "
               "\"many\"}}\n");
    char *p = input_file(f, "type.ndjson", in);
    it_result r;
    it_run(&r, NULL, NULL, "append", f->dir, "t", p, NULL);
    it_expect_code(&r, 2, "append with a string for an INT");
    it_expect_contains(r.err, "line 3: data.qty", "wrong type");
    it_result_release(&r);
    assert_int_equal(count_events(f), 2);

    /* too long for VARCHAR(20), an unknown column, an unknown field */
    const char *bad[] = {
        ("{\"stream\": \"a\", \"type\": \"T\", \"data\": {\"note\": "
         "\"123456789012345678901\"}}\n"),
        "{\"stream\": \"a\", \"type\": \"T\", \"data\": {\"nope\": 1}}\n",
        "{\"stream\": \"a\", \"type\": \"T\", \"colour\": 1}\n",
        "{\"stream\": \"a\"}\n",
        "[1, 2]\n",
        "{\"stream\": \"a\", \"type\": \"T\", \"expected_version\": -1}\n",
        "{\"stream\": \"a\", \"type\": \"T\", \"ts\": \"yesterday\"}\n",
        "{\"stream\": \"a\", \"type\": \"T\", \"event_id\": \"xyz\"}\n",
        "\xff\xfe garbage\n",
    };
    const char *field[] = {"data.note", "data.nope", "colour",
                           "type",      "line 1",    "expected_version",
                           "ts",        "event_id",  "line 1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        it_run(&r, bad[i], NULL, "append", f->dir, "t", NULL);
        if (r.code != 2 || strstr(r.err, field[i]) == NULL ||
            strstr(r.err, "line 1") == NULL) {
            fail_msg("input %s: exit %d, stderr %s; expected exit 2 naming "
                     "line 1 and \"%s\"",
                     bad[i], r.code, r.err, field[i]);
        }
        it_result_release(&r);
    }
    assert_int_equal(count_events(f), 2);
    free(p);
}

static void
test_version_conflict(void **state)
{
    fixture *f = *state;
    char in[1024] = "", line[256];
    event_line(line, sizeof(line), 1, "a", ", \"expected_version\": 0");
    strcat(in, line);
    event_line(line, sizeof(line), 2, "a", ", \"expected_version\": 1");
    strcat(in, line);
    event_line(line, sizeof(line), 3, "a", ", \"expected_version\": 1");
    strcat(in, line);
    event_line(line, sizeof(line), 4, "a", NULL);
    strcat(in, line);
    char *p = input_file(f, "conflict.ndjson", in);
    it_result r;
    it_run(&r, NULL, NULL, "append", f->dir, "t", p, NULL);
    it_expect_code(&r, 3, "append with a stale expected version");
    it_expect_contains(r.err, "line 3", "version conflict");
    it_expect_contains(r.err, "current version 2", "version conflict");
    json_t *acks = it_ndjson(r.out, "acks");
    assert_int_equal(json_array_size(acks), 2);
    json_decref(acks);
    it_result_release(&r);
    /* lines 1-2 committed, 3-4 not */
    assert_int_equal(count_events(f), 2);

    /* the named expectations */
    it_run(&r,
           "{\"stream\": \"a\", \"type\": \"T\", \"expected_version\": "
           "\"no_stream\"}\n",
           NULL, "append", f->dir, "t", NULL);
    it_expect_code(&r, 3, "no_stream on an existing stream");
    it_result_release(&r);
    it_run(&r,
           "{\"stream\": \"new\", \"type\": \"T\", \"expected_version\": "
           "\"stream_exists\"}\n",
           NULL, "append", f->dir, "t", NULL);
    it_expect_code(&r, 3, "stream_exists on a new stream");
    it_result_release(&r);
    it_run(&r,
           "{\"stream\": \"a\", \"type\": \"T\", \"expected_version\": "
           "\"stream_exists\"}\n",
           NULL, "append", f->dir, "t", NULL);
    it_expect_code(&r, 0, "stream_exists on an existing stream");
    it_result_release(&r);
    free(p);
}

static void
test_failure_mid_batch(void **state)
{
    fixture *f = *state;
    /* --batch 2: calls {1,2} {3,4}; 4 conflicts, so call {3,4} fails as a
     * whole and {1,2} stays */
    char in[1024] = "", line[256];
    for (int i = 1; i <= 3; i++) {
        event_line(line, sizeof(line), i, "m", NULL);
        strcat(in, line);
    }
    event_line(line, sizeof(line), 4, "m", ", \"expected_version\": 0");
    strcat(in, line);
    event_line(line, sizeof(line), 5, "m", NULL);
    strcat(in, line);
    char *p = input_file(f, "mid.ndjson", in);
    it_result r;
    it_run(&r, NULL, NULL, "append", f->dir, "t", p, "--batch", "2", NULL);
    it_expect_code(&r, 3, "a conflict in the second call");
    it_expect_contains(r.err, "line 4", "a conflict in the second call");
    /* the stream's version, not the one line 3 would have made */
    it_expect_contains(r.err, "current version 2", "a conflict in a call");
    json_t *acks = it_ndjson(r.out, "acks");
    assert_int_equal(json_array_size(acks), 2);
    json_decref(acks);
    it_result_release(&r);
    json_t *all = read_from(f, "0");
    char want[128], a[40], b[40];
    id_of(a, sizeof(a), 1);
    id_of(b, sizeof(b), 2);
    snprintf(want, sizeof(want), "%s %s", a, b);
    expect_ids(all, want, "after a failed second call");
    json_decref(all);
    free(p);
}

static void
test_unknown_table_and_usage(void **state)
{
    fixture *f = *state;
    it_result r;
    char line[256];
    event_line(line, sizeof(line), 1, "a", NULL);
    /* a missing table is not bad input: the same line is fine for "t" */
    it_run(&r, line, NULL, "append", f->dir, "nosuch", NULL);
    it_expect_code(&r, 1, "append to an unknown table");
    it_expect_contains(r.err, "table \"nosuch\" does not exist",
                       "append to an unknown table");
    it_result_release(&r);
    /* also when there is nothing to append */
    it_run(&r, "", NULL, "append", f->dir, "nosuch", NULL);
    it_expect_code(&r, 1, "append nothing to an unknown table");
    it_expect_contains(r.err, "nosuch", "append nothing to an unknown table");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "read", f->dir, "nosuch", "--from", "0", NULL);
    it_expect_code(&r, 1, "read an unknown table");
    it_expect_contains(r.err, "nosuch", "read an unknown table");
    it_result_release(&r);

    /* usage errors */
    const char *const usage[][8] = {
        {"append", f->dir, NULL},
        {"append", f->dir, "t", "-", "--batch", "0", NULL},
        {"append", f->dir, "t", "-", "--bogus", NULL},
        {"read", f->dir, "t", NULL},
        {"read", f->dir, "t", "--stream", "a", "--follow", NULL},
        {"read", f->dir, "t", "--from", "garbage", NULL},
        {"read", f->dir, "t", "--from", "ck1.1.2", NULL},
        {"frobnicate", NULL},
    };
    for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++) {
        it_runv(&r, "", NULL, usage[i]);
        if (r.code != 2 || r.err[0] == 0) {
            fail_msg("lakehouse %s %s ...: exit %d, stderr \"%s\"; expected "
                     "2 and a message",
                     usage[i][0], usage[i][1] ? usage[i][1] : "", r.code,
                     r.err);
        }
        it_result_release(&r);
    }
    it_run(&r, line, NULL, "append", f->dir, "t", "/nonexistent/in.ndjson",
           NULL);
    it_expect_code(&r, 2, "append from a missing file");
    it_expect_contains(r.err, "/nonexistent/in.ndjson", "missing input");
    it_result_release(&r);
    assert_int_equal(count_events(f), 0);
}

/* ---- options anywhere ------------------------------------------------------
 */

static void
test_options_anywhere(void **state)
{
    fixture *f = *state;
    char in[1024] = "", line[256];
    for (int i = 1; i <= 3; i++) {
        event_line(line, sizeof(line), i, "o", NULL);
        strcat(in, line);
    }
    char *p = input_file(f, "o.ndjson", in);
    it_result r;
    it_run(&r, NULL, NULL, "append", "--batch", "2", f->dir, "t", p, NULL);
    it_expect_code(&r, 0, "append --batch 2 DIR t FILE");
    it_result_release(&r);
    /* the same ids again: idempotent, acked with the first versions */
    it_run(&r, NULL, NULL, "append", f->dir, "t", p, "--batch", "2", NULL);
    it_expect_code(&r, 0, "append DIR t FILE --batch 2");
    json_t *acks = it_ndjson(r.out, "acks of a retry");
    assert_int_equal(json_array_size(acks), 3);
    assert_int_equal(int_field(json_array_get(acks, 2), "version"), 3);
    json_decref(acks);
    it_result_release(&r);
    it_run(&r, NULL, NULL, "append", f->dir, "--batch=3", "t", p, NULL);
    it_expect_code(&r, 0, "append DIR --batch=3 t FILE");
    it_result_release(&r);
    assert_int_equal(count_events(f), 3);
    it_run(&r, NULL, NULL, "read", "--from", "0", f->dir, "t", NULL);
    it_expect_code(&r, 0, "read --from 0 DIR t");
    json_t *all = it_ndjson(r.out, "read");
    assert_int_equal(json_array_size(all), 3);
    json_decref(all);
    it_result_release(&r);
    it_run(&r, NULL, NULL, "read", "--stream", "o", f->dir, "t", NULL);
    it_expect_code(&r, 0, "read --stream o DIR t");
    all = it_ndjson(r.out, "read");
    assert_int_equal(json_array_size(all), 3);
    json_decref(all);
    it_result_release(&r);
    free(p);
}

/* ---- checkpoints
 * --------------------------------------------------------------- */

static void
test_checkpoint_resume(void **state)
{
    fixture *f = *state;
    char in[2048] = "", line[256];
    const char *streams[] = {"p", "q", "r", "s", "p", "q"};
    for (int i = 1; i <= 6; i++) {
        event_line(line, sizeof(line), i, streams[i - 1], NULL);
        strcat(in, line);
    }
    char *p = input_file(f, "ck.ndjson", in);
    it_result r;
    it_run(&r, NULL, NULL, "append", f->dir, "t", p, NULL);
    it_expect_code(&r, 0, "append");
    it_result_release(&r);
    json_t *all = read_from(f, "0");
    assert_int_equal(json_array_size(all), 6);
    /* from each event's checkpoint: exactly the events after it */
    for (size_t k = 0; k < 6; k++) {
        const char *ck = str_field(json_array_get(all, k), "checkpoint");
        json_t *rest = read_from(f, ck);
        json_t *tail = json_array();
        for (size_t j = k + 1; j < 6; j++) {
            json_array_append(tail, json_array_get(all, j));
        }
        char want[4096], what[128];
        id_list(tail, want, sizeof(want));
        snprintf(what, sizeof(what), "read --from the checkpoint of event %zu",
                 k + 1);
        expect_ids(rest, want, what);
        json_decref(tail);
        json_decref(rest);
    }
    /* later commits come after the last checkpoint */
    char last[256];
    snprintf(last, sizeof(last), "%s",
             str_field(json_array_get(all, 5), "checkpoint"));
    event_line(line, sizeof(line), 7, "p", NULL);
    it_run(&r, line, NULL, "append", f->dir, "t", NULL);
    it_expect_code(&r, 0, "append");
    it_result_release(&r);
    json_t *rest = read_from(f, last);
    char want[64];
    id_of(want, sizeof(want), 7);
    expect_ids(rest, want, "read --from the last checkpoint");
    json_decref(rest);
    json_decref(all);
    free(p);
}

/* ---- --follow
 * ------------------------------------------------------------------ */

/* Reads p's stdout until a line holding `needle` arrives or ms pass. */
static bool
wait_for_line(it_proc *p, const char *needle, int ms)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (p->out.data != NULL && strstr(p->out.data, needle) != NULL) {
            return true;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long el = (t1.tv_sec - t0.tv_sec) * 1000 +
                  (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (el > ms || !it_proc_pump(p, 20)) {
            return p->out.data != NULL && strstr(p->out.data, needle) != NULL;
        }
    }
}

static void
test_follow(void **state)
{
    fixture *f = *state;
    char line[256], id1[40], id2[40], id3[40];
    event_line(line, sizeof(line), 1, "f", NULL);
    it_result r;
    it_run(&r, line, NULL, "append", f->dir, "t", NULL);
    it_expect_code(&r, 0, "append");
    it_result_release(&r);
    id_of(id1, sizeof(id1), 1);
    id_of(id2, sizeof(id2), 2);
    id_of(id3, sizeof(id3), 3);

    it_proc rd;
    it_spawn(&rd, NULL, "read", f->dir, "t", "--from", "0", "--follow", NULL);
    if (!wait_for_line(&rd, id1, 5000)) {
        fail_msg("read --follow did not print the existing event; stdout "
                 "\"%s\" stderr \"%s\"",
                 rd.out.data ? rd.out.data : "",
                 rd.err.data ? rd.err.data : "");
    }
    /* appended by another process after the reader started */
    event_line(line, sizeof(line), 2, "g", NULL);
    it_run(&r, line, NULL, "append", f->dir, "t", NULL);
    it_expect_code(&r, 0, "append while following");
    it_result_release(&r);
    if (!wait_for_line(&rd, id2, 5000)) {
        fail_msg("read --follow did not print an event appended after it "
                 "started within 5 s; stdout \"%s\" stderr \"%s\"",
                 rd.out.data ? rd.out.data : "",
                 rd.err.data ? rd.err.data : "");
    }
    it_proc_kill(&rd, SIGTERM);
    int code = it_proc_wait(&rd, 5000);
    if (code != 0) {
        fail_msg("read --follow exited %d on SIGTERM; stderr %s", code,
                 rd.err.data ? rd.err.data : "");
    }
    json_t *got = it_ndjson(rd.out.data, "read --follow");
    char want[128];
    snprintf(want, sizeof(want), "%s %s", id1, id2);
    expect_ids(got, want, "read --follow");
    char ck[256];
    snprintf(ck, sizeof(ck), "%s",
             str_field(json_array_get(got, 1), "checkpoint"));
    json_decref(got);
    it_proc_release(&rd);

    /* following from a checkpoint: only what committed after it */
    it_spawn(&rd, NULL, "read", "--follow", f->dir, "t", "--from", ck, NULL);
    event_line(line, sizeof(line), 3, "f", NULL);
    it_run(&r, line, NULL, "append", f->dir, "t", NULL);
    it_expect_code(&r, 0, "append while following");
    it_result_release(&r);
    if (!wait_for_line(&rd, id3, 5000)) {
        fail_msg("read --from CK --follow did not print the new event");
    }
    it_proc_kill(&rd, SIGINT);
    assert_int_equal(it_proc_wait(&rd, 5000), 0);
    got = it_ndjson(rd.out.data, "read --follow");
    expect_ids(got, id3, "read --from CK --follow");
    json_decref(got);
    it_proc_release(&rd);
}

/* ---- one writer
 * ------------------------------------------------------------------ */

static void
test_second_writer(void **state)
{
    fixture *f = *state;
    char line[256];
    it_proc w;
    it_spawn(&w, NULL, "append", f->dir, "t", "-", NULL);
    event_line(line, sizeof(line), 1, "w", NULL);
    it_proc_write(&w, line, strlen(line));
    /* once its first ack is out, it holds the directory */
    size_t len;
    const char *ack = NULL;
    for (int i = 0; i < 500 && ack == NULL; i++) {
        it_proc_pump(&w, 10);
        ack = it_proc_line(&w, &len);
    }
    if (ack == NULL) {
        fail_msg("the first writer did not ack; stderr %s",
                 w.err.data ? w.err.data : "");
    }
    it_result r;
    event_line(line, sizeof(line), 2, "w", NULL);
    it_run(&r, line, NULL, "append", f->dir, "t", NULL);
    char pid[32];
    snprintf(pid, sizeof(pid), "process %ld", (long)w.pid);
    it_expect_code(&r, 1, "a second writer");
    it_expect_contains(r.err, pid, "a second writer");
    it_result_release(&r);
    /* readers take no lock */
    assert_int_equal(count_events(f), 1);
    /* the first writer goes on, then ends cleanly at end of input */
    event_line(line, sizeof(line), 3, "w", NULL);
    it_proc_write(&w, line, strlen(line));
    it_proc_close_in(&w);
    assert_int_equal(it_proc_wait(&w, 10000), 0);
    it_proc_release(&w);
    event_line(line, sizeof(line), 2, "w", NULL);
    it_run(&r, line, NULL, "append", f->dir, "t", NULL);
    it_expect_code(&r, 0, "a writer after the first one ended");
    it_expect_contains(r.out, "\"version\":3", "the third event");
    it_result_release(&r);
}

/* ---- LH_NOW
 * ------------------------------------------------------------------------ */

static void
test_lh_now(void **state)
{
    fixture *f = *state;
    const char *env[] = {"LH_NOW=2026-06-30T00:00:00Z", NULL};
    it_result r;
    it_run(&r,
           "{\"stream\": \"n\", \"type\": \"T\"}\n"
           "{\"stream\": \"n\", \"type\": \"T\", \"ts\": "
           "\"2020-01-02T03:04:05.25+01:00\"}\n",
           env, "append", f->dir, "t", NULL);
    it_expect_code(&r, 0, "append with LH_NOW");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "read", f->dir, "t", "--stream", "n", NULL);
    it_expect_code(&r, 0, "read");
    json_t *evs = it_ndjson(r.out, "read");
    it_result_release(&r);
    assert_int_equal(json_array_size(evs), 2);
    json_t *a = json_array_get(evs, 0), *b = json_array_get(evs, 1);
    assert_string_equal(str_field(a, "ts"), "2026-06-30 00:00:00");
    assert_string_equal(str_field(a, "committed_at"), "2026-06-30 00:00:00");
    assert_string_equal(str_field(b, "ts"), "2020-01-02 02:04:05.25");
    assert_string_equal(str_field(b, "committed_at"), "2026-06-30 00:00:00");
    json_decref(evs);
    const char *bad[] = {"LH_NOW=not-a-time", NULL};
    it_run(&r, NULL, bad, "read", f->dir, "t", "--from", "0", NULL);
    if (r.code == 0 || strstr(r.err, "LH_NOW") == NULL) {
        fail_msg("a malformed LH_NOW: exit %d, stderr \"%s\"; expected a "
                 "failure naming LH_NOW",
                 r.code, r.err);
    }
    it_result_release(&r);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_and_table_create, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_append_acks_and_read, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_json_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_mid_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_table_and_usage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_options_anywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_resume, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lh_now, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
