/*
 * Helpers for the Iceberg tests: where the shared fixtures are (beside the
 * Parquet ones, found the same way) and reading a whole file.
 */
#ifndef LH_TESTS_ICE_TEST_H
#define LH_TESTS_ICE_TEST_H

#include "../parquet/pq_test.h"

static char ice_fixtures[4096];

/* ${LH_SHARED_DIR:-<source dir>/../shared}/fixtures/iceberg into
 * ice_fixtures; false when it is not there (a user's clone). */
static inline bool
ice_find_fixtures(void)
{
    (void)pq_find_fixtures();
    snprintf(ice_fixtures, sizeof(ice_fixtures), "%s", pq_fixtures);
    char *slash = strrchr(ice_fixtures, '/');
    if (slash != NULL) {
        snprintf(slash, sizeof(ice_fixtures) - (size_t)(slash - ice_fixtures),
                 "/iceberg");
    }
    struct stat st;
    return stat(ice_fixtures, &st) == 0 && S_ISDIR(st.st_mode);
}

#define ICE_NEED_FIXTURES()                                                    \
    do {                                                                       \
        if (!ice_find_fixtures()) {                                            \
            printf("skipped: no iceberg fixtures at \"%s\" (set "              \
                   "LH_SHARED_DIR)\n",                                         \
                   ice_fixtures);                                              \
            skip();                                                            \
        }                                                                      \
    } while (0)

/* A fixture's bytes (ice_fixtures/rel), malloc'ed with a NUL after them
 * (caller frees), or NULL. */
static inline uint8_t *
ice_fixture(const char *rel, size_t *len)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", ice_fixtures, rel);
    uint8_t *p = pq_read_file(path, len);
    uint8_t *q = p ? realloc(p, *len + 1) : NULL;
    if (q == NULL) {
        free(p);
        return NULL;
    }
    q[*len] = 0;
    return q;
}

#endif
