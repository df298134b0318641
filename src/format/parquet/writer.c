/*
 * The Parquet writer (writer.h; the design is at the top of
 * writer_int.h): options, the schema, batches to leaf values and levels,
 * row groups, page indexes, the footer, and the atomic file sink.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "format/parquet/codec.h"
#include "format/parquet/writer_int.h"

#define CREATED_BY "lakehouse version 0.1.0"

lh_rc
lh__pqw_nomem(lh_err *err)
{
    return lh_err_set(err, LH_ENOMEM, "out of memory writing a parquet file");
}

/* As wcol.c's: grows *pp (an object pointer's address) to `need`
 * elements. */
bool
lh__pqw_grow_to(void *pp, uint32_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return true;
    }
    if (need > UINT32_MAX / 2) {
        return false;
    }
    size_t nc = *cap ? *cap : 256;
    while (nc < need) {
        nc *= 2;
    }
    void *p;
    memcpy(&p, pp, sizeof p);
    void *q = lh_realloc(p, nc * elem);
    if (q == NULL) {
        return false;
    }
    memcpy(pp, &q, sizeof q);
    *cap = (uint32_t)nc;
    return true;
}

void
lh_pq_writer_opts_init(lh_pq_writer_opts *o)
{
    memset(o, 0, sizeof *o);
    o->codec = LH_PQ_CODEC_ZSTD;
    o->row_group_rows = 122880;
    o->page_bytes = (size_t)1 << 20;
    o->dictionary = true;
    o->dict_bytes = (size_t)1 << 20;
    o->statistics = true;
    o->page_index = true;
    o->stats_bytes = 64;
    o->bloom_fpp = 0.01;
}

/* ---- the sink ------------------------------------------------------------ */

lh_rc
lh__pqw_sink_write(lh_pq_writer *w, const void *p, size_t n, lh_err *err)
{
    if (n == 0) {
        return LH_OK;
    }
    lh_rc rc = w->sink.write(w->sink.ctx, p, n, err);
    if (rc == LH_OK) {
        w->pos += n;
    }
    return rc;
}

/* Finishes the sink once: ok true commits. */
static lh_rc
sink_finish(lh_pq_writer *w, bool ok, lh_err *err)
{
    if (w->sink_done) {
        return LH_OK;
    }
    w->sink_done = true;
    if (w->sink.finish == NULL) {
        return LH_OK;
    }
    lh_err scratch;
    return w->sink.finish(w->sink.ctx, ok, ok ? err : &scratch);
}

/* ---- the schema ---------------------------------------------------------- */

typedef struct build {
    lh_pq_writer *w;
    lh_err *err;
    lh_pq_schema_element *els;
    uint32_t nels, cap;
    const lh__pqw_node *chain[LH_PQW_MAX_DEPTH + 2];
    char *path[3 * LH_PQW_MAX_DEPTH + 2];
    uint32_t depth, npath;
} build;

/* Schema elements and leaves a column needs (counted before building, so
 * the arrays never move). Anything malformed counts as little as it can:
 * build_node refuses it. */
static void
count_column(const lh_pq_wcolumn *c, int depth, uint32_t *els, uint32_t *leaves)
{
    if (depth > LH_PQW_MAX_DEPTH) {
        return;
    }
    switch (c->type.id) {
    case LH_T_LIST:
        *els += 2;
        if (c->children && c->nchildren >= 1) {
            count_column(&c->children[0], depth + 1, els, leaves);
        }
        return;
    case LH_T_VECTOR:
        *els += 3;
        *leaves += 1;
        return;
    case LH_T_MAP:
        *els += 2;
        for (uint32_t i = 0; c->children && i < c->nchildren && i < 2; i++) {
            count_column(&c->children[i], depth + 1, els, leaves);
        }
        return;
    case LH_T_STRUCT:
        *els += 1;
        for (uint32_t i = 0; c->children && i < c->nchildren; i++) {
            count_column(&c->children[i], depth + 1, els, leaves);
        }
        return;
    default:
        *els += 1;
        *leaves += 1;
        return;
    }
}

/* The fewest bytes whose two's complement holds every DECIMAL(p). */
static int32_t
decimal_bytes(int p)
{
    lh_i128 max = 1;
    for (int i = 0; i < p; i++) {
        max *= 10;
    }
    max -= 1;
    int32_t n = 1;
    while (n < 16 && max >= ((lh_i128)1 << (8 * n - 1))) {
        n++;
    }
    return n;
}

static void
set_logical(lh_pq_schema_element *el, int32_t kind)
{
    el->has_logical_type = true;
    el->logical_type.kind = kind;
}

static void
set_converted(lh_pq_schema_element *el, int32_t conv)
{
    el->has_converted_type = true;
    el->converted_type = conv;
}

/* The physical type and annotations of a primitive node, and how its
 * values are staged. */
static lh_rc
map_leaf(build *b, const lh__pqw_node *n, lh_pq_schema_element *el,
         lh__pqw_col *c)
{
    lh_type t = n->type;
    el->has_type = true;
    c->conv = LH_PQW_CV_COPY;
    switch ((lh_type_id)t.id) {
    case LH_T_BOOLEAN:
        c->phys = LH_PQ_TYPE_BOOLEAN;
        c->conv = LH_PQW_CV_BOOL;
        c->ord = LH_PQW_ORD_BOOL;
        c->vw = 1;
        break;
    case LH_T_SMALLINT:
        c->phys = LH_PQ_TYPE_INT32;
        c->conv = LH_PQW_CV_I16;
        c->ord = LH_PQW_ORD_I32;
        c->vw = 4;
        set_logical(el, LH_PQ_LT_INTEGER);
        el->logical_type.bit_width = 16;
        el->logical_type.is_signed = true;
        set_converted(el, LH_PQ_CONV_INT_16);
        break;
    case LH_T_INTEGER:
    case LH_T_DATE:
        c->phys = LH_PQ_TYPE_INT32;
        c->ord = LH_PQW_ORD_I32;
        c->vw = 4;
        if (t.id == LH_T_DATE) {
            set_logical(el, LH_PQ_LT_DATE);
            set_converted(el, LH_PQ_CONV_DATE);
        }
        break;
    case LH_T_BIGINT:
        c->phys = LH_PQ_TYPE_INT64;
        c->ord = LH_PQW_ORD_I64;
        c->vw = 8;
        break;
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        c->phys = LH_PQ_TYPE_INT64;
        c->ord = LH_PQW_ORD_I64;
        c->vw = 8;
        set_logical(el, t.id == LH_T_TIME ? LH_PQ_LT_TIME : LH_PQ_LT_TIMESTAMP);
        el->logical_type.unit = LH_PQ_UNIT_MICROS;
        el->logical_type.is_adjusted_to_utc = t.id == LH_T_TIMESTAMPTZ;
        /* The legacy annotations mean UTC-adjusted values: only
         * TIMESTAMPTZ has one. */
        if (t.id == LH_T_TIMESTAMPTZ) {
            set_converted(el, LH_PQ_CONV_TIMESTAMP_MICROS);
        }
        break;
    case LH_T_REAL:
        c->phys = LH_PQ_TYPE_FLOAT;
        c->ord = LH_PQW_ORD_FLOAT;
        c->vw = 4;
        break;
    case LH_T_DOUBLE:
        c->phys = LH_PQ_TYPE_DOUBLE;
        c->ord = LH_PQW_ORD_DOUBLE;
        c->vw = 8;
        break;
    case LH_T_DECIMAL:
        if (t.precision < 1 || t.precision > LH_DECIMAL_MAX_PRECISION ||
            t.scale > t.precision) {
            return lh_err_set(b->err, LH_EINVAL,
                              "parquet column \"%s\": DECIMAL(%u,%u) is out "
                              "of range",
                              n->name, t.precision, t.scale);
        }
        if (t.precision <= 9) {
            c->phys = LH_PQ_TYPE_INT32;
            c->conv = LH_PQW_CV_I64_I32;
            c->ord = LH_PQW_ORD_I32;
            c->vw = 4;
        } else if (t.precision <= 18) {
            c->phys = LH_PQ_TYPE_INT64;
            c->ord = LH_PQW_ORD_I64;
            c->vw = 8;
        } else {
            c->phys = LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY;
            c->type_length = decimal_bytes(t.precision);
            c->conv = LH_PQW_CV_DEC_BE;
            c->ord = LH_PQW_ORD_DEC_BE;
            c->vw = (size_t)c->type_length;
        }
        set_logical(el, LH_PQ_LT_DECIMAL);
        el->logical_type.precision = t.precision;
        el->logical_type.scale = t.scale;
        set_converted(el, LH_PQ_CONV_DECIMAL);
        el->precision = t.precision;
        el->has_precision = true;
        el->scale = t.scale;
        el->has_scale = true;
        break;
    case LH_T_VARCHAR:
    case LH_T_BLOB:
    case LH_T_JSON:
        c->phys = LH_PQ_TYPE_BYTE_ARRAY;
        c->ord = LH_PQW_ORD_BYTES;
        c->vw = sizeof(lh_str);
        if (t.id == LH_T_VARCHAR) {
            set_logical(el, LH_PQ_LT_STRING);
            set_converted(el, LH_PQ_CONV_UTF8);
            c->utf8 = true;
        } else if (t.id == LH_T_JSON) {
            set_logical(el, LH_PQ_LT_JSON);
            set_converted(el, LH_PQ_CONV_JSON);
            c->utf8 = true;
        }
        break;
    case LH_T_UUID:
        c->phys = LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY;
        c->type_length = 16;
        c->ord = LH_PQW_ORD_BYTES;
        c->vw = 16;
        set_logical(el, LH_PQ_LT_UUID);
        break;
    case LH_T_INTERVAL:
        /* No logical type exists for it; the converted type's order is
         * undefined, so no bounds either. */
        c->phys = LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY;
        c->type_length = 12;
        c->conv = LH_PQW_CV_INTERVAL;
        c->ord = LH_PQW_ORD_NONE;
        c->vw = 12;
        set_converted(el, LH_PQ_CONV_INTERVAL);
        break;
    default: {
        char tn[40];
        return lh_err_set(b->err, LH_EINVAL,
                          "parquet column \"%s\": no Parquet type for %s",
                          n->name, lh_type_name(t, tn));
    }
    }
    el->type = c->phys;
    if (c->phys == LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY) {
        el->type_length = c->type_length;
        el->has_type_length = true;
    }
    return LH_OK;
}

static lh_pq_schema_element *
next_el(build *b, const char *name, int rep)
{
    lh_pq_schema_element *el = &b->els[b->nels++];
    memset(el, 0, sizeof *el);
    el->name = (char *)name;
    el->repetition_type = rep;
    el->has_repetition_type = true;
    return el;
}

static lh_rc build_node(build *b, lh__pqw_node *n, const lh_pq_wcolumn *src,
                        const char *name, int16_t d_slot, int16_t rep,
                        int depth);

static lh_rc
build_children(build *b, lh__pqw_node *n, const lh_pq_wcolumn *src,
               const char *const *names, uint32_t nc, int16_t d_slot,
               int16_t rep, int depth)
{
    n->children = lh_arena_calloc(&b->w->arena, nc * sizeof *n->children);
    if (n->children == NULL) {
        return lh__pqw_nomem(b->err);
    }
    n->nchildren = nc;
    for (uint32_t i = 0; i < nc; i++) {
        const char *nm = names ? names[i] : src[i].name;
        for (uint32_t k = 0; !names && k < i; k++) {
            if (strcmp(src[k].name, nm) == 0) {
                return lh_err_set(b->err, LH_EINVAL,
                                  "parquet column \"%s\": two fields named "
                                  "\"%s\"",
                                  n->name, nm);
            }
        }
        lh_rc rc =
            build_node(b, &n->children[i], &src[i], nm, d_slot, rep, depth + 1);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
build_leaf(build *b, lh__pqw_node *n, lh_pq_schema_element *el)
{
    lh_pq_writer *w = b->w;
    n->shape = LH_PQW_PRIM;
    n->leaf = (int32_t)w->nleaves;
    lh__pqw_col *c = &w->cols[w->nleaves];
    lh_rc rc = map_leaf(b, n, el, c);
    if (rc != LH_OK) {
        return rc;
    }
    if (n->bloom && c->phys == LH_PQ_TYPE_BOOLEAN) {
        return lh_err_set(b->err, LH_EINVAL,
                          "parquet column \"%s\": no Bloom filter on a "
                          "BOOLEAN column",
                          n->name);
    }
    /* build_node has pushed n onto the path and the chain already. */
    uint32_t np = b->npath;
    char **path = lh_arena_alloc(&w->arena, np * sizeof *path);
    const lh__pqw_node **chain =
        lh_arena_alloc(&w->arena, b->depth * sizeof *chain);
    if (path == NULL || chain == NULL) {
        return lh__pqw_nomem(b->err);
    }
    memcpy(path, b->path, np * sizeof *path);
    memcpy(chain, b->chain, b->depth * sizeof *chain);
    w->leaf_nodes[w->nleaves] = n;
    w->chains[w->nleaves] = chain;
    w->nchain[w->nleaves] = b->depth;
    w->nleaves++;
    return lh__pqw_col_init(c, w, n, path, np, b->err);
}

static lh_rc
build_node(build *b, lh__pqw_node *n, const lh_pq_wcolumn *src,
           const char *name, int16_t d_slot, int16_t rep, int depth)
{
    lh_pq_writer *w = b->w;
    if (depth > LH_PQW_MAX_DEPTH) {
        return lh_err_set(b->err, LH_EINVAL,
                          "parquet column \"%s\": nested deeper than %d "
                          "levels",
                          name ? name : "", LH_PQW_MAX_DEPTH);
    }
    if (name == NULL || name[0] == 0) {
        return lh_err_set(b->err, LH_EINVAL, "parquet column without a name");
    }
    memset(n, 0, sizeof *n);
    n->name = lh_arena_strdup(&w->arena, name);
    if (n->name == NULL) {
        return lh__pqw_nomem(b->err);
    }
    n->type = src->type;
    n->nullable = src->nullable;
    n->has_field_id = src->has_field_id;
    n->field_id = src->field_id;
    n->bloom = src->bloom;
    n->no_dict = src->no_dict;
    n->def = (int16_t)(d_slot + (src->nullable ? 1 : 0));
    n->rep = rep;
    n->leaf = -1;
    n->first_leaf = w->nleaves;
    lh_pq_schema_element *el = next_el(
        b, n->name, src->nullable ? LH_PQ_REP_OPTIONAL : LH_PQ_REP_REQUIRED);
    el->field_id = src->field_id;
    el->has_field_id = src->has_field_id;
    bool group = src->type.id == LH_T_LIST || src->type.id == LH_T_MAP ||
                 src->type.id == LH_T_STRUCT || src->type.id == LH_T_VECTOR;
    if (group && src->bloom) {
        return lh_err_set(b->err, LH_EINVAL,
                          "parquet column \"%s\": Bloom filters are for "
                          "primitive columns",
                          n->name);
    }
    b->chain[b->depth++] = n;
    b->path[b->npath++] = n->name;
    lh_rc rc = LH_OK;
    int16_t erep = (int16_t)(rep + 1);
    switch (src->type.id) {
    case LH_T_LIST:
    case LH_T_VECTOR: {
        lh_pq_wcolumn vel;
        const lh_pq_wcolumn *elem;
        if (src->type.id == LH_T_VECTOR) {
            if (src->type.dim < 1) {
                rc = lh_err_set(b->err, LH_EINVAL,
                                "parquet column \"%s\": FLOAT[%u] has no "
                                "elements",
                                n->name, src->type.dim);
                break;
            }
            memset(&vel, 0, sizeof vel);
            vel.name = "element";
            vel.type.id = LH_T_REAL;
            elem = &vel;
            n->shape = LH_PQW_VECTOR;
        } else {
            if (src->children == NULL || src->nchildren != 1) {
                rc = lh_err_set(b->err, LH_EINVAL,
                                "parquet column \"%s\": a LIST needs one "
                                "child, its element",
                                n->name);
                break;
            }
            elem = &src->children[0];
            n->shape = LH_PQW_LIST;
        }
        el->num_children = 1;
        el->has_num_children = true;
        set_converted(el, LH_PQ_CONV_LIST);
        set_logical(el, LH_PQ_LT_LIST);
        lh_pq_schema_element *le = next_el(b, "list", LH_PQ_REP_REPEATED);
        le->num_children = 1;
        le->has_num_children = true;
        b->path[b->npath++] = "list";
        static const char *const ename[] = {"element"};
        rc = build_children(b, n, elem, ename, 1, (int16_t)(n->def + 1), erep,
                            depth);
        b->npath--;
        break;
    }
    case LH_T_MAP: {
        if (src->children == NULL || src->nchildren != 2) {
            rc = lh_err_set(b->err, LH_EINVAL,
                            "parquet column \"%s\": a MAP needs two "
                            "children, key and value",
                            n->name);
            break;
        }
        if (src->children[0].nullable) {
            rc = lh_err_set(b->err, LH_EINVAL,
                            "parquet column \"%s\": MAP keys cannot be "
                            "nullable",
                            n->name);
            break;
        }
        n->shape = LH_PQW_MAP;
        el->num_children = 1;
        el->has_num_children = true;
        set_converted(el, LH_PQ_CONV_MAP);
        set_logical(el, LH_PQ_LT_MAP);
        n->children = lh_arena_calloc(&w->arena, sizeof *n->children);
        if (n->children == NULL) {
            rc = lh__pqw_nomem(b->err);
            break;
        }
        n->nchildren = 1;
        lh__pqw_node *kv = &n->children[0];
        kv->name = "key_value";
        kv->type.id = LH_T_STRUCT;
        kv->shape = LH_PQW_KV;
        kv->def = (int16_t)(n->def + 1);
        kv->rep = erep;
        kv->leaf = -1;
        kv->first_leaf = w->nleaves;
        lh_pq_schema_element *ke = next_el(b, "key_value", LH_PQ_REP_REPEATED);
        ke->num_children = 2;
        ke->has_num_children = true;
        b->chain[b->depth++] = kv;
        b->path[b->npath++] = kv->name;
        static const char *const kvn[] = {"key", "value"};
        rc = build_children(b, kv, src->children, kvn, 2, kv->def, erep,
                            depth + 1);
        kv->nleaves = w->nleaves - kv->first_leaf;
        b->depth--;
        b->npath--;
        break;
    }
    case LH_T_STRUCT:
        if (src->children == NULL || src->nchildren == 0) {
            rc = lh_err_set(b->err, LH_EINVAL,
                            "parquet column \"%s\": a STRUCT needs fields",
                            n->name);
            break;
        }
        n->shape = LH_PQW_STRUCT;
        el->num_children = (int32_t)src->nchildren;
        el->has_num_children = true;
        rc = build_children(b, n, src->children, NULL, src->nchildren, n->def,
                            rep, depth);
        break;
    default:
        rc = build_leaf(b, n, el);
        break;
    }
    b->depth--;
    b->npath--;
    n->nleaves = w->nleaves - n->first_leaf;
    return rc;
}

static lh_rc
build_schema(lh_pq_writer *w, const lh_pq_wcolumn *cols, uint32_t ncols,
             lh_err *err)
{
    uint32_t nels = 1, nleaves = 0;
    for (uint32_t i = 0; i < ncols; i++) {
        count_column(&cols[i], 1, &nels, &nleaves);
    }
    build b;
    memset(&b, 0, sizeof b);
    b.w = w;
    b.err = err;
    b.els = lh_arena_calloc(&w->arena, nels * sizeof *b.els);
    b.cap = nels;
    w->cols = lh_calloc(nleaves ? nleaves : 1, sizeof *w->cols);
    w->leaf_nodes =
        lh_arena_calloc(&w->arena, (nleaves ? nleaves : 1) * sizeof(void *));
    w->chains =
        lh_arena_calloc(&w->arena, (nleaves ? nleaves : 1) * sizeof(void *));
    w->nchain =
        lh_arena_calloc(&w->arena, (nleaves ? nleaves : 1) * sizeof(uint32_t));
    if (!b.els || !w->cols || !w->leaf_nodes || !w->chains || !w->nchain) {
        return lh__pqw_nomem(err);
    }
    lh_pq_schema_element *root = &b.els[b.nels++];
    root->name = "schema";
    root->num_children = (int32_t)ncols;
    root->has_num_children = true;
    memset(&w->root, 0, sizeof w->root);
    w->root.name = "schema";
    w->root.type.id = LH_T_STRUCT;
    w->root.shape = LH_PQW_STRUCT;
    w->root.leaf = -1;
    lh_rc rc = build_children(&b, &w->root, cols, NULL, ncols, 0, 0, 0);
    if (rc != LH_OK) {
        return rc;
    }
    if (!ALWAYS(b.nels == nels && w->nleaves == nleaves)) {
        return lh_err_set(err, LH_EINTERNAL, "parquet schema count mismatch");
    }
    w->schema = b.els;
    w->nschema = b.nels;
    return LH_OK;
}

/* ---- open ---------------------------------------------------------------- */

static lh_rc
check_opts(lh_pq_writer_opts *o, lh_err *err)
{
    lh_pq_writer_opts d;
    lh_pq_writer_opts_init(&d);
    if (o->row_group_rows == 0) {
        o->row_group_rows = d.row_group_rows;
    }
    if (o->page_bytes == 0) {
        o->page_bytes = d.page_bytes;
    }
    if (o->dict_bytes == 0) {
        o->dict_bytes = d.dict_bytes;
    }
    if (o->stats_bytes == 0) {
        o->stats_bytes = d.stats_bytes;
    }
    if (o->bloom_fpp == 0) {
        o->bloom_fpp = d.bloom_fpp;
    }
    if (!(o->bloom_fpp > 0 && o->bloom_fpp < 1)) {
        return lh_err_set(err, LH_EINVAL,
                          "parquet writer: Bloom filter fpp %g is not in "
                          "(0, 1)",
                          o->bloom_fpp);
    }
    if (o->row_group_rows > INT64_MAX / 2 ||
        o->page_bytes > ((size_t)1 << 30) ||
        o->dict_bytes > ((size_t)1 << 30) || o->dict_values > (1u << 28)) {
        return lh_err_set(err, LH_EINVAL,
                          "parquet writer: row group, page or dictionary "
                          "size out of range");
    }
    if (o->codec < 0 || o->codec > LH_PQ_CODEC_LZ4_RAW) {
        return lh_err_set(err, LH_EINVAL, "parquet writer: unknown codec %d",
                          o->codec);
    }
    /* Compressing nothing checks the codec and level once, up front. */
    lh_buf t;
    lh_buf_init(&t);
    lh_rc rc =
        lh_pq_compress(o->codec, o->level, (const uint8_t *)"", 0, &t, err);
    lh_buf_release(&t);
    if (rc != LH_OK) {
        lh_err_prefix(err, "parquet writer");
    }
    return rc;
}

static lh_rc
copy_opts(lh_pq_writer *w, const lh_pq_writer_opts *src, lh_err *err)
{
    if (src) {
        w->o = *src;
    } else {
        lh_pq_writer_opts_init(&w->o);
    }
    lh_rc rc = check_opts(&w->o, err);
    if (rc != LH_OK) {
        return rc;
    }
    w->dict_values = w->o.dict_values;
    if (w->dict_values == 0) {
        uint64_t d = w->o.row_group_rows / 20;
        w->dict_values = (uint32_t)LH_MAX(LH_MIN(d, (uint64_t)1 << 28), 1);
    }
    lh_pq_writer_opts *o = &w->o;
    if (o->nsorting) {
        if (o->sorting == NULL) {
            return lh_err_set(err, LH_EINVAL,
                              "parquet writer: no sorting "
                              "columns given");
        }
        o->sorting = lh_arena_memdup(&w->arena, o->sorting,
                                     o->nsorting * sizeof *o->sorting);
        if (o->sorting == NULL) {
            return lh__pqw_nomem(err);
        }
    } else {
        o->sorting = NULL;
    }
    if (o->nkv) {
        if (o->kv == NULL) {
            return lh_err_set(err, LH_EINVAL,
                              "parquet writer: no key-value metadata given");
        }
        lh_pq_key_value *kv = lh_arena_calloc(&w->arena, o->nkv * sizeof *kv);
        if (kv == NULL) {
            return lh__pqw_nomem(err);
        }
        for (uint32_t i = 0; i < o->nkv; i++) {
            const lh_pq_key_value *s = &o->kv[i];
            if (s->key == NULL) {
                return lh_err_set(err, LH_EINVAL,
                                  "parquet writer: key-value metadata %u "
                                  "has no key",
                                  i);
            }
            kv[i].key = lh_arena_strdup(&w->arena, s->key);
            if (s->value) {
                uint32_t vl =
                    s->value_len ? s->value_len : (uint32_t)strlen(s->value);
                kv[i].value = lh_arena_memdup(&w->arena, s->value, vl + 1);
                kv[i].value_len = vl;
                if (kv[i].value) {
                    kv[i].value[vl] = 0;
                }
                if (kv[i].value == NULL) {
                    return lh__pqw_nomem(err);
                }
            }
            if (kv[i].key == NULL) {
                return lh__pqw_nomem(err);
            }
        }
        o->kv = kv;
    } else {
        o->kv = NULL;
    }
    return LH_OK;
}

static lh_rc
setup_threads(lh_pq_writer *w, lh_err *err)
{
    uint32_t n = w->o.threads;
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (uint32_t)LH_MIN(cpus, 8L) : 1;
    }
    /* One leaf still gains a thread: it seals while the next row group
     * fills; more leaves also fill in parallel (wcrew.c). */
    n = LH_MAX(1, LH_MIN(n, LH_MAX(w->nleaves, 2)));
    n = LH_MIN(n, LH_PQW_MAX_THREADS);
    w->nthreads = n;
    if (n > 1) {
        /* A second set of columns to fill while the first is sealed. */
        w->cols_bg = lh_calloc(w->nleaves, sizeof *w->cols_bg);
        if (w->cols_bg == NULL) {
            return lh__pqw_nomem(err);
        }
        for (uint32_t i = 0; i < w->nleaves; i++) {
            lh_rc rc = lh__pqw_col_clone(&w->cols_bg[i], &w->cols[i], err);
            if (rc != LH_OK) {
                return rc;
            }
        }
    }
    w->zctx = lh_calloc(n, sizeof *w->zctx);
    w->stages = lh_calloc(n, sizeof *w->stages);
    w->seal_rc = lh_calloc(LH_MAX(w->nleaves, 1), sizeof *w->seal_rc);
    w->seal_err = lh_calloc(LH_MAX(w->nleaves, 1), sizeof *w->seal_err);
    if (!w->zctx || !w->stages || !w->seal_rc || !w->seal_err) {
        return lh__pqw_nomem(err);
    }
    return n > 1 ? lh__pqw_crew_start(w, err) : LH_OK;
}

static void
writer_free(lh_pq_writer *w)
{
    if (w == NULL) {
        return;
    }
    lh__pqw_crew_stop(w->crew); /* first: helpers may be sealing cols_bg */
    w->crew = NULL;
    for (uint32_t i = 0; w->cols && i < w->nleaves; i++) {
        lh__pqw_col_release(&w->cols[i]);
    }
    for (uint32_t i = 0; w->cols_bg && i < w->nleaves; i++) {
        lh__pqw_col_release(&w->cols_bg[i]);
    }
    lh_free(w->cols);
    lh_free(w->cols_bg);
    lh_free(w->rgs);
    lh_buf_release(&w->ci);
    lh_buf_release(&w->oi);
    lh_buf_release(&w->blooms);
    for (uint32_t i = 0; w->stages && i < w->nthreads; i++) {
        lh__pqw_stage_release(&w->stages[i]);
    }
    lh_free(w->stages);
    for (uint32_t i = 0; w->zctx && i < w->nthreads; i++) {
        ZSTD_freeCCtx(w->zctx[i]);
    }
    lh_free(w->zctx);
    lh_free(w->seal_rc);
    lh_free(w->seal_err);
    lh_arena_release(&w->arena);
    lh_arena_release(&w->tmp);
    lh_free(w);
}

lh_rc
lh_pq_writer_open(const lh_pq_wcolumn *cols, uint32_t ncols,
                  const lh_pq_writer_opts *opts, const lh_pq_sink *sink,
                  lh_pq_writer **out, lh_err *err)
{
    *out = NULL;
    if (sink == NULL || sink->write == NULL) {
        return lh_err_set(err, LH_EINVAL, "parquet writer: no sink");
    }
    if (ncols == 0 || cols == NULL) {
        return lh_err_set(err, LH_EINVAL, "parquet writer: no columns");
    }
    lh_pq_writer *w = lh_calloc(1, sizeof *w);
    if (w == NULL) {
        return lh__pqw_nomem(err);
    }
    lh_arena_init(&w->arena, 0);
    lh_arena_init(&w->tmp, 0);
    w->sink = *sink;
    lh_rc rc = copy_opts(w, opts, err);
    if (rc == LH_OK) {
        rc = build_schema(w, cols, ncols, err);
    }
    if (rc == LH_OK) {
        rc = setup_threads(w, err);
    }
    if (rc == LH_OK) {
        rc = lh__pqw_sink_write(w, "PAR1", 4, err);
    }
    if (rc != LH_OK) {
        w->sink_done = true; /* the caller still owns the sink */
        writer_free(w);
        return rc;
    }
    *out = w;
    return LH_OK;
}

/* ---- batches ------------------------------------------------------------- */

static lh_rc
bad_batch(lh_err *err, uint32_t col, const char *fmt, const char *name,
          const char *detail)
{
    lh_err_set(err, LH_EINVAL, fmt, name, detail);
    if (err) {
        err->index = col;
    }
    return LH_EINVAL;
}

/* Checks that vector v (of top-level column `col`) has node n's shape. */
static lh_rc
check_type(const lh__pqw_node *n, const lh_vector *v, uint32_t col, lh_err *err)
{
    char want[40], got[40];
    if (v == NULL || (v->kind == LH_VEC_DICT && v->dict == NULL) ||
        v->kind > LH_VEC_DICT) {
        return bad_batch(err, col, "parquet writer: column \"%s\": %s", n->name,
                         "a malformed vector");
    }
    const lh_vector *f = v->kind == LH_VEC_DICT ? v->dict : v;
    lh_type t = f->type, e = n->type;
    bool ok = t.id == e.id;
    if (ok && t.id == LH_T_DECIMAL) {
        ok = t.precision == e.precision && t.scale == e.scale;
    } else if (ok && t.id == LH_T_VECTOR) {
        ok = t.dim == e.dim;
    }
    if (!ok) {
        lh_err_set(err, LH_EINVAL,
                   "parquet writer: column \"%s\" is %s, the batch has %s",
                   n->name, lh_type_name(e, want), lh_type_name(t, got));
        if (err) {
            err->index = col;
        }
        return LH_EINVAL;
    }
    if (t.id != LH_T_STRUCT && t.id != LH_T_LIST && t.id != LH_T_MAP) {
        if (f->data == NULL) {
            return bad_batch(err, col, "parquet writer: column \"%s\": %s",
                             n->name, "a vector without data");
        }
        return LH_OK;
    }
    if (t.id == LH_T_STRUCT) {
        if (f->nchildren != n->nchildren || f->children == NULL) {
            return bad_batch(err, col, "parquet writer: column \"%s\": %s",
                             n->name, "a STRUCT of another number of fields");
        }
        for (uint32_t i = 0; i < n->nchildren; i++) {
            lh_rc rc = check_type(&n->children[i], f->children[i], col, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        return LH_OK;
    }
    if (f->data == NULL || f->nchildren < 1 || f->children == NULL) {
        return bad_batch(err, col, "parquet writer: column \"%s\": %s", n->name,
                         "a LIST or MAP without its elements");
    }
    return check_type(&n->children[0], f->children[0], col, err);
}

static bool
needs_null_check(const lh__pqw_node *n)
{
    if (!n->nullable && n->shape != LH_PQW_KV) {
        return true;
    }
    for (uint32_t i = 0; i < n->nchildren; i++) {
        if (needs_null_check(&n->children[i])) {
            return true;
        }
    }
    return false;
}

static lh_rc
null_error(const lh__pqw_node *n, uint32_t col, uint32_t row, lh_err *err)
{
    lh_err_set(err, LH_EINVAL,
               "parquet writer: NULL in column \"%s\", which is not nullable "
               "(batch row %u)",
               n->name, row);
    if (err) {
        err->index = col;
    }
    return LH_EINVAL;
}

/* Checks that no row of v below node n is NULL where the schema says it
 * cannot be (the rows: idx[0..cnt), or r0.. when idx is NULL). */
static lh_rc
check_nulls(const lh__pqw_node *n, const lh_vector *v, const uint32_t *idx,
            uint32_t r0, uint32_t cnt, uint32_t col, lh_err *err)
{
    for (uint32_t k = 0; k < cnt; k++) {
        uint32_t r = idx ? idx[k] : r0 + k;
        const lh_vector *f;
        uint32_t rr;
        if (!lh__pqw_row_at(v, r, &f, &rr)) {
            if (!n->nullable) {
                return null_error(n, col, r, err);
            }
            continue;
        }
        lh_rc rc = LH_OK;
        switch (n->shape) {
        case LH_PQW_LIST:
        case LH_PQW_MAP: {
            const uint32_t *off = f->data;
            if (off[rr + 1] > off[rr] && needs_null_check(&n->children[0])) {
                rc = check_nulls(&n->children[0], f->children[0], NULL, off[rr],
                                 off[rr + 1] - off[rr], col, err);
            }
            break;
        }
        case LH_PQW_STRUCT:
        case LH_PQW_KV:
            for (uint32_t i = 0; i < n->nchildren && rc == LH_OK; i++) {
                if (needs_null_check(&n->children[i])) {
                    rc = check_nulls(&n->children[i], f->children[i], &rr, 0, 1,
                                     col, err);
                }
            }
            break;
        default:
            break;
        }
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static lh_rc
check_batch(lh_pq_writer *w, const lh_batch *b, lh_err *err)
{
    if (b->ncols != w->root.nchildren || (b->ncols && b->cols == NULL)) {
        return lh_err_set(err, LH_EINVAL,
                          "parquet writer: the batch has %u columns, the file "
                          "%u",
                          b->ncols, w->root.nchildren);
    }
    if (b->count > LH_BATCH_ROWS * 64u || (b->sel && b->nsel > b->count)) {
        return lh_err_set(err, LH_EINVAL,
                          "parquet writer: a batch of %u rows with %u "
                          "selected",
                          b->count, b->sel ? b->nsel : b->count);
    }
    uint32_t n = b->sel ? b->nsel : b->count;
    for (uint32_t i = 0; i < b->ncols; i++) {
        const lh__pqw_node *node = &w->root.children[i];
        lh_rc rc = check_type(node, &b->cols[i], i, err);
        if (rc == LH_OK && needs_null_check(node)) {
            rc = check_nulls(node, &b->cols[i], b->sel, 0, n, i, err);
        }
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

/* ---- row groups ---------------------------------------------------------- */

/* Writes sealed cols (a row group of `rows` rows) to the sink and its
 * metadata into w->rgs. */
static lh_rc
finish_row_group(lh_pq_writer *w, lh__pqw_col *cols, uint64_t rows, lh_err *err)
{
    if (!lh__pqw_grow_to(&w->rgs, &w->rgs_cap, (size_t)w->nrgs + 1,
                         sizeof *w->rgs)) {
        return lh__pqw_nomem(err);
    }
    lh_pq_row_group *rg = &w->rgs[w->nrgs];
    memset(rg, 0, sizeof *rg);
    rg->columns = lh_arena_calloc(&w->arena, (w->nleaves ? w->nleaves : 1) *
                                                 sizeof *rg->columns);
    if (rg->columns == NULL) {
        return lh__pqw_nomem(err);
    }
    rg->n_columns = w->nleaves;
    uint64_t start = w->pos;
    lh_buf_reset(&w->blooms);
    lh_rc rc;
    for (uint32_t i = 0; i < w->nleaves; i++) {
        rc = lh__pqw_col_finish(&cols[i], w, &rg->columns[i], err);
        if (rc != LH_OK) {
            return rc;
        }
        lh_arena_reset(&w->tmp);
    }
    if (w->blooms.len > 0) {
        uint64_t base = w->pos;
        rc = lh__pqw_sink_write(w, w->blooms.data, w->blooms.len, err);
        if (rc != LH_OK) {
            return rc;
        }
        for (uint32_t i = 0; i < w->nleaves; i++) {
            lh_pq_column_metadata *m = &rg->columns[i].meta_data;
            if (m->has_bloom_filter_offset) {
                m->bloom_filter_offset += (int64_t)base;
            }
        }
    }
    int64_t usize = 0, csize = 0;
    for (uint32_t i = 0; i < w->nleaves; i++) {
        usize += rg->columns[i].meta_data.total_uncompressed_size;
        csize += rg->columns[i].meta_data.total_compressed_size;
    }
    rg->num_rows = (int64_t)rows;
    rg->total_byte_size = usize;
    rg->total_compressed_size = csize;
    rg->has_total_compressed_size = true;
    rg->file_offset = (int64_t)start;
    rg->has_file_offset = true;
    if (w->nrgs <= INT16_MAX) {
        rg->ordinal = (int16_t)w->nrgs;
        rg->has_ordinal = true;
    }
    rg->sorting_columns = (lh_pq_sorting_column *)w->o.sorting;
    rg->n_sorting_columns = w->o.nsorting;
    w->nrgs++;
    return LH_OK;
}

/* Waits for the row group sealing in the background, if any, then writes
 * it. */
static lh_rc
bg_finish(lh_pq_writer *w, lh_err *err)
{
    if (w->bg_rows == 0) {
        return LH_OK;
    }
    uint64_t rows = w->bg_rows;
    w->bg_rows = 0;
    lh_rc rc = lh__pqw_seal_wait(w, err);
    if (rc == LH_OK) {
        rc = finish_row_group(w, w->cols_bg, rows, err);
    }
    return rc;
}

/* Ends the row group being filled. With `wait` (closing, or an explicit
 * flush) it is written before returning; otherwise, with threads, its
 * columns swap with the spare set, which the caller fills with the next
 * row group while the helpers seal this one, and it is written at the
 * next row group's end. */
static lh_rc
flush_row_group(lh_pq_writer *w, bool wait, lh_err *err)
{
    lh_rc rc = bg_finish(w, err);
    if (rc != LH_OK || w->rg_rows == 0) {
        return rc;
    }
    if (!wait && w->cols_bg != NULL) {
        lh__pqw_col *full = w->cols;
        w->cols = w->cols_bg;
        w->cols_bg = full;
        w->bg_rows = w->rg_rows;
        w->rg_rows = 0;
        lh__pqw_seal_begin(w, full);
        return LH_OK;
    }
    lh__pqw_seal_begin(w, w->cols);
    rc = lh__pqw_seal_wait(w, err);
    if (rc == LH_OK) {
        rc = finish_row_group(w, w->cols, w->rg_rows, err);
    }
    w->rg_rows = 0;
    return rc;
}

/* Remembers the first failure past validation: the file is then broken
 * and every later call repeats it. */
static lh_rc
fail(lh_pq_writer *w, lh_rc rc, const lh_err *e)
{
    if (rc != LH_OK && w->failed == LH_OK) {
        w->failed = rc;
        w->fail_err = *e;
    }
    return rc;
}

static lh_rc
replay(const lh_pq_writer *w, lh_err *err)
{
    if (err) {
        *err = w->fail_err;
    }
    return w->failed;
}

lh_rc
lh_pq_writer_write(lh_pq_writer *w, const lh_batch *b, lh_err *err)
{
    if (w->failed) {
        return replay(w, err);
    }
    lh_rc rc = check_batch(w, b, err);
    if (rc != LH_OK) {
        return rc; /* nothing written: the writer goes on */
    }
    lh_err e;
    lh_err_clear(&e);
    uint32_t n = b->sel ? b->nsel : b->count;
    uint32_t done = 0;
    while (done < n) {
        uint64_t room = w->o.row_group_rows - w->rg_rows;
        uint32_t take = (uint32_t)LH_MIN((uint64_t)(n - done), room);
        rc = lh__pqw_fill(w, b, done, take, &e);
        if (rc != LH_OK) {
            break;
        }
        w->rg_rows += take;
        w->rows += take;
        done += take;
        if (w->rg_rows >= w->o.row_group_rows) {
            rc = flush_row_group(w, false, &e);
            if (rc != LH_OK) {
                break;
            }
        }
    }
    if (rc != LH_OK) {
        fail(w, rc, &e);
        return replay(w, err);
    }
    return LH_OK;
}

lh_rc
lh_pq_writer_flush(lh_pq_writer *w, lh_err *err)
{
    if (w->failed) {
        return replay(w, err);
    }
    lh_err e;
    lh_err_clear(&e);
    lh_rc rc = flush_row_group(w, true, &e);
    if (rc != LH_OK) {
        fail(w, rc, &e);
        return replay(w, err);
    }
    return LH_OK;
}

uint64_t
lh_pq_writer_rows(const lh_pq_writer *w)
{
    return w->rows;
}

uint64_t
lh_pq_writer_bytes(const lh_pq_writer *w)
{
    return w->pos;
}

/* ---- close --------------------------------------------------------------- */

static lh_rc
write_tail(lh_pq_writer *w, lh_err *err)
{
    lh_rc rc = flush_row_group(w, true, err);
    if (rc != LH_OK) {
        return rc;
    }
    /* The page indexes, then their offsets in the footer. */
    uint64_t ci_base = w->pos;
    rc = lh__pqw_sink_write(w, w->ci.data, w->ci.len, err);
    uint64_t oi_base = w->pos;
    if (rc == LH_OK) {
        rc = lh__pqw_sink_write(w, w->oi.data, w->oi.len, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    for (uint32_t g = 0; g < w->nrgs; g++) {
        for (uint32_t i = 0; i < w->rgs[g].n_columns; i++) {
            lh_pq_column_chunk *cc = &w->rgs[g].columns[i];
            if (cc->has_column_index_offset) {
                cc->column_index_offset += (int64_t)ci_base;
            }
            if (cc->has_offset_index_offset) {
                cc->offset_index_offset += (int64_t)oi_base;
            }
        }
    }
    lh_pq_file_metadata m;
    memset(&m, 0, sizeof m);
    m.version = w->o.page_v2 ? 2 : 1;
    m.schema = w->schema;
    m.n_schema = w->nschema;
    m.num_rows = (int64_t)w->rows;
    m.row_groups = w->rgs;
    m.n_row_groups = w->nrgs;
    m.key_value_metadata = (lh_pq_key_value *)w->o.kv;
    m.n_key_value_metadata = w->o.nkv;
    m.created_by = CREATED_BY;
    m.column_orders = lh_arena_calloc(&w->arena, (w->nleaves ? w->nleaves : 1) *
                                                     sizeof *m.column_orders);
    if (m.column_orders == NULL) {
        return lh__pqw_nomem(err);
    }
    for (uint32_t i = 0; i < w->nleaves; i++) {
        m.column_orders[i].kind = LH_PQ_ORDER_TYPE_DEFINED;
    }
    m.n_column_orders = w->nleaves;
    lh_buf f;
    lh_buf_init(&f);
    rc = lh_pq_encode_file_metadata(&m, &f, err);
    if (rc == LH_OK && f.len > UINT32_MAX) {
        rc = lh_err_set(err, LH_ELIMIT,
                        "parquet footer of %zu bytes is past "
                        "4 GiB",
                        f.len);
    }
    if (rc == LH_OK) {
        uint8_t tail[8];
        uint32_t len = (uint32_t)f.len;
        tail[0] = (uint8_t)len;
        tail[1] = (uint8_t)(len >> 8);
        tail[2] = (uint8_t)(len >> 16);
        tail[3] = (uint8_t)(len >> 24);
        memcpy(tail + 4, "PAR1", 4);
        lh_buf_append(&f, tail, 8);
        rc = f.oom ? lh__pqw_nomem(err)
                   : lh__pqw_sink_write(w, f.data, f.len, err);
    }
    lh_buf_release(&f);
    return rc;
}

lh_rc
lh_pq_writer_close(lh_pq_writer *w, lh_err *err)
{
    if (w == NULL) {
        return LH_OK;
    }
    lh_rc rc = w->failed;
    if (rc != LH_OK) {
        replay(w, err);
    } else {
        rc = write_tail(w, err);
    }
    if (rc == LH_OK) {
        rc = sink_finish(w, true, err);
    } else {
        sink_finish(w, false, NULL);
    }
    writer_free(w);
    return rc;
}

void
lh_pq_writer_abort(lh_pq_writer *w)
{
    if (w == NULL) {
        return;
    }
    sink_finish(w, false, NULL);
    writer_free(w);
}

/* ---- the file sink ------------------------------------------------------- */

typedef struct fsink {
    int fd;
    char *path;
    char *tmp;
} fsink;

static lh_rc
fsink_write(void *ctx, const void *p, size_t n, lh_err *err)
{
    fsink *s = ctx;
    const char *q = p;
    while (n > 0) {
        ssize_t k = write(s->fd, q, n);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            int e = errno;
            return lh_err_sys(err, e == ENOSPC ? LH_ENOSPC : LH_EIO, e,
                              "cannot write \"%s\"", s->path);
        }
        q += k;
        n -= (size_t)k;
    }
    return LH_OK;
}

static void
fsink_free(fsink *s)
{
    lh_free(s->path);
    lh_free(s->tmp);
    lh_free(s);
}

/* The directory part of path ("." when none), in buf. */
static void
dir_of(const char *path, char *buf, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(buf, cap, ".");
    } else if (slash == path) {
        snprintf(buf, cap, "/");
    } else {
        snprintf(buf, cap, "%.*s", (int)(slash - path), path);
    }
}

static lh_rc
fsink_finish(void *ctx, bool ok, lh_err *err)
{
    fsink *s = ctx;
    lh_rc rc = LH_OK;
    if (ok) {
        if (fsync(s->fd) != 0) {
            int e = errno;
            rc = lh_err_sys(err, e == ENOSPC ? LH_ENOSPC : LH_EIO, e,
                            "cannot fsync \"%s\"", s->tmp);
        }
    }
    if (close(s->fd) != 0 && ok && rc == LH_OK) {
        int e = errno;
        rc = lh_err_sys(err, LH_EIO, e, "cannot close \"%s\"", s->tmp);
    }
    if (ok && rc == LH_OK && rename(s->tmp, s->path) != 0) {
        int e = errno;
        rc = lh_err_sys(err, LH_EIO, e, "cannot rename \"%s\" to \"%s\"",
                        s->tmp, s->path);
    }
    if (!ok || rc != LH_OK) {
        unlink(s->tmp);
    } else {
        char dir[4096];
        dir_of(s->path, dir, sizeof dir);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            if (fsync(dfd) != 0) {
                int e = errno;
                rc = lh_err_sys(err, LH_EIO, e,
                                "cannot fsync directory "
                                "\"%s\"",
                                dir);
            }
            close(dfd);
        }
    }
    fsink_free(s);
    return rc;
}

lh_rc
lh_pq_writer_open_path(const char *path, const lh_pq_wcolumn *cols,
                       uint32_t ncols, const lh_pq_writer_opts *opts,
                       lh_pq_writer **out, lh_err *err)
{
    *out = NULL;
    if (path == NULL || path[0] == 0) {
        return lh_err_set(err, LH_EINVAL, "parquet writer: no path");
    }
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        return lh_err_set(err, LH_EIO, "cannot write \"%s\": a directory",
                          path);
    }
    fsink *s = lh_calloc(1, sizeof *s);
    if (s == NULL) {
        return lh__pqw_nomem(err);
    }
    s->fd = -1;
    s->path = lh_strdup(path);
    size_t cap = strlen(path) + 64;
    s->tmp = lh_malloc(cap);
    if (s->path == NULL || s->tmp == NULL) {
        fsink_free(s);
        return lh__pqw_nomem(err);
    }
    /* ".NAME.tmp-PID-N" beside path: same file system, so rename is
     * atomic; hidden, so nobody takes it for a finished file. */
    const char *slash = strrchr(path, '/');
    int dlen = slash ? (int)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    for (unsigned i = 0;; i++) {
        snprintf(s->tmp, cap, "%.*s.%s.tmp-%ld-%u", dlen, path, base,
                 (long)getpid(), i + (unsigned)(lh_mono_now() & 0xffff));
        s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (s->fd >= 0 || errno != EEXIST || i > 100) {
            break;
        }
    }
    if (s->fd < 0) {
        int e = errno;
        lh_rc rc = lh_err_sys(err, e == ENOENT ? LH_ENOENT : LH_EIO, e,
                              "cannot create \"%s\"", path);
        fsink_free(s);
        return rc;
    }
    lh_pq_sink sink = {fsink_write, fsink_finish, s};
    lh_rc rc = lh_pq_writer_open(cols, ncols, opts, &sink, out, err);
    if (rc != LH_OK) {
        close(s->fd);
        unlink(s->tmp);
        fsink_free(s);
        return rc;
    }
    return LH_OK;
}
