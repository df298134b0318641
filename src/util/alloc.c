/* The allocator: malloc behind a counter that tests can make fail. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* 0 = injection off; else the sequence number (1-based, counted from the
 * last lh_alloc_fail_at) of the allocation that fails. */
static _Atomic uint64_t fail_at;
static _Atomic uint64_t seq;
static _Atomic bool fail_sticky;

static bool
should_fail(void)
{
    uint64_t at = atomic_load_explicit(&fail_at, memory_order_acquire);
    if (at == 0) {
        return false;
    }
    uint64_t k = atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed) + 1;
    if (k == at) {
        return true;
    }
    return k > at && atomic_load_explicit(&fail_sticky, memory_order_relaxed);
}

void
lh_alloc_fail_at(uint64_t n, bool sticky)
{
    atomic_store_explicit(&fail_at, 0, memory_order_release);
    atomic_store_explicit(&seq, 0, memory_order_relaxed);
    atomic_store_explicit(&fail_sticky, sticky, memory_order_relaxed);
    atomic_store_explicit(&fail_at, n, memory_order_release);
}

void *
lh_malloc(size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(n ? n : 1);
}

void *
lh_calloc(size_t count, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        return NULL;
    }
    return calloc(total ? total : 1, 1);
}

void *
lh_realloc(void *p, size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    /* realloc(p, 0) may free p and return NULL, which would read as a
     * failure that left p alive; keep a 1-byte block instead. */
    return realloc(p, n ? n : 1);
}

static char *
copy_str(const char *s, size_t len)
{
    char *d = lh_malloc(len + 1);
    if (d == NULL) {
        return NULL;
    }
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *
lh_strndup(const char *s, size_t n)
{
    return copy_str(s, strnlen(s, n));
}

char *
lh_strdup(const char *s)
{
    return copy_str(s, strlen(s));
}

void
lh_free(void *p)
{
    free(p);
}
