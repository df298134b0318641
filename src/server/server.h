/*
 * server: the parsers of outside bytes that the server's connections use,
 * exposed for the fuzz targets and the unit tests. Everything else of the
 * server is private (server_int.h); its public face is the server, config
 * and token API of include/lakehouse.h.
 *
 * The parsers never allocate beyond their limits, never assert on input,
 * and report what is wrong with a status and a lowercase message.
 */
#ifndef LH_SERVER_H
#define LH_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lakehouse.h"
#include "util/util.h"

/* ---- HTTP/1.1 requests (http_parse.c) ------------------------------------
 *
 * An incremental parser of one request at a time (RFC 9112): the request
 * line and header fields up to max_head bytes, then a body framed by
 * Content-Length or chunked transfer coding up to max_body bytes. The head
 * and the body are copied into the parser's buffers, so the caller may
 * drop the bytes it fed. Strict where leniency smuggles requests: both
 * Content-Length and Transfer-Encoding, differing Content-Lengths,
 * obs-fold, whitespace before a field's colon are all 400. Bare LF line
 * ends are accepted, as the RFC allows. */

#define LH_HTTP_MAX_HEADERS 100

typedef struct lh_http_header {
    const char *name; /* NUL-terminated, into the parser's head buffer */
    const char *value;
} lh_http_header;

typedef struct lh_http_req {
    char method[16];
    const char *target; /* the request target as sent (NUL-terminated) */
    int minor;          /* HTTP/1.minor */
    lh_http_header headers[LH_HTTP_MAX_HEADERS];
    size_t nheaders;
    int64_t content_length; /* -1 when absent */
    bool chunked;
    bool keep_alive;      /* the connection may carry another request */
    bool expect_continue; /* Expect: 100-continue */
    const char *body;     /* NUL-terminated; body_len bytes */
    size_t body_len;
} lh_http_req;

typedef enum lh_http_status {
    LH_HTTP_MORE = 0,  /* all bytes consumed, the request is not complete */
    LH_HTTP_HEAD = 1,  /* the head is complete (returned once, before the
                          body: the caller may answer 100 Continue or refuse
                          it); call again to read the body */
    LH_HTTP_DONE = 2,  /* a whole request; *used bytes were consumed */
    LH_HTTP_ERROR = 3, /* see status and error; the connection must close */
} lh_http_status;

typedef struct lh_http_parser {
    size_t max_head;
    size_t max_body;
    int state;
    lh_buf head;
    lh_buf body;
    uint64_t chunk_left;
    size_t line_len; /* bytes of the current chunk-size or trailer line */
    size_t trailer_len;
    lh_http_req req;
    int status;      /* with LH_HTTP_ERROR: 400, 413, 414, 431, 501, 505 */
    char error[160]; /* with LH_HTTP_ERROR */
} lh_http_parser;

void lh__http_parser_init(lh_http_parser *p, size_t max_head, size_t max_body);
/* Feeds len bytes; *used receives how many were consumed (with MORE, all
 * of them; with HEAD and DONE, up to the end of the head or request, the
 * rest belongs to what follows). With LH_HTTP_ERROR nothing more may be
 * fed. Out of memory is an error with status 503. */
lh_http_status lh__http_parse(lh_http_parser *p, const char *data, size_t len,
                              size_t *used);
/* Ready for the next request on the same connection (keeps capacity). */
void lh__http_parser_reset(lh_http_parser *p);
void lh__http_parser_release(lh_http_parser *p);
/* A header's value by name (case-insensitive), the first one, or NULL. */
const char *lh__http_header(const lh_http_req *r, const char *name);
/* Whether the comma-separated header `name` lists `token`
 * (case-insensitive), e.g. Connection: keep-alive, Upgrade. */
bool lh__http_header_has(const lh_http_req *r, const char *name,
                         const char *token);

/* Percent-decodes s[0..n) into out (NUL-terminated, at most cap-1 bytes);
 * with plus, '+' becomes a space (query strings). false on a malformed
 * escape, an encoded NUL, or when it does not fit. */
bool lh__url_decode(const char *s, size_t n, bool plus, char *out, size_t cap);

/* ---- events in the JSON event form (event_json.c) ------------------------
 *
 * An HTTP body of events: a JSON array of event objects, or NDJSON (one
 * object a line; blank lines skipped). Each object has the keys of the
 * CLI's append lines ("event_id", "stream", "expected_version", "type",
 * "ts", "data", "embedding", "partition_key", "tier_hint",
 * "ttl_seconds"). */

typedef struct lh_event_batch {
    lh_event_in *evs;
    size_t n;
    int64_t *lines; /* the body line each event starts on (1-based) */
    void *docs;     /* the parsed JSON the events borrow from */
    lh_arena arena;
} lh_event_batch;

/* Parses body[0..len) as NDJSON when ndjson is set, else as JSON (an array
 * of events, or one event object); max_events bounds n. On bad input
 * LH_EINVAL with err->index the event (0-based), err->offset its line
 * (1-based) and err->field the field at fault, and a message that names
 * them ("line 3: data.qty: ..."); LH_ELIMIT past max_events; LH_ENOMEM.
 * The batch is released with lh__event_batch_release, also after a
 * failure. */
lh_rc lh__event_batch_parse(const char *body, size_t len, bool ndjson,
                            size_t max_events, lh_event_batch *b, lh_err *err);
void lh__event_batch_release(lh_event_batch *b);

/* Appends an event as the JSON object the CLI's `read` prints. */
void lh__event_to_json(const lh_event *ev, lh_buf *out);

/* ---- PostgreSQL frontend messages (pg_msg.c) ----------------------------- */

/* The longest message a frontend may send before authentication (startup,
 * SSLRequest, CancelRequest), and after it (Parse, Bind with parameters,
 * Query); longer ones close the connection, as PostgreSQL does. */
#define LH_PG_MAX_STARTUP 10000
#define LH_PG_MAX_MESSAGE (64u << 20)

/* A frontend message: type byte ('\0' for the startup-phase messages that
 * have none), then the payload after the length. */
typedef struct lh_pg_msg {
    char type;
    const uint8_t *data;
    size_t len;
} lh_pg_msg;

/* Splits the next message off buf[0..len): LH_OK with *msg and *used when
 * one is whole; LH_OK with *used = 0 when more bytes are needed; LH_ELIMIT
 * for a length past the limit (startup: LH_PG_MAX_STARTUP), LH_EINVAL for
 * a length below 4. */
lh_rc lh__pg_split(const uint8_t *buf, size_t len, bool startup, lh_pg_msg *msg,
                   size_t *used, lh_err *err);

/* A reader over a message's payload. Every getter fails (returns false,
 * sets bad) past the end; a failed reader stays failed. */
typedef struct lh_pg_reader {
    const uint8_t *p;
    size_t len;
    size_t off;
    bool bad;
} lh_pg_reader;

void lh__pg_reader_init(lh_pg_reader *r, const lh_pg_msg *m);
bool lh__pg_get_u8(lh_pg_reader *r, uint8_t *out);
bool lh__pg_get_i16(lh_pg_reader *r, int16_t *out);
bool lh__pg_get_i32(lh_pg_reader *r, int32_t *out);
/* A NUL-terminated string inside the payload (borrowed). */
bool lh__pg_get_str(lh_pg_reader *r, const char **out);
/* n bytes (borrowed). */
bool lh__pg_get_bytes(lh_pg_reader *r, size_t n, const uint8_t **out);
bool lh__pg_at_end(const lh_pg_reader *r);

#endif
