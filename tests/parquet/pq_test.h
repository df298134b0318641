/*
 * Helpers for the Parquet tests: where the shared fixtures are, and
 * reading a whole file.
 */
#ifndef LH_TESTS_PQ_TEST_H
#define LH_TESTS_PQ_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char pq_fixtures[4096];

/* ${LH_SHARED_DIR:-<source dir>/../shared}/fixtures/parquet into
 * pq_fixtures; false when it is not there (a user's clone). */
static inline bool
pq_find_fixtures(void)
{
    const char *shared = getenv("LH_SHARED_DIR");
    char dir[3900];
    if (shared != NULL && shared[0] != '\0') {
        snprintf(dir, sizeof(dir), "%s", shared);
    } else {
        /* __FILE__ is <source dir>/tests/parquet/pq_test.h. */
        snprintf(dir, sizeof(dir), "%s", __FILE__);
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(dir, '/');
            if (slash == NULL) {
                snprintf(dir, sizeof(dir), ".");
                break;
            }
            *slash = '\0';
        }
        strncat(dir, "/../shared", sizeof(dir) - strlen(dir) - 1);
    }
    snprintf(pq_fixtures, sizeof(pq_fixtures), "%s/fixtures/parquet", dir);
    struct stat st;
    return stat(pq_fixtures, &st) == 0 && S_ISDIR(st.st_mode);
}

#define PQ_NEED_FIXTURES()                                                     \
    do {                                                                       \
        if (!pq_find_fixtures()) {                                             \
            printf("skipped: no parquet fixtures at \"%s\" (set "              \
                   "LH_SHARED_DIR)\n",                                         \
                   pq_fixtures);                                               \
            skip();                                                            \
        }                                                                      \
    } while (0)

/* The whole file, malloc'ed (caller frees), or NULL. */
static inline uint8_t *
pq_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        if (got == 0) {
            break;
        }
        n += got;
    }
    fclose(fp);
    *len = n;
    return buf;
}

#endif
