/*
 * The PostgreSQL protocol case files (tests/proto/pg, NAME.case), each run
 * against a fresh data directory and a real server in this process over
 * real TCP. A case is a script of frontend messages (lines starting with
 * ">") and the backend messages expected back (lines starting with "<"),
 * in order, on one connection unless "> new" opens another.
 * tests/proto/README.md describes the lines.
 */
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <poll.h>

#include "lakehouse.h"
#include "server_test.h"
#include "util/util.h"

typedef struct conn {
    int fd;
    lh_buf in; /* received, not yet matched */
    bool startup_done;
    int32_t pid, key; /* from BackendKeyData */
} conn;

typedef struct run {
    const char *path;
    int line;
    int port;
    conn c;
    int32_t last_pid, last_key;
    char tokens[8][2][128];
    int ntokens;
    uint8_t fmts[64]; /* the last RowDescription's formats */
    int nfmts;
} run;

#define FAILF(r, ...)                                                          \
    do {                                                                       \
        char m_[600];                                                          \
        snprintf(m_, sizeof(m_), __VA_ARGS__);                                 \
        fail_msg("%s:%d: %s", (r)->path, (r)->line, m_);                       \
    } while (0)

/* ---- frontend messages -----------------------------------------------------
 */

static void
put32(lh_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    lh_buf_append(b, x, 4);
}

static void
put16(lh_buf *b, int v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    lh_buf_append(b, x, 2);
}

static void
patch_len(lh_buf *b, size_t at)
{
    uint32_t n = (uint32_t)(b->len - at);
    uint8_t *p = (uint8_t *)b->data + at;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
}

/* Splits "a | b | c" at the bars into trimmed fields (so SQL in a case
 * cannot hold a bar). */
static int
fields(char *s, char **out, int max)
{
    int n = 0;
    while (s != NULL && n < max) {
        char *bar = strchr(s, '|');
        if (bar != NULL) {
            *bar = 0;
        }
        while (*s == ' ') {
            s++;
        }
        size_t l = strlen(s);
        while (l > 0 && s[l - 1] == ' ') {
            s[--l] = 0;
        }
        out[n++] = s;
        s = bar ? bar + 1 : NULL;
    }
    return n;
}

static const char *
subst(run *r, const char *word, char *buf, size_t cap)
{
    for (int i = 0; i < r->ntokens; i++) {
        char k[160];
        snprintf(k, sizeof(k), "$TOKEN_%s", r->tokens[i][0]);
        if (strcmp(word, k) == 0) {
            return r->tokens[i][1];
        }
    }
    snprintf(buf, cap, "%s", word);
    return buf;
}

/* A parameter value: NULL, 'text', or xHEX (raw bytes). */
static void
put_param(run *r, lh_buf *b, const char *v)
{
    if (strcmp(v, "NULL") == 0) {
        put32(b, 0xffffffffu);
        return;
    }
    if (v[0] == '\'') {
        size_t n = strlen(v);
        if (n < 2 || v[n - 1] != '\'') {
            FAILF(r, "bad parameter %s", v);
        }
        put32(b, (uint32_t)(n - 2));
        lh_buf_append(b, v + 1, n - 2);
        return;
    }
    if (v[0] == 'x') {
        size_t n = strlen(v + 1) / 2;
        put32(b, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            lh_buf_putc(b, (char)(lh_hex_digit(v[1 + 2 * i]) << 4 |
                                  lh_hex_digit(v[2 + 2 * i])));
        }
        return;
    }
    FAILF(r, "bad parameter %s", v);
}

static void
numbers(lh_buf *b, const char *list, bool wide)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", list);
    int n = 0;
    long v[64];
    for (char *t = strtok(tmp, " "); t != NULL && n < 64;
         t = strtok(NULL, " ")) {
        v[n++] = strtol(t, NULL, 10);
    }
    put16(b, n);
    for (int i = 0; i < n; i++) {
        if (wide) {
            put32(b, (uint32_t)v[i]);
        } else {
            put16(b, (int)v[i]);
        }
    }
}

static void
build(run *r, const char *cmd, char *rest, lh_buf *b)
{
    char buf[256];
    if (strcmp(cmd, "startup") == 0) {
        size_t at = b->len;
        put32(b, 0);
        int major = 3, minor = 0;
        char *save = NULL;
        lh_buf kv = LH_BUF_INIT;
        for (char *t = strtok_r(rest, " ", &save); t != NULL;
             t = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(t, '=');
            if (eq == NULL) {
                FAILF(r, "startup wants key=value, found %s", t);
            }
            *eq = 0;
            if (strcmp(t, "version") == 0) {
                sscanf(eq + 1, "%d.%d", &major, &minor);
                continue;
            }
            lh_buf_append(&kv, t, strlen(t) + 1);
            const char *v = subst(r, eq + 1, buf, sizeof(buf));
            lh_buf_append(&kv, v, strlen(v) + 1);
        }
        put32(b, (uint32_t)(major << 16 | minor));
        lh_buf_append(b, kv.data ? kv.data : "", kv.len);
        lh_buf_putc(b, 0);
        lh_buf_release(&kv);
        patch_len(b, at);
        return;
    }
    if (strcmp(cmd, "ssl") == 0 || strcmp(cmd, "gssenc") == 0) {
        put32(b, 8);
        put32(b, strcmp(cmd, "ssl") == 0 ? 80877103 : 80877104);
        return;
    }
    if (strcmp(cmd, "cancel") == 0) {
        put32(b, 16);
        put32(b, 80877102);
        int32_t pid = r->last_pid, key = r->last_key;
        if (strcmp(rest, "wrong") == 0) {
            key ^= 1;
        }
        put32(b, (uint32_t)pid);
        put32(b, (uint32_t)key);
        return;
    }
    if (strcmp(cmd, "raw") == 0) {
        for (char *p = rest; p[0] && p[1]; p += 2) {
            while (*p == ' ') {
                p++;
            }
            lh_buf_putc(b,
                        (char)(lh_hex_digit(p[0]) << 4 | lh_hex_digit(p[1])));
        }
        return;
    }
    char type = cmd[0];
    lh_buf_putc(b, type);
    size_t at = b->len;
    put32(b, 0);
    char *f[8];
    int nf = fields(rest, f, 8);
    switch (type) {
    case 'Q':
        lh_buf_append(b, rest, strlen(rest) + 1);
        break;
    case 'p': { /* a PasswordMessage */
        const char *v = subst(r, rest, buf, sizeof(buf));
        lh_buf_append(b, v, strlen(v) + 1);
        break;
    }
    case 'P': /* name | sql | oids */
        lh_buf_append(b, f[0][0] == '-' ? "" : f[0],
                      f[0][0] == '-' ? 1 : strlen(f[0]) + 1);
        lh_buf_append(b, nf > 1 ? f[1] : "", (nf > 1 ? strlen(f[1]) : 0) + 1);
        numbers(b, nf > 2 ? f[2] : "", true);
        break;
    case 'B': { /* portal | stmt | formats | params | result formats */
        for (int i = 0; i < 2; i++) {
            lh_buf_append(b, f[i][0] == '-' ? "" : f[i],
                          f[i][0] == '-' ? 1 : strlen(f[i]) + 1);
        }
        numbers(b, nf > 2 ? f[2] : "", false);
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "%s", nf > 3 ? f[3] : "");
        int np = 0;
        char *vals[32];
        for (char *t = strtok(tmp, " "); t != NULL && np < 32;
             t = strtok(NULL, " ")) {
            vals[np++] = t;
        }
        put16(b, np);
        for (int i = 0; i < np; i++) {
            put_param(r, b, vals[i]);
        }
        numbers(b, nf > 4 ? f[4] : "", false);
        break;
    }
    case 'D':
    case 'C': /* S|P name */
        lh_buf_putc(b, rest[0]);
        lh_buf_append(b, rest[1] ? rest + 2 : "",
                      rest[1] ? strlen(rest + 2) + 1 : 1);
        break;
    case 'E': /* portal | max rows */
        lh_buf_append(b, f[0][0] == '-' ? "" : f[0],
                      f[0][0] == '-' ? 1 : strlen(f[0]) + 1);
        put32(b, nf > 1 ? (uint32_t)atoi(f[1]) : 0);
        break;
    case 'S':
    case 'H':
    case 'X':
        break;
    default:
        FAILF(r, "unknown frontend message \"%s\"", cmd);
    }
    patch_len(b, at);
}

/* ---- backend messages
 * -------------------------------------------------------- */

static bool
fill(run *r, size_t need, int ms)
{
    lh_us until = lh_mono_now() + (lh_us)ms * 1000;
    while (r->c.in.len < need) {
        int left = (int)((until - lh_mono_now()) / 1000);
        if (left <= 0) {
            return false;
        }
        struct pollfd p = {.fd = r->c.fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0) {
            return false;
        }
        char tmp[65536];
        ssize_t n = recv(r->c.fd, tmp, sizeof(tmp), 0);
        if (n <= 0) {
            return false;
        }
        lh_buf_append(&r->c.in, tmp, (size_t)n);
    }
    return true;
}

static void
consume(run *r, size_t n)
{
    memmove(r->c.in.data, r->c.in.data + n, r->c.in.len - n);
    r->c.in.len -= n;
}

typedef struct bmsg {
    char type;
    const uint8_t *p;
    uint32_t len;
} bmsg;

static bmsg
next(run *r, int ms)
{
    bmsg m = {0, NULL, 0};
    if (!fill(r, 5, ms)) {
        return m;
    }
    const uint8_t *h = (const uint8_t *)r->c.in.data;
    uint32_t n = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 |
                 (uint32_t)h[3] << 8 | h[4];
    if (!fill(r, 1 + n, ms)) {
        return m;
    }
    h = (const uint8_t *)r->c.in.data;
    m.type = (char)h[0];
    m.p = h + 5;
    m.len = n - 4;
    return m;
}

static uint32_t
rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* The fields of an ErrorResponse: code (C), severity (V), message (M). */
static void
error_fields(const bmsg *m, char *code, char *sev, char *msg, size_t cap)
{
    code[0] = sev[0] = msg[0] = 0;
    const char *s = (const char *)m->p;
    const char *end = s + m->len;
    while (s < end && *s != 0) {
        char t = *s++;
        size_t l = strnlen(s, (size_t)(end - s));
        char *dst = t == 'C' ? code : t == 'V' ? sev : t == 'M' ? msg : NULL;
        if (dst != NULL) {
            snprintf(dst, cap, "%.*s", (int)l, s);
        }
        s += l + 1;
    }
}

static void
describe(const bmsg *m, char *out, size_t cap)
{
    if (m->type == 'E') {
        char c[16], v[16], msg[300];
        error_fields(m, c, v, msg, sizeof(msg));
        snprintf(out, cap, "E %s %s \"%s\"", v, c, msg);
    } else if (m->type == 0) {
        snprintf(out, cap, "(nothing)");
    } else {
        snprintf(out, cap, "%c (%u bytes)", m->type, m->len);
    }
}

/* RowDescription, DataRow and CommandComplete in the case files' form:
 * "name:oid:format ...", "'text' NULL xHEX ..." (binary values as hex),
 * the tag. */
static void
render(const bmsg *m, lh_buf *b, const uint8_t *fmts, int nfmts)
{
    const uint8_t *p = m->p, *end = m->p + m->len;
    if (m->type == 'C') {
        lh_buf_append(b, p, m->len ? m->len - 1 : 0);
        return;
    }
    int n = (int)((unsigned)p[0] << 8 | p[1]);
    p += 2;
    for (int i = 0; i < n && p < end; i++) {
        if (i > 0) {
            lh_buf_putc(b, ' ');
        }
        if (m->type == 'T') {
            const char *name = (const char *)p;
            p += strlen(name) + 1;
            uint32_t oid = rd32(p + 6);
            int fmt = p[16] << 8 | p[17];
            p += 18;
            lh_buf_printf(b, "%s:%u:%d", name, oid, fmt);
            continue;
        }
        int32_t len = (int32_t)rd32(p);
        p += 4;
        if (len < 0) {
            lh_buf_puts(b, "NULL");
            continue;
        }
        if (i < nfmts && fmts[i] == 1) {
            lh_buf_putc(b, 'x');
            for (int32_t k = 0; k < len; k++) {
                lh_buf_printf(b, "%02x", p[k]);
            }
        } else {
            lh_buf_putc(b, '\'');
            lh_buf_append(b, p, (size_t)len);
            lh_buf_putc(b, '\'');
        }
        p += len;
    }
}

static void
expect(run *r, char *want)
{
    char got[400];
    if (strcmp(want, "eof") == 0) {
        bool closed = false;
        lh_us until = lh_mono_now() + 3 * LH_US_PER_SEC;
        while (!closed && lh_mono_now() < until) {
            struct pollfd p = {.fd = r->c.fd, .events = POLLIN};
            if (poll(&p, 1, 100) > 0) {
                char tmp[4096];
                ssize_t n = recv(r->c.fd, tmp, sizeof(tmp), 0);
                if (n <= 0) {
                    closed = true;
                } else {
                    lh_buf_append(&r->c.in, tmp, (size_t)n);
                }
            }
        }
        if (!closed || r->c.in.len > 0) {
            FAILF(r, "want the server to close, got %zu more bytes%s",
                  r->c.in.len, closed ? "" : " and no close");
        }
        return;
    }
    if (strcmp(want, "nothing") == 0) {
        if (fill(r, 1, 300)) {
            FAILF(r, "want nothing, got %zu bytes", r->c.in.len);
        }
        return;
    }
    if (strcmp(want, "N") == 0 || strcmp(want, "byte S") == 0) {
        if (!fill(r, 1, 3000) || r->c.in.data[0] != want[strlen(want) - 1]) {
            FAILF(r, "want the byte %c", want[strlen(want) - 1]);
        }
        consume(r, 1);
        return;
    }
    if (strcmp(want, "S*") == 0) {
        /* Any number of ParameterStatus messages. */
        for (;;) {
            bmsg m = next(r, 3000);
            if (m.type != 'S') {
                return;
            }
            consume(r, 1 + 4 + m.len);
        }
    }
    bmsg m = next(r, 5000);
    describe(&m, got, sizeof(got));
    if (m.type != want[0]) {
        FAILF(r, "want %s, got %s", want, got);
    }
    const char *arg = want[1] == ' ' ? want + 2 : "";
    switch (m.type) {
    case 'R': {
        int kind = (int)rd32(m.p);
        if (kind != atoi(arg)) {
            FAILF(r, "want %s, got R %d", want, kind);
        }
        break;
    }
    case 'E': {
        char code[16], sev[16], msg[300];
        error_fields(&m, code, sev, msg, sizeof(msg));
        char wcode[16] = "", wsev[16] = "", wmsg[300] = "";
        sscanf(arg, "%15s %15s %299[^\n]", wsev, wcode, wmsg);
        if (strcmp(code, wcode) != 0 || strcmp(sev, wsev) != 0 ||
            strstr(msg, wmsg) == NULL) {
            FAILF(r, "want %s, got %s", want, got);
        }
        break;
    }
    case 'Z':
        r->nfmts = 0; /* DataRows without a RowDescription are text */
        if (m.len != 1 || m.p[0] != arg[0]) {
            FAILF(r, "want %s, got Z %c", want, m.len ? m.p[0] : '?');
        }
        break;
    case 'K':
        r->c.pid = r->last_pid = (int32_t)rd32(m.p);
        r->c.key = r->last_key = (int32_t)rd32(m.p + 4);
        break;
    case 'S': {
        char kv[400];
        const char *k = (const char *)m.p;
        snprintf(kv, sizeof(kv), "%s=%s", k, k + strlen(k) + 1);
        if (arg[0] != 0 && strcmp(kv, arg) != 0) {
            FAILF(r, "want %s, got S %s", want, kv);
        }
        break;
    }
    case 'T':
    case 'D':
    case 'C': {
        lh_buf b = LH_BUF_INIT;
        if (m.type == 'T') {
            /* the formats of the DataRows that follow */
            const uint8_t *p = m.p + 2;
            r->nfmts = 0;
            for (int i = 0; i < (m.p[0] << 8 | m.p[1]) && i < 64; i++) {
                p += strlen((const char *)p) + 1;
                r->fmts[r->nfmts++] = p[17];
                p += 18;
            }
        }
        render(&m, &b, r->fmts, r->nfmts);
        if (strcmp(b.data ? b.data : "", arg) != 0) {
            FAILF(r, "want %s, got %c %s", want, m.type, b.data ? b.data : "");
        }
        lh_buf_release(&b);
        break;
    }
    case 't': {
        lh_buf b = LH_BUF_INIT;
        int n = (int)((unsigned)m.p[0] << 8 | m.p[1]);
        for (int i = 0; i < n; i++) {
            lh_buf_printf(&b, i ? " %u" : "%u", rd32(m.p + 2 + 4 * i));
        }
        if (strcmp(b.data ? b.data : "", arg) != 0) {
            FAILF(r, "want %s, got t %s", want, b.data ? b.data : "");
        }
        lh_buf_release(&b);
        break;
    }
    case 'v': {
        char w[300];
        snprintf(w, sizeof(w), "%u %u", rd32(m.p), rd32(m.p + 4));
        if (strncmp(arg, w, strlen(w)) != 0) {
            FAILF(r, "want %s, got v %s", want, w);
        }
        break;
    }
    default:
        break;
    }
    consume(r, 1 + 4 + m.len);
}

/* ---- the case ---------------------------------------------------------------
 */

static void
reconnect(run *r)
{
    if (r->c.fd >= 0) {
        close(r->c.fd);
    }
    lh_buf_reset(&r->c.in);
    r->c.fd = st_dial(r->port);
    assert_true(r->c.fd >= 0);
}

static void
run_case(void **state)
{
    const char *path = *state;
    char *text = st_slurp(path);
    char *dir = st_tmpdir();
    lh_db *db;
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE};
    assert_int_equal(lh_db_open(dir, &o, &db, &err), LH_OK);
    lh_server_config *cfg;
    assert_int_equal(lh_server_config_new(&cfg, &err), LH_OK);
    lh_server_config_set(cfg, "http", "off", &err);
    lh_server_config_set(cfg, "pg", "127.0.0.1:0", &err);
    lh_server_config_set(cfg, "io_threads", "2", &err);
    run *r = calloc(1, sizeof(*r));
    r->path = path;
    r->c.fd = -1;
    lh_buf_init(&r->c.in);
    lh_server *srv = NULL;
    char *next_line = text;
    while (next_line != NULL) {
        char *l = next_line;
        char *nl = strchr(l, '\n');
        if (nl != NULL) {
            *nl = 0;
        }
        next_line = nl ? nl + 1 : NULL;
        r->line++;
        if (l[0] == '#' || l[0] == 0) {
            continue;
        }
        char a[128], b[1024];
        if (srv == NULL && sscanf(l, "token %127s %1023s", a, b) == 2) {
            char *t = NULL;
            if (lh_token_create(db, a, b, &t, &err) != LH_OK) {
                FAILF(r, "token: %s", err.msg);
            }
            snprintf(r->tokens[r->ntokens][0], 128, "%s", a);
            snprintf(r->tokens[r->ntokens][1], 128, "%s", t);
            r->ntokens++;
            lh_free_mem(t);
            continue;
        }
        if (srv == NULL && sscanf(l, "option %127s %1023s", a, b) == 2) {
            if (lh_server_config_set(cfg, a, b, &err) != LH_OK) {
                FAILF(r, "option: %s", err.msg);
            }
            continue;
        }
        if (srv == NULL) {
            if (lh_server_start(db, cfg, &srv, &err) != LH_OK) {
                FAILF(r, "start: %s", err.msg);
            }
            r->port = atoi(strrchr(lh_server_address(srv, "pg"), ':') + 1);
            reconnect(r);
        }
        if (l[0] == '>') {
            char *s = l + 1;
            while (*s == ' ') {
                s++;
            }
            char cmd[32];
            size_t k = 0;
            while (s[k] && s[k] != ' ' && k < sizeof(cmd) - 1) {
                cmd[k] = s[k];
                k++;
            }
            cmd[k] = 0;
            char *rest = s[k] ? s + k + 1 : s + k;
            if (strcmp(cmd, "new") == 0) {
                reconnect(r);
                continue;
            }
            if (strcmp(cmd, "wait") == 0) {
                usleep((useconds_t)atoi(rest) * 1000);
                continue;
            }
            if (strcmp(cmd, "stop") == 0) {
                lh_server_stop(srv);
                continue;
            }
            lh_buf m = LH_BUF_INIT;
            build(r, cmd, rest, &m);
            st_send(r->c.fd, m.data, m.len);
            lh_buf_release(&m);
        } else if (l[0] == '<') {
            char *s = l + 1;
            while (*s == ' ') {
                s++;
            }
            expect(r, s);
        } else {
            FAILF(r, "a line must start with #, >, <, token or option");
        }
    }
    if (r->c.fd >= 0) {
        close(r->c.fd);
    }
    lh_buf_release(&r->c.in);
    lh_server_close(srv);
    lh_server_config_free(cfg);
    lh_db_close(db);
    st_rmdir(dir);
    free(r);
    lh_free(text);
}

int
main(int argc, char **argv)
{
    return st_run_cases(__FILE__, "pg", argc > 1 ? argv[1] : NULL, run_case);
}
