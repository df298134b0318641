/*
 * The query phase of the PostgreSQL protocol: Query (simple), Parse,
 * Bind, Describe, Execute, Close, Sync, Flush, Terminate, with the
 * session's prepared statements and portals.
 *
 * Parse prepares the statement in the engine (on the loop: parsing does
 * not block); what binds, plans or reads rows goes to the pool
 * (pg_exec.c). psql's catalog queries are answered from the tables first
 * (pg_catalog.c).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "server/pg_int.h"

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
    if (s->prep != NULL && --s->prep->refs == 0) {
        lh_stmt_free(s->prep->st);
        lh_free(s->prep);
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
    lh__pg_rows_release(&x->rows);
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
    c->prep = s->prep;
    c->canned = s->canned;
    if (c->prep != NULL) {
        c->prep->refs++;
    }
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
    lh_session_close(p->session);
    p->session = NULL;
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
    } else if (lh__pg_canned(q) >= 0) {
        atomic_fetch_add(&c->loop->srv->m.pg_queries, 1);
        lh__pg_canned_describe(lh__pg_canned(q), &p->out);
        lh__pg_canned_rows(p, lh__pg_canned(q), &p->out);
    } else {
        atomic_fetch_add(&c->loop->srv->m.pg_queries, 1);
        atomic_store(&p->cancel, false);
        if (lh__pg_exec_simple(c, q)) {
            return; /* ReadyForQuery comes when it is done */
        }
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
    /* The engine parses it now: a syntax error is Parse's, as in
     * PostgreSQL; names and types are bound when it runs. */
    lh_err err;
    pg_prep *prep = lh_calloc(1, sizeof(*prep));
    int canned = lh__pg_canned(sql);
    lh_rc rc = prep ? lh__pg_session(c, &err)
                    : lh_err_set(&err, LH_ENOMEM, "out of memory");
    size_t len = strlen(sql), used = 0;
    if (rc == LH_OK && canned < 0) {
        rc = lh_stmt_prepare(p->session, sql, len, &used, &prep->st, &err);
    }
    if (rc == LH_OK && prep->st != NULL && !blank_query(sql + used)) {
        rc = lh_err_set(&err, LH_EINVAL,
                        "cannot insert multiple commands into a prepared "
                        "statement");
        err.offset = -1;
    }
    if (rc == LH_OK && lh__sql_role(sql, len) > p->auth.role) {
        rc = lh_err_set(&err, LH_EREADONLY,
                        "permission denied: token \"%s\" (role %s) may not "
                        "run this statement",
                        p->auth.name, lh__role_name(p->auth.role));
    }
    if (rc != LH_OK) {
        if (prep != NULL) {
            lh_stmt_free(prep->st);
            lh_free(prep);
        }
        lh_free(types);
        const char *code = lh__sqlstate(rc, err.msg);
        if (strncmp(err.msg, "cannot insert multiple", 22) == 0) {
            code = "42601";
        }
        lh__pg_error_at(&p->out, "ERROR", code, err.msg,
                        lh__sql_char_position(sql, len, err.offset));
        p->skip_to_sync = true;
        if (p->txn == 'T') {
            p->txn = 'E';
        }
        return;
    }
    prep->refs = 1;
    int total = LH_MAX((int)n, prep->st ? lh_stmt_param_count(prep->st) : 0);
    if (total > n) {
        uint32_t *more = lh_realloc(types, (size_t)total * sizeof(uint32_t));
        if (more == NULL) {
            lh_stmt_free(prep->st);
            lh_free(prep);
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
        s->prep = prep;
        s->canned = canned;
        types = NULL;
        prep = NULL;
    }
    if (s == NULL || s->name == NULL || s->sql == NULL) {
        if (prep != NULL) {
            lh_stmt_free(prep->st);
            lh_free(prep);
        }
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
         * left open), then the row, which the engine plans. */
        size_t at = lh__pg_begin(&p->out, 't');
        lh__pg_put_i16(&p->out, s->nparams);
        for (int i = 0; i < s->nparams; i++) {
            lh__pg_put_i32(&p->out, (int32_t)(s->types[i] ? s->types[i] : 25));
        }
        lh__pg_end(&p->out, at);
        if (s->canned >= 0) {
            lh__pg_canned_describe(s->canned, &p->out);
            return;
        }
        if (s->prep->st != NULL &&
            lh__sql_returns_rows(s->sql, strlen(s->sql))) {
            if (!lh__pg_exec_describe(c, s, NULL)) {
                ext_error(p, "53200", "out of memory");
            }
            return;
        }
        simple(p, 'n'); /* NoData */
        return;
    }
    pg_portal *x = find_portal(p, name);
    if (x == NULL) {
        snprintf(msg, sizeof(msg), "portal \"%.100s\" does not exist", name);
        ext_error(p, "34000", msg);
        return;
    }
    if (x->stmt->canned >= 0) {
        lh__pg_canned_describe(x->stmt->canned, &p->out);
        return;
    }
    if (x->stmt->prep->st != NULL &&
        (x->rows.r != NULL ||
         (!x->executed &&
          lh__sql_returns_rows(x->stmt->sql, strlen(x->stmt->sql))))) {
        if (!lh__pg_exec_describe(c, NULL, x)) {
            ext_error(p, "53200", "out of memory");
        }
        return;
    }
    simple(p, 'n'); /* NoData */
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
    if (x->stmt->canned >= 0) {
        lh__pg_canned_rows(p, x->stmt->canned, &p->out);
        return;
    }
    if (x->stmt->prep->st == NULL) {
        simple(p, 'I'); /* EmptyQueryResponse */
        return;
    }
    if (!x->counted) { /* its first Execute (Describe may have run it) */
        x->counted = true;
        atomic_fetch_add(&c->loop->srv->m.pg_queries, 1);
    }
    if (!x->executed) {
        atomic_store(&p->cancel, false);
    }
    if (!lh__pg_exec_execute(c, x, max)) {
        ext_error(p, "53200", "out of memory");
    }
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
