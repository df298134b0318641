/*
 * The lake of a table: its Iceberg table's schema, partition spec and
 * store, and the per-shard marks of the current snapshot
 * (pipeline_int.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/pipeline_int.h"

typedef struct envelope_col {
    int32_t id;
    const char *name;
    const char *ice; /* the Iceberg type */
    bool required;
} envelope_col;

static const envelope_col envelope[] = {
    {LH__F_EVENT_ID, "event_id", "uuid", true},
    {LH__F_STREAM, "stream", "string", true},
    {LH__F_VERSION, "version", "long", true},
    {LH__F_TYPE, "type", "string", true},
    {LH__F_TS, "ts", "timestamp", true},
    {LH__F_COMMITTED_AT, "committed_at", "timestamp", true},
    {LH__F_SHARD, "shard", "int", true},
    {LH__F_POSITION, "position", "long", true},
    {LH__F_PARTITION_KEY, "partition_key", "string", true},
    {LH__F_SCHEMA_VERSION, "schema_version", "int", true},
    {LH__F_TIER_HINT, "tier_hint", "string", false},
    {LH__F_TTL_SECONDS, "ttl_seconds", "long", false},
    {LH__F_CONTENT_HASH, "content_hash", "long", true},
    {LH__F_EMBEDDING, "embedding", "binary", false},
    {LH__F_LIST_ID, "list_id", "int", false},
    {LH__F_PQ_CODE, "pq_code", "binary", false},
};

/* The Iceberg type of a payload column's type, into buf. */
static lh_rc
ice_type(const lh_coldef *c, char *buf, size_t n, lh_err *err)
{
    const char *s = NULL;
    switch ((lh_type_id)c->type.id) {
    case LH_T_BOOLEAN:
        s = "boolean";
        break;
    case LH_T_SMALLINT:
    case LH_T_INTEGER:
        s = "int";
        break;
    case LH_T_BIGINT:
        s = "long";
        break;
    case LH_T_REAL:
        s = "float";
        break;
    case LH_T_DOUBLE:
        s = "double";
        break;
    case LH_T_DECIMAL:
        snprintf(buf, n, "decimal(%u,%u)", c->type.precision, c->type.scale);
        return LH_OK;
    case LH_T_VARCHAR:
    case LH_T_JSON:
        s = "string";
        break;
    case LH_T_BLOB:
    case LH_T_VECTOR:
        s = "binary";
        break;
    case LH_T_DATE:
        s = "date";
        break;
    case LH_T_TIME:
        s = "time";
        break;
    case LH_T_TIMESTAMP:
        s = "timestamp";
        break;
    case LH_T_TIMESTAMPTZ:
        s = "timestamptz";
        break;
    case LH_T_UUID:
        s = "uuid";
        break;
    default:
        break;
    }
    if (s == NULL) {
        char tn[40];
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: column \"%s\" of type %s in the lake",
                          c->name, lh_type_name(c->type, tn));
    }
    snprintf(buf, n, "%s", s);
    return LH_OK;
}

static lh_rc
build_schema(lh__lake *l, lh_err *err)
{
    const lh_tabledef *d = l->t->def;
    lh_buf j = LH_BUF_INIT;
    lh_buf_puts(&j, "{\"type\":\"struct\",\"schema-id\":0,\"fields\":[");
    uint32_t n = 0;
    for (size_t i = 0; i < LH_ARRAY_LEN(envelope); i++) {
        if (envelope[i].id >= LH__F_EMBEDDING && d->embedding_dim == 0) {
            continue;
        }
        lh_buf_printf(&j,
                      "%s{\"id\":%d,\"name\":\"%s\",\"required\":%s,"
                      "\"type\":\"%s\"}",
                      n ? "," : "", (int)envelope[i].id, envelope[i].name,
                      envelope[i].required ? "true" : "false", envelope[i].ice);
        n++;
    }
    lh_rc rc = LH_OK;
    for (size_t i = 0; rc == LH_OK && i < d->ncols; i++) {
        char t[64];
        rc = ice_type(&d->cols[i], t, sizeof(t), err);
        /* Column names are plain identifiers (lh__name_valid): no JSON
         * escaping needed. */
        lh_buf_printf(&j,
                      ",{\"id\":%d,\"name\":\"%s\",\"required\":%s,"
                      "\"type\":\"%s\"}",
                      (int)d->cols[i].field_id, d->cols[i].name,
                      d->cols[i].nullable ? "false" : "true", t);
    }
    lh_buf_puts(&j, "]}");
    if (rc == LH_OK && !lh_buf_ok(&j)) {
        rc = lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    if (rc == LH_OK) {
        rc = lh_ice_schema_parse_json(j.data, j.len, &l->a, &l->schema, err);
    }
    lh_buf_release(&j);
    if (rc != LH_OK) {
        return rc;
    }
    l->ncols = l->schema.type.nfields;
    l->cols = lh_arena_calloc(&l->a, l->ncols * sizeof(*l->cols));
    if (l->cols == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < l->ncols; i++) {
        const lh_ice_field *f = &l->schema.type.fields[i];
        lh__lake_col *c = &l->cols[i];
        c->field_id = f->id;
        c->name = f->name;
        c->type = lh_ice_type_to_lh(&f->type);
        c->payload = -1;
        for (size_t k = 0; k < d->ncols; k++) {
            if (d->cols[k].field_id == f->id) {
                c->payload = (int)k;
                c->src = d->cols[k].type;
            }
        }
    }
    return LH_OK;
}

/* The lake column index of a name (envelope or payload), or -1. */
static int
col_index(const lh__lake *l, const char *name)
{
    for (uint32_t i = 0; i < l->ncols; i++) {
        if (strcasecmp(l->cols[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* partition_by (checked by schema.c) as a one-field spec. */
static lh_rc
build_spec(lh__lake *l, lh_err *err)
{
    const char *text =
        l->t->def->partition_by ? l->t->def->partition_by : "day(ts)";
    char buf[160];
    size_t j = 0;
    for (const char *p = text; *p && j + 1 < sizeof(buf); p++) {
        if (!isspace((unsigned char)*p)) {
            buf[j++] = *p;
        }
    }
    buf[j] = 0;
    char fn[32] = "identity", tr[200], col[160];
    const char *open = strchr(buf, '(');
    if (open == NULL) {
        snprintf(col, sizeof(col), "%s", buf);
        snprintf(tr, sizeof(tr), "identity");
    } else {
        size_t fl = LH_MIN((size_t)(open - buf), sizeof(fn) - 1);
        memcpy(fn, buf, fl);
        fn[fl] = 0;
        for (char *p = fn; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
        const char *inner = open + 1;
        size_t il = strlen(inner);
        il = il > 0 ? il - 1 : 0; /* the ')' */
        const char *comma = memchr(inner, ',', il);
        if (comma != NULL) {
            snprintf(tr, sizeof(tr), "%s[%.*s]", fn, (int)(comma - inner),
                     inner);
            snprintf(col, sizeof(col), "%.*s",
                     (int)(il - (size_t)(comma - inner) - 1), comma + 1);
        } else {
            snprintf(tr, sizeof(tr), "%s", fn);
            snprintf(col, sizeof(col), "%.*s", (int)il, inner);
        }
    }
    int ci = col_index(l, col);
    if (ci < 0) {
        return lh_err_set(err, LH_EINVAL,
                          "table \"%s\": partition_by \"%s\" names no column",
                          l->t->def->name, text);
    }
    lh_ice_partition_field *pf = lh_arena_calloc(&l->a, sizeof(*pf));
    int32_t *src = lh_arena_calloc(&l->a, sizeof(*src));
    char *name = lh_arena_alloc(&l->a, 120);
    char *trs = lh_arena_strdup(&l->a, tr);
    if (pf == NULL || src == NULL || name == NULL || trs == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    *src = l->cols[ci].field_id;
    pf->source_id = *src;
    pf->source_ids = src;
    pf->nsource_ids = 1;
    pf->field_id = 1000;
    if (strcmp(fn, "identity") == 0) {
        snprintf(name, 120, "%s", l->cols[ci].name);
    } else {
        snprintf(name, 120, "%s_%s", l->cols[ci].name, fn);
    }
    pf->name = name;
    lh_ice_transform_parse(trs, &pf->transform);
    l->spec.spec_id = 0;
    l->spec.fields = pf;
    l->spec.nfields = 1;
    return LH_OK;
}

static lh_rc
build_cluster(lh__lake *l, lh_err *err)
{
    const lh_tabledef *d = l->t->def;
    l->cluster = lh_arena_calloc(&l->a, (d->ncluster + 2) * sizeof(int32_t));
    if (l->cluster == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < d->ncluster; i++) {
        int ci = col_index(l, d->cluster_by[i]);
        if (ci >= 0) {
            l->cluster[l->ncluster++] = ci;
        }
    }
    l->cluster[l->ncluster++] = col_index(l, "ts");
    return LH_OK;
}

lh_rc
lh__lake_store_uri(lh_db *db, const lh_tabledef *def, bool make, char **uri,
                   lh_err *err)
{
    *uri = NULL;
    const char *lake = def->policy.lake;
    lh_buf b = LH_BUF_INIT;
    if (lake != NULL) {
        lh_buf_puts(&b, lake);
        while (b.len > 0 && b.data[b.len - 1] == '/') {
            b.data[--b.len] = 0;
        }
    } else {
        char *abs = realpath(db->dir, NULL);
        if (abs == NULL) {
            return lh_err_sys(err, LH_EIO, errno, "could not resolve \"%s\"",
                              db->dir);
        }
        lh_buf_printf(&b, "file://%s/lake", abs);
        free(abs);
        if (make && lh_buf_ok(&b) && mkdir(b.data + 7, 0777) != 0 &&
            errno != EEXIST) {
            lh_rc rc = lh_err_sys(err, LH_EIO, errno, "could not create \"%s\"",
                                  b.data + 7);
            lh_buf_release(&b);
            return rc;
        }
    }
    *uri = lh_buf_ok(&b) ? lh_strdup(b.data) : NULL;
    lh_buf_release(&b);
    return *uri != NULL ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
}

/* The store URI: the policy's, else file://<absolute DIR>/lake (made). */
static lh_rc
store_uri(lh__lake *l, lh_err *err)
{
    lh_rc rc = lh__lake_store_uri(l->t->db, l->t->def, !l->t->db->readonly,
                                  &l->uri, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "%s/%s", l->uri, l->t->def->name);
    l->location = lh_buf_ok(&b) ? lh_strdup(b.data) : NULL;
    lh_buf_release(&b);
    if (l->location == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    return LH_OK;
}

lh_rc
lh__lake_open(lh_table *t, lh__lake **out, lh_err *err)
{
    *out = NULL;
    lh__lake *l = lh_calloc(1, sizeof(*l));
    if (l == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    l->t = t;
    lh_arena_init(&l->a, 0);
    pthread_mutex_init(&l->mu, NULL);
    l->marks = lh_arena_calloc(&l->a, (size_t)t->nshards * sizeof(int64_t));
    lh_rc rc = l->marks ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
    if (rc == LH_OK) {
        rc = build_schema(l, err);
    }
    if (rc == LH_OK) {
        rc = build_spec(l, err);
    }
    if (rc == LH_OK) {
        rc = build_cluster(l, err);
    }
    if (rc == LH_OK) {
        rc = store_uri(l, err);
    }
    if (rc == LH_OK) {
        rc = lh__lake_refresh(l, err);
    }
    if (rc != LH_OK) {
        lh__lake_close(l);
        return rc;
    }
    *out = l;
    return LH_OK;
}

void
lh__lake_close(lh__lake *l)
{
    if (l == NULL) {
        return;
    }
    lh_ice_table_close(l->ice);
    lh_free(l->uri);
    lh_free(l->location);
    lh_arena_release(&l->a);
    pthread_mutex_destroy(&l->mu);
    lh_free(l);
}

lh_rc
lh__lake_create(lh__lake *l, lh_err *err)
{
    if (l->ice != NULL) {
        return LH_OK;
    }
    lh_ice_kv props[] = {{"lakehouse.table", l->t->def->name},
                         {"write.format.default", "parquet"}};
    lh_ice_create_opts o = {.store = l->uri,
                            .location = l->location,
                            .format_version = 2,
                            .properties = props,
                            .nproperties = LH_ARRAY_LEN(props)};
    lh_rc rc = lh_ice_table_create(l->t->def->name, &l->schema, &l->spec, &o,
                                   &l->ice, err);
    if (rc == LH_EEXIST) { /* made by a run that died before using it */
        rc = lh__lake_refresh(l, err);
        if (rc == LH_OK && l->ice == NULL) {
            rc = lh_err_set(err, LH_ECORRUPT,
                            "the lake of \"%s\" exists but does not open",
                            l->t->def->name);
        }
    }
    return rc;
}

lh_rc
lh__lake_refresh(lh__lake *l, lh_err *err)
{
    lh_rc rc;
    if (l->ice == NULL) {
        lh_ice_open_opts o = {.store = l->uri};
        lh_err e;
        rc = lh_ice_table_open(l->t->def->name, &o, &l->ice, &e);
        if (rc == LH_ENOENT) {
            l->ice = NULL;
            return LH_OK; /* no lake yet: every mark is 0 */
        }
        if (rc != LH_OK) {
            if (err != NULL) {
                *err = e;
            }
            return rc;
        }
    } else {
        rc = lh_ice_table_refresh(l->ice, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    memset(l->marks, 0, (size_t)l->t->nshards * sizeof(int64_t));
    const lh_ice_meta *m = lh_ice_table_meta(l->ice);
    const lh_ice_snapshot *s = lh_ice_meta_current_snapshot(m);
    for (uint32_t i = 0; s != NULL && i < s->nsummary; i++) {
        if (strcmp(s->summary[i].key, LH__MARKS_KEY) == 0) {
            return lh__marks_parse(s->summary[i].value, l->marks, l->t->nshards,
                                   err);
        }
    }
    return LH_OK;
}

lh_rc
lh__marks_format(const int64_t *marks, int n, lh_buf *out)
{
    lh_buf_reset(out);
    for (int i = 0; i < n; i++) {
        lh_buf_printf(out, "%s%d:%lld", i ? "," : "", i, (long long)marks[i]);
    }
    return lh_buf_ok(out) ? LH_OK : LH_ENOMEM;
}

lh_rc
lh__marks_parse(const char *s, int64_t *marks, int n, lh_err *err)
{
    memset(marks, 0, (size_t)n * sizeof(int64_t));
    const char *p = s;
    while (*p != 0) {
        char *end;
        errno = 0;
        long sh = strtol(p, &end, 10);
        if (end == p || *end != ':' || sh < 0 || sh >= n) {
            goto bad;
        }
        p = end + 1;
        long long pos = strtoll(p, &end, 10);
        if (end == p || errno != 0 || pos < 0 || (*end != ',' && *end != 0)) {
            goto bad;
        }
        marks[sh] = pos;
        p = *end == ',' ? end + 1 : end;
    }
    return LH_OK;
bad:
    return lh_err_set(err, LH_ECORRUPT,
                      "snapshot summary %s \"%.80s\" is not a list of "
                      "shard:position for %d shards",
                      LH__MARKS_KEY, s, n);
}

int
lh__lake_col_index(const lh__lake *l, int32_t field_id)
{
    for (uint32_t i = 0; i < l->ncols; i++) {
        if (l->cols[i].field_id == field_id) {
            return (int)i;
        }
    }
    return -1;
}
