/*
 * Statements of the PostgreSQL protocol through the SQL engine (the
 * session's lh_session): the simple query's statements one after the
 * other, and the extended protocol's portals. Whatever may block (binding
 * and planning open files; reading rows scans them) runs on the pool as a
 * pg_exec while the session is BUSY; the loop only moves rendered
 * messages to the socket.
 *
 * Rows are rendered ahead into the portal as DataRow messages (with the
 * end of each row kept, for Execute's row limit), at most PG_CHUNK bytes
 * at a time: a Describe of a portal also executes it and renders its first
 * chunk, so that a short query (a point lookup) costs one trip to the
 * pool, and a long one is sent as the client reads it.
 *
 * A trip to the pool and back costs two thread wakeups, more than a
 * point lookup's own work: a statement whose last PG_FAST_RUNS runs each
 * took under PG_FAST_US (1 ms) runs on the loop's thread instead, and one
 * slower run sends it back to the pool (so a misprediction holds the loop
 * once). A prepared statement keeps its history in its pg_prep, a simple query
 * by the shape of its text (its literals left out) in a small table of
 * the connection. Runs on the loop are not nested: what one's completion
 * starts (the client's pipelined messages) goes to the pool.
 *
 * Transactions: the engine has none; BEGIN / COMMIT / ROLLBACK set the
 * status ReadyForQuery reports, and after an error in a block the
 * statements up to its end are refused (25P02), as PostgreSQL does.
 */
#include <string.h>
#include <strings.h>

#include "server/pg_int.h"

/* Rendered rows a portal holds (and a simple query sends) at most. */
#define PG_CHUNK (256u << 10)
/* Fast runs in a row after which a statement runs on the loop thread, and
 * what fast means. */
#define PG_FAST_RUNS 3
#define PG_FAST_US 1000 /* a misprediction holds the loop about this long */

enum { EX_SIMPLE = 1, EX_DESCRIBE_STMT, EX_DESCRIBE_PORTAL, EX_EXECUTE };

typedef struct pg_exec {
    srv_work work;
    pg_conn *p;
    int kind;
    /* simple: the text and where the next statement starts */
    char *sql;
    size_t len, pos;
    bool any;      /* a statement ran (else EmptyQueryResponse) */
    bool describe; /* the RowDescription of rows is still to send */
    lh_stmt *st;
    pg_rows rows; /* the statement's rows being sent */
    bool finished;
    /* extended */
    pg_stmt *stmt;
    pg_portal *portal;
    int32_t max_rows;
    int64_t sent;   /* rows this Execute sent */
    lh_buf out;     /* messages rendered on the pool */
    lh_us start;    /* for the query latency histogram */
    lh_us ran;      /* how long exec_main took */
    uint64_t shape; /* simple: the hash of the text without literals */
    lh_rc rc;
    lh_err err;
    size_t err_base; /* err.offset is relative to sql + err_base */
} pg_exec;

/* ---- sessions ------------------------------------------------------------ */

lh_rc
lh__pg_session(srv_conn *c, lh_err *err)
{
    pg_conn *p = c->state;
    if (p->session != NULL) {
        return LH_OK;
    }
    lh_session *s;
    lh_server *srv = c->loop->srv;
    lh_rc rc = lh__srv_session_open(srv, p->auth.role, &s, err);
    if (rc != LH_OK) {
        return rc;
    }
    lh_err cerr;
    if (lh__pg_catalog_tables(s, srv->db, p->user, p->db[0] ? p->db : p->user,
                              &cerr) != LH_OK) {
        lh_log(LH_LOG_WARN, "the catalog tables of a session: %s", cerr.msg);
    }
    pthread_mutex_lock(&srv->pg_mu);
    p->session = s;
    pthread_mutex_unlock(&srv->pg_mu);
    return LH_OK;
}

void
lh__pg_exec_cancel(pg_conn *p)
{
    /* Under the server's pg_mu, which guards p->session. */
    if (p->session != NULL) {
        lh_session_cancel(p->session);
    }
}

/* ---- rows -------------------------------------------------------------------
 */

void
lh__pg_rows_release(pg_rows *w)
{
    lh_result_free(w->r);
    lh_free(w->fmt);
    lh_free(w->ends);
    lh_buf_release(&w->ready);
    lh_arena_release(&w->arena);
    memset(w, 0, sizeof(*w));
}

static lh_type
column_type(const lh_column_info *ci)
{
    lh_type t = {.id = (uint8_t)ci->type,
                 .precision = (uint8_t)ci->precision,
                 .scale = (uint8_t)ci->scale,
                 .length = ci->length,
                 .dim = ci->dim};
    return t;
}

/* Sets w up over r (taken) with result formats as Bind gave them
 * (nfmt 0: text, 1: that one for all, else one per column). */
static lh_rc
rows_init(pg_rows *w, lh_result *r, int nfmt, const int16_t *fmts, lh_err *err)
{
    memset(w, 0, sizeof(*w));
    lh_arena_init(&w->arena, 0);
    w->r = r;
    w->ncols = lh_result_column_count(r);
    if (nfmt > 1 && (size_t)nfmt != w->ncols) {
        return lh_err_set(err, LH_EINVAL,
                          "bind message has %d result formats but query has "
                          "%zu columns",
                          nfmt, w->ncols);
    }
    w->fmt = lh_calloc(w->ncols ? w->ncols : 1, sizeof(int16_t));
    if (w->fmt == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < w->ncols; i++) {
        w->fmt[i] = nfmt == 0 ? 0 : nfmt == 1 ? fmts[0] : fmts[i];
    }
    return LH_OK;
}

/* RowDescription of w's columns. */
static void
row_description(const pg_rows *w, lh_buf *b)
{
    size_t at = lh__pg_begin(b, 'T');
    lh__pg_put_i16(b, (int)w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        const lh_column_info *ci = lh_result_column(w->r, i);
        pg_type t = lh__pg_type_of(column_type(ci));
        lh__pg_put_str(b, ci->name ? ci->name : "?column?");
        lh__pg_put_i32(b, 0); /* table oid */
        lh__pg_put_i16(b, 0); /* column number */
        lh__pg_put_i32(b, (int32_t)t.oid);
        lh__pg_put_i16(b, t.typlen);
        lh__pg_put_i32(b, t.typmod);
        lh__pg_put_i16(b, w->fmt ? w->fmt[i] : 0);
    }
    lh__pg_end(b, at);
}

static void
patch_len(lh_buf *b, size_t at)
{
    if (!lh_buf_ok(b)) {
        return;
    }
    uint32_t n = (uint32_t)(b->len - at - 4);
    uint8_t *q = (uint8_t *)b->data + at;
    q[0] = (uint8_t)(n >> 24);
    q[1] = (uint8_t)(n >> 16);
    q[2] = (uint8_t)(n >> 8);
    q[3] = (uint8_t)n;
}

/* A value in PostgreSQL's binary format: the cell as the engine holds it,
 * or its text read back where the cell is text (DECIMAL, INTERVAL, UUID). */
static lh_rc
binary_value(pg_rows *w, size_t row, size_t col, lh_buf *b, lh_err *err)
{
    const lh_column_info *ci = lh_result_column(w->r, col);
    lh_value v = {.type = column_type(ci)};
    lh_cell cell;
    switch (v.type.id) {
    case LH_T_DECIMAL:
    case LH_T_INTERVAL:
    case LH_T_UUID: {
        size_t n;
        const char *s = lh_result_text(w->r, row, col, &n);
        lh_rc rc = lh_value_from_text(v.type, s, n, &w->arena, &v, err);
        if (rc != LH_OK) {
            return rc;
        }
        break;
    }
    case LH_T_VECTOR:
    case LH_T_LIST:
    case LH_T_STRUCT:
    case LH_T_MAP:
    case LH_T_NULL: {
        /* Their binary form is their text (pg_types.c). */
        size_t n;
        const char *s = lh_result_text(w->r, row, col, &n);
        return lh_buf_append(b, s, n);
    }
    default: {
        lh_rc rc = lh_result_get(w->r, row, col, &cell, err);
        if (rc != LH_OK) {
            return rc;
        }
        switch (cell.kind) {
        case LH_CELL_BOOL:
            v.u.b = cell.u.b;
            break;
        case LH_CELL_INT:
            v.u.i = cell.u.i;
            break;
        case LH_CELL_DOUBLE:
            v.u.d = cell.u.d;
            break;
        case LH_CELL_TEXT:
        case LH_CELL_BYTES:
            v.u.s.p = cell.u.s.p;
            v.u.s.len = cell.u.s.len;
            break;
        default:
            return lh_err_set(err, LH_EINTERNAL, "unexpected cell kind %d",
                              cell.kind);
        }
        break;
    }
    }
    lh_rc rc = lh__pg_binary(&v, b);
    if (rc != LH_OK) {
        return lh_err_set(err, rc, "could not convert column \"%s\"", ci->name);
    }
    return LH_OK;
}

static lh_rc
render_row(pg_rows *w, size_t row, lh_err *err)
{
    lh_buf *b = &w->ready;
    size_t at = lh__pg_begin(b, 'D');
    lh__pg_put_i16(b, (int)w->ncols);
    for (size_t c = 0; c < w->ncols; c++) {
        if (lh_result_is_null(w->r, row, c)) {
            lh__pg_put_i32(b, -1);
            continue;
        }
        size_t lat = b->len;
        lh__pg_put_i32(b, 0);
        if (w->fmt[c] == 1) {
            lh_rc rc = binary_value(w, row, c, b, err);
            if (rc != LH_OK) {
                return rc;
            }
        } else if (lh_result_column(w->r, c)->type == LH_SQL_BOOLEAN) {
            size_t n;
            const char *s = lh_result_text(w->r, row, c, &n);
            lh_buf_putc(b, s != NULL && s[0] == 't' ? 't' : 'f');
        } else {
            size_t n;
            const char *s = lh_result_text(w->r, row, c, &n);
            lh_buf_append(b, s ? s : "", s ? n : 0);
        }
        patch_len(b, lat);
    }
    lh__pg_end(b, at);
    if (w->nready == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 256;
        size_t *e = lh_realloc(w->ends, ncap * sizeof(size_t));
        if (e == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        w->ends = e;
        w->cap = ncap;
    }
    w->ends[w->nready++] = b->len;
    return lh_buf_ok(b) ? LH_OK : lh_err_set(err, LH_ENOMEM, "out of memory");
}

/* Renders rows until PG_CHUNK bytes wait or the rows end (pool). */
static lh_rc
rows_fill(pg_conn *p, pg_rows *w, lh_err *err)
{
    while (!w->eof && w->ready.len < PG_CHUNK) {
        if (atomic_load(&p->cancel)) {
            return lh_err_set(err, LH_ECANCELED,
                              "canceling statement due to user request");
        }
        if (w->at == w->n) {
            lh_arena_reset(&w->arena);
            lh_rc rc = lh_result_next(w->r, &w->n, err);
            if (rc != LH_OK) {
                return rc;
            }
            w->at = 0;
            if (w->n == 0) {
                w->eof = true;
                break;
            }
        }
        lh_rc rc = render_row(w, w->at++, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

static size_t
rows_take(pg_rows *w, lh_buf *out, int64_t max)
{
    size_t avail = w->nready - w->taken;
    size_t k = max > 0 && (size_t)max < avail ? (size_t)max : avail;
    if (k == 0) {
        return 0;
    }
    size_t from = w->taken ? w->ends[w->taken - 1] : 0;
    size_t to = w->ends[w->taken + k - 1];
    lh_buf_append(out, w->ready.data + from, to - from);
    w->taken += k;
    w->total += (int64_t)k;
    if (w->taken == w->nready) {
        lh_buf_reset(&w->ready);
        w->nready = w->taken = 0;
    }
    return k;
}

static bool
rows_pending(const pg_rows *w)
{
    return w->nready > w->taken || !w->eof;
}

/* ---- errors -------------------------------------------------------------- */

/* The SQLSTATE and message of a failure: the engine's, with PostgreSQL's
 * messages for a cancel and a timeout. */
static void
exec_error(pg_conn *p, lh_buf *b, lh_rc rc, const lh_err *err, const char *sql,
           size_t len, size_t base)
{
    const char *msg = err->msg[0] ? err->msg : lh_rc_name(rc);
    if (rc == LH_ECANCELED) {
        msg = atomic_load(&p->timed_out)
                  ? "canceling statement due to statement timeout"
                  : "canceling statement due to user request";
    }
    const char *code = lh__sqlstate(rc, msg);
    int64_t pos = 0;
    /* PostgreSQL finds these while rows are computed, where it has no
     * position to give. */
    bool runtime = strcmp(code, "22012") == 0 || strcmp(code, "22003") == 0;
    if (sql != NULL && err->offset >= 0 && !runtime) {
        pos = lh__sql_char_position(sql, len, (int64_t)base + err->offset);
    }
    lh__pg_error_at(b, "ERROR", code, msg, pos);
}

/* ---- transaction blocks ---------------------------------------------------
 */

/* What a statement does to the transaction status: 'B' begin, 'C' end
 * (COMMIT, ROLLBACK), 0 neither. */
static char
txn_effect(const char *sql, size_t len)
{
    char w[16];
    lh__sql_first_word(sql, len, w, sizeof(w));
    if (strcmp(w, "BEGIN") == 0 || strcmp(w, "START") == 0) {
        return 'B';
    }
    if (strcmp(w, "COMMIT") == 0 || strcmp(w, "END") == 0 ||
        strcmp(w, "ROLLBACK") == 0 || strcmp(w, "ABORT") == 0) {
        return 'C';
    }
    return 0;
}

/* Settings clients send at connect (JDBC, psycopg, BI tools) that the
 * engine does not have: accepted and ignored, as their values are the
 * server's anyway (UTF8, ISO dates, UTC). */
static bool
client_setting(const char *sql, size_t len)
{
    static const char *const names[] = {
        "CLIENT_ENCODING",
        "DATESTYLE",
        "EXTRA_FLOAT_DIGITS",
        "APPLICATION_NAME",
        "TIMEZONE",
        "TIME",
        "SEARCH_PATH",
        "STATEMENT_TIMEOUT",
        "INTERVALSTYLE",
        "SESSION",
        "LOCAL",
        "TRANSACTION",
        "STANDARD_CONFORMING_STRINGS",
        "LOCK_TIMEOUT",
        "IDLE_IN_TRANSACTION_SESSION_TIMEOUT",
        "BYTEA_OUTPUT",
        "NAMES",
        "CLIENT_MIN_MESSAGES",
        "JIT",
        "ROW_SECURITY",
    };
    char w[16];
    size_t n = lh__sql_first_word(sql, len, w, sizeof(w));
    if (strcmp(w, "SET") != 0) {
        return false;
    }
    const char *rest = sql;
    while (rest < sql + len &&
           (*rest == ' ' || *rest == '\t' || *rest == '\n' || *rest == '\r')) {
        rest++;
    }
    rest += n;
    char name[48];
    lh__sql_first_word(rest, (size_t)(sql + len - rest), name, sizeof(name));
    for (size_t i = 0; i < LH_ARRAY_LEN(names); i++) {
        if (strcasecmp(name, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Binds the portal's parameters (text, untyped: the statement's context
 * types them, as PostgreSQL's unknown literals). */
static lh_rc
bind_portal(pg_portal *x, lh_err *err)
{
    lh_stmt *st = x->stmt->prep->st;
    int n = lh_stmt_param_count(st);
    for (int i = 0; i < n; i++) {
        lh_cell v = {.kind = LH_CELL_NULL};
        if (i < x->nparams && x->params[i] != NULL) {
            v.kind = LH_CELL_TEXT;
            v.u.s.p = x->params[i];
            v.u.s.len = (size_t)x->plen[i];
        }
        lh_rc rc = lh_stmt_bind(st, i + 1, &v, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    return LH_OK;
}

/* ---- the pool's side ------------------------------------------------------
 */

/* The simple query: statements one after the other until the text ends,
 * an error, or PG_CHUNK bytes of rows wait to be sent. */
static void
run_simple(pg_exec *e)
{
    pg_conn *p = e->p;
    lh_session *s = p->session;
    for (;;) {
        if (e->rows.r != NULL) {
            e->rc = rows_fill(p, &e->rows, &e->err);
            if (e->rc != LH_OK) {
                e->finished = true;
                return;
            }
            if (e->describe) {
                /* After the first rows: an error the engine finds at once
                 * (1/0 of constants) comes without a RowDescription, as
                 * PostgreSQL finds it while planning. */
                row_description(&e->rows, &e->out);
                e->describe = false;
            }
            rows_take(&e->rows, &e->out, 0);
            if (!e->rows.eof) {
                return; /* more once the client keeps up */
            }
            size_t at = lh__pg_begin(&e->out, 'C');
            lh_buf_printf(&e->out, "SELECT %lld", (long long)e->rows.total);
            lh_buf_putc(&e->out, 0);
            lh__pg_end(&e->out, at);
            lh__pg_rows_release(&e->rows);
            lh_stmt_free(e->st);
            e->st = NULL;
        }
        if (e->pos >= e->len) {
            break;
        }
        const char *text = e->sql + e->pos;
        size_t left = e->len - e->pos, used = 0;
        e->err_base = e->pos;
        e->rc = lh_stmt_prepare(s, text, left, &used, &e->st, &e->err);
        if (e->rc != LH_OK) {
            e->finished = true;
            return;
        }
        if (e->st == NULL) {
            break; /* only white space and comments remain */
        }
        e->pos += used ? used : left;
        e->any = true;
        char effect = txn_effect(text, used);
        if (p->txn == 'E' && effect != 'C') {
            e->rc = lh_err_set(&e->err, LH_EINVAL,
                               "current transaction is aborted, commands "
                               "ignored until end of transaction block");
            e->err.offset = -1;
            e->finished = true;
            return;
        }
        if (lh__sql_role(text, used) > p->auth.role) {
            e->rc = lh_err_set(&e->err, LH_EREADONLY,
                               "permission denied: token \"%s\" (role %s) "
                               "may not run this statement",
                               p->auth.name, lh__role_name(p->auth.role));
            e->finished = true;
            return;
        }
        lh_result *r = NULL;
        e->rc = lh_stmt_execute(e->st, &r, &e->err);
        if (e->rc != LH_OK && client_setting(text, used)) {
            e->rc = LH_OK; /* SET of a setting the engine does not have */
            lh_stmt_free(e->st);
            e->st = NULL;
            size_t at = lh__pg_begin(&e->out, 'C');
            lh__pg_put_str(&e->out, "SET");
            lh__pg_end(&e->out, at);
            continue;
        }
        if (e->rc != LH_OK) {
            e->finished = true;
            return;
        }
        if (effect == 'B') {
            p->txn = 'T';
        } else if (effect == 'C') {
            p->txn = 'I';
        }
        if (lh_result_column_count(r) > 0) {
            e->rc = rows_init(&e->rows, r, 0, NULL, &e->err);
            if (e->rc != LH_OK) {
                lh_result_free(r);
                e->rows.r = NULL;
                e->finished = true;
                return;
            }
            e->describe = true;
            continue;
        }
        size_t at = lh__pg_begin(&e->out, 'C');
        const char *tag = lh_result_tag(r);
        lh__pg_put_str(&e->out, tag && tag[0] ? tag : "OK");
        lh__pg_end(&e->out, at);
        lh_result_free(r);
        lh_stmt_free(e->st);
        e->st = NULL;
        if (e->out.len >= PG_CHUNK) {
            return;
        }
    }
    if (!e->any) {
        size_t at = lh__pg_begin(&e->out, 'I'); /* EmptyQueryResponse */
        lh__pg_end(&e->out, at);
    }
    e->finished = true;
}

/* Executes the portal's statement (once) and renders its first rows. */
static lh_rc
portal_run(pg_exec *e, pg_portal *x)
{
    if (!x->executed) {
        x->executed = true;
        lh_rc rc = bind_portal(x, &e->err);
        if (rc != LH_OK) {
            return rc;
        }
        lh_result *r = NULL;
        rc = lh_stmt_execute(x->stmt->prep->st, &r, &e->err);
        if (rc != LH_OK) {
            if (client_setting(x->stmt->sql, strlen(x->stmt->sql))) {
                snprintf(x->tag, sizeof(x->tag), "SET");
                return LH_OK;
            }
            return rc;
        }
        if (lh_result_column_count(r) == 0) {
            const char *tag = lh_result_tag(r);
            snprintf(x->tag, sizeof(x->tag), "%s", tag && tag[0] ? tag : "OK");
            lh_result_free(r);
            return LH_OK;
        }
        rc = rows_init(&x->rows, r, x->nresfmt, x->resfmt, &e->err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (x->rows.r == NULL) {
        return LH_OK;
    }
    return rows_fill(e->p, &x->rows, &e->err);
}

static void exec_run(pg_exec *e);

static void
exec_main(srv_work *w)
{
    pg_exec *e = (pg_exec *)w;
    pg_conn *p = e->p;
    lh_us t0 = lh_mono_now();
    exec_run(e);
    e->ran = lh_mono_now() - t0;
    (void)p;
}

static void
exec_run(pg_exec *e)
{
    switch (e->kind) {
    case EX_SIMPLE:
        run_simple(e);
        break;
    case EX_DESCRIBE_STMT: {
        /* The row a statement returns: planned with NULL parameters and
         * not read. */
        lh_stmt *st = e->stmt->prep->st;
        int n = lh_stmt_param_count(st);
        lh_cell null = {.kind = LH_CELL_NULL};
        for (int i = 0; i < n && e->rc == LH_OK; i++) {
            e->rc = lh_stmt_bind(st, i + 1, &null, &e->err);
        }
        lh_result *r = NULL;
        if (e->rc == LH_OK) {
            e->rc = lh_stmt_execute(st, &r, &e->err);
        }
        if (e->rc == LH_OK) {
            pg_rows tmp;
            e->rc = rows_init(&tmp, r, 0, NULL, &e->err);
            if (e->rc == LH_OK) {
                if (tmp.ncols > 0) {
                    row_description(&tmp, &e->out);
                } else {
                    size_t at = lh__pg_begin(&e->out, 'n'); /* NoData */
                    lh__pg_end(&e->out, at);
                }
            }
            lh__pg_rows_release(&tmp);
        }
        break;
    }
    case EX_DESCRIBE_PORTAL:
    case EX_EXECUTE:
        e->rc = portal_run(e, e->portal);
        if (e->rc == LH_OK && e->kind == EX_DESCRIBE_PORTAL) {
            if (e->portal->rows.r != NULL) {
                row_description(&e->portal->rows, &e->out);
            } else {
                size_t at = lh__pg_begin(&e->out, 'n'); /* NoData */
                lh__pg_end(&e->out, at);
            }
        }
        break;
    default:
        break;
    }
}

/* ---- the loop's side ------------------------------------------------------
 */

static void exec_done(srv_work *w);

/* The hash of sql without its literals (numbers, quoted strings), so
 * that `WHERE id = 7` and `WHERE id = 8` share a history. */
static uint64_t
shape_of(const char *sql, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    char prev = ' ';
    for (size_t i = 0; i < len; i++) {
        char ch = sql[i];
        bool word = prev == '_' || (prev >= 'a' && prev <= 'z') ||
                    (prev >= 'A' && prev <= 'Z') ||
                    (prev >= '0' && prev <= '9');
        if (ch == '\'') {
            while (++i < len && sql[i] != '\'') {
            }
            ch = '?';
        } else if (ch >= '0' && ch <= '9' && !word) {
            while (i + 1 < len && ((sql[i + 1] >= '0' && sql[i + 1] <= '9') ||
                                   sql[i + 1] == '.')) {
                i++;
            }
            ch = '?';
        }
        h = (h ^ (uint8_t)ch) * 1099511628211ull;
        prev = ch;
    }
    return h;
}

/* Where e's statement keeps its count of fast runs; NULL for none. */
static uint8_t *
fast_count(pg_conn *p, pg_exec *e)
{
    if (e->kind == EX_SIMPLE) {
        pg_shape *sh = &p->shapes[e->shape % PG_SHAPES];
        if (sh->hash != e->shape) {
            sh->hash = e->shape;
            sh->fast = 0;
        }
        return &sh->fast;
    }
    pg_stmt *st = e->kind == EX_DESCRIBE_STMT ? e->stmt
                  : e->portal != NULL         ? e->portal->stmt
                                              : NULL;
    return st != NULL && st->prep != NULL ? &st->prep->fast : NULL;
}

static void
submit(srv_conn *c, pg_exec *e)
{
    pg_conn *p = c->state;
    p->phase = PG_BUSY;
    e->work.run = exec_main;
    e->work.done = exec_done;
    uint8_t *fast = fast_count(p, e);
    if (!p->inline_run && fast != NULL && *fast >= PG_FAST_RUNS) {
        p->inline_run = true;
        atomic_fetch_add(&c->loop->srv->m.pg_inline, 1);
        lh__srv_run_here(c, &e->work);
        p->inline_run = false;
        return;
    }
    lh__srv_conn_timer(c, c->loop->srv->cfg.query_timeout / 1000);
    lh__srv_submit(c, &e->work);
}

static pg_exec *
exec_new(pg_conn *p, int kind)
{
    pg_exec *e = lh_calloc(1, sizeof(*e));
    if (e == NULL) {
        return NULL;
    }
    e->p = p;
    e->kind = kind;
    e->start = lh_mono_now();
    lh_buf_init(&e->out);
    lh_err_clear(&e->err);
    e->rc = LH_OK;
    return e;
}

static void
exec_free(pg_exec *e)
{
    if (e == NULL) {
        return;
    }
    lh__pg_rows_release(&e->rows);
    lh_stmt_free(e->st);
    lh_free(e->sql);
    lh_buf_release(&e->out);
    lh_free(e);
}

/* The Execute of e->portal goes on with what is rendered: rows up to the
 * limit, then PortalSuspended, CommandComplete, or more rendering. True
 * when the Execute is answered. */
static bool
execute_step(srv_conn *c, pg_exec *e)
{
    pg_conn *p = c->state;
    pg_portal *x = e->portal;
    if (x->rows.r == NULL) {
        size_t at = lh__pg_begin(&p->out, 'C');
        lh__pg_put_str(&p->out, x->tag[0] ? x->tag : "OK");
        lh__pg_end(&p->out, at);
        return true;
    }
    int64_t want = e->max_rows > 0 ? e->max_rows - e->sent : 0;
    e->sent += (int64_t)rows_take(&x->rows, &p->out, want);
    if (e->max_rows > 0 && e->sent >= e->max_rows && rows_pending(&x->rows)) {
        size_t at = lh__pg_begin(&p->out, 's'); /* PortalSuspended */
        lh__pg_end(&p->out, at);
        return true;
    }
    if (!rows_pending(&x->rows)) {
        size_t at = lh__pg_begin(&p->out, 'C');
        lh_buf_printf(&p->out, "SELECT %lld", (long long)x->rows.total);
        lh_buf_putc(&p->out, 0);
        lh__pg_end(&p->out, at);
        return true;
    }
    return false;
}

/* The session is READY again: what the client pipelined goes on. */
static void
finish(srv_conn *c, pg_exec *e)
{
    pg_conn *p = c->state;
    p->exec = NULL;
    if (e->kind != EX_DESCRIBE_STMT) {
        lh__hist_add(&c->loop->srv->m.query_latency, lh_mono_now() - e->start);
    }
    exec_free(e);
    atomic_store(&p->timed_out, false);
    if (p->phase == PG_BUSY) {
        p->phase = PG_READY;
    }
    lh__srv_conn_timer(c, c->loop->srv->cfg.pg_idle_timeout / 1000);
    lh__pg_resume(c);
}

/* Runs e again once the client has read what waits (lh__pg_exec_write). */
static void
again(srv_conn *c, pg_exec *e)
{
    pg_conn *p = c->state;
    lh__pg_flush(c);
    if (lh__srv_conn_pending(c) > SRV_OUT_HIGH) {
        p->exec_paused = true;
        return;
    }
    e->kind = e->kind == EX_DESCRIBE_PORTAL ? EX_EXECUTE : e->kind;
    submit(c, e);
}

void
lh__pg_exec_write(srv_conn *c)
{
    pg_conn *p = c->state;
    if (p->exec != NULL && p->exec_paused) {
        p->exec_paused = false;
        again(c, p->exec);
    }
}

static void
exec_done(srv_work *w)
{
    pg_exec *e = (pg_exec *)w;
    srv_conn *c = w->conn;
    pg_conn *p = c->state;
    uint8_t *fast = w->failed ? NULL : fast_count(p, e);
    if (fast != NULL) {
        *fast = e->ran < PG_FAST_US ? (uint8_t)LH_MIN(*fast + 1, 255) : 0;
    }
    if (c->closed) {
        p->exec = NULL;
        exec_free(e);
        return;
    }
    if (w->failed) {
        e->rc = lh_err_set(&e->err, LH_ECANCELED, "the server is stopping");
        e->finished = true;
    }
    lh_buf_append(&p->out, e->out.data ? e->out.data : "", e->out.len);
    lh_buf_reset(&e->out);
    if (e->rc != LH_OK) {
        const char *sql = e->kind == EX_SIMPLE ? e->sql
                          : e->portal          ? e->portal->stmt->sql
                          : e->stmt            ? e->stmt->sql
                                               : NULL;
        size_t len = sql ? strlen(sql) : 0;
        exec_error(p, &p->out, e->rc, &e->err, sql, len,
                   e->kind == EX_SIMPLE ? e->err_base : 0);
        if (p->txn == 'T') {
            p->txn = 'E';
        }
        if (e->kind != EX_SIMPLE) {
            p->skip_to_sync = true;
        }
    }
    if (e->kind == EX_SIMPLE) {
        if (!e->finished && e->rc == LH_OK) {
            again(c, e);
            return;
        }
        lh__pg_ready(p);
        finish(c, e);
        return;
    }
    if (e->rc == LH_OK && e->kind == EX_EXECUTE && !execute_step(c, e)) {
        again(c, e);
        return;
    }
    finish(c, e);
}

/* ---- entry points (pg_query.c) ------------------------------------------- */

bool
lh__pg_exec_simple(srv_conn *c, const char *sql)
{
    pg_conn *p = c->state;
    lh_err err;
    pg_exec *e = exec_new(p, EX_SIMPLE);
    if (e == NULL || (e->sql = lh_strdup(sql)) == NULL) {
        exec_free(e);
        lh__pg_error(&p->out, "ERROR", "53200", "out of memory", NULL, NULL);
        return false;
    }
    if (lh__pg_session(c, &err) != LH_OK) {
        exec_free(e);
        lh__pg_error(&p->out, "ERROR", lh__sqlstate(err.code, err.msg), err.msg,
                     NULL, NULL);
        return false;
    }
    e->len = strlen(sql);
    e->shape = shape_of(sql, e->len);
    p->exec = e;
    submit(c, e);
    return true;
}

bool
lh__pg_exec_describe(srv_conn *c, pg_stmt *s, pg_portal *x)
{
    pg_conn *p = c->state;
    pg_exec *e = exec_new(p, x ? EX_DESCRIBE_PORTAL : EX_DESCRIBE_STMT);
    if (e == NULL) {
        return false;
    }
    e->stmt = s;
    e->portal = x;
    p->exec = e;
    submit(c, e);
    return true;
}

bool
lh__pg_exec_execute(srv_conn *c, pg_portal *x, int32_t max_rows)
{
    pg_conn *p = c->state;
    pg_exec *e = exec_new(p, EX_EXECUTE);
    if (e == NULL) {
        return false;
    }
    e->portal = x;
    e->max_rows = max_rows;
    if (x->executed && (execute_step(c, e))) {
        exec_free(e); /* answered from what Describe rendered */
        return true;
    }
    p->exec = e;
    submit(c, e);
    return true;
}
