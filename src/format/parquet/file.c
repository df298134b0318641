/*
 * Opening a Parquet file: the footer, and the mapping of its schema to
 * lakehouse types (LogicalTypes.md, including the backward-compatibility
 * rules for LIST and MAP), plus the conversion of physical values.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/parquet/reader_int.h"

#define MAX_DEPTH 64

size_t
lh__pq_phys_width(int physical)
{
    switch (physical) {
    case LH_PQ_TYPE_BOOLEAN:
        return 1;
    case LH_PQ_TYPE_INT32:
    case LH_PQ_TYPE_FLOAT:
        return 4;
    case LH_PQ_TYPE_INT64:
    case LH_PQ_TYPE_DOUBLE:
        return 8;
    case LH_PQ_TYPE_INT96:
        return 12;
    default:
        return sizeof(lh_str);
    }
}

const char *
lh__pq_enc_name(int e)
{
    static const char *const names[] = {
        "PLAIN",
        "GROUP_VAR_INT",
        "PLAIN_DICTIONARY",
        "RLE",
        "BIT_PACKED",
        "DELTA_BINARY_PACKED",
        "DELTA_LENGTH_BYTE_ARRAY",
        "DELTA_BYTE_ARRAY",
        "RLE_DICTIONARY",
        "BYTE_STREAM_SPLIT",
    };
    return e >= 0 && e < (int)(sizeof names / sizeof *names) ? names[e]
                                                             : "unknown";
}

/* ---- schema mapping ---------------------------------------------------- */

typedef struct builder {
    lh_pq_file *f;
    uint32_t next; /* next schema element */
    lh_err *err;
} builder;

static lh_rc
unsupported(builder *b, const lh_pq_schema_element *el, const char *what)
{
    return lh_err_set(b->err, LH_EUNSUPPORTED, "unsupported: column \"%s\": %s",
                      el->name ? el->name : "?", what);
}

static lh_rc
corrupt(builder *b, const lh_pq_schema_element *el, const char *what)
{
    return lh_err_set(b->err, LH_ECORRUPT, "parquet schema: column \"%s\": %s",
                      el->name ? el->name : "?", what);
}

static lh_type
T(lh_type_id id)
{
    return (lh_type){.id = id};
}

static lh_type
decimal_type(int32_t precision, int32_t scale)
{
    return (lh_type){.id = LH_T_DECIMAL,
                     .precision = (uint8_t)precision,
                     .scale = (uint8_t)scale};
}

/* Chooses the lakehouse type of a primitive column and how its physical
 * values convert. */
static lh_rc
map_primitive(builder *b, const lh_pq_schema_element *el, lh_pq_node *n)
{
    const lh_pq_logical_type *lt =
        el->has_logical_type ? &el->logical_type : NULL;
    int ct = el->has_converted_type ? el->converted_type : -1;
    int lk = lt ? lt->kind : 0;
    int phys = el->type;
    n->conv = LH_PQ_CV_NONE;

    /* DECIMAL, from the logical type or the legacy annotation. */
    if (lk == LH_PQ_LT_DECIMAL || (!lt && ct == LH_PQ_CONV_DECIMAL)) {
        int32_t p = lk ? lt->precision : el->precision;
        int32_t s = lk ? lt->scale : el->scale;
        if (p < 1 || s < 0 || s > p) {
            return corrupt(b, el, "DECIMAL with a bad precision or scale");
        }
        if (p > LH_DECIMAL_MAX_PRECISION) {
            n->type = T(LH_T_DOUBLE);
            n->conv = LH_PQ_CV_DEC_DBL;
            return LH_OK;
        }
        n->type = decimal_type(p, s);
        switch (phys) {
        case LH_PQ_TYPE_INT32:
            n->conv = p <= 18 ? LH_PQ_CV_I32_I64 : LH_PQ_CV_NONE;
            break;
        case LH_PQ_TYPE_INT64:
            if (p > 18) {
                return corrupt(b, el, "DECIMAL precision above 18 in INT64");
            }
            n->conv = LH_PQ_CV_NONE;
            break;
        case LH_PQ_TYPE_BYTE_ARRAY:
        case LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY:
            n->conv = LH_PQ_CV_BE_DEC;
            break;
        default:
            return corrupt(b, el,
                           "DECIMAL on a physical type that cannot "
                           "hold it");
        }
        if (phys == LH_PQ_TYPE_INT32 && p > 9) {
            return corrupt(b, el, "DECIMAL precision above 9 in INT32");
        }
        return LH_OK;
    }

    switch (phys) {
    case LH_PQ_TYPE_BOOLEAN:
        n->type = T(LH_T_BOOLEAN);
        return LH_OK;
    case LH_PQ_TYPE_INT32:
    case LH_PQ_TYPE_INT64: {
        bool is64 = phys == LH_PQ_TYPE_INT64;
        n->type = T(is64 ? LH_T_BIGINT : LH_T_INTEGER);
        int bits = is64 ? 64 : 32;
        bool sign = true;
        if (lk == LH_PQ_LT_INTEGER) {
            bits = lt->bit_width;
            sign = lt->is_signed;
        } else if (!lt && ct >= LH_PQ_CONV_UINT_8 && ct <= LH_PQ_CONV_INT_64) {
            static const int w[] = {8, 16, 32, 64, 8, 16, 32, 64};
            bits = w[ct - LH_PQ_CONV_UINT_8];
            sign = ct >= LH_PQ_CONV_INT_8;
        } else if (lk == LH_PQ_LT_DATE || (!lt && ct == LH_PQ_CONV_DATE)) {
            if (is64) {
                return corrupt(b, el, "DATE must be INT32");
            }
            n->type = T(LH_T_DATE);
            return LH_OK;
        } else if (lk == LH_PQ_LT_TIME ||
                   (!lt && (ct == LH_PQ_CONV_TIME_MILLIS ||
                            ct == LH_PQ_CONV_TIME_MICROS))) {
            int unit = lk ? lt->unit
                          : (ct == LH_PQ_CONV_TIME_MILLIS ? LH_PQ_UNIT_MILLIS
                                                          : LH_PQ_UNIT_MICROS);
            n->type = T(LH_T_TIME);
            if (unit == LH_PQ_UNIT_MILLIS && !is64) {
                n->conv = LH_PQ_CV_MS32_US;
            } else if (unit == LH_PQ_UNIT_MICROS && is64) {
                n->conv = LH_PQ_CV_NONE;
            } else if (unit == LH_PQ_UNIT_NANOS && is64) {
                n->conv = LH_PQ_CV_NS_US;
            } else {
                return corrupt(b, el,
                               "TIME unit does not fit its physical "
                               "type");
            }
            return LH_OK;
        } else if (lk == LH_PQ_LT_TIMESTAMP ||
                   (!lt && (ct == LH_PQ_CONV_TIMESTAMP_MILLIS ||
                            ct == LH_PQ_CONV_TIMESTAMP_MICROS))) {
            if (!is64) {
                return corrupt(b, el, "TIMESTAMP must be INT64");
            }
            int unit =
                lk ? lt->unit
                   : (ct == LH_PQ_CONV_TIMESTAMP_MILLIS ? LH_PQ_UNIT_MILLIS
                                                        : LH_PQ_UNIT_MICROS);
            /* The legacy annotations mean instants (UTC-adjusted). */
            bool utc = lk ? lt->is_adjusted_to_utc : true;
            n->type = T(utc ? LH_T_TIMESTAMPTZ : LH_T_TIMESTAMP);
            n->conv = unit == LH_PQ_UNIT_MILLIS  ? LH_PQ_CV_MS_US
                      : unit == LH_PQ_UNIT_NANOS ? LH_PQ_CV_NS_US
                                                 : LH_PQ_CV_NONE;
            return LH_OK;
        }
        if (bits != 8 && bits != 16 && bits != 32 && bits != 64) {
            return corrupt(b, el, "INTEGER bit width is not 8, 16, 32 or 64");
        }
        if (bits > (is64 ? 64 : 32) || (is64 && bits != 64)) {
            return corrupt(b, el,
                           "INTEGER bit width does not match its "
                           "physical type");
        }
        if (sign) {
            if (bits <= 16) {
                n->type = T(LH_T_SMALLINT);
                n->conv = LH_PQ_CV_I32_I16;
            }
        } else if (bits == 8) {
            n->type = T(LH_T_SMALLINT);
            n->conv = LH_PQ_CV_I32_I16;
        } else if (bits == 16) {
            n->conv = LH_PQ_CV_U32_I32;
        } else if (bits == 32) {
            n->type = T(LH_T_BIGINT);
            n->conv = LH_PQ_CV_U32_I64;
        } else {
            /* UINT64 does not fit BIGINT: DECIMAL(20,0) holds all of it. */
            n->type = decimal_type(20, 0);
            n->conv = LH_PQ_CV_U64_DEC;
        }
        return LH_OK;
    }
    case LH_PQ_TYPE_INT96:
        /* Impala and Spark wrote instants this way; read them as DuckDB
         * and Spark do, as timestamps without a zone. */
        n->type = T(LH_T_TIMESTAMP);
        n->conv = LH_PQ_CV_INT96;
        return LH_OK;
    case LH_PQ_TYPE_FLOAT:
        n->type = T(LH_T_REAL);
        return LH_OK;
    case LH_PQ_TYPE_DOUBLE:
        n->type = T(LH_T_DOUBLE);
        return LH_OK;
    case LH_PQ_TYPE_BYTE_ARRAY:
    case LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY:
        n->conv = LH_PQ_CV_STR;
        if (phys == LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY && el->type_length < 0) {
            return corrupt(b, el, "FIXED_LEN_BYTE_ARRAY without a length");
        }
        if (lk == LH_PQ_LT_STRING || lk == LH_PQ_LT_ENUM ||
            (!lt && (ct == LH_PQ_CONV_UTF8 || ct == LH_PQ_CONV_ENUM))) {
            n->type = T(LH_T_VARCHAR);
        } else if (lk == LH_PQ_LT_JSON || (!lt && ct == LH_PQ_CONV_JSON)) {
            n->type = T(LH_T_JSON);
        } else if (lk == LH_PQ_LT_UUID) {
            if (phys != LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY ||
                el->type_length != 16) {
                return corrupt(b, el, "UUID must be FIXED_LEN_BYTE_ARRAY(16)");
            }
            n->type = T(LH_T_UUID);
            n->conv = LH_PQ_CV_UUID;
        } else if (lk == LH_PQ_LT_FLOAT16) {
            if (phys != LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY ||
                el->type_length != 2) {
                return corrupt(b, el,
                               "FLOAT16 must be FIXED_LEN_BYTE_ARRAY(2)");
            }
            n->type = T(LH_T_REAL);
            n->conv = LH_PQ_CV_F16;
        } else if (!lt && ct == LH_PQ_CONV_INTERVAL) {
            if (phys != LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY ||
                el->type_length != 12) {
                return corrupt(b, el,
                               "INTERVAL must be FIXED_LEN_BYTE_ARRAY(12)");
            }
            n->type = T(LH_T_INTERVAL);
            n->conv = LH_PQ_CV_INTERVAL;
        } else {
            /* BSON, unannotated binary, and logical types we do not map
             * (VARIANT, GEOMETRY) read as their bytes. */
            n->type = T(LH_T_BLOB);
        }
        return LH_OK;
    default:
        return corrupt(b, el, "unknown physical type");
    }
}

static lh_rc build_node(builder *b, lh_pq_node *n, const lh_pq_node *parent,
                        int16_t d_reach, int16_t d_base, int16_t rep,
                        int depth);

static const lh_pq_schema_element *
peek(builder *b, lh_rc *rc)
{
    if (b->next >= b->f->meta.n_schema) {
        *rc = lh_err_set(b->err, LH_ECORRUPT,
                         "parquet schema: a group claims more children than "
                         "the schema has elements");
        return NULL;
    }
    return &b->f->meta.schema[b->next];
}

static bool
is_group(const lh_pq_schema_element *el)
{
    return el->has_num_children || !el->has_type;
}

static lh_rc
children_of(builder *b, lh_pq_node *n, const lh_pq_schema_element *el,
            int16_t d_reach, int16_t d_base, int16_t rep, int depth)
{
    int32_t nc = el->has_num_children ? el->num_children : 0;
    if (nc < 0 || (uint32_t)nc > b->f->meta.n_schema - b->next) {
        return corrupt(b, el, "num_children out of range");
    }
    n->nchildren = (uint32_t)nc;
    n->children = lh_arena_calloc(&b->f->arena,
                                  (nc ? (size_t)nc : 1) * sizeof(lh_pq_node));
    if (!n->children) {
        return lh_err_set(b->err, LH_ENOMEM, "out of memory for the schema");
    }
    for (int32_t i = 0; i < nc; i++) {
        lh_rc rc =
            build_node(b, &n->children[i], n, d_reach, d_base, rep, depth + 1);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

/* Fills n from the element at b->next as a node whose own repetition was
 * handled by the caller (required or optional; a repeated element comes
 * here as the element of its list). The node's slot exists from level
 * d_reach on (a field of a NULL struct still has a slot, NULL too); its
 * own optionality adds one to d_base, the level its parent is valid at. */
static lh_rc
build_inner(builder *b, lh_pq_node *n, const lh_pq_node *parent,
            const lh_pq_schema_element *el, int16_t d_reach, int16_t d_base,
            int16_t rep, bool optional, int depth)
{
    lh_rc rc = LH_OK;
    b->next++;
    n->name = el->name ? el->name : "";
    n->parent = parent;
    n->nullable = optional;
    n->has_field_id = el->has_field_id;
    n->field_id = el->field_id;
    n->leaf = -1;
    n->d_reach = d_reach;
    n->d_valid = (int16_t)(d_base + (optional ? 1 : 0));
    n->rep = rep;
    if (depth > MAX_DEPTH) {
        return corrupt(b, el, "nested deeper than 64 levels");
    }
    if (!is_group(el)) {
        if (el->has_num_children && el->num_children > 0) {
            return corrupt(b, el, "a primitive column with children");
        }
        rc = map_primitive(b, el, n);
        if (rc != LH_OK) {
            return rc;
        }
        n->el = el;
        n->max_def = n->d_valid;
        n->max_rep = rep;
        /* leaf index assigned in pre-order */
        if (b->f->nleaves >= b->f->meta.n_schema) {
            return corrupt(b, el, "more leaves than schema elements");
        }
        n->leaf = (int32_t)b->f->nleaves;
        b->f->leaves[b->f->nleaves++] = n;
        return LH_OK;
    }
    const lh_pq_logical_type *lt =
        el->has_logical_type ? &el->logical_type : NULL;
    int ct = el->has_converted_type ? el->converted_type : -1;
    bool is_list =
        (lt && lt->kind == LH_PQ_LT_LIST) || (!lt && ct == LH_PQ_CONV_LIST);
    bool is_map =
        (lt && lt->kind == LH_PQ_LT_MAP) ||
        (!lt && (ct == LH_PQ_CONV_MAP || ct == LH_PQ_CONV_MAP_KEY_VALUE));
    int32_t nc = el->has_num_children ? el->num_children : 0;
    if ((is_list || is_map) && nc == 1) {
        const lh_pq_schema_element *c = peek(b, &rc);
        if (!c) {
            return rc;
        }
        if (c->repetition_type == LH_PQ_REP_REPEATED) {
            n->type = T(is_list ? LH_T_LIST : LH_T_MAP);
            n->d_elem = (int16_t)(n->d_valid + 1);
            n->nchildren = 1;
            n->children = lh_arena_calloc(&b->f->arena, sizeof(lh_pq_node));
            if (!n->children) {
                return lh_err_set(b->err, LH_ENOMEM,
                                  "out of memory for the schema");
            }
            lh_pq_node *e = &n->children[0];
            int16_t erep = (int16_t)(rep + 1);
            if (is_map) {
                /* The repeated key_value group is the element: a STRUCT
                 * of key and value, never NULL itself. */
                if (!is_group(c)) {
                    return unsupported(b, el,
                                       "MAP whose repeated field is "
                                       "not a group");
                }
                rc = build_inner(b, e, n, c, n->d_elem, n->d_elem, erep, false,
                                 depth + 1);
                if (rc == LH_OK && e->type.id != LH_T_STRUCT) {
                    rc = unsupported(b, el, "MAP of an unexpected shape");
                }
                return rc;
            }
            int32_t cnc = c->has_num_children ? c->num_children : 0;
            bool two_level = !is_group(c) || cnc != 1;
            if (!two_level) {
                const lh_pq_schema_element *gc =
                    b->next + 1 < b->f->meta.n_schema
                        ? &b->f->meta.schema[b->next + 1]
                        : NULL;
                char tuple[256];
                snprintf(tuple, sizeof tuple, "%s_tuple", n->name);
                if (!gc || gc->repetition_type == LH_PQ_REP_REPEATED ||
                    (c->name && (strcmp(c->name, "array") == 0 ||
                                 strcmp(c->name, tuple) == 0))) {
                    two_level = true;
                }
            }
            if (two_level) {
                /* Rules 1-4: the repeated field is the (required) element. */
                return build_inner(b, e, n, c, n->d_elem, n->d_elem, erep,
                                   false, depth + 1);
            }
            /* Three levels: skip the repeated group, its child is the
             * element with its own repetition. */
            b->next++;
            rc = build_node(b, e, n, n->d_elem, n->d_elem, erep, depth + 1);
            if (rc == LH_OK) {
                e->parent = n;
            }
            return rc;
        }
    }
    /* Anything else is a STRUCT (also LIST/MAP annotations of a shape the
     * rules do not cover: their fields still read). */
    n->type = T(LH_T_STRUCT);
    rc = children_of(b, n, el, n->d_reach, n->d_valid, rep, depth);
    if (rc == LH_OK && n->nchildren == 0) {
        rc = unsupported(b, el, "a group without fields");
    }
    return rc;
}

static lh_rc
build_node(builder *b, lh_pq_node *n, const lh_pq_node *parent, int16_t d_reach,
           int16_t d_base, int16_t rep, int depth)
{
    lh_rc rc = LH_OK;
    const lh_pq_schema_element *el = peek(b, &rc);
    if (!el) {
        return rc;
    }
    if (!el->has_repetition_type && b->next != 0) {
        return corrupt(b, el, "no repetition type");
    }
    if (el->repetition_type == LH_PQ_REP_REPEATED) {
        /* A repeated field outside a LIST or MAP: a required list of
         * required elements. */
        memset(n, 0, sizeof *n);
        n->name = el->name ? el->name : "";
        n->parent = parent;
        n->type = T(LH_T_LIST);
        n->leaf = -1;
        n->d_reach = d_reach;
        n->d_valid = d_base;
        n->d_elem = (int16_t)(d_base + 1);
        n->rep = rep;
        n->has_field_id = el->has_field_id;
        n->field_id = el->field_id;
        n->nchildren = 1;
        n->children = lh_arena_calloc(&b->f->arena, sizeof(lh_pq_node));
        if (!n->children) {
            return lh_err_set(b->err, LH_ENOMEM,
                              "out of memory for the "
                              "schema");
        }
        return build_inner(b, &n->children[0], n, el, n->d_elem, n->d_elem,
                           (int16_t)(rep + 1), false, depth + 1);
    }
    return build_inner(b, n, parent, el, d_reach, d_base, rep,
                       el->repetition_type == LH_PQ_REP_OPTIONAL, depth);
}

/* Sets parents, pre-order ids and first leaves once the tree is built
 * (children arrays move nothing, so pointers are final here). */
static void
fix_parents(lh_pq_file *f, lh_pq_node *n)
{
    for (uint32_t i = 0; i < n->nchildren; i++) {
        lh_pq_node *c = &n->children[i];
        c->parent = n;
        c->id = f->nnodes++;
        fix_parents(f, c);
    }
    n->first_leaf = n->leaf >= 0   ? n->leaf
                    : n->nchildren ? n->children[0].first_leaf
                                   : -1;
}

static lh_rc
map_schema(lh_pq_file *f, lh_err *err)
{
    const lh_pq_file_metadata *m = &f->meta;
    if (m->n_schema == 0) {
        return lh_err_set(err, LH_ECORRUPT, "parquet footer: empty schema");
    }
    f->leaves = lh_arena_calloc(&f->arena, m->n_schema * sizeof(lh_pq_node *));
    if (!f->leaves) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for the schema");
    }
    builder b = {.f = f, .next = 1, .err = err};
    const lh_pq_schema_element *root = &m->schema[0];
    memset(&f->root, 0, sizeof f->root);
    f->root.name = "";
    f->root.type = T(LH_T_STRUCT);
    f->root.leaf = -1;
    if (!is_group(root)) {
        return lh_err_set(err, LH_ECORRUPT,
                          "parquet schema: the root is not a group");
    }
    lh_rc rc = children_of(&b, &f->root, root, 0, 0, 0, 0);
    if (rc != LH_OK) {
        return rc;
    }
    if (b.next != m->n_schema) {
        return lh_err_set(err, LH_ECORRUPT,
                          "parquet schema: %u elements, but the root's tree "
                          "covers %u",
                          m->n_schema, b.next);
    }
    fix_parents(f, &f->root);
    for (uint32_t i = 0; i < f->root.nchildren; i++) {
        f->root.children[i].parent = NULL;
    }
    return LH_OK;
}

/* Every row group must have one chunk per leaf, with metadata in this
 * file, of the leaf's type, inside the file. */
static lh_rc
check_row_groups(lh_pq_file *f, lh_err *err)
{
    const lh_pq_file_metadata *m = &f->meta;
    if (m->num_rows < 0) {
        return lh_err_set(err, LH_ECORRUPT, "parquet footer: num_rows < 0");
    }
    for (uint32_t g = 0; g < m->n_row_groups; g++) {
        const lh_pq_row_group *rg = &m->row_groups[g];
        if (rg->n_columns != f->nleaves) {
            return lh_err_set(err, LH_ECORRUPT,
                              "parquet footer: row group %u has %u column "
                              "chunks for %u columns",
                              g, rg->n_columns, f->nleaves);
        }
        if (rg->num_rows < 0) {
            return lh_err_set(err, LH_ECORRUPT,
                              "parquet footer: row group %u: num_rows < 0", g);
        }
        for (uint32_t c = 0; c < rg->n_columns; c++) {
            const lh_pq_column_chunk *cc = &rg->columns[c];
            const lh_pq_node *leaf = f->leaves[c];
            if (cc->file_path) {
                return lh_err_set(err, LH_EUNSUPPORTED,
                                  "unsupported: column \"%s\" stored in "
                                  "another file (%s)",
                                  leaf->name, cc->file_path);
            }
            if (!cc->has_meta_data) {
                return lh_err_set(err, LH_EUNSUPPORTED,
                                  "unsupported: column \"%s\" in row group %u "
                                  "has no metadata (encrypted columns are not "
                                  "supported)",
                                  leaf->name, g);
            }
            const lh_pq_column_metadata *cm = &cc->meta_data;
            if (cm->type != leaf->el->type) {
                return lh_err_set(err, LH_ECORRUPT,
                                  "parquet footer: column \"%s\" in row group "
                                  "%u has physical type %d, the schema says "
                                  "%d",
                                  leaf->name, g, cm->type, leaf->el->type);
            }
            if (cm->total_compressed_size < 0 || cm->data_page_offset < 0 ||
                (uint64_t)cm->data_page_offset > f->size ||
                (uint64_t)cm->total_compressed_size > f->size) {
                return lh_err_set(err, LH_ECORRUPT,
                                  "parquet footer: column \"%s\" in row group "
                                  "%u lies outside the file",
                                  leaf->name, g);
            }
        }
    }
    return LH_OK;
}

static lh_rc
open_common(lh_pq_file *f, lh_err *err)
{
    lh_rc rc;
    if (f->size < 12) {
        return lh_err_set(err, LH_EFORMAT,
                          "%s: not a Parquet file (%zu bytes is too short)",
                          f->name, f->size);
    }
    const uint8_t *tail = f->base + f->size - 4;
    if (memcmp(tail, "PARE", 4) == 0) {
        return lh_err_set(err, LH_EUNSUPPORTED,
                          "unsupported: %s uses Parquet modular encryption "
                          "with an encrypted footer",
                          f->name);
    }
    if (memcmp(f->base, "PAR1", 4) != 0 || memcmp(tail, "PAR1", 4) != 0) {
        return lh_err_set(err, LH_EFORMAT,
                          "%s: not a Parquet file (no PAR1 magic at both "
                          "ends)",
                          f->name);
    }
    const uint8_t *lp = tail - 4;
    uint32_t flen = lh_get_le32(lp);
    if (flen == 0 || flen > f->size - 12) {
        return lh_err_set(err, LH_ECORRUPT,
                          "%s: footer length %u does not fit a %zu-byte file",
                          f->name, flen, f->size);
    }
    rc = lh_pq_decode_file_metadata(lp - flen, flen, &f->arena, &f->meta, err);
    if (rc == LH_OK) {
        rc = map_schema(f, err);
    }
    if (rc == LH_OK) {
        rc = check_row_groups(f, err);
    }
    if (rc != LH_OK) {
        lh_err_prefix(err, "%s", f->name);
    }
    return rc;
}

static lh_pq_file *
file_new(const char *name, lh_err *err)
{
    lh_pq_file *f = calloc(1, sizeof *f);
    if (f) {
        f->name = strdup(name ? name : "parquet");
    }
    if (!f || !f->name) {
        free(f);
        lh_err_set(err, LH_ENOMEM, "out of memory opening a Parquet file");
        return NULL;
    }
    lh_arena_init(&f->arena, 0);
    return f;
}

lh_rc
lh_pq_open_mem(const uint8_t *p, size_t len, const char *name, lh_pq_file **out,
               lh_err *err)
{
    *out = NULL;
    lh_pq_file *f = file_new(name, err);
    if (!f) {
        return LH_ENOMEM;
    }
    f->base = p;
    f->size = len;
    lh_rc rc = open_common(f, err);
    if (rc != LH_OK) {
        lh_pq_close(f);
        return rc;
    }
    *out = f;
    return LH_OK;
}

lh_rc
lh_pq_open(const char *path, lh_pq_file **out, lh_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return lh_err_sys(err, errno == ENOENT ? LH_ENOENT : LH_EIO, errno,
                          "cannot open %s", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        lh_rc rc = lh_err_sys(err, LH_EIO, errno, "cannot stat %s", path);
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lh_err_set(err, LH_EINVAL, "%s is not a regular file", path);
    }
    lh_pq_file *f = file_new(path, err);
    if (!f) {
        close(fd);
        return LH_ENOMEM;
    }
    f->size = (size_t)st.st_size;
    if (f->size > 0) {
        f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (f->map == MAP_FAILED) {
            f->map = NULL;
            lh_rc rc = lh_err_sys(err, LH_EIO, errno, "cannot map %s", path);
            close(fd);
            lh_pq_close(f);
            return rc;
        }
        f->map_len = f->size;
        f->base = f->map;
    } else {
        f->base = (const uint8_t *)"";
    }
    close(fd);
    lh_rc rc = open_common(f, err);
    if (rc != LH_OK) {
        lh_pq_close(f);
        return rc;
    }
    *out = f;
    return LH_OK;
}

void
lh_pq_close(lh_pq_file *f)
{
    if (!f) {
        return;
    }
    if (f->map) {
        munmap(f->map, f->map_len);
    }
    lh_arena_release(&f->arena);
    free(f->name);
    free(f);
}

const lh_pq_file_metadata *
lh_pq_meta(const lh_pq_file *f)
{
    return &f->meta;
}

uint32_t
lh_pq_ncolumns(const lh_pq_file *f)
{
    return f->root.nchildren;
}

const lh_pq_node *
lh_pq_column(const lh_pq_file *f, uint32_t i)
{
    return i < f->root.nchildren ? &f->root.children[i] : NULL;
}

uint32_t
lh_pq_nnodes(const lh_pq_file *f)
{
    return f->nnodes;
}

uint32_t
lh_pq_nleaves(const lh_pq_file *f)
{
    return f->nleaves;
}

const lh_pq_node *
lh_pq_leaf(const lh_pq_file *f, uint32_t i)
{
    return i < f->nleaves ? f->leaves[i] : NULL;
}

int
lh_pq_find_column(const lh_pq_file *f, const char *name)
{
    for (uint32_t i = 0; i < f->root.nchildren; i++) {
        if (strcmp(f->root.children[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

const uint8_t *
lh_pq_file_bytes(const lh_pq_file *f, size_t *len)
{
    *len = f->size;
    return f->base;
}

/* ---- conversion -------------------------------------------------------- */

static float
half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalize */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13;
    } else {
        bits = sign | (exp - 15 + 127) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Floor division for negative nanoseconds and milliseconds. */
static inline int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

lh_rc
lh__pq_convert(const lh_pq_node *leaf, const void *phys, uint32_t n, void *out,
               lh_err *err)
{
    switch (leaf->conv) {
    case LH_PQ_CV_NONE:
    case LH_PQ_CV_STR:
        if (out != phys) {
            memcpy(out, phys, (size_t)n * lh_type_width(leaf->type));
        }
        return LH_OK;
    case LH_PQ_CV_I32_I16: {
        const int32_t *s = phys;
        int16_t *d = out;
        for (uint32_t i = 0; i < n; i++) {
            d[i] = (int16_t)s[i];
        }
        /* UINT_8 values above 127 need more than int8 but fit SMALLINT;
         * (int16_t) keeps them since they arrive as 0..255. */
        return LH_OK;
    }
    case LH_PQ_CV_U32_I32: {
        const uint32_t *s = phys;
        int32_t *d = out;
        for (uint32_t i = 0; i < n; i++) {
            d[i] = (int32_t)(s[i] & 0xffff);
        }
        return LH_OK;
    }
    case LH_PQ_CV_U32_I64: {
        const uint32_t *s = phys;
        int64_t *d = out;
        for (uint32_t i = n; i-- > 0;) { /* back to front: d may alias s */
            d[i] = (int64_t)s[i];
        }
        return LH_OK;
    }
    case LH_PQ_CV_I32_I64: {
        const int32_t *s = phys;
        int64_t *d = out;
        for (uint32_t i = n; i-- > 0;) {
            d[i] = s[i];
        }
        return LH_OK;
    }
    case LH_PQ_CV_U64_DEC: {
        const uint64_t *s = phys;
        lh_i128 *d = out;
        for (uint32_t i = n; i-- > 0;) {
            d[i] = (lh_i128)s[i];
        }
        return LH_OK;
    }
    case LH_PQ_CV_BE_DEC:
    case LH_PQ_CV_DEC_DBL: {
        const lh_str *s = phys;
        bool wide = leaf->type.id == LH_T_DECIMAL && leaf->type.precision > 18;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *p = (const uint8_t *)lh_str_data(&s[i]);
            uint32_t len = s[i].len;
            double dv = 0;
            lh_i128 v = 0;
            if (leaf->conv == LH_PQ_CV_DEC_DBL) {
                int32_t phys_t = leaf->el->type;
                if (phys_t == LH_PQ_TYPE_INT32 || phys_t == LH_PQ_TYPE_INT64) {
                    return lh_err_set(err, LH_ECORRUPT,
                                      "column \"%s\": DECIMAL precision above "
                                      "38 in an integer",
                                      leaf->name);
                }
                /* Big-endian two's complement of any length, to double. */
                bool neg = len > 0 && (p[0] & 0x80);
                for (uint32_t k = 0; k < len; k++) {
                    dv = dv * 256.0 + (neg ? (uint8_t)~p[k] : p[k]);
                }
                if (neg) {
                    dv = -(dv + 1.0);
                }
                int sc = leaf->el->has_logical_type
                             ? leaf->el->logical_type.scale
                             : leaf->el->scale;
                for (int k = 0; k < sc; k++) {
                    dv /= 10.0;
                }
                ((double *)out)[i] = dv;
                continue;
            }
            /* Leading sign bytes beyond 16 are allowed when redundant. */
            uint32_t k = 0;
            while (len - k > 16 && (p[k] == 0 || p[k] == 0xff)) {
                k++;
            }
            if (len - k > 16) {
                return lh_err_set(err, LH_ECORRUPT,
                                  "column \"%s\": a %u-byte DECIMAL does not "
                                  "fit 38 digits",
                                  leaf->name, len);
            }
            if (len > 0) {
                v = (p[0] & 0x80) ? -1 : 0;
            }
            for (; k < len; k++) {
                v = (lh_i128)(((unsigned __int128)v << 8) | p[k]);
            }
            if (wide) {
                memcpy((char *)out + (size_t)i * sizeof v, &v, sizeof v);
            } else {
                ((int64_t *)out)[i] = (int64_t)v;
            }
        }
        return LH_OK;
    }
    case LH_PQ_CV_MS32_US: {
        const int32_t *s = phys;
        int64_t *d = out;
        for (uint32_t i = n; i-- > 0;) {
            d[i] = (int64_t)s[i] * 1000;
        }
        return LH_OK;
    }
    case LH_PQ_CV_MS_US: {
        const int64_t *s = phys;
        int64_t *d = out;
        for (uint32_t i = 0; i < n; i++) {
            /* Wraps only for instants past year 294,000: keep defined. */
            d[i] = (int64_t)((uint64_t)s[i] * 1000u);
        }
        return LH_OK;
    }
    case LH_PQ_CV_NS_US: {
        const int64_t *s = phys;
        int64_t *d = out;
        for (uint32_t i = 0; i < n; i++) {
            d[i] = floor_div(s[i], 1000);
        }
        return LH_OK;
    }
    case LH_PQ_CV_INT96: {
        /* 8 bytes of nanoseconds in the day, then 4 of Julian day. Spark
         * computes µs = (day - epoch) * 86400e6 + nanos / 1000 in wrapping
         * 64-bit arithmetic, and writes instants outside the nanosecond
         * range so that only that wrapping reading gets them back
         * (int96_from_spark.md): read them the same way. */
        const uint8_t *s = phys;
        int64_t *d = out;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *p = s + (size_t)i * 12;
            int64_t ns = (int64_t)((uint64_t)lh_get_le32(p) |
                                   (uint64_t)lh_get_le32(p + 4) << 32);
            int64_t days = (int64_t)(int32_t)lh_get_le32(p + 8) - 2440588;
            d[i] = (int64_t)((uint64_t)days * 86400000000ull +
                             (uint64_t)floor_div(ns, 1000));
        }
        return LH_OK;
    }
    case LH_PQ_CV_F16: {
        const lh_str *s = phys;
        float *d = out;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *p = (const uint8_t *)lh_str_data(&s[i]);
            d[i] = half_to_float((uint16_t)(p[0] | p[1] << 8));
        }
        return LH_OK;
    }
    case LH_PQ_CV_UUID: {
        const lh_str *s = phys;
        lh_uuid *d = out;
        for (uint32_t i = 0; i < n; i++) {
            lh_uuid u;
            memcpy(u.b, lh_str_data(&s[i]), 16);
            d[i] = u; /* same width: s[i] is read before d[i] is written */
        }
        return LH_OK;
    }
    case LH_PQ_CV_INTERVAL: {
        const lh_str *s = phys;
        lh_interval *d = out;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *p = (const uint8_t *)lh_str_data(&s[i]);
            lh_interval iv = {.months = (int32_t)lh_get_le32(p),
                              .days = (int32_t)lh_get_le32(p + 4),
                              .micros =
                                  (int64_t)(int32_t)lh_get_le32(p + 8) * 1000};
            d[i] = iv;
        }
        return LH_OK;
    }
    default:
        break;
    }
    return lh_err_set(err, LH_EINTERNAL, "unknown conversion %u",
                      (unsigned)leaf->conv);
}

bool
lh__pq_stat_value(const lh_pq_node *leaf, lh_pq_bytes b, lh_value *out)
{
    memset(out, 0, sizeof *out);
    out->type = leaf->type;
    int phys = leaf->el->type;
    size_t w = lh__pq_phys_width(phys);
    uint8_t tmp[16];
    void *pv;
    lh_str s;
    if (phys == LH_PQ_TYPE_BYTE_ARRAY ||
        phys == LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY) {
        if (phys == LH_PQ_TYPE_FIXED_LEN_BYTE_ARRAY &&
            b.len != (uint32_t)leaf->el->type_length) {
            return false;
        }
        s = lh_str_make((const char *)b.p, b.len);
        pv = &s;
    } else if (phys == LH_PQ_TYPE_BOOLEAN || phys == LH_PQ_TYPE_INT96 ||
               b.len != w) {
        return false;
    } else {
        memcpy(tmp, b.p, w);
        pv = tmp;
    }
    union {
        int16_t i16;
        int32_t i32;
        int64_t i64;
        float f;
        double d;
        lh_i128 dec;
        lh_str s;
        lh_uuid u;
        lh_interval iv;
    } v;
    lh_err e;
    if (lh__pq_convert(leaf, pv, 1, &v, &e) != LH_OK) {
        return false;
    }
    switch ((lh_type_id)leaf->type.id) {
    case LH_T_SMALLINT:
        out->u.i = v.i16;
        return true;
    case LH_T_INTEGER:
    case LH_T_DATE:
        out->u.i = v.i32;
        return true;
    case LH_T_BIGINT:
    case LH_T_TIME:
    case LH_T_TIMESTAMP:
    case LH_T_TIMESTAMPTZ:
        out->u.i = v.i64;
        return true;
    case LH_T_REAL:
        out->u.d = v.f;
        return out->u.d == out->u.d; /* NaN bounds prune nothing */
    case LH_T_DOUBLE:
        out->u.d = v.d;
        return out->u.d == out->u.d;
    case LH_T_DECIMAL:
        out->u.dec = leaf->type.precision <= 18 ? v.i64 : v.dec;
        return true;
    case LH_T_VARCHAR:
    case LH_T_BLOB:
        out->u.s.p = (const char *)b.p;
        out->u.s.len = b.len;
        return true;
    default:
        return false;
    }
}
