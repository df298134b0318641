/*
 * fuzz_event: lh_append's validation of an event, the path every byte a
 * client sends goes through.
 *
 * At the first call the target creates a data directory in a fresh
 * temporary directory (on /dev/shm when there is one, so the fsync of each
 * commit is cheap) with one table that has a column of each payload type
 * and embedding_dim 3; an atexit handler closes it and removes the
 * directory. Each input is then appended twice:
 *
 * 1. as the event's data_json (the payload object), with a fixed stream
 *    and type;
 * 2. as the envelope strings, one a line: stream, type, ts, event_id,
 *    partition_key, tier_hint (lines that are missing are NULL), with no
 *    payload and a fixed embedding.
 *
 * Only valid events are written, so most inputs stop in validation. The
 * properties are the library's own: no crash, no sanitizer report, and
 * only the codes lh_append documents for bad input.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lakehouse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char table_json[] =
    "{\"name\": \"ev\", \"shards\": 2, \"embedding_dim\": 3, \"columns\": ["
    "{\"name\": \"b\", \"type\": \"BOOLEAN\"},"
    "{\"name\": \"i2\", \"type\": \"SMALLINT\"},"
    "{\"name\": \"i4\", \"type\": \"INTEGER\"},"
    "{\"name\": \"i8\", \"type\": \"BIGINT\"},"
    "{\"name\": \"f4\", \"type\": \"REAL\"},"
    "{\"name\": \"f8\", \"type\": \"DOUBLE\"},"
    "{\"name\": \"dec\", \"type\": \"DECIMAL(38,10)\"},"
    "{\"name\": \"price\", \"type\": \"DECIMAL(5,2)\"},"
    "{\"name\": \"s\", \"type\": \"VARCHAR\"},"
    "{\"name\": \"s10\", \"type\": \"VARCHAR(10)\"},"
    "{\"name\": \"bin\", \"type\": \"BLOB\"},"
    "{\"name\": \"d\", \"type\": \"DATE\"},"
    "{\"name\": \"t\", \"type\": \"TIME\"},"
    "{\"name\": \"at\", \"type\": \"TIMESTAMP\"},"
    "{\"name\": \"attz\", \"type\": \"TIMESTAMPTZ\"},"
    "{\"name\": \"id\", \"type\": \"UUID\"},"
    "{\"name\": \"doc\", \"type\": \"JSON\"},"
    "{\"name\": \"vec\", \"type\": \"FLOAT[3]\"}"
    "]}";

static char tmpdir[64];
static lh_db *db;

static void
fail(const char *what, lh_rc rc, const lh_err *err)
{
    fprintf(stderr, "fuzz_event: %s: %s: %s\n", what, lh_rc_name(rc), err->msg);
    abort();
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0) {
        perror(path);
    }
    return 0;
}

static void
cleanup(void)
{
    lh_db_close(db);
    db = NULL;
    if (tmpdir[0] != '\0') {
        nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        tmpdir[0] = '\0';
    }
}

static void
setup(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(tmpdir, sizeof(tmpdir), "%s/lh-fuzz-event-XXXXXX", base);
    if (mkdtemp(tmpdir) == NULL) {
        perror("fuzz_event: mkdtemp");
        abort();
    }
    atexit(cleanup);
    char dir[96];
    snprintf(dir, sizeof(dir), "%s/data", tmpdir);
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE, .threads = 1};
    lh_rc rc = lh_db_open(dir, &o, &db, &err);
    if (rc != LH_OK) {
        fail("could not open the data directory", rc, &err);
    }
    rc = lh_table_create(db, table_json, strlen(table_json), &err);
    if (rc != LH_OK) {
        fail("could not create the table", rc, &err);
    }
}

/* What lh_append may answer to a call it validates; anything else (EIO,
 * EINTERNAL, ...) is a bug or a broken setup. */
static void
check_rc(lh_rc rc, const lh_err *err)
{
    if (rc != LH_OK && rc != LH_EINVAL && rc != LH_ECONFLICT) {
        fail("lh_append", rc, err);
    }
    if (rc != LH_OK && err->code != rc) {
        fail("err does not match the code", rc, err);
    }
}

/* Splits s (NUL-terminated, modified) at newlines into at most n fields;
 * fields past the last line are NULL. */
static void
split_lines(char *s, const char **fields, size_t n)
{
    char *p = s;
    for (size_t i = 0; i < n; i++) {
        fields[i] = p;
        if (p == NULL) {
            continue;
        }
        char *nl = strchr(p, '\n');
        if (nl != NULL) {
            *nl = '\0';
            p = nl + 1;
        } else {
            p = NULL;
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (db == NULL) {
        setup();
    }
    char *s = malloc(size + 1);
    if (s == NULL) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';

    lh_err err;
    lh_event_ack ack;
    lh_event_in ev = {
        .stream = "fuzz-stream",
        .type = "FuzzData",
        .data_json = s,
        .data_len = size,
    };
    check_rc(lh_append(db, "ev", &ev, 1, NULL, &ack, &err), &err);

    /* stream, type, ts, event_id, partition_key, tier_hint */
    const char *f[6];
    static const float embedding[3] = {0.5f, -1.0f, 2.0f};
    split_lines(s, f, sizeof(f) / sizeof(f[0]));
    lh_event_in env = {
        .stream = f[0],
        .type = f[1] != NULL ? f[1] : "FuzzEnvelope",
        .ts = f[2],
        .event_id = f[3],
        .partition_key = f[4],
        .tier_hint = f[5],
        .embedding = embedding,
        .embedding_len = 3,
    };
    check_rc(lh_append(db, "ev", &env, 1, NULL, &ack, &err), &err);
    free(s);
    return 0;
}
