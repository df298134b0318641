/*
 * What psql 15 asks the catalog for its \dt, \d, \d NAME, \l and \dn,
 * answered from the database's tables (and, at the end of this file, the
 * catalog as session tables for other clients' introspection, and the
 * statements that name server functions), so that psql works against
 * lakehouse as against PostgreSQL. The queries were captured from psql 15
 * (psql -E) against PostgreSQL 15 and are recognized as written, with the
 * white space folded: a literal oid ('$OID') or name pattern ('$PAT',
 * matched as a regular expression by PCRE2, as psql's POSIX patterns
 * read) may differ. What is not one of them goes on to the SQL engine.
 *
 * A table gets the oid 16384 + its place in the sorted table list, in the
 * schema "public", owned by the session's user (as what it creates would
 * be in PostgreSQL); its columns are the payload
 * columns (the envelope is hidden, like PostgreSQL's system columns), with
 * PostgreSQL's names for their types.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <jansson.h>
#include <pcre2.h>
#include <string.h>

#include "server/pg_int.h"

#define FIRST_OID 16384

enum {
    Q_DT_LIST,
    Q_D_LIST,
    Q_DB_LIST,
    Q_NS_LIST,
    Q_DT_PATTERN,
    Q_D_LOOKUP,
    Q_D_RELATION,
    Q_D_COLUMNS,
    Q_D_POLICIES,
    Q_D_STATISTICS,
    Q_D_PUBLICATIONS,
    Q_D_PARENTS,
    Q_D_PARTITIONS,
    Q_COUNT
};

static const char *const templates[Q_COUNT] = {
    [Q_DT_LIST] =
        "SELECT n.nspname as \"Schema\", c.relname as \"Name\", CASE c.relkind "
        "WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized"
        " view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'T"
        "OAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned t"
        "able' WHEN 'I' THEN 'partitioned index' END as \"Type\", pg_catalog.pg"
        "_get_userbyid(c.relowner) as \"Owner\" FROM pg_catalog.pg_class c LEFT"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg"
        "_catalog.pg_am am ON am.oid = c.relam WHERE c.relkind IN ('r','p','') "
        "AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspna"
        "me <> 'information_schema' AND pg_catalog.pg_table_is_visible(c.oid) O"
        "RDER BY 1,2",
    [Q_D_LIST] =
        "SELECT n.nspname as \"Schema\", c.relname as \"Name\", CASE c.relkind "
        "WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized"
        " view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'T"
        "OAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned t"
        "able' WHEN 'I' THEN 'partitioned index' END as \"Type\", pg_catalog.pg"
        "_get_userbyid(c.relowner) as \"Owner\" FROM pg_catalog.pg_class c LEFT"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg"
        "_catalog.pg_am am ON am.oid = c.relam WHERE c.relkind IN ('r','p','v',"
        "'m','S','f','') AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_to"
        "ast' AND n.nspname <> 'information_schema' AND pg_catalog.pg_table_is_"
        "visible(c.oid) ORDER BY 1,2",
    [Q_DB_LIST] =
        "SELECT d.datname as \"Name\", pg_catalog.pg_get_userbyid(d.datdba) as "
        "\"Owner\", pg_catalog.pg_encoding_to_char(d.encoding) as \"Encoding\","
        " d.datcollate as \"Collate\", d.datctype as \"Ctype\", d.daticulocale "
        "as \"ICU Locale\", CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i'"
        " THEN 'icu' END AS \"Locale Provider\", pg_catalog.array_to_string(d.d"
        "atacl, E'\\n') AS \"Access privileges\" FROM pg_catalog.pg_database d "
        "ORDER BY 1",
    [Q_NS_LIST] =
        "SELECT n.nspname AS \"Name\", pg_catalog.pg_get_userbyid(n.nspowner) A"
        "S \"Owner\" FROM pg_catalog.pg_namespace n WHERE n.nspname !~ '^pg_' A"
        "ND n.nspname <> 'information_schema' ORDER BY 1",
    [Q_DT_PATTERN] =
        "SELECT n.nspname as \"Schema\", c.relname as \"Name\", CASE c.relkind "
        "WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized"
        " view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'T"
        "OAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned t"
        "able' WHEN 'I' THEN 'partitioned index' END as \"Type\", pg_catalog.pg"
        "_get_userbyid(c.relowner) as \"Owner\" FROM pg_catalog.pg_class c LEFT"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg"
        "_catalog.pg_am am ON am.oid = c.relam WHERE c.relkind IN ('r','p','t',"
        "'s','') AND c.relname OPERATOR(pg_catalog.~) '$PAT' COLLATE pg_catalog"
        ".default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2",
    [Q_D_LOOKUP] =
        "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOI"
        "N pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname "
        "OPERATOR(pg_catalog.~) '$PAT' COLLATE pg_catalog.default AND pg_catalo"
        "g.pg_table_is_visible(c.oid) ORDER BY 2, 3",
    [Q_D_RELATION] =
        "SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhast"
        "riggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids,"
        " c.relispartition, '', c.reltablespace, CASE WHEN c.reloftype = 0 THEN"
        " '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpe"
        "rsistence, c.relreplident, am.amname FROM pg_catalog.pg_class c LEFT J"
        "OIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid) LEFT JOIN pg_"
        "catalog.pg_am am ON (c.relam = am.oid) WHERE c.oid = '$OID'",
    [Q_D_COLUMNS] =
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), (SE"
        "LECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) FROM pg_catalog."
        "pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a"
        ".atthasdef), a.attnotnull, (SELECT c.collname FROM pg_catalog.pg_colla"
        "tion c, pg_catalog.pg_type t WHERE c.oid = a.attcollation AND t.oid = "
        "a.atttypid AND a.attcollation <> t.typcollation) AS attcollation, a.at"
        "tidentity, a.attgenerated FROM pg_catalog.pg_attribute a WHERE a.attre"
        "lid = '$OID' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY "
        "a.attnum",
    [Q_D_POLICIES] =
        "SELECT pol.polname, pol.polpermissive, CASE WHEN pol.polroles = '{0}' "
        "THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg"
        "_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,"
        " pg_catalog.pg_get_expr(pol.polqual, pol.polrelid), pg_catalog.pg_get_"
        "expr(pol.polwithcheck, pol.polrelid), CASE pol.polcmd WHEN 'r' THEN 'S"
        "ELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DE"
        "LETE' END AS cmd FROM pg_catalog.pg_policy pol WHERE pol.polrelid = '$"
        "OID' ORDER BY 1",
    [Q_D_STATISTICS] =
        "SELECT oid, stxrelid::pg_catalog.regclass, stxnamespace::pg_catalog.re"
        "gnamespace::pg_catalog.text AS nsp, stxname, pg_catalog.pg_get_statist"
        "icsobjdef_columns(oid) AS columns, 'd' = any(stxkind) AS ndist_enabled"
        ", 'f' = any(stxkind) AS deps_enabled, 'm' = any(stxkind) AS mcv_enable"
        "d, stxstattarget FROM pg_catalog.pg_statistic_ext WHERE stxrelid = '$O"
        "ID' ORDER BY nsp, stxname",
    [Q_D_PUBLICATIONS] =
        "SELECT pubname , NULL , NULL FROM pg_catalog.pg_publication p JOIN pg_"
        "catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid JOIN pg_cata"
        "log.pg_class pc ON pc.relnamespace = pn.pnnspid WHERE pc.oid ='$OID' a"
        "nd pg_catalog.pg_relation_is_publishable('$OID') UNION SELECT pubname "
        ", pg_get_expr(pr.prqual, c.oid) , (CASE WHEN pr.prattrs IS NOT NULL TH"
        "EN (SELECT string_agg(attname, ', ') FROM pg_catalog.generate_series(0"
        ", pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s, pg_cata"
        "log.pg_attribute WHERE attrelid = pr.prrelid AND attnum = prattrs[s]) "
        "ELSE NULL END) FROM pg_catalog.pg_publication p JOIN pg_catalog.pg_pub"
        "lication_rel pr ON p.oid = pr.prpubid JOIN pg_catalog.pg_class c ON c."
        "oid = pr.prrelid WHERE pr.prrelid = '$OID' UNION SELECT pubname , NULL"
        " , NULL FROM pg_catalog.pg_publication p WHERE p.puballtables AND pg_c"
        "atalog.pg_relation_is_publishable('$OID') ORDER BY 1",
    [Q_D_PARENTS] =
        "SELECT c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c, pg_catal"
        "og.pg_inherits i WHERE c.oid = i.inhparent AND i.inhrelid = '$OID' AND"
        " c.relkind != 'p' AND c.relkind != 'I' ORDER BY inhseqno",
    [Q_D_PARTITIONS] =
        "SELECT c.oid::pg_catalog.regclass, c.relkind, inhdetachpending, pg_cat"
        "alog.pg_get_expr(c.relpartbound, c.oid) FROM pg_catalog.pg_class c, pg"
        "_catalog.pg_inherits i WHERE c.oid = i.inhrelid AND i.inhparent = '$OI"
        "D' ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT',"
        " c.oid::pg_catalog.regclass::pg_catalog.text",
};

/* ---- matching -------------------------------------------------------------
 */

/* The query with white space folded to single spaces, trimmed, without a
 * final ';'. Caller frees. */
static char *
fold(const char *q)
{
    size_t n = strlen(q);
    char *o = lh_malloc(n + 1);
    if (o == NULL) {
        return NULL;
    }
    size_t k = 0;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        char c = q[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = k > 0;
            continue;
        }
        if (space) {
            o[k++] = ' ';
            space = false;
        }
        o[k++] = c;
    }
    while (k > 0 && (o[k - 1] == ';' || o[k - 1] == ' ')) {
        k--;
    }
    o[k] = 0;
    return o;
}

typedef struct holes {
    long long oid; /* -1 when the template has none */
    char pat[256];
    bool has_pat;
} holes;

/* Whether q is template t, reading its holes. */
static bool
match(const char *t, const char *q, holes *h)
{
    h->oid = -1;
    h->has_pat = false;
    while (*t != 0) {
        if (strncmp(t, "$OID", 4) == 0) {
            if (*q < '0' || *q > '9') {
                return false;
            }
            long long v = 0;
            while (*q >= '0' && *q <= '9' && v < 1000000000) {
                v = v * 10 + (*q++ - '0');
            }
            if (h->oid >= 0 && h->oid != v) {
                return false;
            }
            h->oid = v;
            t += 4;
            continue;
        }
        if (strncmp(t, "$PAT", 4) == 0) {
            size_t k = 0;
            while (*q != 0 && !(*q == '\'' && q[1] != '\'')) {
                if (*q == '\'') {
                    q++; /* '' is a quote */
                }
                if (k + 1 >= sizeof(h->pat)) {
                    return false;
                }
                h->pat[k++] = *q++;
            }
            h->pat[k] = 0;
            h->has_pat = true;
            t += 4;
            continue;
        }
        if (*t != *q) {
            return false;
        }
        t++;
        q++;
    }
    return *q == 0;
}

/* ---- result sets ----------------------------------------------------------
 */

typedef struct rs {
    lh_buf *out;
    int rows;
} rs;

static void
columns(rs *r, const char *const *names, const uint32_t *oids, int n)
{
    size_t at = lh__pg_begin(r->out, 'T');
    lh__pg_put_i16(r->out, n);
    for (int i = 0; i < n; i++) {
        lh__pg_put_str(r->out, names[i]);
        lh__pg_put_i32(r->out, 0);
        lh__pg_put_i16(r->out, 0);
        lh__pg_put_i32(r->out, (int32_t)oids[i]);
        lh__pg_put_i16(r->out, oids[i] == 16 ? 1 : -1);
        lh__pg_put_i32(r->out, -1);
        lh__pg_put_i16(r->out, 0);
    }
    lh__pg_end(r->out, at);
}

/* A row of n text values (NULL = SQL NULL). */
static void
row(rs *r, const char *const *vals, int n)
{
    size_t at = lh__pg_begin(r->out, 'D');
    lh__pg_put_i16(r->out, n);
    for (int i = 0; i < n; i++) {
        if (vals[i] == NULL) {
            lh__pg_put_i32(r->out, -1);
            continue;
        }
        size_t l = strlen(vals[i]);
        lh__pg_put_i32(r->out, (int32_t)l);
        lh_buf_append(r->out, vals[i], l);
    }
    lh__pg_end(r->out, at);
    r->rows++;
}

static void
done(rs *r)
{
    char tag[32];
    snprintf(tag, sizeof(tag), "SELECT %d", r->rows);
    size_t at = lh__pg_begin(r->out, 'C');
    lh__pg_put_str(r->out, tag);
    lh__pg_end(r->out, at);
}

/* A result with these columns (all text) and no rows. */
static void
empty(rs *r, int ncols)
{
    static const char *const names[] = {"?column?", "?column?", "?column?",
                                        "?column?", "?column?", "?column?",
                                        "?column?", "?column?", "?column?"};
    static const uint32_t oids[] = {25, 25, 25, 25, 25, 25, 25, 25, 25};
    columns(r, names, oids, ncols);
}

/* ---- the tables as PostgreSQL sees them -------------------------------------
 */

/* PostgreSQL's name for a lakehouse type (format_type). */
static void
pg_type_name(const char *t, char *out, size_t cap)
{
    static const struct {
        const char *ours, *theirs;
    } names[] = {
        {"BOOLEAN", "boolean"},
        {"SMALLINT", "smallint"},
        {"INTEGER", "integer"},
        {"BIGINT", "bigint"},
        {"REAL", "real"},
        {"DOUBLE", "double precision"},
        {"VARCHAR", "character varying"},
        {"BLOB", "bytea"},
        {"DATE", "date"},
        {"TIME", "time without time zone"},
        {"TIMESTAMP", "timestamp without time zone"},
        {"TIMESTAMPTZ", "timestamp with time zone"},
        {"INTERVAL", "interval"},
        {"UUID", "uuid"},
        {"JSON", "json"},
    };
    const char *paren = strchr(t, '(');
    size_t base = paren ? (size_t)(paren - t) : strlen(t);
    if (strncmp(t, "DECIMAL", 7) == 0) {
        snprintf(out, cap, "numeric%s", paren ? paren : "");
        return;
    }
    if (strncmp(t, "FLOAT[", 6) == 0) {
        int n = atoi(t + 6);
        snprintf(out, cap, "vector(%d)", n);
        return;
    }
    for (size_t i = 0; i < LH_ARRAY_LEN(names); i++) {
        if (strlen(names[i].ours) == base &&
            strncmp(t, names[i].ours, base) == 0) {
            snprintf(out, cap, "%s%s", names[i].theirs, paren ? paren : "");
            return;
        }
    }
    snprintf(out, cap, "%s", t);
}

typedef struct tables {
    char **names;
    size_t n;
} tables;

static bool
pattern_matches(const char *pat, const char *name)
{
    int e;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0,
                                   &e, &off, NULL);
    if (re == NULL) {
        return false;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc =
        md ? pcre2_match(re, (PCRE2_SPTR)name, strlen(name), 0, 0, md, NULL)
           : -1;
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

static void
list_tables(rs *r, const tables *ts, const char *pat, const char *owner)
{
    static const char *const names[] = {"Schema", "Name", "Type", "Owner"};
    static const uint32_t oids[] = {19, 19, 25, 19};
    columns(r, names, oids, 4);
    for (size_t i = 0; i < ts->n; i++) {
        if (pat != NULL && !pattern_matches(pat, ts->names[i])) {
            continue;
        }
        const char *v[] = {"public", ts->names[i], "table", owner};
        row(r, v, 4);
    }
}

static void
lookup(rs *r, const tables *ts, const char *pat)
{
    static const char *const names[] = {"oid", "nspname", "relname"};
    static const uint32_t oids[] = {26, 19, 19};
    columns(r, names, oids, 3);
    for (size_t i = 0; i < ts->n; i++) {
        if (!pattern_matches(pat, ts->names[i])) {
            continue;
        }
        char oid[24];
        snprintf(oid, sizeof(oid), "%zu", FIRST_OID + i);
        const char *v[] = {oid, "public", ts->names[i]};
        row(r, v, 3);
    }
}

static void
relation(rs *r, const tables *ts, long long oid)
{
    static const char *const names[] = {"relchecks",
                                        "relkind",
                                        "relhasindex",
                                        "relhasrules",
                                        "relhastriggers",
                                        "relrowsecurity",
                                        "relforcerowsecurity",
                                        "relhasoids",
                                        "relispartition",
                                        "?column?",
                                        "reltablespace",
                                        "reloftype",
                                        "relpersistence",
                                        "relreplident",
                                        "amname"};
    static const uint32_t oids[] = {21, 18, 16, 16, 16, 16, 16, 16,
                                    16, 25, 26, 25, 18, 18, 19};
    columns(r, names, oids, 15);
    if (oid >= FIRST_OID && (size_t)(oid - FIRST_OID) < ts->n) {
        const char *v[] = {"0", "r", "f", "f", "f", "f", "f",   "f",
                           "f", "",  "0", "",  "p", "d", "heap"};
        row(r, v, 15);
    }
}

/* A table's definition as JSON (lh_table_describe), or NULL. */
static json_t *
table_def(lh_db *db, const char *name)
{
    char *desc = NULL;
    if (lh_table_describe(db, name, &desc, NULL) != LH_OK) {
        return NULL;
    }
    json_t *j = json_loads(desc, 0, NULL);
    lh_free_mem(desc);
    return j;
}

static void
table_columns(rs *r, lh_db *db, const tables *ts, long long oid)
{
    static const char *const names[] = {
        "attname",      "format_type", "pg_get_expr", "attnotnull",
        "attcollation", "attidentity", "attgenerated"};
    static const uint32_t oids[] = {19, 25, 25, 16, 19, 18, 18};
    columns(r, names, oids, 7);
    if (oid < FIRST_OID || (size_t)(oid - FIRST_OID) >= ts->n) {
        return;
    }
    json_t *j = table_def(db, ts->names[oid - FIRST_OID]);
    if (j == NULL) {
        return;
    }
    size_t i;
    json_t *col;
    json_array_foreach(json_object_get(j, "columns"), i, col)
    {
        const char *name = json_string_value(json_object_get(col, "name"));
        const char *type = json_string_value(json_object_get(col, "type"));
        bool nullable = !json_is_false(json_object_get(col, "nullable"));
        if (name == NULL || type == NULL) {
            continue;
        }
        char t[80];
        pg_type_name(type, t, sizeof(t));
        const char *v[] = {name, t, NULL, nullable ? "f" : "t", NULL, "", ""};
        row(r, v, 7);
    }
    json_int_t dim = json_integer_value(json_object_get(j, "embedding_dim"));
    if (dim > 0) {
        char t[40];
        snprintf(t, sizeof(t), "vector(%lld)", (long long)dim);
        const char *v[] = {"embedding", t, NULL, "f", NULL, "", ""};
        row(r, v, 7);
    }
    json_decref(j);
}

bool
lh__pg_catalog(srv_conn *c, const char *sql)
{
    pg_conn *p = c->state;
    if (strstr(sql, "pg_catalog") == NULL) {
        return false; /* the cheap test first */
    }
    char *q = fold(sql);
    if (q == NULL) {
        return false;
    }
    holes h;
    int which = -1;
    for (int i = 0; i < Q_COUNT && which < 0; i++) {
        if (match(templates[i], q, &h)) {
            which = i;
        }
    }
    lh_free(q);
    if (which < 0) {
        return false;
    }
    lh_db *db = c->loop->srv->db;
    tables ts = {NULL, 0};
    if (lh_table_list(db, &ts.names, &ts.n, NULL) != LH_OK) {
        return false;
    }
    rs r = {&p->out, 0};
    switch (which) {
    case Q_DT_LIST:
    case Q_D_LIST:
        list_tables(&r, &ts, NULL, p->user);
        break;
    case Q_DT_PATTERN:
        list_tables(&r, &ts, h.pat, p->user);
        break;
    case Q_DB_LIST: {
        static const char *const names[] = {
            "Name",  "Owner",      "Encoding",        "Collate",
            "Ctype", "ICU Locale", "Locale Provider", "Access privileges"};
        static const uint32_t oids[] = {19, 19, 19, 19, 19, 25, 25, 25};
        columns(&r, names, oids, 8);
        const char *v[] = {p->db, p->user, "UTF8", "C",
                           "C",   NULL,    "libc", NULL};
        row(&r, v, 8);
        break;
    }
    case Q_NS_LIST: {
        static const char *const names[] = {"Name", "Owner"};
        static const uint32_t oids[] = {19, 19};
        columns(&r, names, oids, 2);
        const char *v[] = {"public", "pg_database_owner"};
        row(&r, v, 2);
        break;
    }
    case Q_D_LOOKUP:
        lookup(&r, &ts, h.pat);
        break;
    case Q_D_RELATION:
        relation(&r, &ts, h.oid);
        break;
    case Q_D_COLUMNS:
        table_columns(&r, db, &ts, h.oid);
        break;
    case Q_D_POLICIES:
        empty(&r, 6);
        break;
    case Q_D_STATISTICS:
        empty(&r, 9);
        break;
    case Q_D_PUBLICATIONS:
        empty(&r, 3);
        break;
    case Q_D_PARENTS:
        empty(&r, 1);
        break;
    case Q_D_PARTITIONS:
        empty(&r, 4);
        break;
    default:
        break;
    }
    done(&r);
    lh_free_strings(ts.names, ts.n);
    return true;
}

/* ---- information_schema and pg_catalog as tables ----------------------------
 *
 * BI tools and drivers introspect with plain queries over
 * information_schema (tables, columns, schemata) and pg_catalog
 * (pg_namespace, pg_class, pg_attribute, pg_type, pg_database, pg_tables).
 * A PostgreSQL session gets them as session tables, filled from the
 * database's tables when the session opens, so that the engine answers
 * whatever such a query asks of them (filters, joins, ordering). The
 * engine resolves "information_schema.tables" by its last part, so a table
 * of the database with one of these names wins over the catalog's.
 */

static void
sql_str(lh_buf *b, const char *s)
{
    lh_buf_putc(b, '\'');
    for (; *s != 0; s++) {
        if (*s == '\'') {
            lh_buf_putc(b, '\'');
        }
        lh_buf_putc(b, *s);
    }
    lh_buf_putc(b, '\'');
}

/* A column's type as information_schema spells it, with its length,
 * precision and scale (-1: none), and the pg_type oid. */
static void
info_type(const char *t, char *name, size_t cap, int *len, int *prec,
          int *scale, int *oid)
{
    char full[80];
    pg_type_name(t, full, sizeof(full));
    *len = *prec = *scale = -1;
    char *paren = strchr(full, '(');
    if (paren != NULL) {
        if (strncmp(full, "numeric", 7) == 0) {
            sscanf(paren, "(%d,%d)", prec, scale);
        } else if (strncmp(full, "character varying", 17) == 0) {
            sscanf(paren, "(%d)", len);
        }
        *paren = 0;
    }
    snprintf(name, cap, "%s",
             strncmp(full, "vector", 6) == 0 ? "USER-DEFINED" : full);
    static const struct {
        const char *name;
        int oid;
    } oids[] = {{"boolean", 16},
                {"smallint", 21},
                {"integer", 23},
                {"bigint", 20},
                {"real", 700},
                {"double precision", 701},
                {"numeric", 1700},
                {"character varying", 1043},
                {"bytea", 17},
                {"date", 1082},
                {"time without time zone", 1083},
                {"timestamp without time zone", 1114},
                {"timestamp with time zone", 1184},
                {"interval", 1186},
                {"uuid", 2950},
                {"json", 114}};
    *oid = 25;
    for (size_t i = 0; i < LH_ARRAY_LEN(oids); i++) {
        if (strcmp(full, oids[i].name) == 0) {
            *oid = oids[i].oid;
        }
    }
}

static void
num_or_null(lh_buf *b, int v)
{
    if (v < 0) {
        lh_buf_puts(b, "NULL");
    } else {
        lh_buf_printf(b, "%d", v);
    }
}

static const char *const catalog_ddl[] = {
    "CREATE TEMP TABLE tables (table_catalog VARCHAR, table_schema VARCHAR, "
    "table_name VARCHAR, table_type VARCHAR)",
    "CREATE TEMP TABLE columns (table_catalog VARCHAR, table_schema VARCHAR, "
    "table_name VARCHAR, column_name VARCHAR, ordinal_position INTEGER, "
    "column_default VARCHAR, is_nullable VARCHAR, data_type VARCHAR, "
    "character_maximum_length INTEGER, numeric_precision INTEGER, "
    "numeric_scale INTEGER, udt_name VARCHAR)",
    "CREATE TEMP TABLE schemata (catalog_name VARCHAR, schema_name VARCHAR, "
    "schema_owner VARCHAR)",
    "CREATE TEMP TABLE pg_namespace (oid INTEGER, nspname VARCHAR, nspowner "
    "INTEGER)",
    "CREATE TEMP TABLE pg_class (oid INTEGER, relname VARCHAR, relnamespace "
    "INTEGER, relkind VARCHAR, reltuples REAL)",
    "CREATE TEMP TABLE pg_attribute (attrelid INTEGER, attname VARCHAR, "
    "atttypid INTEGER, attnum SMALLINT, attnotnull BOOLEAN, attisdropped "
    "BOOLEAN)",
    "CREATE TEMP TABLE pg_type (oid INTEGER, typname VARCHAR, typnamespace "
    "INTEGER, typlen SMALLINT, typtype VARCHAR)",
    "CREATE TEMP TABLE pg_database (oid INTEGER, datname VARCHAR)",
    "CREATE TEMP TABLE pg_tables (schemaname VARCHAR, tablename VARCHAR, "
    "tableowner VARCHAR)",
};

/* The table a catalog statement creates ("CREATE TEMP TABLE name (..."). */
static void
ddl_name(const char *ddl, char *out, size_t cap)
{
    const char *n = ddl + strlen("CREATE TEMP TABLE ");
    snprintf(out, cap, "%.*s", (int)strcspn(n, " "), n);
}

lh_rc
lh__pg_catalog_tables(lh_session *s, lh_db *db, const char *user,
                      const char *dbname, lh_err *err)
{
    tables ts = {NULL, 0};
    lh_rc rc = lh_table_list(db, &ts.names, &ts.n, err);
    if (rc != LH_OK) {
        return rc;
    }
    bool skip[LH_ARRAY_LEN(catalog_ddl)] = {false};
    for (size_t k = 0; k < LH_ARRAY_LEN(catalog_ddl); k++) {
        char name[32];
        ddl_name(catalog_ddl[k], name, sizeof(name));
        for (size_t i = 0; i < ts.n; i++) {
            skip[k] = skip[k] || strcmp(ts.names[i], name) == 0;
        }
    }
    lh_buf ins[LH_ARRAY_LEN(catalog_ddl)];
    for (size_t k = 0; k < LH_ARRAY_LEN(catalog_ddl); k++) {
        lh_buf_init(&ins[k]);
    }
    static const char *const schemas[] = {"pg_catalog", "public",
                                          "information_schema"};
    for (int i = 0; i < 3; i++) {
        lh_buf_printf(&ins[2], "%s('%s','%s',", i ? "," : "", dbname,
                      schemas[i]);
        sql_str(&ins[2], user);
        lh_buf_putc(&ins[2], ')');
        lh_buf_printf(&ins[3], "%s(%d,'%s',10)", i ? "," : "",
                      i == 0   ? 11
                      : i == 1 ? 2200
                               : 13000,
                      schemas[i]);
    }
    static const struct {
        int oid, len;
        const char *name;
    } types[] = {{16, 1, "bool"},        {17, -1, "bytea"},
                 {20, 8, "int8"},        {21, 2, "int2"},
                 {23, 4, "int4"},        {25, -1, "text"},
                 {114, -1, "json"},      {700, 4, "float4"},
                 {701, 8, "float8"},     {1043, -1, "varchar"},
                 {1082, 4, "date"},      {1083, 8, "time"},
                 {1114, 8, "timestamp"}, {1184, 8, "timestamptz"},
                 {1186, 16, "interval"}, {1700, -1, "numeric"},
                 {2950, 16, "uuid"}};
    for (size_t i = 0; i < LH_ARRAY_LEN(types); i++) {
        lh_buf_printf(&ins[6], "%s(%d,'%s',11,%d,'b')", i ? "," : "",
                      types[i].oid, types[i].name, types[i].len);
    }
    lh_buf_printf(&ins[7], "(16384,");
    sql_str(&ins[7], dbname);
    lh_buf_putc(&ins[7], ')');
    for (size_t t = 0; t < ts.n; t++) {
        const char *tn = ts.names[t];
        char sep = t ? ',' : ' ';
        lh_buf_printf(&ins[0], "%c('%s','public',", sep, dbname);
        sql_str(&ins[0], tn);
        lh_buf_puts(&ins[0], ",'BASE TABLE')");
        lh_buf_printf(&ins[4], "%c(%zu,", sep, FIRST_OID + t);
        sql_str(&ins[4], tn);
        lh_buf_puts(&ins[4], ",2200,'r',-1)");
        lh_buf_printf(&ins[8], "%c('public',", sep);
        sql_str(&ins[8], tn);
        lh_buf_putc(&ins[8], ',');
        sql_str(&ins[8], user);
        lh_buf_putc(&ins[8], ')');
        json_t *j = table_def(db, tn);
        if (j == NULL) {
            continue;
        }
        size_t i;
        json_t *col;
        json_array_foreach(json_object_get(j, "columns"), i, col)
        {
            const char *name = json_string_value(json_object_get(col, "name"));
            const char *type = json_string_value(json_object_get(col, "type"));
            if (name == NULL || type == NULL) {
                continue;
            }
            bool nullable = !json_is_false(json_object_get(col, "nullable"));
            char dt[80];
            int len, prec, scale, oid;
            info_type(type, dt, sizeof(dt), &len, &prec, &scale, &oid);
            const char *udt = "text";
            for (size_t k = 0; k < LH_ARRAY_LEN(types); k++) {
                if (types[k].oid == oid) {
                    udt = types[k].name;
                }
            }
            lh_buf *c = &ins[1];
            lh_buf_printf(c, "%s('%s','public',", c->len ? "," : "", dbname);
            sql_str(c, tn);
            lh_buf_putc(c, ',');
            sql_str(c, name);
            lh_buf_printf(c, ",%zu,NULL,'%s','%s',", i + 1,
                          nullable ? "YES" : "NO", dt);
            num_or_null(c, len);
            lh_buf_putc(c, ',');
            num_or_null(c, prec);
            lh_buf_putc(c, ',');
            num_or_null(c, scale);
            lh_buf_printf(c, ",'%s')", udt);
            lh_buf *a = &ins[5];
            lh_buf_printf(a, "%s(%zu,", a->len ? "," : "", FIRST_OID + t);
            sql_str(a, name);
            lh_buf_printf(a, ",%d,%zu,%s,false)", oid, i + 1,
                          nullable ? "false" : "true");
        }
        json_decref(j);
    }
    lh_free_strings(ts.names, ts.n);
    lh_buf sql = LH_BUF_INIT;
    for (size_t k = 0; k < LH_ARRAY_LEN(catalog_ddl); k++) {
        if (skip[k]) {
            continue;
        }
        lh_buf_puts(&sql, catalog_ddl[k]);
        lh_buf_puts(&sql, ";\n");
        if (ins[k].len > 0) {
            char name[32];
            ddl_name(catalog_ddl[k], name, sizeof(name));
            lh_buf_printf(&sql, "INSERT INTO %s VALUES ", name);
            lh_buf_append(&sql, ins[k].data, ins[k].len);
            lh_buf_puts(&sql, ";\n");
        }
    }
    for (size_t k = 0; k < LH_ARRAY_LEN(catalog_ddl); k++) {
        lh_buf_release(&ins[k]);
    }
    rc = lh_buf_ok(&sql) ? lh_sql_run(s, sql.data, NULL, NULL, err)
                         : lh_err_set(err, LH_ENOMEM, "out of memory");
    lh_buf_release(&sql);
    return rc;
}

/* ---- statements drivers send that name server functions -------------------
 *
 * Answered here, in both protocols: version(), current_schema(),
 * current_database(), current_user and SHOW of the settings clients read.
 */

enum {
    CANNED_VERSION,
    CANNED_SCHEMA,
    CANNED_DATABASE,
    CANNED_USER,
    CANNED_CONST,
};

static const struct {
    const char *sql, *column;
    int kind;
    const char *value;
} canned_q[] = {
    {"select version()", "version", CANNED_VERSION, NULL},
    {"select pg_catalog.version()", "version", CANNED_VERSION, NULL},
    {"select current_schema()", "current_schema", CANNED_SCHEMA, NULL},
    {"select current_schema", "current_schema", CANNED_SCHEMA, NULL},
    {"select pg_catalog.current_schema()", "current_schema", CANNED_SCHEMA,
     NULL},
    {"select current_database()", "current_database", CANNED_DATABASE, NULL},
    {"select pg_catalog.current_database()", "current_database",
     CANNED_DATABASE, NULL},
    {"select current_user", "current_user", CANNED_USER, NULL},
    {"select session_user", "session_user", CANNED_USER, NULL},
    {"select user", "user", CANNED_USER, NULL},
    {"show server_version", "server_version", CANNED_CONST,
     LH_PG_SERVER_VERSION},
    {"show server_version_num", "server_version_num", CANNED_CONST, "150000"},
    {"show search_path", "search_path", CANNED_CONST, "\"$user\", public"},
    {"show transaction isolation level", "transaction_isolation", CANNED_CONST,
     "read committed"},
    {"show transaction_isolation", "transaction_isolation", CANNED_CONST,
     "read committed"},
    {"show standard_conforming_strings", "standard_conforming_strings",
     CANNED_CONST, "on"},
    {"show client_encoding", "client_encoding", CANNED_CONST, "UTF8"},
    {"show server_encoding", "server_encoding", CANNED_CONST, "UTF8"},
    {"show timezone", "TimeZone", CANNED_CONST, "UTC"},
    {"show datestyle", "DateStyle", CANNED_CONST, "ISO, MDY"},
    {"show integer_datetimes", "integer_datetimes", CANNED_CONST, "on"},
    {"show max_identifier_length", "max_identifier_length", CANNED_CONST, "63"},
    {"show default_transaction_read_only", "default_transaction_read_only",
     CANNED_CONST, "off"},
};

int
lh__pg_canned(const char *sql)
{
    char *q = fold(sql);
    if (q == NULL) {
        return -1;
    }
    for (char *p = q; *p != 0; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    int found = -1;
    for (size_t i = 0; i < LH_ARRAY_LEN(canned_q) && found < 0; i++) {
        if (strcmp(q, canned_q[i].sql) == 0) {
            found = (int)i;
        }
    }
    lh_free(q);
    return found;
}

void
lh__pg_canned_describe(int which, lh_buf *out)
{
    rs r = {out, 0};
    const char *name = canned_q[which].column;
    uint32_t oid = canned_q[which].kind == CANNED_CONST ? 25 : 19;
    if (canned_q[which].kind == CANNED_VERSION) {
        oid = 25;
    }
    columns(&r, &name, &oid, 1);
}

void
lh__pg_canned_rows(const pg_conn *p, int which, lh_buf *out)
{
    rs r = {out, 0};
    char v[200];
    switch (canned_q[which].kind) {
    case CANNED_VERSION:
        snprintf(v, sizeof(v),
                 "PostgreSQL %s on x86_64-pc-linux-gnu, compiled by lakehouse",
                 LH_PG_SERVER_VERSION);
        break;
    case CANNED_SCHEMA:
        snprintf(v, sizeof(v), "public");
        break;
    case CANNED_DATABASE:
        snprintf(v, sizeof(v), "%s", p->db[0] ? p->db : p->user);
        break;
    case CANNED_USER:
        snprintf(v, sizeof(v), "%s", p->user);
        break;
    default:
        snprintf(v, sizeof(v), "%s", canned_q[which].value);
        break;
    }
    const char *vals[] = {v};
    row(&r, vals, 1);
    done(&r);
}
