/*
 * Compaction (warm to cold): a partition whose events are all older than
 * the warm window, and which still has warm files, is rewritten into the
 * cold layout: every row of its files (warm and any cold ones) re-sorted
 * by cluster_by, ts and position into files of about cold_file_size with
 * large row groups (cold_row_group_rows) under data/cold/; all the
 * partitions of a run are committed as one Iceberg "replace" that removes
 * the old files and keeps the marks. In a table with an embedding, each
 * file's rows are then ordered by the warm index's list (re-encoded with
 * the latest codebook): the cold tier's clustered layout. A
 * crash before the commit leaves orphan files and the old ones in place;
 * after it, the new ones. The old files stay readable by older snapshots
 * until those expire (snapshot expiry, run after compaction, deletes
 * them).
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline_int.h"

static int
part_cmp(const lh_value *a, const lh_value *b)
{
    if (a->is_null || b->is_null) {
        return (int)b->is_null - (int)a->is_null;
    }
    return lh_ice_value_cmp(a, b);
}

static const lh_value *
file_part(const lh_ice_task *t)
{
    static const lh_value null_value = {.is_null = true};
    return t->file->npartition > 0 ? &t->file->partition[0] : &null_value;
}

static int
task_cmp(const void *pa, const void *pb)
{
    const lh_ice_task *a = *(const lh_ice_task *const *)pa;
    const lh_ice_task *b = *(const lh_ice_task *const *)pb;
    return part_cmp(file_part(a), file_part(b));
}

static lh_rc
put_value(lh_vector *v, uint32_t row, const lh_value *x, lh_arena *a,
          lh_err *err)
{
    if (x->is_null) {
        if (v->validity == NULL) {
            return lh_err_set(err, LH_ECORRUPT,
                              "a NULL in a required column of the lake");
        }
        lh_bit_set(v->validity, row, false);
        return LH_OK;
    }
    switch ((lh_type_id)v->type.id) {
    case LH_T_BOOLEAN:
        ((uint8_t *)v->data)[row] = x->u.b;
        break;
    case LH_T_INTEGER:
    case LH_T_DATE:
        ((int32_t *)v->data)[row] = (int32_t)x->u.i;
        break;
    case LH_T_REAL:
        ((float *)v->data)[row] = (float)x->u.d;
        break;
    case LH_T_DOUBLE:
        ((double *)v->data)[row] = x->u.d;
        break;
    case LH_T_DECIMAL:
        if (v->type.precision <= 18) {
            ((int64_t *)v->data)[row] = (int64_t)x->u.dec;
        } else {
            ((lh_i128 *)v->data)[row] = x->u.dec;
        }
        break;
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON: {
        const char *p = x->u.s.len > LH_STR_INLINE
                            ? lh_arena_memdup(a, x->u.s.p, x->u.s.len)
                            : x->u.s.p;
        if (p == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        ((lh_str *)v->data)[row] = lh_str_make(p, (uint32_t)x->u.s.len);
        break;
    }
    case LH_T_UUID:
        ((lh_uuid *)v->data)[row] = x->u.uuid;
        break;
    default:
        ((int64_t *)v->data)[row] = x->u.i;
        break;
    }
    return LH_OK;
}

lh_rc
lh__read_tasks(lh__lake *l, const lh_ice_plan *plan, lh_ice_task *const *tasks,
               uint32_t ntasks, lh__rows *r, lh_err *err)
{
    int64_t total = 0;
    for (uint32_t i = 0; i < ntasks; i++) {
        total += tasks[i]->file->record_count;
    }
    if (total > UINT32_MAX / 2) {
        return lh_err_set(err, LH_ELIMIT,
                          "a partition of \"%s\" is too large to compact",
                          l->t->def->name);
    }
    r->cols = lh_arena_calloc(&r->a, l->ncols * sizeof(lh_vector));
    int32_t *ids = lh_arena_calloc(&r->a, l->ncols * sizeof(int32_t));
    if (r->cols == NULL || ids == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t c = 0; c < l->ncols; c++) {
        ids[c] = l->cols[c].field_id;
        lh_rc rc =
            lh_vector_alloc(&r->cols[c], l->cols[c].type, (uint32_t)total,
                            !l->schema.type.fields[c].required, &r->a, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    lh_arena tmp;
    lh_arena_init(&tmp, 0);
    lh_rc rc = LH_OK;
    for (uint32_t i = 0; rc == LH_OK && i < ntasks; i++) {
        lh_ice_reader *rd = NULL;
        rc = lh_ice_read_open(l->ice, plan, tasks[i], ids, l->ncols, &rd, err);
        while (rc == LH_OK) {
            lh_batch b;
            rc = lh_ice_read_next(rd, &b, err);
            if (rc != LH_OK || b.count == 0) {
                break;
            }
            uint32_t n = b.sel ? b.nsel : b.count;
            for (uint32_t k = 0; rc == LH_OK && k < n; k++) {
                uint32_t row = b.sel ? b.sel[k] : k;
                if (r->n >= (uint32_t)total) {
                    rc = lh_err_set(err, LH_ECORRUPT,
                                    "a data file of \"%s\" holds more rows "
                                    "than its record count",
                                    l->t->def->name);
                    break;
                }
                for (uint32_t c = 0; rc == LH_OK && c < l->ncols; c++) {
                    lh_value v;
                    rc = lh_vector_value(&b.cols[c], row, &tmp, &v, err);
                    if (rc == LH_OK) {
                        rc = put_value(&r->cols[c], r->n, &v, &r->a, err);
                    }
                }
                r->n++;
            }
            lh_arena_reset(&tmp);
        }
        if (rd != NULL) {
            lh_ice_read_close(rd);
        }
    }
    lh_arena_release(&tmp);
    return rc;
}

/* What one compaction replaces and adds (one commit for all). */
typedef struct change {
    lh_arena fa; /* the file descriptions */
    lh_ice_data_file *add;
    uint32_t nadd, cap_add;
    const char **remove;
    uint32_t nremove, cap_remove;
} change;

static lh_rc
grow(lh_arena *a, void **arr, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap) {
        return LH_OK;
    }
    uint32_t cap2 = LH_MAX(need, *cap * 2 + 8);
    void *p = lh_arena_calloc(a, (size_t)cap2 * size);
    if (p == NULL) {
        return LH_ENOMEM;
    }
    if (*cap > 0) {
        memcpy(p, *arr, (size_t)*cap * size);
    }
    *arr = p;
    *cap = cap2;
    return LH_OK;
}

/* Rewrites one partition's files (tasks[0..n)) in the cold layout into
 * ch. */
static lh_rc
rewrite_partition(lh__lake *l, const lh_ice_plan *plan,
                  lh_ice_task *const *tasks, uint32_t ntasks,
                  const lh__flush_opts *o, change *ch, lh__compact_result *res,
                  lh_err *err)
{
    const lh_hot_policy *p = &l->t->def->policy;
    lh__rows r = {0};
    lh_arena_init(&r.a, 0);
    lh_rc rc = lh__read_tasks(l, plan, tasks, ntasks, &r, err);
    uint32_t *order = NULL;
    int64_t in_bytes = 0;
    for (uint32_t i = 0; i < ntasks; i++) {
        in_bytes += tasks[i]->file->file_size;
    }
    int64_t nfiles =
        LH_MAX(1, (in_bytes + p->cold_file_size - 1) / p->cold_file_size);
    if (rc == LH_OK &&
        (grow(&ch->fa, (void **)&ch->add, &ch->cap_add,
              ch->nadd + (uint32_t)nfiles, sizeof(*ch->add)) != LH_OK ||
         grow(&ch->fa, (void **)&ch->remove, &ch->cap_remove,
              ch->nremove + ntasks, sizeof(*ch->remove)) != LH_OK)) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (rc == LH_OK && r.n > 0) {
        order = lh_malloc(r.n * sizeof(*order));
        if (order == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    uint32_t written = 0;
    /* the warm index's columns again, with the latest codebook (rows
     * flushed before it existed get theirs): each file's rows by list, a
     * clustered layout its page index reads list by list (warm.c) */
    uint32_t version = 0;
    if (rc == LH_OK && r.n > 0) {
        rc = lh__warm_encode(l, &r, &version, err);
    }
    if (rc == LH_OK && r.n > 0) {
        lh__rows_sort(l, &r, NULL, order);
        uint32_t per = (uint32_t)((r.n + nfiles - 1) / nfiles);
        for (uint32_t i = 0; rc == LH_OK && i < r.n; i += per) {
            uint32_t k = LH_MIN(per, r.n - i);
            if (version > 0) {
                rc = lh__warm_order(l, &r, order + i, k, err);
            }
            if (rc != LH_OK) {
                break;
            }
            rc = lh__write_data_file(l, "cold", p->cold_row_group_rows, "", &r,
                                     order + i, k, file_part(tasks[0]), &ch->fa,
                                     &ch->add[ch->nadd], err);
            if (rc == LH_OK) {
                res->bytes += ch->add[ch->nadd].file_size;
                ch->nadd++;
                written++;
                if (o != NULL && o->on_step != NULL) {
                    o->on_step(o->ctx, "cold-file", -1);
                }
            }
        }
    }
    if (rc == LH_OK) {
        for (uint32_t i = 0; i < ntasks; i++) {
            ch->remove[ch->nremove++] = tasks[i]->file->path;
        }
        res->partitions++;
        res->files_in += ntasks;
        res->files_out += written;
        res->rows += r.n;
    }
    lh_free(order);
    lh_arena_release(&r.a);
    return rc;
}

/* The one replace of a compaction, carrying the marks over. */
static lh_rc
commit_change(lh__lake *l, const change *ch, const lh__flush_opts *o,
              lh_err *err)
{
    pthread_mutex_lock(&l->mu);
    lh_rc rc = lh__lake_refresh(l, err);
    lh_buf marks = LH_BUF_INIT;
    if (rc == LH_OK &&
        lh__marks_format(l->marks, l->t->nshards, &marks) != LH_OK) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (rc == LH_OK) {
        lh_ice_kv sum[] = {{LH__MARKS_KEY, marks.data}};
        lh_ice_change c = {.operation = "replace",
                           .add = ch->add,
                           .nadd = ch->nadd,
                           .remove = ch->remove,
                           .nremove = ch->nremove,
                           .summary = sum,
                           .nsummary = 1,
                           .timestamp_ms = lh_now() / 1000};
        rc = lh_ice_commit(l->ice, &c, NULL, err);
    }
    lh_buf_release(&marks);
    pthread_mutex_unlock(&l->mu);
    if (rc == LH_OK && o != NULL && o->on_step != NULL) {
        o->on_step(o->ctx, "replace", -1);
    }
    return rc;
}

lh_rc
lh__compact(lh__lake *l, lh_us now, const lh__flush_opts *o,
            lh__compact_result *res, lh_err *err)
{
    pthread_mutex_lock(&l->mu);
    lh_rc rc = lh__lake_refresh(l, err);
    pthread_mutex_unlock(&l->mu);
    if (rc != LH_OK || l->ice == NULL) {
        return rc;
    }
    lh_arena a;
    lh_arena_init(&a, 0);
    lh_ice_plan plan;
    rc = lh_ice_plan_scan(l->ice, NULL, &a, &plan, err);
    lh_ice_task **tasks = NULL;
    if (rc == LH_OK && plan.ntasks > 0) {
        tasks = lh_arena_calloc(&a, plan.ntasks * sizeof(*tasks));
        if (tasks == NULL) {
            rc = lh_err_set(err, LH_ENOMEM, "out of memory");
        }
    }
    change ch = {0};
    lh_arena_init(&ch.fa, 0);
    const lh_ice_field *tsf = lh_ice_schema_find(&l->schema, LH__F_TS);
    lh_us cutoff = now - l->t->def->policy.warm_window;
    uint32_t nt = 0;
    for (uint32_t i = 0; rc == LH_OK && i < plan.ntasks; i++) {
        /* Files of another spec and files with deletes stay as they are. */
        if (plan.tasks[i].file->spec_id == l->spec.spec_id &&
            plan.tasks[i].ndeletes == 0) {
            tasks[nt++] = &plan.tasks[i];
        }
    }
    if (nt > 1) {
        qsort(tasks, nt, sizeof(*tasks), task_cmp);
    }
    for (uint32_t i = 0; rc == LH_OK && i < nt;) {
        uint32_t j = i;
        bool warm = false, old = true;
        while (j < nt &&
               part_cmp(file_part(tasks[i]), file_part(tasks[j])) == 0) {
            const lh_ice_data_file *f = tasks[j]->file;
            warm = warm || strstr(f->path, "/data/cold/") == NULL;
            bool seen = false;
            for (uint32_t k = 0; k < f->nupper; k++) {
                lh_value v;
                if (f->upper[k].id == LH__F_TS &&
                    lh_ice_value_from_bytes(&tsf->type, f->upper[k].p,
                                            f->upper[k].n, &v, NULL) == LH_OK &&
                    !v.is_null) {
                    seen = true;
                    old = old && v.u.i < cutoff;
                }
            }
            old = old && seen;
            j++;
        }
        if (warm && old) {
            rc =
                rewrite_partition(l, &plan, tasks + i, j - i, o, &ch, res, err);
        }
        i = j;
    }
    if (rc == LH_OK && ch.nremove > 0) {
        rc = commit_change(l, &ch, o, err);
    }
    lh_arena_release(&ch.fa);
    lh_arena_release(&a);
    if (rc != LH_OK) {
        lh_err_prefix(err, "compaction of \"%s\"", l->t->def->name);
    }
    return rc;
}
