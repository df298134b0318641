/* Unit tests: logging. */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

/* stderr goes to a temporary file between capture_start and capture_end. */
static int saved_stderr = -1;
static char cap_path[64];

static void
capture_start(void)
{
    snprintf(cap_path, sizeof(cap_path), "/tmp/lh_test_log_XXXXXX");
    int fd = mkstemp(cap_path);
    assert_true(fd >= 0);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
}

/* Returns what was written (caller frees). */
static char *
capture_end(size_t *len)
{
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    FILE *f = fopen(cap_path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    unlink(cap_path);
    if (len != NULL) {
        *len = got;
    }
    return s;
}

/* Runs first, before anything reads LH_LOG in this process: a child with a
 * bad LH_LOG keeps warn and says so. */
static void
test_invalid_env_in_child(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("LH_LOG", "loud", 1);
        capture_start();
        lh_log_init();
        size_t len;
        char *out = capture_end(&len);
        int ok = lh__log_level == LH_LOG_WARN &&
                 strcmp(out, "lakehouse: warn: invalid LH_LOG \"loud\": "
                             "expected error, warn, info or debug\n") == 0;
        if (!ok) {
            fprintf(stderr, "child saw level %d, output \"%s\"\n",
                    lh__log_level, out);
        }
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_env_level(void **state)
{
    (void)state;
    /* main() set LH_LOG=INFO (case does not matter). */
    lh_log_init();
    lh_log_init();
    assert_int_equal(lh__log_level, LH_LOG_INFO);
}

static int evaluated;

static int
side_effect(void)
{
    evaluated++;
    return 42;
}

static void
test_lines_and_filtering(void **state)
{
    (void)state;
    lh_log_init();
    evaluated = 0;
    capture_start();
    lh_log(LH_LOG_ERROR, "disk \"%s\" full", "/d");
    lh_log(LH_LOG_WARN, "w %d", side_effect());
    lh_log(LH_LOG_INFO, "i");
    lh_log(LH_LOG_DEBUG, "d %d", side_effect()); /* below the level */
    char *out = capture_end(NULL);
    assert_string_equal(out, "lakehouse: error: disk \"/d\" full\n"
                             "lakehouse: warn: w 42\n"
                             "lakehouse: info: i\n");
    assert_int_equal(evaluated, 1); /* debug's arguments never ran */
    free(out);

    int saved = lh__log_level;
    lh__log_level = LH_LOG_ERROR;
    capture_start();
    lh_log(LH_LOG_WARN, "hidden");
    lh_log_write(LH_LOG_WARN, "hidden too"); /* checks the level itself */
    lh_log(LH_LOG_ERROR, "shown");
    out = capture_end(NULL);
    assert_string_equal(out, "lakehouse: error: shown\n");
    free(out);
    lh__log_level = saved;
}

static void
test_long_line(void **state)
{
    (void)state;
    size_t n = 10000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'm', n);
    big[n] = '\0';
    capture_start();
    lh_log(LH_LOG_ERROR, "%s", big);
    size_t len;
    char *out = capture_end(&len);
    const char *head = "lakehouse: error: ";
    assert_int_equal(len, strlen(head) + n + 1);
    assert_memory_equal(out, head, strlen(head));
    assert_int_equal(out[len - 1], '\n');
    assert_int_equal(out[len - 2], 'm');
    free(out);
    free(big);
}

#define NTHREADS 8
#define LINES 200

static void *
log_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    lh_log_init();
    for (int i = 0; i < LINES; i++) {
        lh_log(LH_LOG_WARN, "thread %d line %d %s", id, i,
               "padding-padding-padding-padding");
    }
    return NULL;
}

static void
test_threads_lines_do_not_mix(void **state)
{
    (void)state;
    capture_start();
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(
            pthread_create(&th[i], NULL, log_worker, (void *)(intptr_t)i), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
    }
    char *out = capture_end(NULL);
    int lines = 0;
    char *save = NULL;
    for (char *l = strtok_r(out, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        int id, i;
        char pad[64];
        assert_int_equal(
            sscanf(l, "lakehouse: warn: thread %d line %d %63s", &id, &i, pad),
            3);
        assert_string_equal(pad, "padding-padding-padding-padding");
        lines++;
    }
    assert_int_equal(lines, NTHREADS * LINES);
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_env_in_child),
        cmocka_unit_test(test_env_level),
        cmocka_unit_test(test_lines_and_filtering),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_threads_lines_do_not_mix),
    };
    setenv("LH_LOG", "INFO", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
