/*
 * fuzz_pg: the server's PostgreSQL message handling, the bytes every
 * PostgreSQL client sends.
 *
 * Byte 0 picks the phase the rest is read in: even, from the first byte of
 * a connection (startup packets, SSLRequest, CancelRequest); odd, after a
 * valid startup packet that the target sends first (the query phase:
 * Query, Parse, Bind, Describe, Execute, Close, Sync...). Each input is
 * used twice:
 *
 * 1. Split into messages by lh__pg_split (startup framing, then regular
 *    framing), each payload walked with the reader's getters. Properties:
 *    a message never claims more bytes than were given, a failed reader
 *    stays failed, lengths past the limits are refused.
 * 2. Sent over TCP to a real server in this process (started at the first
 *    call, data on /dev/shm, no token, 1 s startup timeout), the
 *    connection half-closed, the replies read until the server closes.
 *    Properties: the server's bytes are well-framed backend messages (or
 *    the single 'N' of an SSLRequest), and a fresh session still gets
 *    AuthenticationOk and ReadyForQuery afterwards.
 */
#include "fuzz_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A startup packet: protocol 3.0, user "f", database "f". */
static const uint8_t startup[] = {0,   0,   0,   27,  0,   3, 0,   0,   'u',
                                  's', 'e', 'r', 0,   'f', 0, 'd', 'a', 't',
                                  'a', 'b', 'a', 's', 'e', 0, 'f', 0,   0};

static void
setup(void)
{
    static const char *const opts[][2] = {
        {"http", "off"},  {"pg", "127.0.0.1:0"},    {"io_threads", "1"},
        {"workers", "2"}, {"header_timeout", "1s"}, {"write_timeout", "2s"},
    };
    fz_start("fuzz_pg", NULL, opts, sizeof(opts) / sizeof(opts[0]), "pg");
}

static size_t fz_exchange(const uint8_t *a, size_t an, const uint8_t *b,
                          size_t bn, char *out, size_t cap);

/* One session before the first input: OpenSSL's per-thread random state
 * is made on the loop thread's first RAND_bytes (the backend key) and
 * kept, which libFuzzer would otherwise count as that input's leak. */
static void
warm_up(void)
{
    static char out[4096];
    fz_exchange(startup, sizeof(startup), NULL, 0, out, sizeof(out));
}

static void
parse_layer(const uint8_t *data, size_t size, bool after_startup)
{
    bool first = !after_startup;
    size_t off = 0;
    while (off < size) {
        lh_pg_msg m;
        size_t used = 0;
        lh_err err;
        lh_rc rc = lh__pg_split(data + off, size - off, first, &m, &used, &err);
        if (rc != LH_OK) {
            if (rc != LH_EINVAL && rc != LH_ELIMIT) {
                fz_die("split", err.msg);
            }
            return;
        }
        if (used == 0) {
            return;
        }
        if (used > size - off || m.len > used) {
            fz_die("split", "a message longer than the bytes given");
        }
        lh_pg_reader r;
        lh__pg_reader_init(&r, &m);
        /* Walk it as a Bind would be read: strings, counts, lengths. */
        const char *s;
        int16_t n = 0;
        int32_t len;
        const uint8_t *bytes;
        lh__pg_get_str(&r, &s);
        lh__pg_get_str(&r, &s);
        lh__pg_get_i16(&r, &n);
        for (int i = 0; i < n && !r.bad; i++) {
            if (lh__pg_get_i32(&r, &len) && len > 0) {
                lh__pg_get_bytes(&r, (size_t)len, &bytes);
            }
        }
        if (r.bad && lh__pg_get_u8(&r, (uint8_t *)&n)) {
            fz_die("reader", "a failed reader read again");
        }
        first = false;
        off += used;
    }
}

/* The backend's bytes are whole messages of the types a v3 backend
 * sends, after at most two one-byte 'N' answers (SSLRequest,
 * GSSENCRequest: no TLS is configured here, so never 'S'). A fuzzed
 * input may well hold a query that succeeds (RowDescription,
 * CommandComplete, PortalSuspended) or draws a notice; whether its answer
 * arrives within the exchange depends on the machine's load (a statement
 * that ran fast before answers at once, from the I/O thread). */
static void
check_framing(const char *out, size_t n)
{
    static const char types[] = "RSKZEINCTDtn123sAcdGHWVv";
    size_t off = 0;
    while (off < 2 && off < n && out[off] == 'N') {
        off++;
    }
    while (off < n) {
        if (out[off] == 0 || strchr(types, out[off]) == NULL) {
            fz_die("server", "a backend message of an unknown type");
        }
        if (off + 5 > n) {
            fz_die("server", "a cut message");
        }
        const uint8_t *p = (const uint8_t *)out + off + 1;
        uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                       (uint32_t)p[2] << 8 | p[3];
        if (len < 4 || off + 1 + len > n) {
            fz_die("server", "a message whose length does not fit");
        }
        off += 1 + len;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz.srv == NULL) {
        setup();
        warm_up();
    }
    if (size == 0) {
        return 0;
    }
    bool after = data[0] & 1;
    parse_layer(data + 1, size - 1, after);
    static char out[1 << 20];
    size_t n = fz_exchange(after ? startup : NULL, after ? sizeof(startup) : 0,
                           data + 1, size - 1, out, sizeof(out));
    if (n < sizeof(out)) {
        check_framing(out, n);
    }
    n = fz_exchange(startup, sizeof(startup), NULL, 0, out, sizeof(out) - 1);
    out[n] = 0;
    if (n < 6 || out[0] != 'R' || memchr(out, 'Z', n) == NULL) {
        fz_die("server", "a fresh session no longer starts");
    }
    return 0;
}
