/*
 * generate_series(a, b [, step]) and range([a,] b [, step]): a column of
 * BIGINT, made batch by batch.
 */
#include <string.h>
#include <strings.h>

#include "exec/exec_int.h"
#include "exec/sources.h"

typedef struct series {
    lh_source src;
    int64_t start, stop, step;
    bool inclusive;
} series;

struct lh_source_scan {
    const series *s;
    int64_t next;
    bool done;
    lh_vector col;
    int64_t *buf;
    uint64_t rows;
};

static lh_rc
se_open(const lh_source *src, const lh_scan_request *req, void *shared,
        lh_source_scan **out, lh_err *err)
{
    (void)req;
    (void)shared;
    lh_source_scan *s = lh_calloc(1, sizeof(lh_source_scan));
    if (s) {
        s->buf = lh_malloc(LH_BATCH_ROWS * sizeof(int64_t));
    }
    if (s == NULL || s->buf == NULL) {
        lh_free(s);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    s->s = src->ud;
    s->next = s->s->start;
    *out = s;
    return LH_OK;
}

static lh_rc
se_next(lh_source_scan *s, lh_batch *out, lh_err *err)
{
    (void)err;
    memset(out, 0, sizeof *out);
    const series *se = s->s;
    uint32_t n = 0;
    while (!s->done && n < LH_BATCH_ROWS) {
        int64_t v = s->next;
        bool in = se->step > 0 ? (se->inclusive ? v <= se->stop : v < se->stop)
                               : (se->inclusive ? v >= se->stop : v > se->stop);
        if (!in) {
            s->done = true;
            break;
        }
        s->buf[n++] = v;
        if (__builtin_add_overflow(v, se->step, &s->next)) {
            s->done = true;
        }
    }
    if (n == 0) {
        return LH_OK;
    }
    memset(&s->col, 0, sizeof s->col);
    s->col.type = (lh_type){.id = LH_T_BIGINT};
    s->col.data = s->buf;
    out->count = n;
    out->ncols = 1;
    out->cols = &s->col;
    s->rows += n;
    return LH_OK;
}

static void
se_close(lh_source_scan *s)
{
    if (s) {
        lh_free(s->buf);
        lh_free(s);
    }
}

static void
se_stats(const lh_source_scan *s, lh_scan_stats *out)
{
    out->rows += s->rows;
}

static void
se_describe(const lh_source *src, lh_buf *out)
{
    const series *s = src->ud;
    lh_buf_printf(out, "%lld to %lld step %lld", (long long)s->start,
                  (long long)s->stop, (long long)s->step);
}

static const lh_source_vt se_vt = {
    .name = "series",
    .open = se_open,
    .next = se_next,
    .stats = se_stats,
    .close = se_close,
    .describe = se_describe,
};

lh_rc
lh__series(const char *name, const lh_value *args, uint32_t nargs, lh_arena *a,
           lh_sql_table **out, void **resource, lh_err *err)
{
    bool range = strcasecmp(name, "range") == 0;
    if (nargs < 1 || nargs > 3 || (!range && nargs < 2)) {
        return lh_err_set(err, LH_EINVAL, "%s takes %s arguments", name,
                          range ? "1 to 3" : "2 or 3");
    }
    int64_t v[3] = {0, 0, 0};
    for (uint32_t i = 0; i < nargs; i++) {
        if (args[i].is_null || !(args[i].type.id == LH_T_INTEGER ||
                                 args[i].type.id == LH_T_BIGINT ||
                                 args[i].type.id == LH_T_SMALLINT)) {
            return lh_err_set(err, LH_EINVAL,
                              "the arguments of %s must be integers", name);
        }
        v[i] = args[i].u.i;
    }
    series *s = lh_calloc(1, sizeof(series));
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *resource = s;
    if (range && nargs == 1) {
        s->start = 0;
        s->stop = v[0];
    } else {
        s->start = v[0];
        s->stop = v[1];
    }
    s->step = nargs == 3 ? v[2] : 1;
    if (s->step == 0) {
        return lh_err_set(err, LH_EINVAL, "step size cannot equal zero");
    }
    s->inclusive = !range;
    s->src.vt = &se_vt;
    s->src.ud = s;
    lh_sql_table *t = lh_arena_calloc(a, sizeof(lh_sql_table));
    lh_sql_column *c = lh_arena_calloc(a, sizeof(lh_sql_column));
    if (t == NULL || c == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    c->name = range ? "range" : "generate_series";
    c->type = (lh_type){.id = LH_T_BIGINT};
    t->name = c->name;
    t->kind = LH_SQL_TABLE_FUNCTION;
    t->cols = c;
    t->ncols = 1;
    t->ts_col = -1;
    t->source = &s->src;
    double span = (double)(s->stop - s->start) / (double)s->step;
    t->est_rows = span > 0 ? span : 1;
    *out = t;
    return LH_OK;
}

void
lh__series_free(void *resource)
{
    lh_free(resource);
}
