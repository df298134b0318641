/*
 * The MRL-like generator: deterministic whatever the thread count, variance
 * decaying along the dimensions (prefixes find most true neighbours), and
 * the ground truth cache: reused when intact, recomputed when damaged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vector/vector_int.h"

static void
test_deterministic_across_threads(void **state)
{
    (void)state;
    lh_mrl_spec s;
    lh_mrl_spec_default(&s, 3000, 50, 96);
    lh_mrl_data a, b;
    assert_int_equal(lh_mrl_generate(&s, &a, NULL), LH_OK);
    s.threads = 3;
    assert_int_equal(lh_mrl_generate(&s, &b, NULL), LH_OK);
    assert_memory_equal(a.base, b.base, 3000 * 96 * sizeof(float));
    assert_memory_equal(a.queries, b.queries, 50 * 96 * sizeof(float));
    lh_mrl_data_release(&b);
    s.seed = 43;
    assert_int_equal(lh_mrl_generate(&s, &b, NULL), LH_OK);
    assert_true(memcmp(a.base, b.base, 96 * sizeof(float)) != 0);
    lh_mrl_data_release(&a);
    lh_mrl_data_release(&b);
    s.clusters = 0;
    lh_err err;
    assert_int_equal(lh_mrl_generate(&s, &a, &err), LH_EINVAL);
}

static void
test_variance_decays_and_prefix_recall(void **state)
{
    (void)state;
    lh_mrl_spec s;
    lh_mrl_spec_default(&s, 4000, 40, 256);
    s.threads = 2;
    lh_mrl_data d;
    assert_int_equal(lh_mrl_generate(&s, &d, NULL), LH_OK);
    double v_head = 0, v_tail = 0;
    for (size_t i = 0; i < s.n; i++) {
        for (size_t j = 0; j < 16; j++) {
            v_head += (double)d.base[i * 256 + j] * d.base[i * 256 + j];
            v_tail +=
                (double)d.base[i * 256 + 240 + j] * d.base[i * 256 + 240 + j];
        }
    }
    assert_true(v_head > 20 * v_tail);
    /* the 64-d prefix finds most of the full-dimension top 10 among its
     * own top 50: what the cold tier's re-rank relies on */
    int64_t full[40 * 10], pre[40 * 50];
    assert_int_equal(
        lh_mrl_ground_truth(&d, LH_VEC_L2, 10, 0, 2, NULL, full, NULL), LH_OK);
    assert_int_equal(
        lh_mrl_ground_truth(&d, LH_VEC_L2, 50, 64, 2, NULL, pre, NULL), LH_OK);
    double r = lh_vec_recall(pre, 50, full, 10, 40, 10);
    print_message("64-d prefix top-50 holds %.3f of the full top-10\n", r);
    assert_true(r > 0.8);
    /* ground truth is ordered and exact: check query 0 by hand */
    float best = lh_vec_l2sq(d.queries, d.base + full[0] * 256, 256);
    for (size_t i = 0; i < s.n; i++) {
        assert_true(lh_vec_l2sq(d.queries, d.base + i * 256, 256) >= best);
    }
    lh_mrl_data_release(&d);
}

static void
test_ground_truth_cache(void **state)
{
    (void)state;
    char dir[] = "/tmp/lh-vec-gt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cache[64];
    snprintf(cache, sizeof(cache), "%s/cache", dir);
    lh_mrl_spec s;
    lh_mrl_spec_default(&s, 2000, 30, 48);
    s.normalize = true;
    lh_mrl_data d;
    assert_int_equal(lh_mrl_generate(&s, &d, NULL), LH_OK);
    int64_t a[30 * 10], b[30 * 10], c[30 * 10];
    assert_int_equal(
        lh_mrl_ground_truth(&d, LH_VEC_COS, 10, 0, 1, cache, a, NULL), LH_OK);
    /* one file now; reading it gives the same answer */
    DIR *dd = opendir(cache);
    assert_non_null(dd);
    struct dirent *e;
    char file[512] = "";
    int files = 0;
    while ((e = readdir(dd)) != NULL) {
        if (e->d_name[0] != '.') {
            snprintf(file, sizeof(file), "%s/%s", cache, e->d_name);
            files++;
        }
    }
    closedir(dd);
    assert_int_equal(files, 1);
    memset(b, 0, sizeof(b));
    assert_int_equal(
        lh_mrl_ground_truth(&d, LH_VEC_COS, 10, 0, 1, cache, b, NULL), LH_OK);
    assert_memory_equal(a, b, sizeof(a));
    /* damage the cached answer: the CRC catches it and it is recomputed */
    FILE *f = fopen(file, "r+b");
    assert_non_null(f);
    fseek(f, 40, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    memset(c, 0, sizeof(c));
    assert_int_equal(
        lh_mrl_ground_truth(&d, LH_VEC_COS, 10, 0, 2, cache, c, NULL), LH_OK);
    assert_memory_equal(a, c, sizeof(a));
    /* another metric is another file */
    assert_int_equal(
        lh_mrl_ground_truth(&d, LH_VEC_IP, 10, 0, 1, cache, c, NULL), LH_OK);
    /* normalized data: IP and cosine rank alike */
    assert_true(lh_vec_recall(c, 10, a, 10, 30, 10) > 0.99);
    unlink(file);
    dd = opendir(cache);
    while ((e = readdir(dd)) != NULL) {
        if (e->d_name[0] != '.') {
            snprintf(file, sizeof(file), "%s/%s", cache, e->d_name);
            unlink(file);
        }
    }
    closedir(dd);
    rmdir(cache);
    rmdir(dir);
    lh_mrl_data_release(&d);
}

static void
test_recall(void **state)
{
    (void)state;
    int64_t gt[2 * 3] = {1, 2, 3, 4, 5, 6};
    int64_t found[2 * 4] = {3, 9, 1, -1, 6, 5, 4, 7};
    assert_true(lh_vec_recall(found, 4, gt, 3, 2, 3) == 5.0 / 6.0);
    assert_true(lh_vec_recall(found, 4, gt, 3, 2, 1) == 0.0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_variance_decays_and_prefix_recall),
        cmocka_unit_test(test_ground_truth_cache),
        cmocka_unit_test(test_recall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
