/* Logging to stderr, one line per call, level from LH_LOG. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/util.h"

int lh__log_level = LH_LOG_WARN;

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void write_line(lh_log_level level, const char *fmt, ...)
    LH_PRINTF(2, 3);

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void
read_env(void)
{
    const char *v = getenv("LH_LOG");
    if (v == NULL || v[0] == '\0') {
        return;
    }
    for (size_t i = 0; i < LH_ARRAY_LEN(level_names); i++) {
        if (strcasecmp(v, level_names[i]) == 0) {
            __atomic_store_n(&lh__log_level, (int)i, __ATOMIC_RELAXED);
            return;
        }
    }
    /* Logging is how we would report it; say it once and keep warn. Not
     * through lh_log_write: that would enter pthread_once again. */
    write_line(LH_LOG_WARN,
               "invalid LH_LOG \"%.64s\": expected error, warn, info or "
               "debug",
               v);
}

void
lh_log_init(void)
{
    pthread_once(&log_once, read_env);
}

/* A line is written with one write(2) so lines from threads do not mix. */
static void
write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w <= 0) {
            return; /* nowhere left to report it */
        }
        p += w;
        n -= (size_t)w;
    }
}

static void
vwrite_line(lh_log_level level, const char *fmt, va_list ap)
{
    const char *name = (unsigned)level < LH_ARRAY_LEN(level_names)
                           ? level_names[level]
                           : "debug";
    char line[1024];
    int head = snprintf(line, sizeof(line), "lakehouse: %s: ", name);
    if (head < 0 || (size_t)head >= sizeof(line)) {
        return;
    }
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(line + head, sizeof(line) - (size_t)head, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        return;
    }
    size_t total = (size_t)head + (size_t)n;
    char *big = NULL;
    if (total + 1 >= sizeof(line)) {
        big = lh_malloc(total + 2);
        if (big != NULL) {
            memcpy(big, line, (size_t)head);
            vsnprintf(big + head, (size_t)n + 1, fmt, ap);
        } else {
            total = sizeof(line) - 2; /* out of memory: the line, cut */
        }
    }
    char *out = big != NULL ? big : line;
    out[total] = '\n';
    write_all(out, total + 1);
    lh_free(big);
}

static void
write_line(lh_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwrite_line(level, fmt, ap);
    va_end(ap);
}

void
lh_log_write(lh_log_level level, const char *fmt, ...)
{
    lh_log_init();
    if ((int)level > __atomic_load_n(&lh__log_level, __ATOMIC_RELAXED)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vwrite_line(level, fmt, ap);
    va_end(ap);
}
