/*
 * Memory tables: the rows of a session's TEMP tables (and of every table
 * of a session without a data directory, which the sqllogictest runner
 * uses), as compact column batches. A scan hands the stored batches out
 * (the requested columns, no copy); an append copies the rows in.
 *
 * Thread rules: a memory table belongs to its session; scans of one
 * statement may run on several threads (they only read), appends happen
 * between statements.
 */
#include <string.h>

#include "exec/exec_int.h"
#include "exec/memtable.h"

struct lh_memtable {
    char *name;
    lh_sql_column *cols;
    uint32_t ncols;
    lh_batch *chunks;
    uint32_t nchunks, cap;
    uint64_t rows;
    lh_arena arena;
    lh_source src;
};

static const lh_source_vt memtable_vt;

lh_rc
lh__memtable_new(const char *name, const lh_sql_column *cols, uint32_t ncols,
                 lh_memtable **out, lh_err *err)
{
    lh_memtable *t = lh_calloc(1, sizeof(lh_memtable));
    if (t == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    lh_arena_init(&t->arena, 0);
    t->name = lh_arena_strdup(&t->arena, name);
    t->cols =
        lh_arena_calloc(&t->arena, (ncols ? ncols : 1) * sizeof(lh_sql_column));
    if (t->name == NULL || t->cols == NULL) {
        lh__memtable_free(t);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < ncols; i++) {
        t->cols[i] = cols[i];
        t->cols[i].name = lh_arena_strdup(&t->arena, cols[i].name);
        if (cols[i].default_sql) {
            t->cols[i].default_sql =
                lh_arena_strdup(&t->arena, cols[i].default_sql);
            if (t->cols[i].default_sql == NULL) {
                lh__memtable_free(t);
                return lh_err_set(err, LH_ENOMEM, "out of memory");
            }
        }
        if (t->cols[i].name == NULL) {
            lh__memtable_free(t);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    t->ncols = ncols;
    t->src.vt = &memtable_vt;
    t->src.ud = t;
    *out = t;
    return LH_OK;
}

void
lh__memtable_free(lh_memtable *t)
{
    if (t == NULL) {
        return;
    }
    lh_free(t->chunks);
    lh_arena_release(&t->arena);
    lh_free(t);
}

const char *
lh__memtable_name(const lh_memtable *t)
{
    return t->name;
}

uint64_t
lh__memtable_rows(const lh_memtable *t)
{
    return t->rows;
}

const lh_sql_column *
lh__memtable_cols(const lh_memtable *t, uint32_t *n)
{
    *n = t->ncols;
    return t->cols;
}

const lh_source *
lh__memtable_source(const lh_memtable *t)
{
    return &t->src;
}

lh_rc
lh__memtable_append(lh_memtable *t, const lh_batch *b, lh_err *err)
{
    uint32_t n = b->sel ? b->nsel : b->count;
    if (n == 0) {
        return LH_OK;
    }
    for (uint32_t c = 0; c < t->ncols; c++) {
        if (!t->cols[c].nullable) {
            for (uint32_t i = 0; i < n; i++) {
                if (!lh_vec_valid(&b->cols[c], lh_row(b->sel, i))) {
                    return lh_err_set(err, LH_EINVAL,
                                      "null value in column \"%s\" of "
                                      "relation \"%s\" violates not-null "
                                      "constraint",
                                      t->cols[c].name, t->name);
                }
            }
        }
    }
    if (t->nchunks == t->cap) {
        uint32_t ncap = t->cap ? t->cap * 2 : 16;
        lh_batch *nc = lh_realloc(t->chunks, ncap * sizeof(lh_batch));
        if (nc == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        t->chunks = nc;
        t->cap = ncap;
    }
    /* small appends (INSERT ... VALUES one row at a time) go into the
     * last chunk while it has room, so scans see few batches */
    if (t->nchunks && t->chunks[t->nchunks - 1].count + n <= LH_BATCH_ROWS &&
        t->chunks[t->nchunks - 1].count < 64) {
        lh_batch *last = &t->chunks[t->nchunks - 1];
        lh_batch merged = {.count = last->count + n, .ncols = t->ncols};
        merged.cols = lh_arena_calloc(&t->arena, t->ncols * sizeof(lh_vector));
        if (merged.cols == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t c = 0; c < t->ncols; c++) {
            lh_rc rc = lh_vector_alloc(&merged.cols[c], t->cols[c].type,
                                       merged.count, true, &t->arena, err);
            if (rc != LH_OK) {
                return rc;
            }
            for (uint32_t i = 0; i < last->count; i++) {
                lh__vec_copy_row(&t->arena, &merged.cols[c], i, &last->cols[c],
                                 i, false, NULL);
            }
            for (uint32_t i = 0; i < n; i++) {
                rc = lh__vec_copy_row(&t->arena, &merged.cols[c],
                                      last->count + i, &b->cols[c],
                                      lh_row(b->sel, i), true, err);
                if (rc != LH_OK) {
                    return rc;
                }
            }
        }
        *last = merged;
        t->rows += n;
        return LH_OK;
    }
    lh_batch copy;
    lh_batch narrow = *b;
    narrow.ncols = t->ncols;
    lh_rc rc = lh__batch_copy(&t->arena, &narrow, &copy, err);
    if (rc != LH_OK) {
        return rc;
    }
    for (uint32_t c = 0; c < t->ncols; c++) {
        copy.cols[c].type = t->cols[c].type;
    }
    t->chunks[t->nchunks++] = copy;
    t->rows += n;
    return LH_OK;
}

lh_rc
lh__memtable_set_cols(lh_memtable *t, const lh_sql_column *cols, uint32_t ncols,
                      const int32_t *from, lh_err *err)
{
    /* ALTER TABLE: rebuild each chunk with the new columns (from[i] is
     * the old index of new column i, or -1 for a new, NULL, column) */
    lh_sql_column *nc =
        lh_arena_calloc(&t->arena, (ncols ? ncols : 1) * sizeof(lh_sql_column));
    if (nc == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < ncols; i++) {
        nc[i] = cols[i];
        nc[i].name = lh_arena_strdup(&t->arena, cols[i].name);
        if (cols[i].default_sql) {
            nc[i].default_sql = lh_arena_strdup(&t->arena, cols[i].default_sql);
        }
        if (nc[i].name == NULL || (cols[i].default_sql && !nc[i].default_sql)) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    for (uint32_t k = 0; k < t->nchunks; k++) {
        lh_batch *ch = &t->chunks[k];
        lh_vector *vs =
            lh_arena_calloc(&t->arena, (ncols ? ncols : 1) * sizeof(lh_vector));
        if (vs == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t i = 0; i < ncols; i++) {
            if (from[i] >= 0) {
                vs[i] = ch->cols[from[i]];
            } else {
                lh_rc rc = lh_vector_alloc(&vs[i], cols[i].type, ch->count,
                                           true, &t->arena, err);
                if (rc != LH_OK) {
                    return rc;
                }
                memset(vs[i].validity, 0, ((size_t)ch->count + 63) / 64 * 8);
            }
        }
        ch->cols = vs;
        ch->ncols = ncols;
    }
    t->cols = nc;
    t->ncols = ncols;
    return LH_OK;
}

lh_rc
lh__memtable_rename(lh_memtable *t, const char *name, lh_err *err)
{
    char *n = lh_arena_strdup(&t->arena, name);
    if (n == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    t->name = n;
    return LH_OK;
}

/* ---- the source
 * -------------------------------------------------------------- */

struct lh_source_scan {
    lh_memtable *t;
    lh_scan_request req;
    uint32_t next;
    _Atomic uint32_t *shared_next;
    lh_vector *cols;
    uint64_t rows;
};

static lh_rc
mt_share(const lh_source *src, const lh_scan_request *req, void **shared,
         lh_err *err)
{
    (void)src;
    (void)req;
    _Atomic uint32_t *c = lh_calloc(1, sizeof(_Atomic uint32_t));
    if (c == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    atomic_store(c, 0);
    *shared = (void *)c;
    return LH_OK;
}

static void
mt_free_shared(void *shared)
{
    lh_free(shared);
}

static lh_rc
mt_open(const lh_source *src, const lh_scan_request *req, void *shared,
        lh_source_scan **out, lh_err *err)
{
    lh_source_scan *s = lh_calloc(1, sizeof(lh_source_scan));
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    s->t = src->ud;
    s->req = *req;
    s->shared_next = shared;
    s->cols = lh_calloc(req->ncols ? req->ncols : 1, sizeof(lh_vector));
    if (s->cols == NULL) {
        lh_free(s);
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *out = s;
    return LH_OK;
}

static lh_rc
mt_next(lh_source_scan *s, lh_batch *out, lh_err *err)
{
    (void)err;
    uint32_t k =
        s->shared_next ? atomic_fetch_add(s->shared_next, 1) : s->next++;
    memset(out, 0, sizeof *out);
    if (k >= s->t->nchunks) {
        return LH_OK;
    }
    const lh_batch *ch = &s->t->chunks[k];
    for (uint32_t i = 0; i < s->req.ncols; i++) {
        s->cols[i] = ch->cols[s->req.cols[i]];
    }
    out->count = ch->count;
    out->ncols = s->req.ncols;
    out->cols = s->cols;
    s->rows += ch->count;
    return LH_OK;
}

static void
mt_stats(const lh_source_scan *s, lh_scan_stats *out)
{
    out->rows += s->rows;
}

static void
mt_close(lh_source_scan *s)
{
    if (s) {
        lh_free(s->cols);
        lh_free(s);
    }
}

static void
mt_describe(const lh_source *src, lh_buf *out)
{
    const lh_memtable *t = src->ud;
    lh_buf_printf(out, "memory, %llu rows", (unsigned long long)t->rows);
}

static const lh_source_vt memtable_vt = {
    .name = "memory",
    .share = mt_share,
    .free_shared = mt_free_shared,
    .open = mt_open,
    .next = mt_next,
    .stats = mt_stats,
    .close = mt_close,
    .describe = mt_describe,
};
