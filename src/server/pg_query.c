/*
 * The query phase of the PostgreSQL protocol: Query (simple), Parse,
 * Bind, Describe, Execute, Close, Sync, Flush, Terminate, with the
 * session's prepared statements and portals.
 *
 * Running SQL needs the SQL engine's query API (prepare/execute with
 * parameters, typed result batches, cancel), which is not in
 * include/lakehouse.h yet: until it is, a statement that needs the engine
 * is answered 0A000 (feature_not_supported) while everything around it
 * (framing, statements, portals, parameters in both formats, errors and
 * the skip to Sync) works as PostgreSQL's does.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "server/pg_int.h"

#define NOT_YET "SQL queries are not available in this build yet"

static void
error(pg_conn *p, const char *code, const char *msg)
{
    lh__pg_error(&p->out, "ERROR", code, msg, NULL, NULL);
}

/* An error in an extended-query message: the rest up to Sync is skipped. */
static void
ext_error(pg_conn *p, const char *code, const char *msg)
{
    error(p, code, msg);
    p->skip_to_sync = true;
    if (p->txn == 'T') {
        p->txn = 'E';
    }
}

static void
simple(pg_conn *p, char type)
{
    size_t at = lh__pg_begin(&p->out, type);
    lh__pg_end(&p->out, at);
}

/* The highest $n placeholder of a statement, outside strings, quoted
 * names and comments: the parameters a statement has when Parse declares
 * fewer types (clients leave the types to the server). */
static int
max_placeholder(const char *q)
{
    int max = 0;
    for (const char *s = q; *s != 0;) {
        if (*s == '\'' || *s == '"') {
            char end = *s++;
            while (*s != 0 && !(*s == end && s[1] != end)) {
                s += *s == end ? 2 : 1; /* '' and "" are escapes */
            }
            s += *s != 0;
        } else if (s[0] == '-' && s[1] == '-') {
            while (*s != 0 && *s != '\n') {
                s++;
            }
        } else if (s[0] == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");
            s = e ? e + 2 : s + strlen(s);
        } else if (s[0] == '$' && isdigit((unsigned char)s[1])) {
            long n = strtol(s + 1, (char **)&s, 10);
            if (n > max && n <= 65535) {
                max = (int)n;
            }
        } else if (s[0] == '$') {
            /* A dollar quote $tag$...$tag$ (tag may be empty). */
            const char *t = s + 1;
            while (isalnum((unsigned char)*t) || *t == '_') {
                t++;
            }
            if (*t != '$') {
                s++;
                continue;
            }
            size_t tl = (size_t)(t - s) + 1;
            const char *e = s + tl;
            while (*e != 0 && strncmp(e, s, tl) != 0) {
                e++;
            }
            s = *e ? e + tl : e;
        } else {
            s++;
        }
    }
    return max;
}

static bool
blank_query(const char *q)
{
    for (; *q != 0; q++) {
        if (!isspace((unsigned char)*q) && *q != ';') {
            return false;
        }
    }
    return true;
}

/* ---- statements and portals ------------------------------------------------
 */

static pg_stmt *
find_stmt(pg_conn *p, const char *name)
{
    for (pg_stmt *s = p->stmts; s != NULL; s = s->next) {
        if (strcmp(s->name, name) == 0) {
            return s;
        }
    }
    return NULL;
}

static pg_portal *
find_portal(pg_conn *p, const char *name)
{
    for (pg_portal *x = p->portals; x != NULL; x = x->next) {
        if (strcmp(x->name, name) == 0) {
            return x;
        }
    }
    return NULL;
}

static void
stmt_free(pg_stmt *s)
{
    if (s == NULL) {
        return;
    }
    lh_free(s->name);
    lh_free(s->sql);
    lh_free(s->types);
    lh_free(s);
}

static void
portal_free(pg_portal *x)
{
    if (x == NULL) {
        return;
    }
    for (int i = 0; i < x->nparams; i++) {
        lh_free(x->params[i]);
    }
    lh_free(x->params);
    lh_free(x->plen);
    lh_free(x->pfmt);
    lh_free(x->resfmt);
    stmt_free(x->stmt);
    lh_free(x->name);
    lh_free(x);
}

static void
drop_stmt(pg_conn *p, const char *name)
{
    for (pg_stmt **s = &p->stmts; *s != NULL; s = &(*s)->next) {
        if (strcmp((*s)->name, name) == 0) {
            pg_stmt *d = *s;
            *s = d->next;
            stmt_free(d);
            return;
        }
    }
}

static void
drop_portal(pg_conn *p, const char *name)
{
    for (pg_portal **x = &p->portals; *x != NULL; x = &(*x)->next) {
        if (strcmp((*x)->name, name) == 0) {
            pg_portal *d = *x;
            *x = d->next;
            portal_free(d);
            return;
        }
    }
}

static pg_stmt *
stmt_copy(const pg_stmt *s)
{
    pg_stmt *c = lh_calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->name = lh_strdup(s->name);
    c->sql = lh_strdup(s->sql);
    c->nparams = s->nparams;
    c->types =
        lh_calloc((size_t)(s->nparams ? s->nparams : 1), sizeof(uint32_t));
    if (c->name == NULL || c->sql == NULL || c->types == NULL) {
        stmt_free(c);
        return NULL;
    }
    memcpy(c->types, s->types, (size_t)s->nparams * sizeof(uint32_t));
    return c;
}

void
lh__pg_session_release(pg_conn *p)
{
    while (p->stmts != NULL) {
        pg_stmt *s = p->stmts;
        p->stmts = s->next;
        stmt_free(s);
    }
    while (p->portals != NULL) {
        pg_portal *x = p->portals;
        p->portals = x->next;
        portal_free(x);
    }
}

void
lh__pg_exec_cancel(pg_conn *p)
{
    /* No query runs on the pool yet: the flag (p->cancel) is all. */
    (void)p;
}

/* ---- messages
 * ----------------------------------------------------------------- */

static void
on_query(srv_conn *c, lh_pg_reader *r)
{
    pg_conn *p = c->state;
    const char *q;
    if (!lh__pg_get_str(r, &q) || !lh__pg_at_end(r)) {
        error(p, "08P01", "invalid Query message");
    } else if (blank_query(q)) {
        simple(p, 'I'); /* EmptyQueryResponse */
    } else if (lh__pg_catalog(c, q)) {
        atomic_fetch_add(&c->loop->srv->m.pg_queries, 1);
    } else {
        atomic_fetch_add(&c->loop->srv->m.pg_queries, 1);
        error(p, "0A000", NOT_YET);
    }
    atomic_store(&p->cancel, false);
    lh__pg_ready(p);
}

static void
on_parse(srv_conn *c, lh_pg_reader *r)
{
    pg_conn *p = c->state;
    const char *name, *sql;
    int16_t n;
    if (!lh__pg_get_str(r, &name) || !lh__pg_get_str(r, &sql) ||
        !lh__pg_get_i16(r, &n) || n < 0) {
        ext_error(p, "08P01", "invalid Parse message");
        return;
    }
    uint32_t *types = lh_calloc((size_t)(n ? n : 1), sizeof(uint32_t));
    if (types == NULL) {
        ext_error(p, "53200", "out of memory");
        return;
    }
    for (int i = 0; i < n; i++) {
        int32_t oid;
        if (!lh__pg_get_i32(r, &oid)) {
            lh_free(types);
            ext_error(p, "08P01", "invalid Parse message");
            return;
        }
        types[i] = (uint32_t)oid;
    }
    if (!lh__pg_at_end(r)) {
        lh_free(types);
        ext_error(p, "08P01", "invalid Parse message");
        return;
    }
    if (name[0] != 0 && find_stmt(p, name) != NULL) {
        lh_free(types);
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "prepared statement \"%.100s\" already "
                 "exists",
                 name);
        ext_error(p, "42P05", msg);
        return;
    }
    int total = LH_MAX((int)n, max_placeholder(sql));
    if (total > n) {
        uint32_t *more = lh_realloc(types, (size_t)total * sizeof(uint32_t));
        if (more == NULL) {
            lh_free(types);
            ext_error(p, "53200", "out of memory");
            return;
        }
        memset(more + n, 0, (size_t)(total - n) * sizeof(uint32_t));
        types = more;
    }
    pg_stmt *s = lh_calloc(1, sizeof(*s));
    if (s != NULL) {
        s->name = lh_strdup(name);
        s->sql = lh_strdup(sql);
        s->nparams = total;
        s->types = types;
        types = NULL;
    }
    if (s == NULL || s->name == NULL || s->sql == NULL) {
        lh_free(types);
        stmt_free(s);
        ext_error(p, "53200", "out of memory");
        return;
    }
    drop_stmt(p, name); /* the unnamed statement is replaced */
    s->next = p->stmts;
    p->stmts = s;
    simple(p, '1'); /* ParseComplete */
}

/* Reads Bind's parameters into x (binary ones as text). Returns false
 * after writing the error. */
static bool
bind_params(pg_conn *p, lh_pg_reader *r, pg_portal *x, const pg_stmt *s)
{
    int16_t nfmt, np;
    if (!lh__pg_get_i16(r, &nfmt) || nfmt < 0) {
        ext_error(p, "08P01", "invalid Bind message");
        return false;
    }
    int16_t *fmts = lh_calloc((size_t)(nfmt ? nfmt : 1), sizeof(int16_t));
    if (fmts == NULL) {
        ext_error(p, "53200", "out of memory");
        return false;
    }
    for (int i = 0; i < nfmt; i++) {
        if (!lh__pg_get_i16(r, &fmts[i]) || (fmts[i] != 0 && fmts[i] != 1)) {
            lh_free(fmts);
            ext_error(p, "08P01",
                      "invalid Bind message: a format code must "
                      "be 0 or 1");
            return false;
        }
    }
    if (!lh__pg_get_i16(r, &np) || np < 0) {
        lh_free(fmts);
        ext_error(p, "08P01", "invalid Bind message");
        return false;
    }
    if (np != s->nparams) {
        lh_free(fmts);
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "bind message supplies %d parameters, but prepared statement "
                 "\"%.60s\" requires %d",
                 np, s->name, s->nparams);
        ext_error(p, "08P01", msg);
        return false;
    }
    if (nfmt > 1 && nfmt != np) {
        lh_free(fmts);
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "bind message has %d parameter formats but %d parameters",
                 nfmt, np);
        ext_error(p, "08P01", msg);
        return false;
    }
    size_t n = (size_t)(np ? np : 1);
    x->nparams = np;
    x->params = lh_calloc(n, sizeof(char *));
    x->plen = lh_calloc(n, sizeof(int32_t));
    x->pfmt = lh_calloc(n, sizeof(int16_t));
    if (x->params == NULL || x->plen == NULL || x->pfmt == NULL) {
        lh_free(fmts);
        ext_error(p, "53200", "out of memory");
        return false;
    }
    for (int i = 0; i < np; i++) {
        int32_t len;
        const uint8_t *bytes = NULL;
        int16_t f = nfmt == 0 ? 0 : nfmt == 1 ? fmts[0] : fmts[i];
        if (!lh__pg_get_i32(r, &len) || len < -1 ||
            (len > 0 && !lh__pg_get_bytes(r, (size_t)len, &bytes))) {
            lh_free(fmts);
            ext_error(p, "08P01", "invalid Bind message");
            return false;
        }
        x->pfmt[i] = 0;
        if (len < 0) {
            x->plen[i] = -1;
            continue;
        }
        if (len == 0) {
            bytes = (const uint8_t *)""; /* an empty value, not NULL */
        }
        lh_buf t = LH_BUF_INIT;
        if (f == 1) {
            lh_err err;
            if (lh__pg_binary_to_text(s->types[i], bytes, (size_t)len, &t,
                                      &err) != LH_OK) {
                lh_buf_release(&t);
                lh_free(fmts);
                char msg[sizeof(err.msg) + 32];
                snprintf(msg, sizeof(msg), "parameter $%d: %s", i + 1, err.msg);
                ext_error(p, "22P03", msg);
                return false;
            }
        } else {
            if (memchr(bytes, 0, (size_t)len) != NULL) {
                lh_free(fmts);
                ext_error(p, "22021",
                          "invalid byte sequence for encoding "
                          "\"UTF8\": 0x00");
                return false;
            }
            lh_buf_append(&t, (const char *)bytes, (size_t)len);
        }
        lh_buf_putc(&t, 0);
        if (!lh_buf_ok(&t)) {
            lh_buf_release(&t);
            lh_free(fmts);
            ext_error(p, "53200", "out of memory");
            return false;
        }
        x->plen[i] = (int32_t)(t.len - 1);
        x->params[i] = lh_buf_take(&t, NULL);
    }
    lh_free(fmts);
    int16_t nres;
    if (!lh__pg_get_i16(r, &nres) || nres < 0) {
        ext_error(p, "08P01", "invalid Bind message");
        return false;
    }
    x->nresfmt = nres;
    x->resfmt = lh_calloc((size_t)(nres ? nres : 1), sizeof(int16_t));
    if (x->resfmt == NULL) {
        ext_error(p, "53200", "out of memory");
        return false;
    }
    for (int i = 0; i < nres; i++) {
        if (!lh__pg_get_i16(r, &x->resfmt[i]) ||
            (x->resfmt[i] != 0 && x->resfmt[i] != 1)) {
            ext_error(p, "08P01",
                      "invalid Bind message: a format code must "
                      "be 0 or 1");
            return false;
        }
    }
    if (!lh__pg_at_end(r)) {
        ext_error(p, "08P01", "invalid Bind message");
        return false;
    }
    return true;
}

static void
on_bind(srv_conn *c, lh_pg_reader *r)
{
    pg_conn *p = c->state;
    const char *portal, *name;
    if (!lh__pg_get_str(r, &portal) || !lh__pg_get_str(r, &name)) {
        ext_error(p, "08P01", "invalid Bind message");
        return;
    }
    pg_stmt *s = find_stmt(p, name);
    char msg[200];
    if (s == NULL) {
        snprintf(msg, sizeof(msg),
                 "prepared statement \"%.100s\" does not "
                 "exist",
                 name);
        ext_error(p, "26000", msg);
        return;
    }
    if (portal[0] != 0 && find_portal(p, portal) != NULL) {
        snprintf(msg, sizeof(msg), "portal \"%.100s\" already exists", portal);
        ext_error(p, "42P03", msg);
        return;
    }
    pg_portal *x = lh_calloc(1, sizeof(*x));
    if (x == NULL || (x->name = lh_strdup(portal)) == NULL ||
        (x->stmt = stmt_copy(s)) == NULL) {
        portal_free(x);
        ext_error(p, "53200", "out of memory");
        return;
    }
    if (!bind_params(p, r, x, s)) {
        portal_free(x);
        return;
    }
    drop_portal(p, portal);
    x->next = p->portals;
    p->portals = x;
    simple(p, '2'); /* BindComplete */
}

static void
on_describe(srv_conn *c, lh_pg_reader *r)
{
    pg_conn *p = c->state;
    uint8_t what;
    const char *name;
    if (!lh__pg_get_u8(r, &what) || !lh__pg_get_str(r, &name) ||
        !lh__pg_at_end(r) || (what != 'S' && what != 'P')) {
        ext_error(p, "08P01", "invalid Describe message");
        return;
    }
    char msg[200];
    if (what == 'S') {
        pg_stmt *s = find_stmt(p, name);
        if (s == NULL) {
            snprintf(msg, sizeof(msg),
                     "prepared statement \"%.100s\" does not exist", name);
            ext_error(p, "26000", msg);
            return;
        }
        /* ParameterDescription: the declared types (text for the ones
         * left open), then the row, which needs the engine. */
        size_t at = lh__pg_begin(&p->out, 't');
        lh__pg_put_i16(&p->out, s->nparams);
        for (int i = 0; i < s->nparams; i++) {
            lh__pg_put_i32(&p->out, (int32_t)(s->types[i] ? s->types[i] : 25));
        }
        lh__pg_end(&p->out, at);
    } else if (find_portal(p, name) == NULL) {
        snprintf(msg, sizeof(msg), "portal \"%.100s\" does not exist", name);
        ext_error(p, "34000", msg);
        return;
    }
    ext_error(p, "0A000", NOT_YET);
}

static void
on_execute(srv_conn *c, lh_pg_reader *r)
{
    pg_conn *p = c->state;
    const char *name;
    int32_t max;
    if (!lh__pg_get_str(r, &name) || !lh__pg_get_i32(r, &max) ||
        !lh__pg_at_end(r)) {
        ext_error(p, "08P01", "invalid Execute message");
        return;
    }
    pg_portal *x = find_portal(p, name);
    if (x == NULL) {
        char msg[200];
        snprintf(msg, sizeof(msg), "portal \"%.100s\" does not exist", name);
        ext_error(p, "34000", msg);
        return;
    }
    if (blank_query(x->stmt->sql)) {
        simple(p, 'I'); /* EmptyQueryResponse */
        return;
    }
    atomic_fetch_add(&c->loop->srv->m.pg_queries, 1);
    ext_error(p, "0A000", NOT_YET);
}

static void
on_close(srv_conn *c, lh_pg_reader *r)
{
    pg_conn *p = c->state;
    uint8_t what;
    const char *name;
    if (!lh__pg_get_u8(r, &what) || !lh__pg_get_str(r, &name) ||
        !lh__pg_at_end(r) || (what != 'S' && what != 'P')) {
        ext_error(p, "08P01", "invalid Close message");
        return;
    }
    /* Closing what does not exist is not an error. */
    if (what == 'S') {
        drop_stmt(p, name);
    } else {
        drop_portal(p, name);
    }
    simple(p, '3'); /* CloseComplete */
}

void
lh__pg_message(srv_conn *c, const lh_pg_msg *m)
{
    pg_conn *p = c->state;
    lh_pg_reader r;
    lh__pg_reader_init(&r, m);
    lh__srv_conn_timer(c, c->loop->srv->cfg.pg_idle_timeout / 1000);
    if (m->type == 'X') {
        p->phase = PG_CLOSING;
        lh__srv_conn_close(c);
        return;
    }
    if (m->type == 'S') {
        p->skip_to_sync = false;
        /* The unnamed portal does not outlive its transaction. */
        drop_portal(p, "");
        atomic_store(&p->cancel, false);
        lh__pg_ready(p);
        return;
    }
    if (m->type == 'H') {
        lh__pg_flush(c);
        return;
    }
    static const char ext[] = "PBDEC";
    if (p->skip_to_sync && strchr(ext, m->type) != NULL) {
        return;
    }
    switch (m->type) {
    case 'Q':
        on_query(c, &r);
        break;
    case 'P':
        on_parse(c, &r);
        break;
    case 'B':
        on_bind(c, &r);
        break;
    case 'D':
        on_describe(c, &r);
        break;
    case 'E':
        on_execute(c, &r);
        break;
    case 'C':
        on_close(c, &r);
        break;
    case 'F':
        error(p, "0A000", "the function call protocol is not supported");
        lh__pg_ready(p);
        break;
    case 'd':
    case 'c':
    case 'f':
        break; /* COPY data outside COPY is ignored, as PostgreSQL does */
    default: {
        char msg[80];
        snprintf(msg, sizeof(msg), "invalid frontend message type %d",
                 (unsigned char)m->type);
        lh__pg_error(&p->out, "FATAL", "08P01", msg, NULL, NULL);
        lh__pg_flush(c);
        p->phase = PG_CLOSING;
        lh__srv_conn_close_flushed(c);
        break;
    }
    }
}
