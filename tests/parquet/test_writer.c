/*
 * Unit tests: the Parquet writer (src/format/parquet/writer.h). Batches of
 * every type (NULLs, empty and long strings, extremes, NaN and infinities,
 * DECIMAL(38), nested LIST, LIST of LIST, STRUCT, MAP and FLOAT[n]) are
 * written with every codec, dictionary and PLAIN, v1 and v2 pages, in
 * several row groups and pages, and read back through our reader, row by
 * row as JSON text (exact: shortest round-trip floats, DECIMAL digits).
 * The footer's statistics, the page indexes and the Bloom filters are
 * decoded with meta.h and checked against what the data says. The same
 * input must give the same bytes.
 */
/* cmocka.h needs these four first; the blank line keeps
 * clang-format from sorting it above them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/parquet/bloom.h"
#include "format/parquet/parquet.h"
#include "format/parquet/writer.h"

/* ---- a memory sink --------------------------------------------------------
 */

typedef struct msink {
    lh_buf b;
    int finished;
    bool ok;
    int writes;
    int fail_at; /* the write that fails (1 = the first), 0 = none */
} msink;

static lh_rc
ms_write(void *ctx, const void *p, size_t n, lh_err *err)
{
    msink *s = ctx;
    s->writes++;
    if (s->fail_at && s->writes >= s->fail_at) {
        return lh_err_set(err, LH_EIO, "injected write failure");
    }
    lh_buf_append(&s->b, p, n);
    return lh_buf_ok(&s->b) ? LH_OK : LH_ENOMEM;
}

static lh_rc
ms_finish(void *ctx, bool ok, lh_err *err)
{
    (void)err;
    msink *s = ctx;
    s->finished++;
    s->ok = ok;
    return LH_OK;
}

static lh_pq_sink
sink_of(msink *s)
{
    lh_pq_sink k = {ms_write, ms_finish, s};
    return k;
}

#define CHECK_OK(rc, e)                                                        \
    do {                                                                       \
        lh_rc rc_ = (rc);                                                      \
        if (rc_ != LH_OK) {                                                    \
            print_error("%s:%d: %s: %s\n", __FILE__, __LINE__,                 \
                        lh_rc_name(rc_), (e).msg);                             \
            fail();                                                            \
        }                                                                      \
    } while (0)

/* ---- the all-types table --------------------------------------------------
 */

static const lh_pq_wcolumn li_elem[] = {
    {.name = "element", .type = {.id = LH_T_INTEGER}, .nullable = true}};
static const lh_pq_wcolumn st_fields[] = {
    {.name = "a", .type = {.id = LH_T_INTEGER}, .nullable = true},
    {.name = "b", .type = {.id = LH_T_VARCHAR}, .nullable = true}};
static const lh_pq_wcolumn mp_kv[] = {
    {.name = "key", .type = {.id = LH_T_VARCHAR}, .nullable = false},
    {.name = "value", .type = {.id = LH_T_BIGINT}, .nullable = true}};
static const lh_pq_wcolumn ll_inner_elem[] = {
    {.name = "element", .type = {.id = LH_T_SMALLINT}, .nullable = false}};
static const lh_pq_wcolumn ll_elem[] = {{.name = "element",
                                         .type = {.id = LH_T_LIST},
                                         .nullable = true,
                                         .children = ll_inner_elem,
                                         .nchildren = 1}};

enum {
    C_B,
    C_SI,
    C_I,
    C_ID,
    C_BIG,
    C_R,
    C_D,
    C_D9,
    C_D18,
    C_D38,
    C_D25,
    C_S,
    C_BL,
    C_JS,
    C_DT,
    C_TM,
    C_TS,
    C_TZ,
    C_U,
    C_IV,
    C_VEC,
    C_LI,
    C_ST,
    C_MP,
    C_LL,
    NCOLS
};

#define DEC(p, s)                                                              \
    {                                                                          \
        .id = LH_T_DECIMAL, .precision = (p), .scale = (s)                     \
    }

static const lh_pq_wcolumn all_cols[NCOLS] = {
    [C_B] = {.name = "b", .type = {.id = LH_T_BOOLEAN}, .nullable = true},
    [C_SI] = {.name = "si", .type = {.id = LH_T_SMALLINT}, .nullable = true},
    [C_I] = {.name = "i", .type = {.id = LH_T_INTEGER}, .nullable = false},
    [C_ID] = {.name = "id",
              .type = {.id = LH_T_BIGINT},
              .nullable = false,
              .has_field_id = true,
              .field_id = 7},
    [C_BIG] = {.name = "big", .type = {.id = LH_T_BIGINT}, .nullable = true},
    [C_R] = {.name = "r", .type = {.id = LH_T_REAL}, .nullable = true},
    [C_D] = {.name = "d", .type = {.id = LH_T_DOUBLE}, .nullable = true},
    [C_D9] = {.name = "d9", .type = DEC(9, 2), .nullable = true},
    [C_D18] = {.name = "d18", .type = DEC(18, 4), .nullable = true},
    [C_D38] = {.name = "d38", .type = DEC(38, 10), .nullable = true},
    [C_D25] = {.name = "d25", .type = DEC(25, 5), .nullable = true},
    [C_S] = {.name = "s", .type = {.id = LH_T_VARCHAR}, .nullable = true},
    [C_BL] = {.name = "bl", .type = {.id = LH_T_BLOB}, .nullable = true},
    [C_JS] = {.name = "js", .type = {.id = LH_T_JSON}, .nullable = true},
    [C_DT] = {.name = "dt", .type = {.id = LH_T_DATE}, .nullable = true},
    [C_TM] = {.name = "tm", .type = {.id = LH_T_TIME}, .nullable = true},
    [C_TS] = {.name = "ts", .type = {.id = LH_T_TIMESTAMP}, .nullable = true},
    [C_TZ] = {.name = "tz", .type = {.id = LH_T_TIMESTAMPTZ}, .nullable = true},
    [C_U] = {.name = "u", .type = {.id = LH_T_UUID}, .nullable = true},
    [C_IV] = {.name = "iv", .type = {.id = LH_T_INTERVAL}, .nullable = true},
    [C_VEC] = {.name = "vec",
               .type = {.id = LH_T_VECTOR, .dim = 3},
               .nullable = true},
    [C_LI] = {.name = "li",
              .type = {.id = LH_T_LIST},
              .nullable = true,
              .children = li_elem,
              .nchildren = 1},
    [C_ST] = {.name = "st",
              .type = {.id = LH_T_STRUCT},
              .nullable = true,
              .children = st_fields,
              .nchildren = 2},
    [C_MP] = {.name = "mp",
              .type = {.id = LH_T_MAP},
              .nullable = true,
              .children = mp_kv,
              .nchildren = 2},
    [C_LL] = {.name = "ll",
              .type = {.id = LH_T_LIST},
              .nullable = true,
              .children = ll_elem,
              .nchildren = 1},
};

static bool
null_at(uint32_t col, uint32_t row)
{
    return all_cols[col].nullable && (row * 7 + col * 13) % 11 == 0;
}

static lh_i128
pow10_128(int n)
{
    lh_i128 v = 1;
    for (int i = 0; i < n; i++) {
        v *= 10;
    }
    return v;
}

static lh_str
arena_str(lh_arena *a, const char *s, size_t n)
{
    char *p = lh_arena_memdup(a, s, n ? n : 1);
    assert_non_null(p);
    return lh_str_make(p, (uint32_t)n);
}

static const char *const st_names[] = {"a", "b"};
static const char *const kv_names[] = {"key", "value"};

static lh_vector *
new_vec(lh_arena *a, lh_type t, uint32_t n, bool nullable)
{
    lh_vector *v = lh_arena_calloc(a, sizeof *v);
    lh_err e;
    assert_non_null(v);
    CHECK_OK(lh_vector_alloc(v, t, n, nullable, a, &e), e);
    return v;
}

static lh_vector **
kids(lh_arena *a, uint32_t n)
{
    lh_vector **k = lh_arena_calloc(a, n * sizeof *k);
    assert_non_null(k);
    return k;
}

/* Fills column c of rows first..first+n into v. */
static void
fill_col(lh_arena *a, uint32_t c, uint32_t first, uint32_t n, lh_vector *v)
{
    lh_err e;
    const lh_pq_wcolumn *wc = &all_cols[c];
    CHECK_OK(lh_vector_alloc(v, wc->type, n, wc->nullable, a, &e), e);
    char buf[512];
    uint32_t total = 0; /* elements of nested columns */
    switch (c) {
    case C_LI:
    case C_MP:
    case C_LL:
        for (uint32_t k = 0; k < n; k++) {
            total += null_at(c, first + k) ? 0 : (first + k) % 4;
        }
        break;
    default:
        break;
    }
    uint32_t at = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t row = first + k;
        bool null = null_at(c, row);
        if (null) {
            lh_bit_set(v->validity, k, false);
        }
        void *d = v->data;
        switch (c) {
        case C_B:
            ((uint8_t *)d)[k] = row % 3 == 0;
            break;
        case C_SI:
            ((int16_t *)d)[k] = row % 5 == 0   ? INT16_MIN
                                : row % 5 == 1 ? INT16_MAX
                                               : (int16_t)(row * 31 - 1000);
            break;
        case C_I:
            ((int32_t *)d)[k] = row % 4 == 0   ? INT32_MIN
                                : row % 4 == 1 ? INT32_MAX
                                               : (int32_t)(row * 977);
            break;
        case C_ID:
            ((int64_t *)d)[k] = row;
            break;
        case C_BIG:
            ((int64_t *)d)[k] = row % 3 == 0   ? INT64_MIN
                                : row % 3 == 1 ? INT64_MAX
                                               : (int64_t)row * -1000000007;
            break;
        case C_R: {
            static const float sp[] = {NAN,  INFINITY, -INFINITY, -0.0f,
                                       0.0f, FLT_MAX,  -FLT_MAX,  FLT_TRUE_MIN,
                                       0.1f, 1e-30f};
            ((float *)d)[k] = row % 2 ? sp[(row / 2) % 10] : -(float)row / 3;
            break;
        }
        case C_D: {
            static const double sp[] = {NAN, INFINITY, -INFINITY, -0.0,
                                        0.0, DBL_MAX,  -DBL_MAX,  5e-324,
                                        0.1, 1e300};
            ((double *)d)[k] = row % 2 ? sp[(row / 2) % 10] : row * 1e10 / 7;
            break;
        }
        case C_D9:
            ((int64_t *)d)[k] = row % 3 == 0   ? 999999999
                                : row % 3 == 1 ? -999999999
                                               : (int64_t)row * 13 - 500;
            break;
        case C_D18:
            ((int64_t *)d)[k] = row % 3 == 0   ? INT64_C(999999999999999999)
                                : row % 3 == 1 ? -INT64_C(999999999999999999)
                                               : (int64_t)row * 1234567;
            break;
        case C_D38:
        case C_D25: {
            int p = c == C_D38 ? 38 : 25;
            lh_i128 x = row % 3 == 0 ? pow10_128(p) - 1
                        : row % 3 == 1
                            ? -(pow10_128(p) - 1)
                            : (lh_i128)row * pow10_128(p - 18) - (lh_i128)row;
            memcpy((char *)d + (size_t)k * sizeof x, &x, sizeof x);
            break;
        }
        case C_S: {
            int len;
            switch (row % 6) {
            case 0:
                len = 0;
                break;
            case 1:
                len = snprintf(buf, sizeof buf, "long-%u-", row);
                memset(buf + len, 'z', 200);
                len += 200;
                break;
            case 2:
                len = snprintf(buf, sizeof buf,
                               "h\xc3\xa9llo w\xc3\xb6rld "
                               "\xe2\x9c\x93 %u",
                               row);
                break;
            case 3:
                len = snprintf(buf, sizeof buf, "name%u", row % 50);
                break;
            case 4:
                len = snprintf(buf, sizeof buf, "a, \"quoted\"\nline %u", row);
                break;
            default:
                len = snprintf(buf, sizeof buf, "a");
                break;
            }
            ((lh_str *)d)[k] = arena_str(a, buf, (size_t)len);
            break;
        }
        case C_BL: {
            uint32_t len = row % 20;
            for (uint32_t i = 0; i < len; i++) {
                buf[i] = (char)(i % 3 == 0 ? 0 : i % 3 == 1 ? 0xff : row + i);
            }
            ((lh_str *)d)[k] = arena_str(a, buf, len);
            break;
        }
        case C_JS: {
            int len = row % 2 ? snprintf(buf, sizeof buf,
                                         "{\"k\":%u,\"a\":[1,2.5,\"x\"]}", row)
                              : snprintf(buf, sizeof buf, "[%u]", row % 7);
            ((lh_str *)d)[k] = arena_str(a, buf, (size_t)len);
            break;
        }
        case C_DT:
            ((int32_t *)d)[k] = row % 3 == 0   ? -719162
                                : row % 3 == 1 ? 2932896
                                               : (int32_t)row - 1000;
            break;
        case C_TM:
            ((int64_t *)d)[k] = ((int64_t)row * 1000003) % INT64_C(86400000000);
            break;
        case C_TS:
            ((int64_t *)d)[k] = row % 3 == 0   ? INT64_C(-62135596800000000)
                                : row % 3 == 1 ? INT64_C(253402300799999999)
                                               : (int64_t)row * 1000000007;
            break;
        case C_TZ:
            ((int64_t *)d)[k] = (int64_t)row * 3600000000 + 123456;
            break;
        case C_U: {
            lh_uuid u;
            for (int i = 0; i < 16; i++) {
                u.b[i] = (uint8_t)(row * 7 + (uint32_t)i * 31);
            }
            ((lh_uuid *)d)[k] = u;
            break;
        }
        case C_IV: {
            lh_interval iv = {.months = (int32_t)(row % 13) - 3,
                              .days = (int32_t)(row % 40) - 10,
                              .micros = (int64_t)row * 1234 * 1000};
            ((lh_interval *)d)[k] = iv;
            break;
        }
        case C_VEC: {
            float *f = (float *)d + (size_t)k * 3;
            f[0] = (float)row * 0.5f;
            f[1] = -(float)row;
            f[2] = 1e-3f * (float)row;
            break;
        }
        case C_LI: {
            if (k == 0) {
                v->nchildren = 1;
                v->children = kids(a, 1);
                v->children[0] = new_vec(a, li_elem[0].type, total, true);
            }
            uint32_t *off = d;
            off[k] = at;
            uint32_t len = null ? 0 : row % 4;
            for (uint32_t j = 0; j < len; j++, at++) {
                ((int32_t *)v->children[0]->data)[at] = (int32_t)(row * 10 + j);
                if ((row + j) % 5 == 0) {
                    lh_bit_set(v->children[0]->validity, at, false);
                }
            }
            off[k + 1] = at;
            break;
        }
        case C_ST: {
            if (k == 0) {
                v->nchildren = 2;
                v->children = kids(a, 2);
                v->child_names = st_names;
                v->children[0] = new_vec(a, st_fields[0].type, n, true);
                v->children[1] = new_vec(a, st_fields[1].type, n, true);
            }
            ((int32_t *)v->children[0]->data)[k] = (int32_t)row;
            if (row % 6 == 1) {
                lh_bit_set(v->children[0]->validity, k, false);
            }
            int len = snprintf(buf, sizeof buf, "b%u", row % 9);
            ((lh_str *)v->children[1]->data)[k] =
                arena_str(a, buf, (size_t)len);
            if (row % 4 == 2) {
                lh_bit_set(v->children[1]->validity, k, false);
            }
            break;
        }
        case C_MP: {
            if (k == 0) {
                v->nchildren = 1;
                v->children = kids(a, 1);
                lh_vector *s =
                    new_vec(a, (lh_type){.id = LH_T_STRUCT}, total, false);
                s->nchildren = 2;
                s->children = kids(a, 2);
                s->child_names = kv_names;
                s->children[0] = new_vec(a, mp_kv[0].type, total, false);
                s->children[1] = new_vec(a, mp_kv[1].type, total, true);
                v->children[0] = s;
            }
            uint32_t *off = d;
            off[k] = at;
            uint32_t len = null ? 0 : row % 4;
            lh_vector *s = v->children[0];
            for (uint32_t j = 0; j < len; j++, at++) {
                int kl = snprintf(buf, sizeof buf, "k%u", j);
                ((lh_str *)s->children[0]->data)[at] =
                    arena_str(a, buf, (size_t)kl);
                ((int64_t *)s->children[1]->data)[at] = (int64_t)row * j;
                if (j == 1) {
                    lh_bit_set(s->children[1]->validity, at, false);
                }
            }
            off[k + 1] = at;
            break;
        }
        case C_LL: {
            static uint32_t inner_at;
            if (k == 0) {
                v->nchildren = 1;
                v->children = kids(a, 1);
                lh_vector *inner = new_vec(a, ll_elem[0].type, total, true);
                inner->nchildren = 1;
                inner->children = kids(a, 1);
                inner->children[0] =
                    new_vec(a, ll_inner_elem[0].type, total * 3, false);
                v->children[0] = inner;
                inner_at = 0;
            }
            uint32_t *off = d;
            off[k] = at;
            uint32_t len = null ? 0 : row % 4;
            lh_vector *inner = v->children[0];
            uint32_t *ioff = inner->data;
            for (uint32_t j = 0; j < len; j++, at++) {
                ioff[at] = inner_at;
                if ((row + j) % 4 == 0) {
                    lh_bit_set(inner->validity, at, false);
                } else {
                    for (uint32_t q = 0; q < (row + j) % 3; q++) {
                        ((int16_t *)inner->children[0]->data)[inner_at++] =
                            (int16_t)(row - j * 100 - q);
                    }
                }
                ioff[at + 1] = inner_at;
            }
            off[k + 1] = at;
            break;
        }
        default:
            break;
        }
        if (c == C_LI || c == C_MP || c == C_LL) {
            continue;
        }
    }
}

static void
fill_batch(lh_arena *a, uint32_t first, uint32_t n, const uint32_t *cols,
           uint32_t ncols, lh_vector *out)
{
    for (uint32_t i = 0; i < ncols; i++) {
        fill_col(a, cols[i], first, n, &out[i]);
    }
}

/* Row r of the batch as "json|json|..." appended to out. */
static void
row_json(const lh_batch *b, uint32_t r, lh_buf *out)
{
    for (uint32_t c = 0; c < b->ncols; c++) {
        if (c) {
            lh_buf_putc(out, '|');
        }
        assert_int_equal(lh_vector_to_json(&b->cols[c], r, out), LH_OK);
    }
    lh_buf_putc(out, '\n');
}

/* Writes rows [0, nrows) of the given columns in batches of `bs` rows;
 * the expected text of every row goes to want. */
static void
write_table(const lh_pq_writer_opts *o, const uint32_t *cols, uint32_t ncols,
            uint32_t nrows, uint32_t bs, msink *sink, lh_buf *want)
{
    lh_pq_wcolumn wc[NCOLS];
    for (uint32_t i = 0; i < ncols; i++) {
        wc[i] = all_cols[cols[i]];
    }
    lh_pq_sink k = sink_of(sink);
    lh_pq_writer *w = NULL;
    lh_err e;
    CHECK_OK(lh_pq_writer_open(wc, ncols, o, &k, &w, &e), e);
    lh_arena a;
    lh_arena_init(&a, 0);
    for (uint32_t first = 0; first < nrows; first += bs) {
        uint32_t n = LH_MIN(bs, nrows - first);
        lh_arena_reset(&a);
        lh_vector vecs[NCOLS];
        memset(vecs, 0, sizeof vecs);
        fill_batch(&a, first, n, cols, ncols, vecs);
        lh_batch b = {.count = n, .ncols = ncols, .cols = vecs};
        for (uint32_t r = 0; want && r < n; r++) {
            row_json(&b, r, want);
        }
        CHECK_OK(lh_pq_writer_write(w, &b, &e), e);
    }
    assert_int_equal(lh_pq_writer_rows(w), nrows);
    CHECK_OK(lh_pq_writer_close(w, &e), e);
    assert_int_equal(sink->finished, 1);
    assert_true(sink->ok);
    lh_arena_release(&a);
}

/* Reads every row of the file in memory as row_json does. */
static void
read_table(const lh_buf *file, lh_buf *got, uint32_t batch_rows)
{
    lh_pq_file *f = NULL;
    lh_err e;
    CHECK_OK(
        lh_pq_open_mem((const uint8_t *)file->data, file->len, "mem", &f, &e),
        e);
    lh_pq_scan *s = NULL;
    lh_pq_scan_opts so = {.batch_rows = batch_rows};
    CHECK_OK(lh_pq_scan_open(f, &so, &s, &e), e);
    for (;;) {
        lh_batch b;
        CHECK_OK(lh_pq_scan_next(s, &b, &e), e);
        if (b.count == 0) {
            break;
        }
        for (uint32_t r = 0; r < b.count; r++) {
            row_json(&b, r, got);
        }
    }
    lh_pq_scan_close(s);
    lh_pq_close(f);
}

static void
expect_same_text(const lh_buf *want, const lh_buf *got, const char *what)
{
    const char *w = want->data ? want->data : "";
    const char *g = got->data ? got->data : "";
    if (want->len == got->len && memcmp(w, g, want->len) == 0) {
        return;
    }
    /* The first differing line, both sides. */
    size_t line = 1, i = 0, ls = 0;
    while (i < want->len && i < got->len && w[i] == g[i]) {
        if (w[i] == '\n') {
            line++;
            ls = i + 1;
        }
        i++;
    }
    const char *we = memchr(w + ls, '\n', want->len - ls);
    const char *ge = memchr(g + ls, '\n', got->len > ls ? got->len - ls : 0);
    print_error("%s: row %zu differs\n  want: %.*s\n  got:  %.*s\n", what, line,
                (int)(we ? we - (w + ls) : 200), w + ls,
                (int)(ge ? ge - (g + ls) : 200), g + ls);
    fail();
}

static const uint32_t every_col[NCOLS] = {
    C_B,   C_SI,  C_I,   C_ID, C_BIG, C_R,  C_D,  C_D9, C_D18,
    C_D38, C_D25, C_S,   C_BL, C_JS,  C_DT, C_TM, C_TS, C_TZ,
    C_U,   C_IV,  C_VEC, C_LI, C_ST,  C_MP, C_LL};

/* ---- round trips ----------------------------------------------------------
 */

/* LH_PQ_WRITER_DUMP=<dir> keeps the every-type files of
 * test_types_every_codec there (writer-<codec>-<dict|plain>-<v1|v2>.parquet),
 * for checking them with other readers (tests/peers/). */
static void
dump(const lh_buf *file, int codec, int dict, int v2)
{
    const char *dir = getenv("LH_PQ_WRITER_DUMP");
    if (dir == NULL || dir[0] == 0) {
        return;
    }
    static const char *const names[] = {"uncompressed", "snappy", "gzip",
                                        "lzo",          "brotli", "lz4",
                                        "zstd",         "lz4_raw"};
    char path[1024];
    snprintf(path, sizeof path, "%s/writer-%s-%s-%s.parquet", dir, names[codec],
             dict ? "dict" : "plain", v2 ? "v2" : "v1");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(file->data, 1, file->len, f), file->len);
    assert_int_equal(fclose(f), 0);
}

static void
test_types_every_codec(void **state)
{
    (void)state;
    static const int codecs[] = {LH_PQ_CODEC_UNCOMPRESSED, LH_PQ_CODEC_SNAPPY,
                                 LH_PQ_CODEC_GZIP,         LH_PQ_CODEC_BROTLI,
                                 LH_PQ_CODEC_ZSTD,         LH_PQ_CODEC_LZ4_RAW,
                                 LH_PQ_CODEC_LZ4};
    for (size_t ci = 0; ci < LH_ARRAY_LEN(codecs); ci++) {
        for (int dict = 0; dict < 2; dict++) {
            for (int v2 = 0; v2 < 2; v2++) {
                lh_pq_writer_opts o;
                lh_pq_writer_opts_init(&o);
                o.codec = codecs[ci];
                o.dictionary = dict;
                o.page_v2 = v2;
                o.row_group_rows = 1500;
                o.page_bytes = 1500;
                msink s = {0};
                lh_buf want = LH_BUF_INIT, got = LH_BUF_INIT;
                write_table(&o, every_col, NCOLS, 4000, 1000, &s, &want);
                read_table(&s.b, &got, 0);
                char what[64];
                snprintf(what, sizeof what, "codec %d dict %d v2 %d",
                         codecs[ci], dict, v2);
                expect_same_text(&want, &got, what);
                dump(&s.b, codecs[ci], dict, v2);

                /* Row groups and pages as asked. */
                lh_pq_file *f;
                lh_err e;
                CHECK_OK(lh_pq_open_mem((const uint8_t *)s.b.data, s.b.len,
                                        "mem", &f, &e),
                         e);
                const lh_pq_file_metadata *m = lh_pq_meta(f);
                assert_int_equal(m->num_rows, 4000);
                assert_int_equal(m->n_row_groups, 3);
                assert_int_equal(m->row_groups[0].num_rows, 1500);
                assert_int_equal(m->version, v2 ? 2 : 1);
                assert_string_equal(m->created_by, "lakehouse version 0.1.0");
                for (uint32_t c = 0; c < m->row_groups[0].n_columns; c++) {
                    const lh_pq_column_metadata *cm =
                        &m->row_groups[0].columns[c].meta_data;
                    assert_int_equal(cm->codec, codecs[ci]);
                }
                lh_pq_close(f);
                lh_buf_release(&want);
                lh_buf_release(&got);
                lh_buf_release(&s.b);
            }
        }
    }
}

/* The types the reader maps the file's schema to are the ones written
 * (FLOAT[n] reads as a LIST of REAL), and field ids survive. */
static void
test_schema_mapping(void **state)
{
    (void)state;
    lh_pq_writer_opts o;
    lh_pq_writer_opts_init(&o);
    msink s = {0};
    write_table(&o, every_col, NCOLS, 10, 10, &s, NULL);
    lh_pq_file *f;
    lh_err e;
    CHECK_OK(lh_pq_open_mem((const uint8_t *)s.b.data, s.b.len, "mem", &f, &e),
             e);
    assert_int_equal(lh_pq_ncolumns(f), NCOLS);
    for (uint32_t i = 0; i < NCOLS; i++) {
        const lh_pq_node *n = lh_pq_column(f, i);
        lh_type want = all_cols[i].type;
        if (want.id == LH_T_VECTOR) {
            assert_int_equal(n->type.id, LH_T_LIST);
            assert_int_equal(n->children[0].type.id, LH_T_REAL);
            assert_false(n->children[0].nullable);
        } else {
            char a[40], b[40];
            if (!lh_type_equal(n->type, want)) {
                print_error("column %s: want %s, got %s\n", n->name,
                            lh_type_name(want, a), lh_type_name(n->type, b));
                fail();
            }
        }
        assert_string_equal(n->name, all_cols[i].name);
        assert_int_equal(n->nullable, all_cols[i].nullable);
    }
    const lh_pq_node *id = lh_pq_column(f, C_ID);
    assert_true(id->has_field_id);
    assert_int_equal(id->field_id, 7);

    /* Physical types and annotations, old and new. */
    const lh_pq_file_metadata *m = lh_pq_meta(f);
    const lh_pq_schema_element *el;
    el = lh_pq_leaf(f, 1)->el; /* si */
    assert_int_equal(el->type, LH_PQ_TYPE_INT32);
    assert_int_equal(el->converted_type, LH_PQ_CONV_INT_16);
    assert_int_equal(el->logical_type.kind, LH_PQ_LT_INTEGER);
    assert_int_equal(el->logical_type.bit_width, 16);
    el = lh_pq_column(f, C_D9)->el;
    assert_int_equal(el->type, LH_PQ_TYPE_INT32);
    el = lh_pq_column(f, C_D18)->el;
    assert_int_equal(el->type, LH_PQ_TYPE_INT64);
    assert_int_equal(el->converted_type, LH_PQ_CONV_DECIMAL);
    assert_int_equal(el->precision, 18);
    assert_int_equal(el->scale, 4);
    el = lh_pq_column(f, C_D38)->el;
    assert_int_equal(el->type, LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY);
    assert_int_equal(el->type_length, 16);
    el = lh_pq_column(f, C_D25)->el;
    assert_int_equal(el->type_length, 11);
    el = lh_pq_column(f, C_S)->el;
    assert_int_equal(el->converted_type, LH_PQ_CONV_UTF8);
    el = lh_pq_column(f, C_JS)->el;
    assert_int_equal(el->converted_type, LH_PQ_CONV_JSON);
    el = lh_pq_column(f, C_BL)->el;
    assert_false(el->has_converted_type);
    assert_false(el->has_logical_type);
    el = lh_pq_column(f, C_TS)->el;
    assert_false(el->has_converted_type);
    assert_false(el->logical_type.is_adjusted_to_utc);
    el = lh_pq_column(f, C_TZ)->el;
    assert_int_equal(el->converted_type, LH_PQ_CONV_TIMESTAMP_MICROS);
    assert_true(el->logical_type.is_adjusted_to_utc);
    assert_int_equal(el->logical_type.unit, LH_PQ_UNIT_MICROS);
    el = lh_pq_column(f, C_TM)->el;
    assert_false(el->has_converted_type);
    assert_int_equal(el->logical_type.kind, LH_PQ_LT_TIME);
    el = lh_pq_column(f, C_DT)->el;
    assert_int_equal(el->converted_type, LH_PQ_CONV_DATE);
    el = lh_pq_column(f, C_U)->el;
    assert_int_equal(el->logical_type.kind, LH_PQ_LT_UUID);
    el = lh_pq_column(f, C_IV)->el;
    assert_int_equal(el->converted_type, LH_PQ_CONV_INTERVAL);
    assert_false(el->has_logical_type);
    assert_int_equal(el->type_length, 12);
    /* FLOAT[3]: three levels, required elements. */
    bool found = false;
    for (uint32_t i = 0; i + 2 < m->n_schema; i++) {
        if (strcmp(m->schema[i].name, "vec") == 0) {
            found = true;
            assert_int_equal(m->schema[i].converted_type, LH_PQ_CONV_LIST);
            assert_string_equal(m->schema[i + 1].name, "list");
            assert_int_equal(m->schema[i + 1].repetition_type,
                             LH_PQ_REP_REPEATED);
            assert_string_equal(m->schema[i + 2].name, "element");
            assert_int_equal(m->schema[i + 2].repetition_type,
                             LH_PQ_REP_REQUIRED);
            assert_int_equal(m->schema[i + 2].type, LH_PQ_TYPE_FLOAT);
        }
    }
    assert_true(found);
    assert_int_equal(m->n_column_orders, lh_pq_nleaves(f));
    lh_pq_close(f);
    lh_buf_release(&s.b);
}

static void
test_deterministic(void **state)
{
    (void)state;
    lh_pq_writer_opts o;
    lh_pq_writer_opts_init(&o);
    o.row_group_rows = 700;
    o.page_bytes = 900;
    msink a = {0}, b = {0};
    write_table(&o, every_col, NCOLS, 2000, 333, &a, NULL);
    write_table(&o, every_col, NCOLS, 2000, 333, &b, NULL);
    assert_int_equal(a.b.len, b.b.len);
    assert_memory_equal(a.b.data, b.b.data, a.b.len);
    /* Batch boundaries do not change the bytes either. */
    msink c = {0};
    write_table(&o, every_col, NCOLS, 2000, 2000, &c, NULL);
    assert_int_equal(a.b.len, c.b.len);
    assert_memory_equal(a.b.data, c.b.data, a.b.len);
    /* Nor does the number of threads filling and sealing the leaves
     * (more threads than leaves included). */
    static const uint32_t threads[] = {1, 2, 3, 7, 16};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        msink d = {0};
        o.threads = threads[t];
        write_table(&o, every_col, NCOLS, 2000, 333, &d, NULL);
        assert_int_equal(a.b.len, d.b.len);
        assert_memory_equal(a.b.data, d.b.data, a.b.len);
        lh_buf_release(&d.b);
    }
    lh_buf_release(&a.b);
    lh_buf_release(&b.b);
    lh_buf_release(&c.b);
}

/* ---- selection, DICT and CONSTANT vectors ----------------------------------
 */

static void
test_sel_dict_constant(void **state)
{
    (void)state;
    lh_pq_wcolumn cols[4] = {
        {.name = "k", .type = {.id = LH_T_BIGINT}, .nullable = true},
        {.name = "s", .type = {.id = LH_T_VARCHAR}, .nullable = true},
        {.name = "c", .type = {.id = LH_T_INTEGER}, .nullable = true},
        {.name = "d", .type = DEC(9, 2), .nullable = true},
    };
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err e;
    /* k FLAT, s DICT over 3 strings (one NULL entry), c CONSTANT, d
     * CONSTANT NULL. */
    lh_vector v[4];
    const uint32_t n = 100;
    CHECK_OK(lh_vector_alloc(&v[0], cols[0].type, n, true, &a, &e), e);
    lh_vector *dict = new_vec(&a, cols[1].type, 3, true);
    ((lh_str *)dict->data)[0] = arena_str(&a, "apple", 5);
    ((lh_str *)dict->data)[1] = arena_str(&a, "a much longer banana", 20);
    lh_bit_set(dict->validity, 2, false);
    memset(&v[1], 0, sizeof v[1]);
    v[1].type = cols[1].type;
    v[1].kind = LH_VEC_DICT;
    v[1].dict = dict;
    v[1].data = lh_arena_calloc(&a, n * 4);
    v[1].validity = lh_arena_alloc(&a, 16);
    memset(v[1].validity, 0xff, 16);
    CHECK_OK(lh_vector_alloc(&v[2], cols[2].type, 1, true, &a, &e), e);
    v[2].kind = LH_VEC_CONSTANT;
    ((int32_t *)v[2].data)[0] = 42;
    CHECK_OK(lh_vector_alloc(&v[3], cols[3].type, 1, true, &a, &e), e);
    v[3].kind = LH_VEC_CONSTANT;
    lh_bit_set(v[3].validity, 0, false);
    for (uint32_t i = 0; i < n; i++) {
        ((int64_t *)v[0].data)[i] = i;
        if (i % 9 == 0) {
            lh_bit_set(v[0].validity, i, false);
        }
        ((uint32_t *)v[1].data)[i] = i % 3;
        if (i % 10 == 5) {
            lh_bit_set(v[1].validity, i, false);
        }
    }
    uint32_t sel[40];
    for (uint32_t i = 0; i < 40; i++) {
        sel[i] = i * 2 + 1;
    }
    lh_batch b = {.count = n, .sel = sel, .nsel = 40, .ncols = 4, .cols = v};
    lh_buf want = LH_BUF_INIT, got = LH_BUF_INIT;
    for (uint32_t i = 0; i < 40; i++) {
        row_json(&b, sel[i], &want);
    }
    lh_batch all = b;
    all.sel = NULL;
    for (uint32_t i = 0; i < n; i++) {
        row_json(&all, i, &want);
    }
    for (int dict_on = 0; dict_on < 2; dict_on++) {
        lh_pq_writer_opts o;
        lh_pq_writer_opts_init(&o);
        o.dictionary = dict_on;
        o.row_group_rows = 64;
        msink s = {0};
        lh_pq_sink k = sink_of(&s);
        lh_pq_writer *w;
        CHECK_OK(lh_pq_writer_open(cols, 4, &o, &k, &w, &e), e);
        CHECK_OK(lh_pq_writer_write(w, &b, &e), e);
        CHECK_OK(lh_pq_writer_write(w, &all, &e), e);
        CHECK_OK(lh_pq_writer_close(w, &e), e);
        lh_buf_reset(&got);
        read_table(&s.b, &got, 0);
        expect_same_text(&want, &got, "sel/dict/constant");
        lh_buf_release(&s.b);
    }
    lh_buf_release(&want);
    lh_buf_release(&got);
    lh_arena_release(&a);
}

/* ---- bad batches and schemas ----------------------------------------------
 */

static void
test_bad_batches(void **state)
{
    (void)state;
    lh_pq_wcolumn cols[2] = {
        {.name = "a", .type = {.id = LH_T_BIGINT}, .nullable = false},
        {.name = "l",
         .type = {.id = LH_T_LIST},
         .nullable = true,
         .children = ll_inner_elem,
         .nchildren = 1},
    };
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err e;
    msink s = {0};
    lh_pq_sink k = sink_of(&s);
    lh_pq_writer *w;
    CHECK_OK(lh_pq_writer_open(cols, 2, NULL, &k, &w, &e), e);
    lh_vector v[2];
    CHECK_OK(lh_vector_alloc(&v[0], cols[0].type, 4, true, &a, &e), e);
    CHECK_OK(lh_vector_alloc(&v[1], cols[1].type, 4, true, &a, &e), e);
    v[1].nchildren = 1;
    v[1].children = kids(&a, 1);
    v[1].children[0] = new_vec(&a, ll_inner_elem[0].type, 8, true);
    uint32_t *off = v[1].data;
    for (uint32_t i = 0; i < 4; i++) {
        ((int64_t *)v[0].data)[i] = i;
        off[i + 1] = off[i] + 2;
    }
    lh_batch b = {.count = 4, .ncols = 2, .cols = v};

    /* Wrong column count. */
    lh_batch one = b;
    one.ncols = 1;
    assert_int_equal(lh_pq_writer_write(w, &one, &e), LH_EINVAL);
    /* NULL in a NOT NULL column. */
    lh_bit_set(v[0].validity, 2, false);
    assert_int_equal(lh_pq_writer_write(w, &b, &e), LH_EINVAL);
    assert_non_null(strstr(e.msg, "\"a\""));
    assert_int_equal(e.index, 0);
    lh_bit_set(v[0].validity, 2, true);
    /* NULL element where elements are required. */
    lh_bit_set(v[1].children[0]->validity, 5, false);
    assert_int_equal(lh_pq_writer_write(w, &b, &e), LH_EINVAL);
    assert_non_null(strstr(e.msg, "not nullable"));
    lh_bit_set(v[1].children[0]->validity, 5, true);
    /* Wrong type. */
    v[0].type.id = LH_T_INTEGER;
    assert_int_equal(lh_pq_writer_write(w, &b, &e), LH_EINVAL);
    assert_non_null(strstr(e.msg, "BIGINT"));
    v[0].type.id = LH_T_BIGINT;
    /* The writer goes on after refused batches. */
    CHECK_OK(lh_pq_writer_write(w, &b, &e), e);
    CHECK_OK(lh_pq_writer_close(w, &e), e);
    lh_buf got = LH_BUF_INIT;
    read_table(&s.b, &got, 0);
    assert_string_equal(got.data, "0|[0,0]\n1|[0,0]\n2|[0,0]\n3|[0,0]\n");
    lh_buf_release(&got);
    lh_buf_release(&s.b);
    lh_arena_release(&a);
}

static void
test_bad_schemas(void **state)
{
    (void)state;
    msink s = {0};
    lh_pq_sink k = sink_of(&s);
    lh_pq_writer *w = NULL;
    lh_err e;
    lh_pq_wcolumn dup[2] = {
        {.name = "x", .type = {.id = LH_T_BIGINT}},
        {.name = "x", .type = {.id = LH_T_INTEGER}},
    };
    assert_int_equal(lh_pq_writer_open(dup, 2, NULL, &k, &w, &e), LH_EINVAL);
    assert_null(w);
    lh_pq_wcolumn empty[1] = {{.name = "", .type = {.id = LH_T_BIGINT}}};
    assert_int_equal(lh_pq_writer_open(empty, 1, NULL, &k, &w, &e), LH_EINVAL);
    lh_pq_wcolumn bbool[1] = {
        {.name = "b", .type = {.id = LH_T_BOOLEAN}, .bloom = true}};
    assert_int_equal(lh_pq_writer_open(bbool, 1, NULL, &k, &w, &e), LH_EINVAL);
    assert_non_null(strstr(e.msg, "BOOLEAN"));
    lh_pq_wcolumn nokids[1] = {{.name = "l", .type = {.id = LH_T_LIST}}};
    assert_int_equal(lh_pq_writer_open(nokids, 1, NULL, &k, &w, &e), LH_EINVAL);
    lh_pq_wcolumn badmap_kv[2] = {
        {.name = "key", .type = {.id = LH_T_VARCHAR}, .nullable = true},
        {.name = "value", .type = {.id = LH_T_BIGINT}}};
    lh_pq_wcolumn badmap[1] = {{.name = "m",
                                .type = {.id = LH_T_MAP},
                                .children = badmap_kv,
                                .nchildren = 2}};
    assert_int_equal(lh_pq_writer_open(badmap, 1, NULL, &k, &w, &e), LH_EINVAL);
    lh_pq_wcolumn nulltype[1] = {{.name = "n", .type = {.id = LH_T_NULL}}};
    assert_int_equal(lh_pq_writer_open(nulltype, 1, NULL, &k, &w, &e),
                     LH_EINVAL);
    lh_pq_wcolumn ok[1] = {{.name = "n", .type = {.id = LH_T_BIGINT}}};
    lh_pq_writer_opts o;
    lh_pq_writer_opts_init(&o);
    o.codec = LH_PQ_CODEC_LZO;
    assert_int_equal(lh_pq_writer_open(ok, 1, &o, &k, &w, &e), LH_EUNSUPPORTED);
    o.codec = LH_PQ_CODEC_ZSTD;
    o.level = 99;
    assert_int_equal(lh_pq_writer_open(ok, 1, &o, &k, &w, &e), LH_EINVAL);
    o.level = 0;
    o.bloom_fpp = 1.5;
    assert_int_equal(lh_pq_writer_open(ok, 1, &o, &k, &w, &e), LH_EINVAL);
    /* A list nested past the limit. */
    lh_pq_wcolumn deep[40];
    for (int i = 0; i < 40; i++) {
        deep[i] = (lh_pq_wcolumn){.name = "d",
                                  .type = {.id = LH_T_LIST},
                                  .children = i + 1 < 40 ? &deep[i + 1] : NULL,
                                  .nchildren = i + 1 < 40 ? 1 : 0};
    }
    deep[39].type.id = LH_T_BIGINT;
    assert_int_equal(lh_pq_writer_open(deep, 1, NULL, &k, &w, &e), LH_EINVAL);
    assert_int_equal(s.finished, 0);
    assert_int_equal(s.b.len, 0);
}

/* ---- statistics and page indexes ------------------------------------------
 */

typedef struct opened {
    lh_pq_file *f;
    const lh_pq_file_metadata *m;
    const uint8_t *p;
    size_t len;
    lh_arena a;
} opened;

static void
open_file(opened *o, const msink *s)
{
    lh_err e;
    CHECK_OK(
        lh_pq_open_mem((const uint8_t *)s->b.data, s->b.len, "mem", &o->f, &e),
        e);
    o->m = lh_pq_meta(o->f);
    o->p = (const uint8_t *)s->b.data;
    o->len = s->b.len;
    lh_arena_init(&o->a, 0);
}

static void
close_file(opened *o)
{
    lh_pq_close(o->f);
    lh_arena_release(&o->a);
}

static const lh_pq_column_chunk *
chunk(const opened *o, uint32_t rg, uint32_t leaf)
{
    assert_true(rg < o->m->n_row_groups);
    assert_true(leaf < o->m->row_groups[rg].n_columns);
    return &o->m->row_groups[rg].columns[leaf];
}

static bool
get_ci(opened *o, const lh_pq_column_chunk *cc, lh_pq_column_index *ci)
{
    if (!cc->has_column_index_offset) {
        return false;
    }
    lh_err e;
    assert_true((uint64_t)cc->column_index_offset + cc->column_index_length <=
                o->len);
    CHECK_OK(lh_pq_decode_column_index(o->p + cc->column_index_offset,
                                       (size_t)cc->column_index_length, &o->a,
                                       ci, NULL, &e),
             e);
    return true;
}

static void
get_oi(opened *o, const lh_pq_column_chunk *cc, lh_pq_offset_index *oi)
{
    lh_err e;
    assert_true(cc->has_offset_index_offset);
    CHECK_OK(lh_pq_decode_offset_index(o->p + cc->offset_index_offset,
                                       (size_t)cc->offset_index_length, &o->a,
                                       oi, NULL, &e),
             e);
}

static int64_t
i64_of(lh_pq_bytes b)
{
    int64_t v;
    assert_int_equal(b.len, 8);
    memcpy(&v, b.p, 8);
    return v;
}

static void
assert_bytes(lh_pq_bytes b, const void *want, size_t n)
{
    if (b.len != n || memcmp(b.p, want, n) != 0) {
        print_error("bytes: want %zu \"%.*s\", got %u \"%.*s\"\n", n, (int)n,
                    (const char *)want, b.len, (int)b.len, (const char *)b.p);
        fail();
    }
}

/* Offset index entries point at the chunk's data pages in order: each
 * location's header decodes, its size is header + body, first rows grow
 * from 0 and add up to the row group's rows. */
static void
check_offset_index(opened *o, uint32_t rg, uint32_t leaf)
{
    const lh_pq_column_chunk *cc = chunk(o, rg, leaf);
    const lh_pq_column_metadata *cm = &cc->meta_data;
    lh_pq_offset_index oi;
    get_oi(o, cc, &oi);
    assert_true(oi.n_page_locations >= 1);
    assert_int_equal(oi.page_locations[0].offset, cm->data_page_offset);
    assert_int_equal(oi.page_locations[0].first_row_index, 0);
    int64_t values = 0;
    int64_t end = cm->has_dictionary_page_offset ? cm->dictionary_page_offset
                                                 : cm->data_page_offset;
    end += cm->total_compressed_size;
    for (uint32_t i = 0; i < oi.n_page_locations; i++) {
        const lh_pq_page_location *l = &oi.page_locations[i];
        lh_pq_page_header h;
        size_t used;
        lh_err e;
        CHECK_OK(lh_pq_decode_page_header(o->p + l->offset, o->len - l->offset,
                                          &o->a, &h, &used, &e),
                 e);
        assert_true(h.type == LH_PQ_PAGE_DATA_PAGE ||
                    h.type == LH_PQ_PAGE_DATA_PAGE_V2);
        assert_int_equal(l->compressed_page_size,
                         (int64_t)used + h.compressed_page_size);
        values += h.has_data_page_header ? h.data_page_header.num_values
                                         : h.data_page_header_v2.num_values;
        if (i + 1 < oi.n_page_locations) {
            assert_int_equal(l->offset + l->compressed_page_size,
                             oi.page_locations[i + 1].offset);
            assert_true(oi.page_locations[i + 1].first_row_index >
                        l->first_row_index);
            if (h.has_data_page_header_v2) {
                assert_int_equal(oi.page_locations[i + 1].first_row_index -
                                     l->first_row_index,
                                 h.data_page_header_v2.num_rows);
            }
        } else {
            assert_int_equal(l->offset + l->compressed_page_size, end);
        }
    }
    assert_int_equal(values, cm->num_values);
}

static lh_pq_wcolumn
col(const char *name, lh_type t, bool nullable)
{
    lh_pq_wcolumn c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.type = t;
    c.nullable = nullable;
    return c;
}

static void
test_statistics(void **state)
{
    (void)state;
    enum { ID, S, U, BLOB, F, DNAN, NUL, IV, D38, DESC, N };
    lh_pq_wcolumn cols[N];
    cols[ID] = col("id", (lh_type){.id = LH_T_BIGINT}, false);
    cols[S] = col("s", (lh_type){.id = LH_T_VARCHAR}, true);
    cols[U] = col("u", (lh_type){.id = LH_T_VARCHAR}, true);
    cols[BLOB] = col("blob", (lh_type){.id = LH_T_BLOB}, true);
    cols[F] = col("f", (lh_type){.id = LH_T_REAL}, true);
    cols[DNAN] = col("dnan", (lh_type){.id = LH_T_DOUBLE}, true);
    cols[NUL] = col("nul", (lh_type){.id = LH_T_INTEGER}, true);
    cols[IV] = col("iv", (lh_type){.id = LH_T_INTERVAL}, true);
    cols[D38] = col("d38", (lh_type)DEC(38, 0), true);
    cols[DESC] = col("desc", (lh_type){.id = LH_T_DOUBLE}, false);
    const uint32_t rows = 1000;
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err e;
    lh_vector v[N];
    for (int i = 0; i < N; i++) {
        CHECK_OK(lh_vector_alloc(&v[i], cols[i].type, rows, cols[i].nullable,
                                 &a, &e),
                 e);
    }
    char buf[256];
    for (uint32_t r = 0; r < rows; r++) {
        ((int64_t *)v[ID].data)[r] = r;
        /* 100 x's then the row: every value is cut. */
        memset(buf, 'x', 100);
        int n = snprintf(buf + 100, 32, "%04u", r);
        ((lh_str *)v[S].data)[r] = arena_str(&a, buf, 100 + (size_t)n);
        /* 40 é's (80 bytes): the max is cut at a character, then
         * incremented to ê. */
        for (int k = 0; k < 40; k++) {
            buf[2 * k] = (char)0xc3;
            buf[2 * k + 1] = (char)0xa9;
        }
        ((lh_str *)v[U].data)[r] = arena_str(&a, buf, r == 7 ? 80 : 2);
        /* All 0xff: no cut upper bound exists, the max stays whole. */
        memset(buf, 0xff, 100);
        ((lh_str *)v[BLOB].data)[r] = arena_str(&a, buf, r % 2 ? 100 : 1);
        /* Zeros of both signs, NaN, and 1.5. */
        static const float fs[] = {-0.0f, 0.0f, NAN, 1.5f};
        ((float *)v[F].data)[r] = fs[r % 4];
        /* Rows 0-199 only NaN (with NULLs): that page has no bounds. */
        ((double *)v[DNAN].data)[r] = r < 200 ? NAN : (double)r;
        if (r < 200 && r % 3 == 0) {
            lh_bit_set(v[DNAN].validity, r, false);
        }
        /* NULL up to row 399, then r. */
        ((int32_t *)v[NUL].data)[r] = (int32_t)r;
        if (r < 400) {
            lh_bit_set(v[NUL].validity, r, false);
        }
        lh_interval iv = {1, 2, 3000};
        ((lh_interval *)v[IV].data)[r] = iv;
        lh_i128 d = r % 2 ? -(lh_i128)r - 5 : (lh_i128)r * 3;
        memcpy((char *)v[D38].data + (size_t)r * 16, &d, 16);
        ((double *)v[DESC].data)[r] = -(double)r;
    }
    lh_pq_writer_opts o;
    lh_pq_writer_opts_init(&o);
    o.page_rows = 200;
    o.dictionary = false;
    msink s = {0};
    lh_pq_sink k = sink_of(&s);
    lh_pq_writer *w;
    CHECK_OK(lh_pq_writer_open(cols, N, &o, &k, &w, &e), e);
    lh_batch b = {.count = rows, .ncols = N, .cols = v};
    CHECK_OK(lh_pq_writer_write(w, &b, &e), e);
    CHECK_OK(lh_pq_writer_close(w, &e), e);

    opened of;
    open_file(&of, &s);
    assert_int_equal(of.m->n_row_groups, 1);
    const lh_pq_statistics *st;

    /* id: exact bounds; ascending pages of 200 rows. */
    st = &chunk(&of, 0, ID)->meta_data.statistics;
    assert_int_equal(i64_of(st->min_value), 0);
    assert_int_equal(i64_of(st->max_value), rows - 1);
    assert_true(st->has_null_count);
    assert_int_equal(st->null_count, 0);
    assert_true(st->is_min_value_exact && st->is_max_value_exact);
    assert_true(st->has_min); /* the legacy fields too, for numbers */
    lh_pq_column_index ci;
    assert_true(get_ci(&of, chunk(&of, 0, ID), &ci));
    assert_int_equal(ci.n_null_pages, 5);
    assert_int_equal(ci.boundary_order, LH_PQ_BOUNDARY_ASCENDING);
    for (uint32_t i = 0; i < 5; i++) {
        assert_false(ci.null_pages[i]);
        assert_int_equal(i64_of(ci.min_values[i]), i * 200);
        assert_int_equal(i64_of(ci.max_values[i]), i * 200 + 199);
        assert_int_equal(ci.null_counts[i], 0);
    }
    for (uint32_t leaf = 0; leaf < N; leaf++) {
        check_offset_index(&of, 0, leaf);
    }

    /* s: 64-byte bounds, min a prefix, max incremented ("x"*63 "y"). */
    st = &chunk(&of, 0, S)->meta_data.statistics;
    memset(buf, 'x', 64);
    assert_bytes(st->min_value, buf, 64);
    assert_false(st->is_min_value_exact);
    buf[63] = 'y';
    assert_bytes(st->max_value, buf, 64);
    assert_false(st->is_max_value_exact);
    assert_false(st->has_min); /* no legacy bounds for byte arrays */

    /* u: the 80-byte max is cut to 32 é's (64 bytes), the last made ê. */
    st = &chunk(&of, 0, U)->meta_data.statistics;
    for (int i = 0; i < 32; i++) {
        buf[2 * i] = (char)0xc3;
        buf[2 * i + 1] = (char)0xa9;
    }
    buf[63] = (char)0xaa;
    assert_bytes(st->max_value, buf, 64);
    assert_false(st->is_max_value_exact);
    buf[63] = (char)0xa9;
    assert_bytes(st->min_value, buf, 2);
    assert_true(st->is_min_value_exact);

    /* blob: the max of all 0xff cannot be cut. */
    st = &chunk(&of, 0, BLOB)->meta_data.statistics;
    memset(buf, 0xff, 100);
    assert_bytes(st->max_value, buf, 100);
    assert_true(st->is_max_value_exact);
    assert_bytes(st->min_value, buf, 1);

    /* f: min -0.0, max 1.5, NaNs counted, not bounds. */
    st = &chunk(&of, 0, F)->meta_data.statistics;
    float fmin, fmax;
    assert_int_equal(st->min_value.len, 4);
    memcpy(&fmin, st->min_value.p, 4);
    memcpy(&fmax, st->max_value.p, 4);
    assert_true(fmin == 0 && signbit(fmin));
    assert_true(fmax == 1.5f);
    assert_true(st->has_nan_count);
    assert_int_equal(st->nan_count, 250);
    assert_true(get_ci(&of, chunk(&of, 0, F), &ci));
    assert_int_equal(ci.n_nan_counts, 5);
    assert_int_equal(ci.nan_counts[0], 50);

    /* dnan: a page of only NaN and NULL: no column index (parquet.thrift),
     * the chunk's bounds from the other pages. */
    assert_false(get_ci(&of, chunk(&of, 0, DNAN), &ci));
    st = &chunk(&of, 0, DNAN)->meta_data.statistics;
    double dmin;
    memcpy(&dmin, st->min_value.p, 8);
    assert_true(dmin == 200);
    assert_int_equal(st->null_count, 67);
    assert_int_equal(st->nan_count, 133);

    /* nul: NULL pages. */
    assert_true(get_ci(&of, chunk(&of, 0, NUL), &ci));
    assert_true(ci.null_pages[0] && ci.null_pages[1]);
    assert_false(ci.null_pages[2]);
    assert_int_equal(ci.min_values[0].len, 0);
    assert_int_equal(ci.null_counts[0], 200);
    assert_int_equal(ci.null_counts[2], 0);
    assert_int_equal(ci.boundary_order, LH_PQ_BOUNDARY_ASCENDING);
    st = &chunk(&of, 0, NUL)->meta_data.statistics;
    assert_int_equal(st->null_count, 400);

    /* iv: no order, so no bounds and no column index; offsets still. */
    st = &chunk(&of, 0, IV)->meta_data.statistics;
    assert_false(st->has_min_value || st->has_max_value);
    assert_false(get_ci(&of, chunk(&of, 0, IV), &ci));

    /* d38: signed order of big-endian FLBA: min -(999)-5, max 998*3. */
    st = &chunk(&of, 0, D38)->meta_data.statistics;
    uint8_t want[16];
    lh_i128 x = -(lh_i128)999 - 5;
    for (int i = 15; i >= 0; i--) {
        want[i] = (uint8_t)x;
        x >>= 8;
    }
    assert_bytes(st->min_value, want, 16);
    x = (lh_i128)998 * 3;
    for (int i = 15; i >= 0; i--) {
        want[i] = (uint8_t)x;
        x >>= 8;
    }
    assert_bytes(st->max_value, want, 16);

    /* desc: descending pages. */
    assert_true(get_ci(&of, chunk(&of, 0, DESC), &ci));
    assert_int_equal(ci.boundary_order, LH_PQ_BOUNDARY_DESCENDING);
    assert_true(get_ci(&of, chunk(&of, 0, D38), &ci));
    assert_int_equal(ci.boundary_order, LH_PQ_BOUNDARY_UNORDERED);
    close_file(&of);
    lh_buf_release(&s.b);
    lh_arena_release(&a);
}

/* The chunk statistics and page indexes of the every-type table are
 * consistent in v1 and v2, dictionary or not: offset indexes point at the
 * pages, null counts add up. */
static void
test_page_index_every_type(void **state)
{
    (void)state;
    for (int v2 = 0; v2 < 2; v2++) {
        for (int dict = 0; dict < 2; dict++) {
            lh_pq_writer_opts o;
            lh_pq_writer_opts_init(&o);
            o.page_v2 = v2;
            o.dictionary = dict;
            o.page_bytes = 2000;
            o.row_group_rows = 2500;
            msink s = {0};
            write_table(&o, every_col, NCOLS, 5000, 1000, &s, NULL);
            opened of;
            open_file(&of, &s);
            for (uint32_t g = 0; g < of.m->n_row_groups; g++) {
                for (uint32_t l = 0; l < of.m->row_groups[g].n_columns; l++) {
                    check_offset_index(&of, g, l);
                    const lh_pq_column_chunk *cc = chunk(&of, g, l);
                    lh_pq_column_index ci;
                    if (get_ci(&of, cc, &ci)) {
                        int64_t nulls = 0;
                        for (uint32_t i = 0; i < ci.n_null_counts; i++) {
                            nulls += ci.null_counts[i];
                        }
                        assert_int_equal(nulls,
                                         cc->meta_data.statistics.null_count);
                    }
                }
            }
            close_file(&of);
            lh_buf_release(&s.b);
        }
    }
}

/* ---- dictionary ------------------------------------------------------------
 */

static bool
has_dict(const lh_pq_column_metadata *cm)
{
    for (uint32_t i = 0; i < cm->n_encodings; i++) {
        if (cm->encodings[i] == LH_PQ_ENC_RLE_DICTIONARY) {
            return true;
        }
    }
    return false;
}

static void
test_dictionary_choice(void **state)
{
    (void)state;
    enum { LOW, HIGH, FALLBACK, NODICT, MID, N };
    lh_pq_wcolumn cols[N];
    cols[LOW] = col("low", (lh_type){.id = LH_T_VARCHAR}, true);
    cols[HIGH] = col("high", (lh_type){.id = LH_T_BIGINT}, true);
    cols[FALLBACK] = col("fallback", (lh_type){.id = LH_T_VARCHAR}, true);
    cols[NODICT] = col("nodict", (lh_type){.id = LH_T_INTEGER}, true);
    cols[NODICT].no_dict = true;
    cols[MID] = col("mid", (lh_type){.id = LH_T_BIGINT}, true);
    const uint32_t rows = 2048;
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err e;
    lh_vector v[N];
    for (int i = 0; i < N; i++) {
        CHECK_OK(lh_vector_alloc(&v[i], cols[i].type, rows, true, &a, &e), e);
    }
    char buf[64];
    for (uint32_t r = 0; r < rows; r++) {
        int n = snprintf(buf, sizeof buf, "value number %u", r % 10);
        ((lh_str *)v[LOW].data)[r] = arena_str(&a, buf, (size_t)n);
        ((int64_t *)v[HIGH].data)[r] = (int64_t)r * 1000003;
        /* Repeating at first, then all new: the dictionary outgrows its
         * limit in the middle. */
        n = snprintf(buf, sizeof buf, "some text that is long %u",
                     r < 1000 ? r % 3 : r);
        ((lh_str *)v[FALLBACK].data)[r] = arena_str(&a, buf, (size_t)n);
        ((int32_t *)v[NODICT].data)[r] = (int32_t)(r % 2);
        ((int64_t *)v[MID].data)[r] = (int64_t)(r % 200) * 1000000007;
    }
    lh_pq_writer_opts o;
    lh_pq_writer_opts_init(&o);
    o.dict_bytes = 8192;
    o.dict_values = 150; /* "mid" has 200 */
    o.page_rows = 300;
    msink s = {0};
    lh_pq_sink k = sink_of(&s);
    lh_pq_writer *w;
    CHECK_OK(lh_pq_writer_open(cols, N, &o, &k, &w, &e), e);
    lh_batch b = {.count = rows, .ncols = N, .cols = v};
    lh_buf want = LH_BUF_INIT, got = LH_BUF_INIT;
    for (uint32_t r = 0; r < rows; r++) {
        row_json(&b, r, &want);
    }
    CHECK_OK(lh_pq_writer_write(w, &b, &e), e);
    CHECK_OK(lh_pq_writer_close(w, &e), e);
    read_table(&s.b, &got, 0);
    expect_same_text(&want, &got, "dictionary choice");
    opened of;
    open_file(&of, &s);
    const lh_pq_column_metadata *cm;
    cm = &chunk(&of, 0, LOW)->meta_data;
    assert_true(has_dict(cm));
    assert_true(cm->has_dictionary_page_offset);
    assert_int_equal(cm->statistics.distinct_count, 10);
    cm = &chunk(&of, 0, HIGH)->meta_data;
    assert_false(has_dict(cm)); /* all distinct: PLAIN is smaller */
    assert_false(cm->has_dictionary_page_offset);
    /* The dictionary outgrew its limit: the pages written with it are
     * decoded back, the whole chunk is PLAIN. */
    cm = &chunk(&of, 0, FALLBACK)->meta_data;
    assert_false(has_dict(cm));
    assert_false(cm->has_dictionary_page_offset);
    assert_int_equal(cm->n_encoding_stats, 1);
    assert_int_equal(cm->encoding_stats[0].encoding, LH_PQ_ENC_PLAIN);
    assert_int_equal(cm->encoding_stats[0].page_type, LH_PQ_PAGE_DATA_PAGE);
    assert_int_equal(cm->encoding_stats[0].count, 7); /* 300 rows a page */
    assert_false(cm->statistics.has_distinct_count);
    cm = &chunk(&of, 0, NODICT)->meta_data;
    assert_false(has_dict(cm));
    cm = &chunk(&of, 0, MID)->meta_data;
    assert_false(has_dict(cm)); /* more distinct values than dict_values */
    for (uint32_t l = 0; l < N; l++) {
        check_offset_index(&of, 0, l);
    }
    close_file(&of);
    lh_buf_release(&s.b);
    lh_buf_release(&want);
    lh_buf_release(&got);
    lh_arena_release(&a);
}

/* ---- Bloom filters ----------------------------------------------------------
 */

static void
bloom_of(opened *o, const lh_pq_column_chunk *cc, const uint8_t **bits,
         size_t *n)
{
    const lh_pq_column_metadata *cm = &cc->meta_data;
    assert_true(cm->has_bloom_filter_offset);
    assert_true(cm->has_bloom_filter_length);
    lh_pq_bloom_filter_header h;
    size_t used;
    lh_err e;
    CHECK_OK(lh_pq_decode_bloom_filter_header(o->p + cm->bloom_filter_offset,
                                              (size_t)cm->bloom_filter_length,
                                              &o->a, &h, &used, &e),
             e);
    assert_int_equal(h.algorithm, LH_PQ_BLOOM_ALGORITHM_BLOCK);
    assert_int_equal(h.hash, LH_PQ_BLOOM_HASH_XXHASH);
    assert_int_equal(h.compression, LH_PQ_BLOOM_COMPRESSION_UNCOMPRESSED);
    assert_int_equal((int64_t)used + h.num_bytes, cm->bloom_filter_length);
    assert_true(h.num_bytes >= 32 && (h.num_bytes & (h.num_bytes - 1)) == 0);
    *bits = o->p + cm->bloom_filter_offset + used;
    *n = (size_t)h.num_bytes;
}

static void
test_bloom(void **state)
{
    (void)state;
    enum { I64, STR, I32D, FLT, N };
    lh_pq_wcolumn cols[N];
    cols[I64] = col("i64", (lh_type){.id = LH_T_BIGINT}, true);
    cols[STR] = col("str", (lh_type){.id = LH_T_VARCHAR}, true);
    cols[I32D] = col("i32d", (lh_type){.id = LH_T_INTEGER}, true);
    cols[FLT] = col("flt", (lh_type){.id = LH_T_DOUBLE}, true);
    for (int i = 0; i < N; i++) {
        cols[i].bloom = true;
    }
    const uint32_t rows = 4000;
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err e;
    lh_vector v[N];
    for (int i = 0; i < N; i++) {
        CHECK_OK(lh_vector_alloc(&v[i], cols[i].type, rows, true, &a, &e), e);
    }
    char buf[64];
    for (uint32_t r = 0; r < rows; r++) {
        ((int64_t *)v[I64].data)[r] = (int64_t)r * 7919; /* all distinct */
        int n = snprintf(buf, sizeof buf, "user-%u", r % 300);
        ((lh_str *)v[STR].data)[r] = arena_str(&a, buf, (size_t)n);
        ((int32_t *)v[I32D].data)[r] = (int32_t)(r % 37); /* dictionary */
        ((double *)v[FLT].data)[r] = r * 0.25;
        if (r % 13 == 0) {
            lh_bit_set(v[I64].validity, r, false);
        }
    }
    lh_pq_writer_opts o;
    lh_pq_writer_opts_init(&o);
    o.row_group_rows = 2000;
    msink s = {0};
    lh_pq_sink k = sink_of(&s);
    lh_pq_writer *w;
    CHECK_OK(lh_pq_writer_open(cols, N, &o, &k, &w, &e), e);
    lh_batch b = {.count = rows, .ncols = N, .cols = v};
    CHECK_OK(lh_pq_writer_write(w, &b, &e), e);
    CHECK_OK(lh_pq_writer_close(w, &e), e);
    opened of;
    open_file(&of, &s);
    assert_int_equal(of.m->n_row_groups, 2);
    for (uint32_t g = 0; g < 2; g++) {
        const uint8_t *bits;
        size_t nb;
        uint32_t r0 = g * 2000, r1 = r0 + 2000;
        /* Every value of the row group is found. */
        bloom_of(&of, chunk(&of, g, I64), &bits, &nb);
        /* ~1850 distinct values at fpp 0.01: about 2.2 KB, a power of 2. */
        assert_true(nb >= 2048 && nb <= 4096);
        uint32_t fp = 0;
        for (uint32_t r = r0; r < r1; r++) {
            uint64_t h = lh_pq_bloom_hash_i64((int64_t)r * 7919);
            assert_int_equal(lh_pq_bloom_check(bits, nb, h), r % 13 != 0);
            fp += lh_pq_bloom_check(
                bits, nb, lh_pq_bloom_hash_i64((int64_t)r * 7919 + 1));
        }
        (void)fp;
        /* Values of the other row group and others are mostly absent. */
        fp = 0;
        for (int64_t x = 0; x < 20000; x++) {
            int64_t val = -x - 1;
            fp += lh_pq_bloom_check(bits, nb, lh_pq_bloom_hash_i64(val));
        }
        assert_true(fp < 20000 / 50); /* well under 2% */

        bloom_of(&of, chunk(&of, g, STR), &bits, &nb);
        for (uint32_t r = 0; r < 300; r++) {
            int n = snprintf(buf, sizeof buf, "user-%u", r);
            assert_true(
                lh_pq_bloom_check(bits, nb, lh_pq_bloom_hash(buf, (size_t)n)));
        }
        fp = 0;
        for (uint32_t r = 300; r < 10300; r++) {
            int n = snprintf(buf, sizeof buf, "user-%u", r);
            fp += lh_pq_bloom_check(bits, nb, lh_pq_bloom_hash(buf, (size_t)n));
        }
        assert_true(fp < 10000 / 50);

        bloom_of(&of, chunk(&of, g, I32D), &bits, &nb);
        assert_int_equal(nb, 64); /* 37 values */
        for (int32_t x = 0; x < 37; x++) {
            assert_true(lh_pq_bloom_check(bits, nb, lh_pq_bloom_hash_i32(x)));
        }
        bloom_of(&of, chunk(&of, g, FLT), &bits, &nb);
        for (uint32_t r = r0; r < r1; r++) {
            assert_true(
                lh_pq_bloom_check(bits, nb, lh_pq_bloom_hash_double(r * 0.25)));
        }
    }
    /* The filters lie between the row groups' pages and the page index. */
    const lh_pq_column_metadata *m0 = &chunk(&of, 0, FLT)->meta_data;
    const lh_pq_row_group *rg1 = &of.m->row_groups[1];
    assert_true(m0->bloom_filter_offset < rg1->file_offset);
    close_file(&of);
    lh_buf_release(&s.b);
    lh_arena_release(&a);
}

/* ---- odds and ends ---------------------------------------------------------
 */

static void
test_interval_micros(void **state)
{
    (void)state;
    lh_pq_wcolumn c = col("iv", (lh_type){.id = LH_T_INTERVAL}, false);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_err e;
    lh_vector v;
    CHECK_OK(lh_vector_alloc(&v, c.type, 2, false, &a, &e), e);
    ((lh_interval *)v.data)[0] = (lh_interval){14, 3, 7200999999};
    ((lh_interval *)v.data)[1] = (lh_interval){0, 0, 1500};
    msink s = {0};
    lh_pq_sink k = sink_of(&s);
    lh_pq_writer *w;
    CHECK_OK(lh_pq_writer_open(&c, 1, NULL, &k, &w, &e), e);
    lh_batch b = {.count = 2, .ncols = 1, .cols = &v};
    CHECK_OK(lh_pq_writer_write(w, &b, &e), e);
    CHECK_OK(lh_pq_writer_close(w, &e), e);
    lh_buf got = LH_BUF_INIT;
    read_table(&s.b, &got, 0);
    /* Microseconds below the millisecond are gone. */
    assert_string_equal(got.data, "\"1 year 2 mons 3 days 02:00:00.999\"\n"
                                  "\"00:00:00.001\"\n");
    lh_buf_release(&got);
    lh_buf_release(&s.b);
    lh_arena_release(&a);
}

static void
test_metadata_and_empty(void **state)
{
    (void)state;
    lh_pq_wcolumn c[2] = {col("a", (lh_type){.id = LH_T_BIGINT}, true),
                          col("b", (lh_type){.id = LH_T_VARCHAR}, true)};
    lh_pq_key_value kv[2] = {{.key = "origin", .value = "test"},
                             {.key = "empty", .value = NULL}};
    lh_pq_sorting_column sc[1] = {{.column_idx = 0, .descending = true}};
    lh_pq_writer_opts o;
    lh_pq_writer_opts_init(&o);
    o.kv = kv;
    o.nkv = 2;
    o.sorting = sc;
    o.nsorting = 1;
    /* No rows: a valid file without row groups. */
    msink s = {0};
    lh_pq_sink k = sink_of(&s);
    lh_pq_writer *w;
    lh_err e;
    CHECK_OK(lh_pq_writer_open(c, 2, &o, &k, &w, &e), e);
    CHECK_OK(lh_pq_writer_flush(w, &e), e);
    CHECK_OK(lh_pq_writer_close(w, &e), e);
    opened of;
    open_file(&of, &s);
    assert_int_equal(of.m->num_rows, 0);
    assert_int_equal(of.m->n_row_groups, 0);
    assert_int_equal(of.m->n_key_value_metadata, 2);
    assert_string_equal(of.m->key_value_metadata[0].key, "origin");
    assert_string_equal(of.m->key_value_metadata[0].value, "test");
    assert_null(of.m->key_value_metadata[1].value);
    close_file(&of);
    lh_buf got = LH_BUF_INIT;
    read_table(&s.b, &got, 0);
    assert_int_equal(got.len, 0);
    lh_buf_release(&s.b);

    /* One row, flushed as its own row group, with the sorting columns. */
    memset(&s, 0, sizeof s);
    k = sink_of(&s);
    CHECK_OK(lh_pq_writer_open(c, 2, &o, &k, &w, &e), e);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_vector v[2];
    CHECK_OK(lh_vector_alloc(&v[0], c[0].type, 1, true, &a, &e), e);
    CHECK_OK(lh_vector_alloc(&v[1], c[1].type, 1, true, &a, &e), e);
    lh_bit_set(v[1].validity, 0, false);
    lh_batch b = {.count = 1, .ncols = 2, .cols = v};
    CHECK_OK(lh_pq_writer_write(w, &b, &e), e);
    CHECK_OK(lh_pq_writer_flush(w, &e), e);
    CHECK_OK(lh_pq_writer_write(w, &b, &e), e);
    CHECK_OK(lh_pq_writer_close(w, &e), e);
    open_file(&of, &s);
    assert_int_equal(of.m->n_row_groups, 2);
    assert_int_equal(of.m->row_groups[1].n_sorting_columns, 1);
    assert_true(of.m->row_groups[1].sorting_columns[0].descending);
    assert_int_equal(of.m->row_groups[1].ordinal, 1);
    /* A chunk of only NULLs: no bounds, no dictionary. */
    const lh_pq_column_metadata *cm = &chunk(&of, 0, 1)->meta_data;
    assert_int_equal(cm->statistics.null_count, 1);
    assert_false(cm->statistics.has_min_value);
    assert_false(cm->has_dictionary_page_offset);
    close_file(&of);
    lh_buf_reset(&got);
    read_table(&s.b, &got, 0);
    assert_string_equal(got.data, "0|null\n0|null\n");
    lh_buf_release(&got);
    lh_buf_release(&s.b);
    lh_arena_release(&a);
}

static void
test_page_crc(void **state)
{
    (void)state;
    lh_pq_writer_opts o;
    lh_pq_writer_opts_init(&o);
    o.page_crc = true;
    o.page_bytes = 1000;
    static const uint32_t some[] = {C_ID, C_S, C_LI};
    msink s = {0};
    lh_buf want = LH_BUF_INIT, got = LH_BUF_INIT;
    write_table(&o, some, 3, 3000, 1000, &s, &want);
    read_table(&s.b, &got, 0);
    expect_same_text(&want, &got, "crc");
    /* A flipped byte in a page body is caught by the reader. */
    opened of;
    open_file(&of, &s);
    int64_t at = chunk(&of, 0, 0)->meta_data.data_page_offset + 40;
    close_file(&of);
    s.b.data[at] ^= 0x40;
    lh_pq_file *f;
    lh_err e;
    CHECK_OK(lh_pq_open_mem((const uint8_t *)s.b.data, s.b.len, "mem", &f, &e),
             e);
    lh_pq_scan *sc;
    CHECK_OK(lh_pq_scan_open(f, NULL, &sc, &e), e);
    lh_batch b;
    lh_rc rc = lh_pq_scan_next(sc, &b, &e);
    assert_int_not_equal(rc, LH_OK);
    lh_pq_scan_close(sc);
    lh_pq_close(f);
    lh_buf_release(&want);
    lh_buf_release(&got);
    lh_buf_release(&s.b);
}

/* A failing sink: the error comes back, later calls repeat it, and the
 * sink is told to discard. */
static void
test_sink_failure(void **state)
{
    (void)state;
    static const uint32_t some[] = {C_ID, C_S};
    lh_pq_wcolumn wc[2] = {all_cols[C_ID], all_cols[C_S]};
    for (int at = 1; at < 6; at++) {
        msink s = {0};
        s.fail_at = at;
        lh_pq_sink k = sink_of(&s);
        lh_pq_writer *w = NULL;
        lh_err e;
        lh_pq_writer_opts o;
        lh_pq_writer_opts_init(&o);
        o.row_group_rows = 100;
        lh_rc rc = lh_pq_writer_open(wc, 2, &o, &k, &w, &e);
        if (at == 1) {
            assert_int_equal(rc, LH_EIO); /* "PAR1" */
            assert_null(w);
            continue;
        }
        CHECK_OK(rc, e);
        lh_arena a;
        lh_arena_init(&a, 0);
        lh_vector v[2];
        fill_batch(&a, 0, 1000, some, 2, v);
        lh_batch b = {.count = 1000, .ncols = 2, .cols = v};
        rc = lh_pq_writer_write(w, &b, &e);
        assert_int_equal(rc, LH_EIO);
        assert_non_null(strstr(e.msg, "injected"));
        rc = lh_pq_writer_write(w, &b, &e);
        assert_int_equal(rc, LH_EIO);
        rc = lh_pq_writer_close(w, &e);
        assert_int_equal(rc, LH_EIO);
        assert_int_equal(s.finished, 1);
        assert_false(s.ok);
        lh_arena_release(&a);
        lh_buf_release(&s.b);
    }
}

/* Out of memory at every allocation in turn: an error, never a crash or a
 * leak (the sanitizer build checks the leaks). */
static void
test_oom(void **state)
{
    (void)state;
    static const uint32_t some[] = {C_ID, C_S, C_LI, C_D38, C_MP};
    lh_pq_wcolumn wc[5];
    for (int i = 0; i < 5; i++) {
        wc[i] = all_cols[some[i]];
    }
    wc[1].bloom = true;
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_vector v[5];
    fill_batch(&a, 0, 300, some, 5, v);
    lh_batch b = {.count = 300, .ncols = 5, .cols = v};
    lh_pq_writer_opts o;
    lh_pq_writer_opts_init(&o);
    o.row_group_rows = 200;
    o.page_bytes = 500;
    int failures = 0, successes = 0;
    /* Some failures are absorbed (an arena retries with a smaller block),
     * so a success does not mean the allocations ran out: go on. */
    for (uint64_t n = 1; n < 3000; n += n < 600 ? 1 : 7) {
        msink s = {0};
        lh_pq_sink k = sink_of(&s);
        lh_pq_writer *w = NULL;
        lh_err e;
        lh_alloc_fail_at(n, false);
        lh_rc rc = lh_pq_writer_open(wc, 5, &o, &k, &w, &e);
        if (rc == LH_OK) {
            rc = lh_pq_writer_write(w, &b, &e);
            lh_rc rc2 = lh_pq_writer_close(w, &e);
            if (rc == LH_OK) {
                rc = rc2;
            }
        }
        lh_alloc_fail_at(0, false);
        lh_buf_release(&s.b);
        if (rc == LH_OK) {
            successes++;
            continue;
        }
        assert_int_equal(rc, LH_ENOMEM);
        failures++;
    }
    assert_true(failures > 100);
    assert_true(successes > 10);
    lh_arena_release(&a);
}

/* The path sink: nothing at the path until close; abort leaves nothing. */
static void
test_open_path(void **state)
{
    (void)state;
    char dir[] = "/tmp/lh-pqw-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.parquet", dir);
    lh_pq_wcolumn c = col("a", (lh_type){.id = LH_T_BIGINT}, false);
    lh_pq_writer *w;
    lh_err e;
    struct stat st;
    CHECK_OK(lh_pq_writer_open_path(path, &c, 1, NULL, &w, &e), e);
    assert_int_not_equal(stat(path, &st), 0);
    lh_pq_writer_abort(w);
    assert_int_not_equal(stat(path, &st), 0);
    assert_int_equal(rmdir(dir), 0); /* no temporary file left either */
    strcpy(dir, "/tmp/lh-pqw-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.parquet", dir);
    CHECK_OK(lh_pq_writer_open_path(path, &c, 1, NULL, &w, &e), e);
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_vector v;
    CHECK_OK(lh_vector_alloc(&v, c.type, 3, false, &a, &e), e);
    lh_batch b = {.count = 3, .ncols = 1, .cols = &v};
    CHECK_OK(lh_pq_writer_write(w, &b, &e), e);
    assert_int_not_equal(stat(path, &st), 0);
    CHECK_OK(lh_pq_writer_close(w, &e), e);
    assert_int_equal(stat(path, &st), 0);
    lh_pq_file *f;
    CHECK_OK(lh_pq_open(path, &f, &e), e);
    assert_int_equal(lh_pq_meta(f)->num_rows, 3);
    lh_pq_close(f);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    /* A directory that does not exist. */
    assert_int_equal(lh_pq_writer_open_path("/nonexistent-dir/x.parquet", &c, 1,
                                            NULL, &w, &e),
                     LH_ENOENT);
    lh_arena_release(&a);
}

/* Writing speed (printed, not asserted). */
static void
test_speed(void **state)
{
    (void)state;
    static const uint32_t some[] = {C_ID, C_I,  C_BIG, C_D,  C_D18,
                                    C_S,  C_DT, C_TS,  C_BL, C_B};
    lh_pq_wcolumn wc[10];
    for (int i = 0; i < 10; i++) {
        wc[i] = all_cols[some[i]];
    }
    lh_arena a;
    lh_arena_init(&a, 0);
    enum { NB = 8 };
    lh_vector v[NB][10];
    for (int i = 0; i < NB; i++) {
        fill_batch(&a, (uint32_t)i * 2048, 2048, some, 10, v[i]);
    }
    const uint32_t rows = 200000;
    msink s = {0};
    lh_pq_sink k = sink_of(&s);
    lh_pq_writer *w;
    lh_err e;
    lh_us t0 = lh_mono_now();
    CHECK_OK(lh_pq_writer_open(wc, 10, NULL, &k, &w, &e), e);
    for (uint32_t r = 0; r < rows; r += 2048) {
        lh_batch b = {.count = 2048, .ncols = 10, .cols = v[(r / 2048) % NB]};
        CHECK_OK(lh_pq_writer_write(w, &b, &e), e);
    }
    CHECK_OK(lh_pq_writer_close(w, &e), e);
    lh_us t1 = lh_mono_now();
    print_message("writer: %u rows x 10 columns in %.3f s (%.2f M rows/s), "
                  "%zu bytes\n",
                  rows, (double)(t1 - t0) / 1e6, rows / ((double)(t1 - t0) + 1),
                  s.b.len);
    lh_buf_release(&s.b);
    lh_arena_release(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_every_codec),
        cmocka_unit_test(test_schema_mapping),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_sel_dict_constant),
        cmocka_unit_test(test_bad_batches),
        cmocka_unit_test(test_bad_schemas),
        cmocka_unit_test(test_statistics),
        cmocka_unit_test(test_page_index_every_type),
        cmocka_unit_test(test_dictionary_choice),
        cmocka_unit_test(test_bloom),
        cmocka_unit_test(test_interval_micros),
        cmocka_unit_test(test_metadata_and_empty),
        cmocka_unit_test(test_page_crc),
        cmocka_unit_test(test_sink_failure),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_open_path),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
