/*
 * replay_main.c: the main() a fuzz target links when libFuzzer is not there
 * (the dev and asan builds). It runs LLVMFuzzerTestOneInput once on every
 * file named on the command line and on every regular file of every
 * directory named (not recursing, in name order so runs repeat), then
 * prints how many inputs ran. A crash or a failed property aborts inside the
 * target, as under libFuzzer; a path that cannot be read is an error
 * (exit 1), so a misconfigured test does not pass by running nothing.
 *
 *   fuzz_time tests/fuzz/corpus/fuzz_time
 *   fuzz_time crash-1234 other-input
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs bigger than this are not seeds; refusing them keeps a stray file
 * (a core dump in the corpus directory) from eating the test's memory. */
#define REPLAY_MAX_INPUT ((size_t)64 << 20)

static int
read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: could not open \"%s\": %s\n", path,
                strerror(errno));
        return -1;
    }
    size_t cap = 4096;
    size_t n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= REPLAY_MAX_INPUT) {
            break;
        }
        uint8_t *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = buf == NULL || ferror(f) || (n == cap && cap >= REPLAY_MAX_INPUT);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: could not read \"%s\" (over %zu bytes?)\n",
                path, REPLAY_MAX_INPUT);
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int
run_file(const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (read_file(path, &data, &len) != 0) {
        return -1;
    }
    /* An exact-size copy, so ASan sees a read past the input as libFuzzer
     * would. */
    uint8_t *exact = malloc(len > 0 ? len : 1);
    if (exact == NULL) {
        free(data);
        return -1;
    }
    memcpy(exact, data, len);
    free(data);
    /* Named first, so a crash's report follows the input that caused it. */
    fprintf(stderr, "replay: %s\n", path);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir; returns how many, or -1. */
static long
run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "replay: could not open directory \"%s\": %s\n", dir,
                strerror(errno));
        return -1;
    }
    char **paths = NULL;
    size_t n = 0;
    size_t cap = 0;
    long rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        size_t len = strlen(dir) + 1 + strlen(e->d_name) + 1;
        char *p = malloc(len);
        if (p == NULL) {
            rc = -1;
            break;
        }
        snprintf(p, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(p);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **bigger = realloc(paths, cap * sizeof(*paths));
            if (bigger == NULL) {
                free(p);
                rc = -1;
                break;
            }
            paths = bigger;
        }
        paths[n++] = p;
    }
    closedir(d);
    if (n > 0) {
        qsort(paths, n, sizeof(*paths), by_name);
    }
    for (size_t i = 0; i < n; i++) {
        if (rc >= 0) {
            rc = run_file(paths[i]) == 0 ? rc + 1 : -1;
        }
        free(paths[i]);
    }
    free(paths);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: no such file or directory \"%s\"\n",
                    argv[i]);
            return 1;
        }
        long n = S_ISDIR(st.st_mode) ? run_dir(argv[i])
                                     : (run_file(argv[i]) == 0 ? 1 : -1);
        if (n < 0) {
            return 1;
        }
        total += n;
    }
    printf("%s: ran %ld inputs\n", argv[0], total);
    return 0;
}
