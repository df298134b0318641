/*
 * The HTTP/1.1 request parser (RFC 9112). See server.h for the contract.
 *
 * States: HEAD collects bytes up to the empty line that ends the header
 * section (into `head`, bounded by max_head), then the head is parsed in
 * place (NULs written over the separators, so names and values are C
 * strings); BODY_LEN copies Content-Length bytes; CHUNK_SIZE, CHUNK_DATA,
 * CHUNK_CRLF and TRAILER walk the chunked coding. HEAD_DONE is the pause
 * after LH_HTTP_HEAD is returned, FAILED and COMPLETE are final until
 * reset.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "server/server.h"

enum {
    ST_HEAD,
    ST_HEAD_DONE,
    ST_BODY_LEN,
    ST_CHUNK_SIZE,
    ST_CHUNK_DATA,
    ST_CHUNK_CRLF,
    ST_TRAILER,
    ST_COMPLETE,
    ST_FAILED,
};

/* A chunk-size line: hex digits and chunk extensions, which we skip. */
#define MAX_CHUNK_LINE 4096

void
lh__http_parser_init(lh_http_parser *p, size_t max_head, size_t max_body)
{
    memset(p, 0, sizeof(*p));
    p->max_head = max_head;
    p->max_body = max_body;
    lh_buf_init(&p->head);
    lh_buf_init(&p->body);
    p->req.content_length = -1;
}

void
lh__http_parser_reset(lh_http_parser *p)
{
    lh_buf_reset(&p->head);
    lh_buf_reset(&p->body);
    /* A request that was large gives its memory back. */
    if (p->body.cap > (1u << 20)) {
        lh_buf_release(&p->body);
    }
    p->head.oom = p->body.oom = false;
    p->state = ST_HEAD;
    p->chunk_left = 0;
    p->line_len = 0;
    p->trailer_len = 0;
    memset(&p->req, 0, sizeof(p->req));
    p->req.content_length = -1;
    p->status = 0;
    p->error[0] = 0;
}

void
lh__http_parser_release(lh_http_parser *p)
{
    lh_buf_release(&p->head);
    lh_buf_release(&p->body);
}

static lh_http_status
fail(lh_http_parser *p, int status, const char *msg)
{
    p->state = ST_FAILED;
    p->status = status;
    snprintf(p->error, sizeof(p->error), "%s", msg);
    return LH_HTTP_ERROR;
}

/* RFC 9110 tchar. */
static bool
is_tchar(unsigned char c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

const char *
lh__http_header(const lh_http_req *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            return r->headers[i].value;
        }
    }
    return NULL;
}

bool
lh__http_header_has(const lh_http_req *r, const char *name, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) != 0) {
            continue;
        }
        const char *s = r->headers[i].value;
        while (*s != 0) {
            while (*s == ' ' || *s == '\t' || *s == ',') {
                s++;
            }
            const char *e = s;
            while (*e != 0 && *e != ',') {
                e++;
            }
            const char *te = e;
            while (te > s && (te[-1] == ' ' || te[-1] == '\t')) {
                te--;
            }
            if ((size_t)(te - s) == tl && strncasecmp(s, token, tl) == 0) {
                return true;
            }
            s = e;
        }
    }
    return false;
}

/* The end of the header section in head[0..n): the offset just past the
 * empty line, or 0. Line ends are CRLF or LF. */
static size_t
head_end(const char *h, size_t n, size_t from)
{
    for (size_t i = from; i < n; i++) {
        if (h[i] != '\n') {
            continue;
        }
        if (i + 1 < n && h[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < n && h[i + 1] == '\r' && h[i + 2] == '\n') {
            return i + 3;
        }
    }
    return 0;
}

/* Cuts the next line off *s (ending at LF, CR before it dropped): the line
 * is NUL-terminated in place. */
static char *
next_line(char **s, char *end)
{
    char *line = *s;
    char *nl = memchr(line, '\n', (size_t)(end - line));
    if (nl == NULL) {
        return NULL;
    }
    *nl = 0;
    if (nl > line && nl[-1] == '\r') {
        nl[-1] = 0;
    }
    *s = nl + 1;
    return line;
}

static bool
no_ctl(const char *s)
{
    for (; *s != 0; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return false;
        }
    }
    return true;
}

static lh_http_status
parse_request_line(lh_http_parser *p, char *line)
{
    lh_http_req *r = &p->req;
    char *sp1 = strchr(line, ' ');
    if (sp1 == NULL || sp1 == line) {
        return fail(p, 400, "malformed request line");
    }
    size_t ml = (size_t)(sp1 - line);
    if (ml >= sizeof(r->method)) {
        return fail(p, 501, "unknown method");
    }
    for (size_t i = 0; i < ml; i++) {
        if (!is_tchar((unsigned char)line[i])) {
            return fail(p, 400, "malformed method");
        }
    }
    memcpy(r->method, line, ml);
    r->method[ml] = 0;
    char *target = sp1 + 1;
    char *sp2 = strchr(target, ' ');
    if (sp2 == NULL || sp2 == target) {
        return fail(p, 400, "malformed request line");
    }
    *sp2 = 0;
    for (char *c = target; *c != 0; c++) {
        unsigned char u = (unsigned char)*c;
        if (u <= 0x20 || u == 0x7f) {
            return fail(p, 400, "malformed request target");
        }
    }
    const char *ver = sp2 + 1;
    if (strncmp(ver, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)ver[7]) ||
        ver[8] != 0) {
        if (strncmp(ver, "HTTP/", 5) == 0) {
            return fail(p, 505, "only HTTP/1.0 and HTTP/1.1 are served");
        }
        return fail(p, 400, "malformed request line");
    }
    r->minor = ver[7] - '0';
    r->target = target;
    return LH_HTTP_MORE;
}

static bool
parse_length(const char *v, int64_t *out)
{
    if (*v == 0) {
        return false;
    }
    int64_t n = 0;
    for (; *v != 0; v++) {
        if (!isdigit((unsigned char)*v) || n > (INT64_MAX - 9) / 10) {
            return false;
        }
        n = n * 10 + (*v - '0');
    }
    *out = n;
    return true;
}

static lh_http_status
parse_fields(lh_http_parser *p, char *s, char *end)
{
    lh_http_req *r = &p->req;
    char *line;
    bool have_host = false, have_te = false;
    while ((line = next_line(&s, end)) != NULL && line[0] != 0) {
        if (line[0] == ' ' || line[0] == '\t') {
            return fail(p, 400, "obsolete line folding in a header field");
        }
        char *colon = strchr(line, ':');
        if (colon == NULL || colon == line) {
            return fail(p, 400, "malformed header field");
        }
        for (char *c = line; c < colon; c++) {
            if (!is_tchar((unsigned char)*c)) {
                return fail(p, 400, "malformed header field name");
            }
        }
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') {
            v++;
        }
        char *ve = v + strlen(v);
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
            *--ve = 0;
        }
        if (!no_ctl(v)) {
            return fail(p, 400, "control character in a header field");
        }
        if (r->nheaders == LH_HTTP_MAX_HEADERS) {
            return fail(p, 431, "too many header fields");
        }
        r->headers[r->nheaders].name = line;
        r->headers[r->nheaders].value = v;
        r->nheaders++;
        if (strcasecmp(line, "Content-Length") == 0) {
            int64_t n;
            if (!parse_length(v, &n)) {
                return fail(p, 400, "malformed Content-Length");
            }
            if (r->content_length >= 0 && r->content_length != n) {
                return fail(p, 400, "conflicting Content-Length fields");
            }
            r->content_length = n;
        } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
            have_te = true;
        } else if (strcasecmp(line, "Host") == 0) {
            if (have_host) {
                return fail(p, 400, "more than one Host field");
            }
            have_host = true;
        }
    }
    if (have_te) {
        /* Only chunked, once, as the last (and only) coding. */
        const char *te = lh__http_header(r, "Transfer-Encoding");
        size_t nte = 0;
        for (size_t i = 0; i < r->nheaders; i++) {
            nte += strcasecmp(r->headers[i].name, "Transfer-Encoding") == 0;
        }
        if (nte != 1 || strcasecmp(te, "chunked") != 0) {
            return fail(p, 501, "only the chunked transfer coding is served");
        }
        if (r->content_length >= 0) {
            return fail(p, 400, "both Content-Length and Transfer-Encoding");
        }
        r->chunked = true;
    }
    if (r->minor >= 1 && !have_host) {
        return fail(p, 400, "an HTTP/1.1 request needs a Host field");
    }
    if (r->minor >= 1) {
        r->keep_alive = !lh__http_header_has(r, "Connection", "close");
    } else {
        r->keep_alive = lh__http_header_has(r, "Connection", "keep-alive");
    }
    const char *expect = lh__http_header(r, "Expect");
    if (expect != NULL) {
        if (strcasecmp(expect, "100-continue") != 0) {
            return fail(p, 417, "only Expect: 100-continue is understood");
        }
        r->expect_continue = r->minor >= 1;
    }
    return LH_HTTP_MORE;
}

static lh_http_status
parse_head(lh_http_parser *p, size_t n)
{
    char *s = p->head.data;
    char *end = s + n;
    char *line = next_line(&s, end);
    if (line == NULL) {
        return fail(p, 400, "malformed request line");
    }
    lh_http_status st = parse_request_line(p, line);
    if (st == LH_HTTP_MORE) {
        st = parse_fields(p, s, end);
    }
    if (st != LH_HTTP_MORE) {
        return st;
    }
    if (p->req.content_length > 0 &&
        (uint64_t)p->req.content_length > p->max_body) {
        return fail(p, 413, "the request body is larger than the limit");
    }
    if (p->req.content_length > 0) {
        p->chunk_left = (uint64_t)p->req.content_length;
    }
    return LH_HTTP_HEAD;
}

/* Consumes the head; returns MORE, HEAD or ERROR. */
static lh_http_status
feed_head_bytes(lh_http_parser *p, const char *d, size_t len, size_t *used)
{
    size_t before = p->head.len;
    size_t room = p->max_head + 1 - before; /* one byte past the limit */
    size_t take = LH_MIN(len, room);
    if (lh_buf_append(&p->head, d, take) != LH_OK) {
        return fail(p, 503, "out of memory");
    }
    /* Search from a little before the new bytes: the empty line may
     * straddle two reads. */
    size_t from = before > 3 ? before - 3 : 0;
    size_t end = head_end(p->head.data, p->head.len, from);
    if (end == 0) {
        *used = take;
        if (p->head.len > p->max_head) {
            if (memchr(p->head.data, '\n', p->head.len) == NULL) {
                return fail(p, 414,
                            "the request line is longer than the "
                            "limit");
            }
            return fail(p, 431, "the request head is larger than the limit");
        }
        return LH_HTTP_MORE;
    }
    if (end > p->max_head) {
        return fail(p, 431, "the request head is larger than the limit");
    }
    *used = end - before;
    p->head.len = end;
    p->head.data[end] = 0;
    return parse_head(p, end);
}

static lh_http_status
feed_head(lh_http_parser *p, const char *d, size_t len, size_t *used)
{
    /* Empty lines before the request line are ignored (RFC 9112 2.2):
     * between keep-alive requests some clients send a stray CRLF. */
    size_t skip = 0;
    if (p->head.len == 0) {
        while (skip < len && (d[skip] == '\r' || d[skip] == '\n')) {
            skip++;
        }
        if (skip == len) {
            *used = len;
            return LH_HTTP_MORE;
        }
        d += skip;
        len -= skip;
    }
    lh_http_status st = feed_head_bytes(p, d, len, used);
    *used += skip;
    return st;
}

/* Copies what is left of the current length or chunk from data[*off..len)
 * into the body, advancing *off. */
static lh_http_status
body_bytes(lh_http_parser *p, const char *data, size_t len, size_t *off)
{
    size_t n = (size_t)LH_MIN((uint64_t)(len - *off), p->chunk_left);
    const char *d = data + *off;
    *off += n;
    p->chunk_left -= n;
    if (p->body.len + n > p->max_body) {
        return fail(p, 413, "the request body is larger than the limit");
    }
    if (lh_buf_append(&p->body, d, n) != LH_OK) {
        return fail(p, 503, "out of memory");
    }
    return LH_HTTP_MORE;
}

static lh_http_status
complete(lh_http_parser *p)
{
    p->state = ST_COMPLETE;
    if (lh_buf_reserve(&p->body, 1) != LH_OK) {
        return fail(p, 503, "out of memory");
    }
    p->body.data[p->body.len] = 0;
    p->req.body = p->body.data;
    p->req.body_len = p->body.len;
    return LH_HTTP_DONE;
}

/* The chunk-size line in body's spare room: parsed at its LF. */
static lh_http_status
chunk_size_line(lh_http_parser *p, const char *line, size_t n)
{
    if (n > 0 && line[n - 1] == '\r') {
        n--;
    }
    uint64_t size = 0;
    size_t i = 0;
    for (; i < n; i++) {
        int v = lh_hex_digit(line[i]);
        if (v < 0) {
            break;
        }
        if (size > (UINT64_MAX >> 4)) {
            return fail(p, 413, "the request body is larger than the limit");
        }
        size = size << 4 | (uint64_t)v;
    }
    if (i == 0 ||
        (i < n && line[i] != ';' && line[i] != ' ' && line[i] != '\t')) {
        return fail(p, 400, "malformed chunk size");
    }
    if (size > p->max_body - p->body.len) {
        return fail(p, 413, "the request body is larger than the limit");
    }
    p->chunk_left = size;
    p->state = size == 0 ? ST_TRAILER : ST_CHUNK_DATA;
    p->trailer_len = 0;
    return LH_HTTP_MORE;
}

lh_http_status
lh__http_parse(lh_http_parser *p, const char *data, size_t len, size_t *used)
{
    *used = 0;
    size_t off = 0;
    lh_http_status st = LH_HTTP_MORE;
    /* A line of the chunked coding is assembled here (bounded). */
    static const size_t line_cap = MAX_CHUNK_LINE;
    while (off < len || p->state == ST_HEAD_DONE) {
        switch (p->state) {
        case ST_HEAD: {
            size_t u = 0;
            st = feed_head(p, data + off, len - off, &u);
            off += u;
            if (st == LH_HTTP_HEAD) {
                p->state = ST_HEAD_DONE;
                *used = off;
                return st;
            }
            if (st != LH_HTTP_MORE) {
                *used = off;
                return st;
            }
            break;
        }
        case ST_HEAD_DONE:
            if (p->req.chunked) {
                p->state = ST_CHUNK_SIZE;
                p->line_len = 0;
                break;
            }
            if (p->req.content_length <= 0) {
                *used = off;
                return complete(p);
            }
            if (lh_buf_reserve(&p->body, (size_t)p->req.content_length) !=
                LH_OK) {
                *used = off;
                return fail(p, 503, "out of memory");
            }
            p->state = ST_BODY_LEN;
            break;
        case ST_BODY_LEN:
        case ST_CHUNK_DATA:
            st = body_bytes(p, data, len, &off);
            if (st != LH_HTTP_MORE) {
                *used = off;
                return st;
            }
            if (p->chunk_left > 0) {
                break;
            }
            if (p->state == ST_BODY_LEN) {
                *used = off;
                return complete(p);
            }
            p->state = ST_CHUNK_CRLF;
            p->line_len = 0;
            break;
        case ST_CHUNK_SIZE:
        case ST_CHUNK_CRLF:
        case ST_TRAILER: {
            /* Lines: collected byte by byte into scratch space. */
            char c = data[off++];
            if (p->state == ST_CHUNK_CRLF) {
                if (c == '\r' && p->line_len == 0) {
                    p->line_len = 1;
                    break;
                }
                if (c != '\n') {
                    *used = off;
                    return fail(p, 400, "malformed chunk end");
                }
                p->state = ST_CHUNK_SIZE;
                p->line_len = 0;
                break;
            }
            if (p->state == ST_TRAILER) {
                /* Trailer fields are read and dropped, within max_head. */
                if (++p->trailer_len > p->max_head) {
                    *used = off;
                    return fail(p, 431,
                                "the trailer is larger than the "
                                "limit");
                }
                if (c != '\n') {
                    if (c != '\r') {
                        p->line_len++;
                    }
                    break;
                }
                if (p->line_len == 0) {
                    *used = off;
                    return complete(p);
                }
                p->line_len = 0;
                break;
            }
            if (p->line_len >= line_cap) {
                *used = off;
                return fail(p, 400, "chunk size line too long");
            }
            /* The line goes in the body buffer's spare room, past len. */
            if (lh_buf_reserve(&p->body, p->line_len + 2) != LH_OK) {
                *used = off;
                return fail(p, 503, "out of memory");
            }
            char *line = p->body.data + p->body.len;
            if (c != '\n') {
                line[p->line_len++] = c;
                break;
            }
            st = chunk_size_line(p, line, p->line_len);
            p->line_len = 0;
            if (st != LH_HTTP_MORE) {
                *used = off;
                return st;
            }
            break;
        }
        case ST_COMPLETE:
            *used = off;
            return LH_HTTP_DONE;
        default:
            *used = off;
            return LH_HTTP_ERROR;
        }
    }
    *used = off;
    return LH_HTTP_MORE;
}

bool
lh__url_decode(const char *s, size_t n, bool plus, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) {
                return false;
            }
            int hi = lh_hex_digit(s[i + 1]);
            int lo = lh_hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return false;
            }
            c = (char)(hi << 4 | lo);
            if (c == 0) {
                return false;
            }
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (o + 1 >= cap) {
            return false;
        }
        out[o++] = c;
    }
    if (cap == 0) {
        return false;
    }
    out[o] = 0;
    return true;
}
