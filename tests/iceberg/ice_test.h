/*
 * Helpers for the Iceberg tests: where the shared fixtures are and reading
 * a whole file (pq_read_file).
 */
#ifndef LH_TESTS_ICE_TEST_H
#define LH_TESTS_ICE_TEST_H

#include "../parquet/pq_test.h"

static char ice_fixtures[4096];
static char ice_root_dir[3800];

/* The source tree's root: __FILE__ is <root>/tests/iceberg/ice_test.h. */
static inline const char *
ice_root(void)
{
    snprintf(ice_root_dir, sizeof(ice_root_dir), "%s", __FILE__);
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(ice_root_dir, '/');
        if (slash == NULL) {
            snprintf(ice_root_dir, sizeof(ice_root_dir), ".");
            break;
        }
        *slash = '\0';
    }
    return ice_root_dir;
}

/* ${LH_SHARED_DIR:-<source dir>/../shared}/fixtures/iceberg into
 * ice_fixtures; false when it is not there (a user's clone). */
static inline bool
ice_find_fixtures(void)
{
    const char *shared = getenv("LH_SHARED_DIR");
    char dir[3900];
    if (shared != NULL && shared[0] != '\0') {
        snprintf(dir, sizeof(dir), "%s", shared);
    } else {
        /* From this header's own path: pq_test.h's finder would see the
         * "../parquet" of the include. */
        snprintf(dir, sizeof(dir), "%s/../shared", ice_root());
    }
    snprintf(ice_fixtures, sizeof(ice_fixtures), "%s/fixtures/iceberg", dir);
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
