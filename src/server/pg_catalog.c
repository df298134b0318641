/*
 * What psql 15 asks the catalog for its \dt, \d, \d NAME, \l and \dn,
 * answered from the database's tables, so that psql works against
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
    char *desc = NULL;
    if (lh_table_describe(db, ts->names[oid - FIRST_OID], &desc, NULL) !=
        LH_OK) {
        return;
    }
    json_t *j = json_loads(desc, 0, NULL);
    lh_free_mem(desc);
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
