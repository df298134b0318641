/*
 * Writers killed at random points during commits (SIGKILL, 50 times): the
 * table always opens, at the previous or the new snapshot, never broken;
 * every committed file is whole (its ten rows), no row is there twice,
 * and the next writer carries on from whatever version survived.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ice_write.h"

#define KILLS 50

/* The child: commits ten-row files with ids from `base` on, forever. */
static void
writer(fixture *fx, int64_t base)
{
    lh_ice_table *t = reopen(fx);
    lh_arena a;
    lh_arena_init(&a, 0);
    for (int64_t k = 0;; k++) {
        lh_ice_data_file f = write_file(t, fx, &a, base + k * 10, 10, 1);
        lh_ice_change c = {.add = &f, .nadd = 1};
        lh_err err;
        if (lh_ice_commit(t, &c, NULL, &err) != LH_OK) {
            fprintf(stderr, "child: %s\n", err.msg);
            _exit(1);
        }
        lh_arena_reset(&a);
    }
}

typedef struct seen {
    uint8_t *ids; /* one byte per id below the cap */
    size_t cap;
} seen;

/* Opens the table and checks every live row. Returns the row count. */
static int64_t
check_table(fixture *fx, int64_t *snapshots)
{
    lh_ice_table *t = reopen(fx);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_plan plan;
    lh_err err;
    lh_rc rc = lh_ice_plan_scan(t, NULL, &a, &plan, &err);
    if (rc != LH_OK) {
        fail_msg("plan after a kill: %s", err.msg);
    }
    *snapshots = lh_ice_table_meta(t)->nsnapshots;
    int64_t rows = 0;
    int32_t ids[] = {1};
    size_t cap = 1u << 24;
    uint8_t *seen_ids = calloc(cap, 1);
    for (uint32_t i = 0; i < plan.ntasks; i++) {
        lh_ice_reader *r;
        rc = lh_ice_read_open(t, &plan, &plan.tasks[i], ids, 1, &r, &err);
        if (rc != LH_OK) {
            fail_msg("read after a kill: %s", err.msg);
        }
        int64_t in_file = 0, first = -1;
        for (;;) {
            lh_batch b;
            assert_int_equal(lh_ice_read_next(r, &b, &err), LH_OK);
            if (b.count == 0) {
                break;
            }
            for (uint32_t k = 0; k < b.count; k++) {
                int64_t id = ((const int64_t *)b.cols[0].data)[k];
                if (first < 0) {
                    first = id;
                }
                assert_int_equal(id, first + in_file); /* whole, in order */
                assert_true(id >= 0 && (size_t)id < cap);
                assert_int_equal(seen_ids[id], 0); /* never twice */
                seen_ids[id] = 1;
                in_file++;
                rows++;
            }
        }
        assert_int_equal(in_file, 10);
        lh_ice_read_close(r);
    }
    /* One file a snapshot: the rows say how many commits survived. */
    assert_int_equal(rows, *snapshots * 10);
    free(seen_ids);
    lh_arena_release(&a);
    lh_ice_table_close(t);
    return rows;
}

static void
test_kill_during_commits(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx, false);
    lh_ice_table *t = create(&fx, 2);
    lh_ice_table_close(t);
    srand((unsigned)time(NULL));
    int64_t last_snapshots = 0;
    for (int i = 0; i < KILLS; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            writer(&fx, (int64_t)i * 100000);
        }
        /* Between 2 and 80 ms in: mid-file, mid-manifest, mid-publish. */
        usleep((useconds_t)(2000 + rand() % 78000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        int64_t snapshots;
        check_table(&fx, &snapshots);
        assert_true(snapshots >= last_snapshots); /* nothing lost */
        last_snapshots = snapshots;
    }
    printf("%d kills, %lld commits survived\n", KILLS,
           (long long)last_snapshots);
    assert_true(last_snapshots > 0);
    fx_release(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_commits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
