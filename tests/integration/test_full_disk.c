/*
 * A full disk: the data directory lives on a small tmpfs, next to a filler
 * file. Appends run until the disk is full; the failing append must
 * fail cleanly (LH_ENOSPC, CLI exit 1 with "disk full"), leave nothing of
 * itself behind, keep every acknowledged event readable, and once the
 * filler is deleted the same store takes appends again (in the same process
 * and after a reopen).
 *
 * Needs to mount a tmpfs (root): otherwise it prints SKIP and exits 77.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "it.h"

#define PAD_BYTES 3000 /* each event: about one page of the shard */

typedef struct fixture {
    char *top;    /* scratch directory on the real disk */
    char *mnt;    /* the tmpfs */
    char *dir;    /* data directory on the tmpfs */
    char *filler; /* 1 MiB file on the tmpfs, deleted to free space */
    bool mounted;
} fixture;

static bool
mount_tmpfs(const char *path, const char *size, char *why, size_t n)
{
    char opts[64];
    snprintf(opts, sizeof(opts), "size=%s", size);
    if (mount("tmpfs", path, "tmpfs", 0, opts) != 0) {
        snprintf(why, n, "cannot mount a tmpfs on %s: %s", path,
                 strerror(errno));
        return false;
    }
    return true;
}

static void
write_filler(const char *path, size_t bytes)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    char block[65536];
    memset(block, 0x5a, sizeof(block));
    size_t done = 0;
    while (done < bytes) {
        size_t n = LH_MIN(sizeof(block), bytes - done);
        ssize_t w = write(fd, block, n);
        if (w <= 0) {
            break; /* bytes = SIZE_MAX: fill the disk to the last block */
        }
        done += (size_t)w;
    }
    close(fd);
    if (bytes != SIZE_MAX && done != bytes) {
        fail_msg("could not write the %zu byte filler (%zu written)", bytes,
                 done);
    }
}

static int
setup_size(void **state, const char *size, size_t filler)
{
    fixture *f = calloc(1, sizeof(*f));
    f->top = it_tmpdir();
    f->mnt = it_path(f->top, "mnt");
    assert_int_equal(mkdir(f->mnt, 0755), 0);
    char why[256];
    if (!mount_tmpfs(f->mnt, size, why, sizeof(why))) {
        fail_msg("%s", why);
    }
    f->mounted = true;
    f->dir = it_path(f->mnt, "data");
    f->filler = it_path(f->mnt, "filler");
    write_filler(f->filler, filler);
    *state = f;
    return 0;
}

/* About 1 MiB free until the filler goes. Then room for two shards' WAL
 * files (each grows to ~4 MiB before SQLite checkpoints it: every commit
 * appends whole pages) and their databases. */
static int
setup_1m_free(void **state)
{
    return setup_size(state, "16m", 15u << 20);
}

/* About 3 MiB free until the filler goes; then plenty. */
static int
setup_3m_free(void **state)
{
    return setup_size(state, "16m", 13u << 20);
}

static int
teardown(void **state)
{
    fixture *f = *state;
    if (f->mounted && umount(f->mnt) != 0) {
        /* something still holds it (a failed test's child): detach */
        umount2(f->mnt, MNT_DETACH);
    }
    free(f->dir);
    free(f->filler);
    free(f->mnt);
    it_rmrf(f->top);
    free(f);
    return 0;
}

static const char *schema =
    "{\"name\": \"t\", \"columns\": [{\"name\": \"pad\", \"type\": "
    "\"VARCHAR\"}], \"shards\": 2}";

/* ---- through the CLI
 * --------------------------------------------------------- */

static void
expect_read_ids(const fixture *f, json_t *acks, size_t nacks, const char *what)
{
    it_result r;
    it_run(&r, NULL, NULL, "read", f->dir, "t", "--from", "0", NULL);
    it_expect_code(&r, 0, what);
    json_t *evs = it_ndjson(r.out, what);
    it_result_release(&r);
    if (json_array_size(evs) != nacks) {
        fail_msg("%s: read %zu events, %zu were acknowledged", what,
                 json_array_size(evs), nacks);
    }
    lh_map ids;
    lh_map_init(&ids);
    size_t i;
    json_t *o;
    json_array_foreach(evs, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "event_id"));
        lh_map_put(&ids, id, strlen(id), o, NULL);
    }
    for (i = 0; i < nacks; i++) {
        json_t *a = json_array_get(acks, i);
        const char *id = json_string_value(json_object_get(a, "event_id"));
        json_t *e = lh_map_get(&ids, id, strlen(id));
        if (e == NULL ||
            json_integer_value(json_object_get(e, "position")) !=
                json_integer_value(json_object_get(a, "position")) ||
            json_integer_value(json_object_get(e, "version")) !=
                json_integer_value(json_object_get(a, "version"))) {
            fail_msg("%s: ack %s, read %s", what, json_dumps(a, JSON_COMPACT),
                     e ? json_dumps(e, JSON_COMPACT) : "nothing");
        }
    }
    lh_map_release(&ids);
    json_decref(evs);
}

static void
test_cli_append_until_full(void **state)
{
    fixture *f = *state;
    const char *schemas[] = {schema, NULL};
    it_make_db(f->dir, schemas);
    /* ~1 MiB is free: 400 events of 3 KB do not fit */
    enum { N = 400 };
    lh_buf in = LH_BUF_INIT;
    for (int i = 0; i < N; i++) {
        char id[37];
        it_uuid(id);
        lh_buf_printf(&in,
                      "{\"event_id\": \"%s\", \"stream\": \"s%d\", \"type\": "
                      "\"T\", \"data\": {\"pad\": \"%0*d\"}}\n",
                      id, i % 5, PAD_BYTES, i);
    }
    char *file = it_path(f->top, "in.ndjson"); /* on the real disk */
    it_write_file(file, in.data);
    lh_buf_release(&in);

    it_result r;
    it_run(&r, NULL, NULL, "append", f->dir, "t", file, NULL);
    it_expect_code(&r, 1, "append to a full disk");
    it_expect_contains(r.err, "disk full", "append to a full disk");
    json_t *acks = it_ndjson(r.out, "acks");
    size_t n1 = json_array_size(acks);
    printf("# %zu of %d events fit; then: %s", n1, N, r.err);
    char line[32];
    snprintf(line, sizeof(line), "line %zu:", n1 + 1);
    it_expect_contains(r.err, line, "the failing line");
    it_result_release(&r);
    if (n1 == 0 || n1 >= N) {
        fail_msg("%zu of %d events fit in 1 MiB", n1, N);
    }
    /* every acked event is there; the failing one is not */
    expect_read_ids(f, acks, n1, "read after the disk filled");

    /* Still full: the retry acks the events that are there (idempotent, no
     * space needed) and fails at the same line, without damage. */
    it_run(&r, NULL, NULL, "append", f->dir, "t", file, NULL);
    it_expect_code(&r, 1, "retry on a full disk");
    it_expect_contains(r.err, "disk full", "retry on a full disk");
    json_t *acks2 = it_ndjson(r.out, "acks");
    it_result_release(&r);
    if (json_array_size(acks2) < n1) {
        fail_msg("the retry acked %zu events, %zu were there",
                 json_array_size(acks2), n1);
    }
    for (size_t i = 0; i < n1; i++) {
        if (!json_equal(json_array_get(acks, i), json_array_get(acks2, i))) {
            fail_msg("retry ack %zu is %s, first %s", i,
                     json_dumps(json_array_get(acks2, i), JSON_COMPACT),
                     json_dumps(json_array_get(acks, i), JSON_COMPACT));
        }
    }
    size_t n2 = json_array_size(acks2);
    expect_read_ids(f, acks2, n2, "read after the retry");
    json_decref(acks2);

    /* Free the space: the same store takes the rest. */
    assert_int_equal(unlink(f->filler), 0);
    it_run(&r, NULL, NULL, "append", f->dir, "t", file, NULL);
    it_expect_code(&r, 0, "append once space is free");
    json_t *acks3 = it_ndjson(r.out, "acks");
    it_result_release(&r);
    assert_int_equal(json_array_size(acks3), N);
    for (size_t i = 0; i < n1; i++) {
        assert_true(
            json_equal(json_array_get(acks, i), json_array_get(acks3, i)));
    }
    expect_read_ids(f, acks3, N, "read once space is free");
    /* per stream, versions 1..N/5 */
    for (int s = 0; s < 5; s++) {
        char stream[8];
        snprintf(stream, sizeof(stream), "s%d", s);
        it_run(&r, NULL, NULL, "read", f->dir, "t", "--stream", stream, NULL);
        it_expect_code(&r, 0, "read --stream");
        json_t *evs = it_ndjson(r.out, "read --stream");
        it_result_release(&r);
        assert_int_equal(json_array_size(evs), N / 5);
        for (size_t i = 0; i < N / 5; i++) {
            assert_int_equal(json_integer_value(json_object_get(
                                 json_array_get(evs, i), "version")),
                             (json_int_t)i + 1);
        }
        json_decref(evs);
    }
    json_decref(acks);
    json_decref(acks3);
    free(file);
}

static void
test_cli_table_create_on_full_disk(void **state)
{
    fixture *f = *state;
    const char *schemas[] = {schema, NULL};
    it_make_db(f->dir, schemas);
    char *more = it_path(f->mnt, "more-filler");
    write_filler(more, SIZE_MAX); /* not one block left */
    char *sfile = it_path(f->top, "u.json");
    it_write_file(sfile, "{\"name\": \"u\", \"columns\": [{\"name\": \"x\", "
                         "\"type\": \"INT\"}], \"shards\": 2}");
    it_result r;
    it_run(&r, NULL, NULL, "table", "create", f->dir, "--schema", sfile, NULL);
    if (r.code != 1 || (strstr(r.err, "disk full") == NULL &&
                        strstr(r.err, "No space left") == NULL)) {
        fail_msg("table create on a full disk: exit %d, stderr \"%s\"; "
                 "expected 1 and a full disk named",
                 r.code, r.err);
    }
    it_result_release(&r);
    it_run(&r, NULL, NULL, "table", "list", f->dir, NULL);
    it_expect_code(&r, 0, "table list");
    assert_string_equal(r.out, "t\n");
    it_result_release(&r);
    /* a writer cannot even make its -shm file: still "disk full", exit 1 */
    it_run(&r, "{\"stream\": \"a\", \"type\": \"T\"}\n", NULL, "append", f->dir,
           "t", NULL);
    it_expect_code(&r, 1, "append on a disk without a free block");
    it_expect_contains(r.err, "disk full",
                       "append on a disk without a free block");
    it_result_release(&r);
    assert_int_equal(unlink(more), 0);
    it_run(&r, "{\"stream\": \"a\", \"type\": \"T\"}\n", NULL, "append", f->dir,
           "t", NULL);
    it_expect_code(&r, 0, "append once space is free");
    it_expect_contains(r.out, "\"version\":1", "append once space is free");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "table", "create", f->dir, "--schema", sfile, NULL);
    it_expect_code(&r, 0, "table create once space is free");
    it_result_release(&r);
    it_run(&r, "{\"stream\": \"a\", \"type\": \"T\", \"data\": {\"x\": 1}}\n",
           NULL, "append", f->dir, "u", NULL);
    it_expect_code(&r, 0, "append to the new table");
    it_result_release(&r);
    free(more);
    free(sfile);
}

/* ---- through the library, from several threads
 * -------------------------------- */

#define LIB_THREADS 4
#define MAX_CALLS 4096

typedef struct lib_call {
    char ids[3][37];
    int n;
    int64_t expected;
    bool ok;
    lh_event_ack acks[3];
} lib_call;

typedef struct lib_worker {
    lh_db *db;
    int t;
    char stream[16];
    int64_t version; /* the stream's version after the last success */
    lib_call *calls;
    int ncalls;
    lh_rc fail_rc;
    char fail_msg_[512];
} lib_worker;

static char pad[PAD_BYTES + 32];

/* One call of 1-3 events expecting the stream's exact version. */
static lh_rc
lib_call_once(lib_worker *w, lh_err *err)
{
    if (w->ncalls == MAX_CALLS) {
        return lh_err_set(err, LH_ELIMIT, "too many calls");
    }
    lib_call *c = &w->calls[w->ncalls++];
    c->n = 1 + w->ncalls % 3;
    c->expected = w->version;
    lh_event_in evs[3];
    memset(evs, 0, sizeof(evs));
    for (int i = 0; i < c->n; i++) {
        lh_uuid u;
        lh_uuid_v4(&u, err);
        lh_uuid_format(&u, c->ids[i]);
        evs[i].event_id = c->ids[i];
        evs[i].stream = w->stream;
        evs[i].type = "T";
        evs[i].data_json = pad;
    }
    evs[0].expect = LH_EXPECT_EXACT;
    evs[0].expected_version = w->version;
    lh_rc rc = lh_append(w->db, "t", evs, (size_t)c->n, NULL, c->acks, err);
    c->ok = rc == LH_OK;
    if (rc == LH_OK) {
        w->version += c->n;
    }
    return rc;
}

static void *
lib_fill(void *arg)
{
    lib_worker *w = arg;
    for (;;) {
        lh_err err;
        lh_rc rc = lib_call_once(w, &err);
        if (rc != LH_OK) {
            w->fail_rc = rc;
            snprintf(w->fail_msg_, sizeof(w->fail_msg_), "%s", err.msg);
            return NULL;
        }
    }
}

/* Every successful call is there as acked; no failed call left an event. */
static void
lib_verify(lh_db *db, lib_worker *ws, const char *what)
{
    lh_err err;
    lh_map seen;
    lh_map_init(&seen);
    lh_reader *r;
    assert_int_equal(lh_read_all(db, "t", "0", false, &r, &err), LH_OK);
    const lh_event *ev;
    lh_rc rc;
    int64_t n = 0;
    while ((rc = lh_reader_next(r, &ev, &err)) == LH_OK && ev != NULL) {
        int64_t where[3] = {ev->version, ev->position, ev->shard};
        int64_t *copy = malloc(sizeof(where));
        memcpy(copy, where, sizeof(where));
        lh_map_put(&seen, ev->event_id, 36, copy, NULL);
        n++;
    }
    if (rc != LH_OK) {
        fail_msg("%s: read failed: %s", what, err.msg);
    }
    lh_reader_close(r);
    int64_t want = 0;
    for (int t = 0; t < LIB_THREADS; t++) {
        for (int k = 0; k < ws[t].ncalls; k++) {
            lib_call *c = &ws[t].calls[k];
            for (int i = 0; i < c->n; i++) {
                int64_t *got = lh_map_get(&seen, c->ids[i], 36);
                if (!c->ok && got != NULL) {
                    fail_msg("%s: event %s of a failed call is there", what,
                             c->ids[i]);
                }
                if (c->ok && (got == NULL || got[0] != c->acks[i].version ||
                              got[1] != c->acks[i].position ||
                              got[2] != c->acks[i].shard)) {
                    fail_msg("%s: event %s acked at version %lld position "
                             "%lld, read %s",
                             what, c->ids[i], (long long)c->acks[i].version,
                             (long long)c->acks[i].position,
                             got ? "elsewhere" : "nothing");
                }
                want += c->ok;
            }
        }
    }
    if (n != want) {
        fail_msg("%s: %lld events read, %lld acked", what, (long long)n,
                 (long long)want);
    }
    size_t it = 0;
    const void *k;
    size_t kl;
    void *v;
    while (lh_map_next(&seen, &it, &k, &kl, &v)) {
        free(v);
    }
    lh_map_release(&seen);
}

static void
test_library_threads_fill_disk(void **state)
{
    fixture *f = *state;
    snprintf(pad, sizeof(pad), "{\"pad\": \"%0*d\"}", PAD_BYTES, 7);
    lh_db *db = NULL;
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE};
    if (lh_db_open(f->dir, &o, &db, &err) != LH_OK) {
        fail_msg("open: %s", err.msg);
    }
    if (lh_table_create(db, schema, strlen(schema), &err) != LH_OK) {
        fail_msg("create: %s", err.msg);
    }
    lib_worker ws[LIB_THREADS];
    pthread_t th[LIB_THREADS];
    memset(ws, 0, sizeof(ws));
    for (int t = 0; t < LIB_THREADS; t++) {
        ws[t].db = db;
        ws[t].t = t;
        snprintf(ws[t].stream, sizeof(ws[t].stream), "w%d", t);
        ws[t].calls = calloc(MAX_CALLS, sizeof(lib_call));
        pthread_create(&th[t], NULL, lib_fill, &ws[t]);
    }
    for (int t = 0; t < LIB_THREADS; t++) {
        pthread_join(th[t], NULL);
    }
    int ok = 0;
    for (int t = 0; t < LIB_THREADS; t++) {
        if (ws[t].fail_rc != LH_ENOSPC ||
            strstr(ws[t].fail_msg_, "disk full") == NULL) {
            fail_msg("thread %d stopped with %s: \"%s\"; expected "
                     "LH_ENOSPC saying \"disk full\"",
                     t, lh_rc_name(ws[t].fail_rc), ws[t].fail_msg_);
        }
        ok += ws[t].ncalls - 1;
    }
    printf("# %d calls fit from %d threads, then: %s\n", ok, LIB_THREADS,
           ws[0].fail_msg_);
    assert_true(ok > 0);
    lib_verify(db, ws, "after the disk filled (same handle)");

    /* Still full: fails the same way again. (A small call may still fit
     * where a failed bigger one had begun to write: so try a few.) */
    lh_rc rc = LH_OK;
    for (int k = 0; k < 50 && rc == LH_OK; k++) {
        rc = lib_call_once(&ws[0], &err);
    }
    if (rc != LH_ENOSPC) {
        fail_msg("an append on a still full disk: %s \"%s\"", lh_rc_name(rc),
                 err.msg);
    }
    /* a reader in another handle sees the same */
    lh_db *ro = NULL;
    lh_db_options ro_opts = {.flags = LH_OPEN_READONLY};
    assert_int_equal(lh_db_open(f->dir, &ro_opts, &ro, &err), LH_OK);
    lib_verify(ro, ws, "after the disk filled (read-only handle)");
    lh_db_close(ro);

    /* free the space: every thread goes on at the version it knows, so the
     * failed calls left no version behind either */
    assert_int_equal(unlink(f->filler), 0);
    for (int t = 0; t < LIB_THREADS; t++) {
        for (int k = 0; k < 3; k++) {
            rc = lib_call_once(&ws[t], &err);
            if (rc != LH_OK) {
                fail_msg("thread %d, once space is free: %s \"%s\"", t,
                         lh_rc_name(rc), err.msg);
            }
        }
    }
    lib_verify(db, ws, "once space is free");
    lh_db_close(db);
    db = NULL;
    if (lh_db_open(f->dir, NULL, &db, &err) != LH_OK) {
        fail_msg("reopen: %s", err.msg);
    }
    lib_verify(db, ws, "after a reopen");
    for (int t = 0; t < LIB_THREADS; t++) {
        ws[t].db = db;
        int64_t v = -1;
        assert_int_equal(lh_stream_info(db, "t", ws[t].stream, &v, NULL, &err),
                         LH_OK);
        assert_int_equal(v, ws[t].version);
        rc = lib_call_once(&ws[t], &err);
        if (rc != LH_OK) {
            fail_msg("thread %d, after a reopen: %s \"%s\"", t, lh_rc_name(rc),
                     err.msg);
        }
        free(ws[t].calls);
    }
    lh_db_close(db);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    /* Can we mount a tmpfs here? */
    char *probe_top = it_tmpdir();
    char *probe = it_path(probe_top, "mnt");
    char why[256] = "";
    bool can =
        mkdir(probe, 0755) == 0 && mount_tmpfs(probe, "1m", why, sizeof(why));
    if (can) {
        umount(probe);
    }
    free(probe);
    it_rmrf(probe_top);
    if (!can) {
        printf("SKIP: %s (the full-disk test needs root)\n", why);
        return IT_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cli_append_until_full,
                                        setup_1m_free, teardown),
        cmocka_unit_test_setup_teardown(test_cli_table_create_on_full_disk,
                                        setup_1m_free, teardown),
        cmocka_unit_test_setup_teardown(test_library_threads_fill_disk,
                                        setup_3m_free, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
