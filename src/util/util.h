/*
 * util: the pieces every module stands on. Errors (lh_rc is public, in
 * lakehouse.h), the allocator with fault injection, arenas with a byte
 * budget, the growable buffer, a hash map, logging, the one clock, UUIDs
 * and CRC32C.
 *
 * Thread rules: everything here is safe to call from any thread on distinct
 * objects; one object (arena, buffer, map) is used by one thread at a time.
 * The clock, the logger and the allocator are safe to share.
 */
#ifndef LH_UTIL_H
#define LH_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lakehouse.h"

#define LH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LH_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LH_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Little-endian 32-bit loads and stores at any alignment (file formats). */
static inline uint32_t
lh_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static inline void
lh_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Defensive checks after SQLite: true in release builds, assert in debug.
 * if (NEVER(x == NULL)) return LH_EINTERNAL; */
#ifdef NDEBUG
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#else
#include <assert.h>
#define ALWAYS(x) ((x) ? 1 : (assert(0), 0))
#define NEVER(x) ((x) ? (assert(0), 1) : 0)
#endif

#if defined(__GNUC__)
#define LH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LH_PRINTF(f, a)
#endif

/* ---- errors ------------------------------------------------------------ */

/* Sets err (if not NULL) to code with a formatted message (cut to fit
 * msg); clears the other fields: sys_errno and http_status 0, offset, index
 * and current_version -1, field "". Returns code so callers can
 * `return lh_err_set(...)`. */
lh_rc lh_err_set(lh_err *err, lh_rc code, const char *fmt, ...) LH_PRINTF(3, 4);
lh_rc lh_err_setv(lh_err *err, lh_rc code, const char *fmt, va_list ap);
/* As lh_err_set, and records errno (sys_errno) and appends ": strerror". */
lh_rc lh_err_sys(lh_err *err, lh_rc code, int errnum, const char *fmt, ...)
    LH_PRINTF(4, 5);
/* Prepends "prefix: " to err's message (context from an outer layer); the
 * other fields stay. */
void lh_err_prefix(lh_err *err, const char *fmt, ...) LH_PRINTF(2, 3);
void lh_err_clear(lh_err *err);

/* ---- allocation -------------------------------------------------------- */

/* All heap use goes through these, so tests can fail the Nth allocation.
 * They return NULL on failure (never abort); a size of 0 still gives a live
 * block, so NULL always means out of memory. lh_realloc leaves p alive when
 * it fails. lh_strndup copies at most n bytes, stopping at a NUL.
 * lh_free(NULL) is a no-op. */
void *lh_malloc(size_t n);
void *lh_calloc(size_t count, size_t size);
void *lh_realloc(void *p, size_t n);
char *lh_strdup(const char *s);
char *lh_strndup(const char *s, size_t n);
void lh_free(void *p);
/* Test hook: the Nth allocation from now (1 = the next) fails, and every
 * one after it while `sticky`; n = 0 turns injection off. Counts the
 * allocations of all threads. */
void lh_alloc_fail_at(uint64_t n, bool sticky);

/* ---- arena -------------------------------------------------------------- */

/* A bump allocator for one lifetime (request, query, batch). Memory comes in
 * blocks from lh_malloc; `budget` bytes (0 = unlimited) caps what the arena
 * may hold, which is how a query's memory limit is enforced: past it,
 * lh_arena_alloc returns NULL and the caller returns LH_ENOMEM. */
typedef struct lh_arena_block lh_arena_block;
typedef struct lh_arena {
    lh_arena_block *head;
    size_t used;   /* bytes handed out since init/reset */
    size_t held;   /* bytes of blocks held (what counts against budget) */
    size_t budget; /* 0 = unlimited */
} lh_arena;

void lh_arena_init(lh_arena *a, size_t budget);
/* Memory aligned to 16 bytes; NULL when out of memory or past budget.
 * n = 0 gives a distinct non-NULL pointer. Large requests get a block of
 * their own. */
void *lh_arena_alloc(lh_arena *a, size_t n);
void *lh_arena_calloc(lh_arena *a, size_t n);
char *lh_arena_strndup(lh_arena *a, const char *s, size_t n);
char *lh_arena_strdup(lh_arena *a, const char *s);
void *lh_arena_memdup(lh_arena *a, const void *p, size_t n);
/* Frees everything but keeps the first block for reuse (the first normal
 * block: one that held only a large request is freed). */
void lh_arena_reset(lh_arena *a);
void lh_arena_release(lh_arena *a);

/* ---- growable buffer ---------------------------------------------------- */

/* A byte buffer that is always NUL-terminated (data[len] == 0) once it holds
 * anything. Out of memory is sticky: the failing append and every later one
 * do nothing and return LH_ENOMEM, and `oom` stays set, so a long run of
 * appends can be checked once at the end with lh_buf_ok(). */
typedef struct lh_buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    bool oom;
} lh_buf;

#define LH_BUF_INIT                                                            \
    {                                                                          \
        NULL, 0, 0, false                                                      \
    }

void lh_buf_init(lh_buf *b);
lh_rc lh_buf_reserve(lh_buf *b, size_t extra);
lh_rc lh_buf_append(lh_buf *b, const void *p, size_t n);
lh_rc lh_buf_puts(lh_buf *b, const char *s);
lh_rc lh_buf_putc(lh_buf *b, char c);
lh_rc lh_buf_printf(lh_buf *b, const char *fmt, ...) LH_PRINTF(2, 3);
lh_rc lh_buf_vprintf(lh_buf *b, const char *fmt, va_list ap);
static inline bool
lh_buf_ok(const lh_buf *b)
{
    return !b->oom;
}
/* Empties the buffer, keeps its capacity. Keeps `oom` too, so a run that
 * flushes and resets midway still fails lh_buf_ok() at the end; only
 * lh_buf_release, lh_buf_take and lh_buf_init clear it. */
void lh_buf_reset(lh_buf *b);
/* Returns the data (caller frees with lh_free; never NULL: an empty buffer
 * gives an empty string, or NULL only on OOM) and leaves b empty. */
char *lh_buf_take(lh_buf *b, size_t *len);
void lh_buf_release(lh_buf *b);

/* ---- hash map ------------------------------------------------------------ */

/* Byte-string keys (copied into the map) to void * values (not owned).
 * Open addressing with linear probing, grows at 70% load. */
typedef struct lh_map_slot lh_map_slot;
typedef struct lh_map {
    lh_map_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t count;
    size_t tombs;
} lh_map;

void lh_map_init(lh_map *m);
/* Returns the value, or NULL when the key is absent. */
void *lh_map_get(const lh_map *m, const void *key, size_t klen);
bool lh_map_has(const lh_map *m, const void *key, size_t klen);
/* Inserts or replaces. If old is not NULL it receives the replaced value
 * (NULL when the key was new). LH_ENOMEM on allocation failure, map
 * unchanged. */
lh_rc lh_map_put(lh_map *m, const void *key, size_t klen, void *val,
                 void **old);
/* Removes the key; returns its value or NULL. */
void *lh_map_del(lh_map *m, const void *key, size_t klen);
/* Iteration: start with *it = 0; returns false when done. Keys and values
 * are borrowed; do not insert while iterating (deleting the current key is
 * allowed). */
bool lh_map_next(const lh_map *m, size_t *it, const void **key, size_t *klen,
                 void **val);
void lh_map_release(lh_map *m);

/* 64-bit hash used by the map (XXH3). */
uint64_t lh_hash64(const void *p, size_t n);

/* ---- logging ------------------------------------------------------------- */

typedef enum lh_log_level {
    LH_LOG_ERROR = 0,
    LH_LOG_WARN = 1,
    LH_LOG_INFO = 2,
    LH_LOG_DEBUG = 3,
} lh_log_level;

/* The level comes from LH_LOG (error|warn|info|debug; default warn). Lines
 * go to stderr as "lakehouse: level: message". The macro checks the level
 * before evaluating arguments (nginx's habit). */
extern int lh__log_level;
void lh_log_init(void);
void lh_log_write(lh_log_level level, const char *fmt, ...) LH_PRINTF(2, 3);
#define lh_log(level, ...)                                                     \
    do {                                                                       \
        if ((int)(level) <= lh__log_level) {                                   \
            lh_log_write((level), __VA_ARGS__);                                \
        }                                                                      \
    } while (0)

/* ---- time ---------------------------------------------------------------- */

/* Microseconds since 1970-01-01T00:00:00Z. */
typedef int64_t lh_us;

#define LH_US_PER_SEC INT64_C(1000000)
#define LH_US_PER_DAY (INT64_C(86400) * LH_US_PER_SEC)

/* "Now" for everything the product means by now (event ts, committed_at,
 * windows, TTLs, SQL now()): frozen at LH_NOW when that variable is set
 * (read once, at the first call; a malformed LH_NOW is reported by
 * lh_time_check_env). */
lh_us lh_now(void);
/* The real wall clock, for protocol timestamps (S3 signing, HTTP Date). */
lh_us lh_real_now(void);
/* Monotonic clock for measuring durations. */
lh_us lh_mono_now(void);
/* LH_OK, or LH_EINVAL naming LH_NOW's bad value. */
lh_rc lh_time_check_env(lh_err *err);
/* Test hook: with frozen, lh_now() returns `at` (0 is the epoch, not "off");
 * frozen = false goes back to LH_NOW / the real clock. */
void lh_time_set_frozen(lh_us at, bool frozen);

/* Parses ISO-8601 / RFC 3339 and PostgreSQL's text form:
 * "2026-01-01", "2026-01-01T00:00:00Z", "2026-01-01 00:00:00.123456",
 * "2026-01-01T02:00:00+02:00", "...+0200", "...+02". No zone = UTC.
 * "2026-01-01T10:30Z" (no seconds), lowercase t/z, a ',' for the '.'.
 * Years 0001-9999; hour 00-23, second 00-59 (no 24:00, no leap second);
 * zone offsets up to 23:59. Fractions beyond µs are truncated. Nothing may
 * follow (no spaces). LH_EINVAL with the text quoted and the reason:
 * `invalid timestamp "2026-02-30": day out of range`. */
lh_rc lh_time_parse(const char *s, size_t len, lh_us *out, lh_err *err);
/* "2026-01-01T00:00:00Z" or "2026-01-01T00:00:00.123456Z" (fraction only
 * when non-zero, trailing zeros dropped). Years outside 0000-9999 carry a
 * sign ("+10000-01-01T00:00:00Z"), as ISO 8601's expanded form; any int64
 * fits. buf needs 32 bytes. Returns len. */
size_t lh_time_format_iso(lh_us t, char *buf);
/* Days since 1970-01-01 of a civil date and back (proleptic Gregorian). */
int64_t lh_days_from_civil(int64_t y, unsigned m, unsigned d);
void lh_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Parses a duration: "72h", "90d", "30m", "15s", "500ms", "1w", "1d12h", or
 * an integer number of seconds. Units combine from largest to smallest, each
 * once (w d h m s ms); whole numbers only. LH_EINVAL naming the text when
 * empty, negative, malformed or past INT64_MAX µs. */
lh_rc lh_duration_parse(const char *s, lh_us *out, lh_err *err);
/* Parses a byte size: a whole number of bytes, or one with a unit k, m, g
 * or t (powers of 1024), each optionally followed by "b" or "ib", in
 * either case: "1048576", "64k", "64MiB", "1g". False when malformed,
 * negative or past INT64_MAX. */
bool lh_size_parse(const char *s, int64_t *out);

/* ---- UUID ------------------------------------------------------------------
 */

typedef struct lh_uuid {
    uint8_t b[16];
} lh_uuid;

#define LH_UUID_STRLEN 36

/* Random (v4) and time-ordered (v7, RFC 9562: the 48-bit Unix ms given,
 * then a 74-bit counter that starts at random bits). Within one process,
 * each v7 id for the newest ms seen so far is greater than all ids before
 * it, even within one ms, so ids made from the clock sort in the order they
 * were made, across threads. An older ms (the clock stepped back, an
 * explicit past time) keeps its own ms and counts up while repeated; ids for
 * two older ms values made interleaved are random within each ms.
 * unix_ms outside [0, 2^48) is LH_EINVAL. Randomness from getrandom();
 * LH_EIO only if the kernel refuses. */
lh_rc lh_uuid_v4(lh_uuid *out, lh_err *err);
lh_rc lh_uuid_v7(lh_uuid *out, int64_t unix_ms, lh_err *err);
/* Accepts 8-4-4-4-12 hex in either case, with or without braces; and 32 hex
 * digits without dashes (and without braces). Exactly len bytes, nothing
 * around them. LH_EINVAL with the text quoted. */
lh_rc lh_uuid_parse(const char *s, size_t len, lh_uuid *out, lh_err *err);
/* Lowercase 8-4-4-4-12; buf needs 37 bytes. */
void lh_uuid_format(const lh_uuid *u, char *buf);
bool lh_uuid_is_nil(const lh_uuid *u);

/* ---- CRC32C
 * ------------------------------------------------------------------ */

/* CRC-32C (Castagnoli, as in iSCSI and ext4; not zlib's CRC-32). Incremental:
 * start with crc = 0. Uses SSE4.2 when the CPU has it, else a table; both give
 * the same answer. */
uint32_t lh_crc32c(uint32_t crc, const void *p, size_t n);

/* ---- small helpers
 * ----------------------------------------------------------- */

/* Appends s to b with JSON string escaping, including the quotes: " \ and
 * control characters are escaped (\n \t \r \b \f, others \u00XX); valid
 * UTF-8 is copied as is, and each byte that is not becomes U+FFFD, so the
 * result is always valid JSON. LH_ENOMEM (b's sticky oom) on failure. */
lh_rc lh_buf_json_string(lh_buf *b, const char *s, size_t n);
/* The value of a hex digit (either case), or -1. */
int lh_hex_digit(char c);
/* Validates UTF-8; true if s[0..n) is well-formed: no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
bool lh_utf8_valid(const char *s, size_t n);

#endif
