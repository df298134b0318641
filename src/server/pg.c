/* The PostgreSQL wire protocol (in progress). */
/* OpenSSL's 1.1-era lhash macros (lh_free, lh_new...) would shadow ours. */
#define OPENSSL_NO_DEPRECATED
#include "server/server_int.h"

static const char refusal[] = "E";

static lh_rc
pg_open(srv_conn *c)
{
    (void)c;
    return LH_EUNSUPPORTED;
}

static void
pg_nop(srv_conn *c)
{
    (void)c;
}

const srv_proto lh__pg_proto = {
    .name = "pg",
    .open = pg_open,
    .on_read = pg_nop,
    .on_write = pg_nop,
    .on_timer = pg_nop,
    .on_drain = pg_nop,
    .on_wake = pg_nop,
    .on_close = pg_nop,
    .free = pg_nop,
    .refusal = refusal,
    .refusal_len = 0,
};
