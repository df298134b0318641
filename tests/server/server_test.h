/* Shared helpers for the server tests: scratch data directories and
 * plain TCP clients of a server in the test process. */
#ifndef LH_SERVER_TEST_H
#define LH_SERVER_TEST_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/util.h"

/* Scratch data directories: the hot tier tests' (ht_tmpdir, ht_rmdir). */
#include "../hot/hot_test.h"
#define st_tmpdir ht_tmpdir
#define st_rmdir ht_rmdir

/* A connection to 127.0.0.1:port, or -1 when refused. */
static inline int
st_dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline void
st_send(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

/* The whole file (lh_malloc'd, NUL-terminated); fails the test when it
 * cannot be read. */
static inline char *
st_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("could not open %s: %s", path, strerror(errno));
    }
    lh_buf b = LH_BUF_INIT;
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
        lh_buf_append(&b, tmp, n);
    }
    fclose(f);
    lh_buf_putc(&b, 0);
    return lh_buf_take(&b, NULL);
}

static inline int
st_by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs fn once per tests/proto/<kind>/NAME.case (in name order; only the
 * names containing filter, when it is not NULL) as a cmocka group, each
 * with the case's path as its state. */
static inline int
st_run_cases(const char *file, const char *kind, const char *filter,
             void (*fn)(void **))
{
    /* file is __FILE__ of a test: <root>/tests/server/x.c */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", file);
    for (int i = 0; i < 3; i++) {
        char *s = strrchr(dir, '/');
        if (s != NULL) {
            *s = 0;
        }
    }
    size_t dl = strlen(dir);
    snprintf(dir + dl, sizeof(dir) - dl, "/tests/proto/%s", kind);
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "no case files in %s\n", dir);
        return 1;
    }
    char *paths[512];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 512) {
        size_t l = strlen(de->d_name);
        if (l > 5 && strcmp(de->d_name + l - 5, ".case") == 0 &&
            (filter == NULL || strstr(de->d_name, filter) != NULL)) {
            paths[n] = malloc(strlen(dir) + l + 2);
            sprintf(paths[n], "%s/%s", dir, de->d_name);
            n++;
        }
    }
    closedir(d);
    qsort(paths, (size_t)n, sizeof(char *), st_by_name);
    struct CMUnitTest *tests = calloc((size_t)(n ? n : 1), sizeof(*tests));
    for (int i = 0; i < n; i++) {
        tests[i].name = strrchr(paths[i], '/') + 1;
        tests[i].test_func = fn;
        tests[i].initial_state = paths[i];
    }
    char group[64];
    snprintf(group, sizeof(group), "proto/%s", kind);
    int r = _cmocka_run_group_tests(group, tests, (size_t)n, NULL, NULL);
    for (int i = 0; i < n; i++) {
        free(paths[i]);
    }
    free(tests);
    return r;
}

#endif
