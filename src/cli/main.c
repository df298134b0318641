/*
 * The lakehouse command. It uses only the public API (lakehouse.h) and
 * jansson for its own NDJSON input and output, so whatever it does a C
 * program linking liblakehouse can do too.
 *
 * Exit codes: 0 success, 1 failure, 2 bad input or usage, 3 version
 * conflict (append).
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lakehouse.h"

#define MAX_LINE (64u << 20) /* one NDJSON event */

/* ---- init, table ------------------------------------------------------------
 */

static int
cmd_init(int argc, char **argv)
{
    args a;
    int r = cli_parse_args(argc, argv, NULL, 0, &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != 1) {
        return cli_usage_error("%s", "init takes one directory");
    }
    lh_err err;
    lh_rc rc = lh_db_init(a.pos[0], &err);
    if (rc != LH_OK) {
        return cli_fail(&err, rc);
    }
    printf("initialized %s\n", a.pos[0]);
    return 0;
}

static char *
read_all_file(const char *path, size_t *len, lh_err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        snprintf(err->msg, sizeof(err->msg), "could not open \"%s\": %s", path,
                 strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    if (f != stdin) {
        fclose(f);
    }
    if (buf == NULL) {
        snprintf(err->msg, sizeof(err->msg), "out of memory reading \"%s\"",
                 path);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static int
cmd_table(int argc, char **argv)
{
    opt opts[] = {{"schema", true, NULL, false},
                  {"server", true, NULL, false},
                  {"token", true, NULL, false}};
    args a;
    int r = cli_parse_args(argc, argv, opts, 3, &a);
    if (r != 0) {
        return r;
    }
    if (opts[1].set && a.npos == 1 && strcmp(a.pos[0], "create") == 0 &&
        opts[0].set) {
        lh_err ferr;
        size_t flen = 0;
        char *fjson = read_all_file(opts[0].value, &flen, &ferr);
        if (fjson == NULL) {
            fprintf(stderr, "lakehouse: %s\n", ferr.msg);
            return EXIT_BADINPUT;
        }
        r = cli_remote_table_create(opts[1].value, opts[2].value, fjson, flen);
        free(fjson);
        return r;
    }
    if (a.npos < 2) {
        return cli_usage_error("%s",
                               "table needs a subcommand and a directory");
    }
    const char *sub = a.pos[0];
    lh_err err;
    lh_db *db = NULL;
    lh_rc rc = LH_OK;
    if (strcmp(sub, "create") == 0) {
        if (!opts[0].set || a.npos != 2) {
            return cli_usage_error("%s", "table create DIR --schema FILE.json");
        }
        size_t len = 0;
        char *json = read_all_file(opts[0].value, &len, &err);
        if (json == NULL) {
            fprintf(stderr, "lakehouse: %s\n", err.msg);
            return EXIT_BADINPUT;
        }
        r = cli_open_db(a.pos[1], false, &db);
        if (r == 0) {
            rc = lh_table_create(db, json, len, &err);
            if (rc == LH_OK) {
                char *desc = NULL;
                json_error_t je;
                json_t *j = json_loadb(json, len, 0, &je);
                const char *name =
                    json_string_value(json_object_get(j, "name"));
                if (lh_table_describe(db, name, &desc, &err) == LH_OK) {
                    printf("%s\n", desc);
                    lh_free_mem(desc);
                }
                json_decref(j);
            }
        }
        free(json);
    } else if (strcmp(sub, "list") == 0 && a.npos == 2) {
        r = cli_open_db(a.pos[1], true, &db);
        char **names = NULL;
        size_t n = 0;
        if (r == 0) {
            rc = lh_table_list(db, &names, &n, &err);
        }
        for (size_t i = 0; r == 0 && rc == LH_OK && i < n; i++) {
            printf("%s\n", names[i]);
        }
        lh_free_strings(names, n);
    } else if (strcmp(sub, "drop") == 0) {
        if (a.npos != 3) {
            return cli_usage_error("%s", "table drop DIR TABLE");
        }
        r = cli_open_db(a.pos[1], false, &db);
        if (r == 0) {
            rc = lh_table_drop(db, a.pos[2], &err);
        }
    } else if (strcmp(sub, "describe") == 0 && a.npos == 3) {
        r = cli_open_db(a.pos[1], true, &db);
        char *desc = NULL;
        if (r == 0) {
            rc = lh_table_describe(db, a.pos[2], &desc, &err);
        }
        if (r == 0 && rc == LH_OK) {
            printf("%s\n", desc);
        }
        lh_free_mem(desc);
    } else {
        return cli_usage_error("unknown table subcommand \"%s\"", sub);
    }
    lh_db_close(db);
    if (r != 0) {
        return r;
    }
    return rc == LH_OK ? 0 : cli_fail(&err, rc);
}

/* ---- append
 * ------------------------------------------------------------------ */

/* One parsed input line; the strings point into `doc` or `data`. */
typedef struct in_line {
    json_t *doc;
    char *data; /* compact JSON of "data" (malloc) */
    float *emb;
    long lineno;
} in_line;

static int
line_error(long lineno, const char *field, const char *msg)
{
    if (field != NULL && field[0] != 0) {
        fprintf(stderr, "lakehouse: line %ld: %s: %s\n", lineno, field, msg);
    } else {
        fprintf(stderr, "lakehouse: line %ld: %s\n", lineno, msg);
    }
    return EXIT_BADINPUT;
}

static const char *const event_keys[] = {
    "event_id", "stream",    "expected_version", "type",      "ts",
    "data",     "embedding", "partition_key",    "tier_hint", "ttl_seconds",
};

static int
opt_string(json_t *doc, const char *key, const char **out, long lineno)
{
    json_t *v = json_object_get(doc, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "\"%s\" must be a string", key);
        return line_error(lineno, key, msg);
    }
    *out = json_string_value(v);
    return 0;
}

static int
parse_line(const char *text, size_t len, in_line *ln, lh_event_in *ev)
{
    memset(ev, 0, sizeof(*ev));
    json_error_t je;
    ln->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (ln->doc == NULL) {
        char msg[256];
        snprintf(msg, sizeof(msg), "malformed JSON: %s (column %d)", je.text,
                 je.column);
        return line_error(ln->lineno, NULL, msg);
    }
    if (!json_is_object(ln->doc)) {
        return line_error(ln->lineno, NULL, "an event must be a JSON object");
    }
    const char *key;
    json_t *v;
    json_object_foreach(ln->doc, key, v)
    {
        bool known = false;
        for (size_t k = 0; k < sizeof(event_keys) / sizeof(event_keys[0]);
             k++) {
            known = known || strcmp(key, event_keys[k]) == 0;
        }
        if (!known) {
            char msg[160];
            snprintf(msg, sizeof(msg), "unknown field \"%.100s\"", key);
            return line_error(ln->lineno, key, msg);
        }
    }
    int r = opt_string(ln->doc, "event_id", &ev->event_id, ln->lineno);
    if (r == 0) {
        r = opt_string(ln->doc, "stream", &ev->stream, ln->lineno);
    }
    if (r == 0) {
        r = opt_string(ln->doc, "type", &ev->type, ln->lineno);
    }
    if (r == 0) {
        r = opt_string(ln->doc, "ts", &ev->ts, ln->lineno);
    }
    if (r == 0) {
        r = opt_string(ln->doc, "partition_key", &ev->partition_key,
                       ln->lineno);
    }
    if (r == 0) {
        r = opt_string(ln->doc, "tier_hint", &ev->tier_hint, ln->lineno);
    }
    if (r != 0) {
        return r;
    }
    json_t *ttl = json_object_get(ln->doc, "ttl_seconds");
    if (ttl != NULL && !json_is_null(ttl)) {
        if (!json_is_integer(ttl) || json_integer_value(ttl) < 0) {
            return line_error(ln->lineno, "ttl_seconds",
                              "\"ttl_seconds\" must be a non-negative "
                              "integer");
        }
        ev->ttl_seconds = json_integer_value(ttl);
    }
    json_t *ev_v = json_object_get(ln->doc, "expected_version");
    ev->expect = LH_EXPECT_ANY;
    if (ev_v != NULL && !json_is_null(ev_v)) {
        if (json_is_integer(ev_v) && json_integer_value(ev_v) >= 0) {
            ev->expect = LH_EXPECT_EXACT;
            ev->expected_version = json_integer_value(ev_v);
        } else if (json_is_string(ev_v) &&
                   strcmp(json_string_value(ev_v), "any") == 0) {
            ev->expect = LH_EXPECT_ANY;
        } else if (json_is_string(ev_v) &&
                   strcmp(json_string_value(ev_v), "no_stream") == 0) {
            ev->expect = LH_EXPECT_NO_STREAM;
        } else if (json_is_string(ev_v) &&
                   strcmp(json_string_value(ev_v), "stream_exists") == 0) {
            ev->expect = LH_EXPECT_STREAM_EXISTS;
        } else {
            return line_error(ln->lineno, "expected_version",
                              "\"expected_version\" must be a version >= 0, "
                              "\"any\", \"no_stream\" or \"stream_exists\"");
        }
    }
    json_t *data = json_object_get(ln->doc, "data");
    if (data != NULL && !json_is_null(data)) {
        if (!json_is_object(data)) {
            return line_error(ln->lineno, "data",
                              "\"data\" must be a JSON object");
        }
        ln->data = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (ln->data == NULL) {
            return line_error(ln->lineno, "data", "out of memory");
        }
        ev->data_json = ln->data;
    }
    json_t *emb = json_object_get(ln->doc, "embedding");
    if (emb != NULL && !json_is_null(emb)) {
        if (!json_is_array(emb)) {
            return line_error(ln->lineno, "embedding",
                              "\"embedding\" must be an array of numbers");
        }
        size_t n = json_array_size(emb);
        ln->emb = malloc((n ? n : 1) * sizeof(float));
        if (ln->emb == NULL) {
            return line_error(ln->lineno, "embedding", "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            json_t *x = json_array_get(emb, i);
            if (!json_is_number(x)) {
                char msg[96];
                snprintf(msg, sizeof(msg), "\"embedding\"[%zu] is not a number",
                         i);
                return line_error(ln->lineno, "embedding", msg);
            }
            ln->emb[i] = (float)json_number_value(x);
        }
        ev->embedding = ln->emb;
        ev->embedding_len = n;
    }
    return 0;
}

static void
free_lines(in_line *lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(lines[i].doc);
        free(lines[i].data);
        free(lines[i].emb);
        memset(&lines[i], 0, sizeof(lines[i]));
    }
}

static void
print_acks(const lh_event_in *evs, const lh_event_ack *acks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "event_id", json_string(acks[i].event_id));
        json_object_set_new(o, "stream", json_string(evs[i].stream));
        json_object_set_new(o, "version", json_integer(acks[i].version));
        json_object_set_new(o, "position", json_integer(acks[i].position));
        json_object_set_new(o, "shard", json_integer(acks[i].shard));
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s != NULL) {
            fputs(s, stdout);
            fputc('\n', stdout);
        }
        free(s);
        json_decref(o);
    }
    fflush(stdout);
}

static int
flush_batch(lh_db *db, const char *table, in_line *lines, lh_event_in *evs,
            lh_event_ack *acks, size_t n)
{
    if (n == 0) {
        return 0;
    }
    lh_err err;
    lh_rc rc = lh_append(db, table, evs, n, NULL, acks, &err);
    if (rc == LH_OK) {
        print_acks(evs, acks, n);
        return 0;
    }
    /* With events in several shards, some shards' parts may have landed
     * before another failed: say which (position 0 = did not land). */
    for (size_t i = 0; i < n; i++) {
        if (acks[i].position > 0) {
            print_acks(&evs[i], &acks[i], 1);
        }
    }
    long lineno = err.index >= 0 && (size_t)err.index < n
                      ? lines[err.index].lineno
                      : lines[0].lineno;
    if (rc == LH_EINVAL || rc == LH_ECONFLICT) {
        line_error(lineno, err.field, err.msg);
        return cli_exit_code(rc);
    }
    fprintf(stderr, "lakehouse: line %ld: %s\n", lineno, err.msg);
    return cli_exit_code(rc);
}

static int
cmd_append(int argc, char **argv)
{
    opt opts[] = {{"batch", true, NULL, false},
                  {"server", true, NULL, false},
                  {"token", true, NULL, false}};
    args a;
    int r = cli_parse_args(argc, argv, opts, 3, &a);
    if (r != 0) {
        return r;
    }
    int64_t batch = 1;
    if (opts[0].set &&
        (!cli_parse_int(opts[0].value, 1, &batch) || batch > 100000)) {
        return cli_usage_error("--batch must be from 1 to 100000, found \"%s\"",
                               opts[0].value);
    }
    if (opts[1].set) {
        if (a.npos < 1 || a.npos > 2) {
            return cli_usage_error("%s", "append --server URL TABLE [FILE|-] "
                                         "[--batch N]");
        }
        return cli_remote_append(opts[1].value, opts[2].value, a.pos[0],
                                 a.npos == 2 ? a.pos[1] : "-", batch);
    }
    if (a.npos < 2 || a.npos > 3) {
        return cli_usage_error("%s", "append DIR TABLE [FILE|-] [--batch N]");
    }
    const char *path = a.npos == 3 ? a.pos[2] : "-";
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (in == NULL) {
        fprintf(stderr, "lakehouse: could not open \"%s\": %s\n", path,
                strerror(errno));
        return EXIT_BADINPUT;
    }
    lh_db *db;
    r = cli_open_db(a.pos[0], false, &db);
    if (r == 0) {
        /* A missing table is reported as such, not as a fault of the first
         * line, and also when the input holds no event. */
        lh_err err;
        char *desc = NULL;
        lh_rc rc = lh_table_describe(db, a.pos[1], &desc, &err);
        lh_free_mem(desc);
        if (rc != LH_OK) {
            r = cli_fail(&err, rc);
            lh_db_close(db);
        }
    }
    if (r != 0) {
        if (in != stdin) {
            fclose(in);
        }
        return r;
    }
    in_line *lines = calloc((size_t)batch, sizeof(in_line));
    lh_event_in *evs = calloc((size_t)batch, sizeof(lh_event_in));
    lh_event_ack *acks = calloc((size_t)batch, sizeof(lh_event_ack));
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    size_t n = 0;
    if (lines == NULL || evs == NULL || acks == NULL) {
        fprintf(stderr, "lakehouse: out of memory\n");
        r = EXIT_FAIL;
    }
    while (r == 0 && (len = getline(&buf, &cap, in)) >= 0) {
        lineno++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
            buf[--len] = 0;
        }
        size_t k = 0;
        while ((ssize_t)k < len && (buf[k] == ' ' || buf[k] == '\t')) {
            k++;
        }
        if ((ssize_t)k == len) {
            continue; /* blank line */
        }
        if ((size_t)len > MAX_LINE) {
            r = line_error(lineno, NULL, "line longer than 64 MiB");
            break;
        }
        lines[n].lineno = lineno;
        r = parse_line(buf, (size_t)len, &lines[n], &evs[n]);
        n++;
        if (r == 0 && n == (size_t)batch) {
            r = flush_batch(db, a.pos[1], lines, evs, acks, n);
            free_lines(lines, n);
            n = 0;
        }
    }
    if (r == 0 && ferror(in)) {
        fprintf(stderr, "lakehouse: could not read \"%s\": %s\n", path,
                strerror(errno));
        r = EXIT_FAIL;
    }
    if (r == 0) {
        r = flush_batch(db, a.pos[1], lines, evs, acks, n);
    }
    free_lines(lines, n);
    free(lines);
    free(evs);
    free(acks);
    free(buf);
    if (in != stdin) {
        fclose(in);
    }
    lh_db_close(db);
    return r;
}

/* ---- read
 * -------------------------------------------------------------------- */

static volatile sig_atomic_t stop_reading;
static lh_reader *active_reader;

static void
on_signal(int sig)
{
    (void)sig;
    stop_reading = 1;
    if (active_reader != NULL) {
        lh_reader_cancel(active_reader);
    }
}

static int
print_event(const lh_event *ev)
{
    json_t *o = json_object();
    json_object_set_new(o, "event_id", json_string(ev->event_id));
    json_object_set_new(o, "stream", json_string(ev->stream));
    json_object_set_new(o, "version", json_integer(ev->version));
    json_object_set_new(o, "type", json_string(ev->type));
    json_object_set_new(o, "ts", json_string(ev->ts_text));
    json_object_set_new(o, "committed_at", json_string(ev->committed_at_text));
    json_object_set_new(o, "shard", json_integer(ev->shard));
    json_object_set_new(o, "position", json_integer(ev->position));
    json_object_set_new(o, "checkpoint", json_string(ev->checkpoint));
    char *head = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (head == NULL) {
        return EXIT_FAIL;
    }
    /* data is already JSON in the output rules' form (exact decimals, big
     * integers): splice it in rather than re-encoding through doubles. */
    head[strlen(head) - 1] = 0;
    fputs(head, stdout);
    fputs(",\"data\":", stdout);
    fputs(ev->data_json, stdout);
    if (ev->embedding_json != NULL) {
        fputs(",\"embedding\":", stdout);
        fputs(ev->embedding_json, stdout);
    }
    fputs("}\n", stdout);
    free(head);
    return 0;
}

static int
cmd_read(int argc, char **argv)
{
    opt opts[] = {{"stream", true, NULL, false},
                  {"from", true, NULL, false},
                  {"follow", false, NULL, false},
                  {"backward", false, NULL, false},
                  {"limit", true, NULL, false}};
    args a;
    int r = cli_parse_args(argc, argv, opts, 5, &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != 2) {
        return cli_usage_error("%s", "read DIR TABLE (--stream ID | --from "
                                     "CHECKPOINT)");
    }
    bool by_stream = opts[0].set;
    if (!by_stream && !opts[1].set) {
        return cli_usage_error("%s", "read needs --stream ID or --from "
                                     "CHECKPOINT");
    }
    if (by_stream && opts[2].set) {
        return cli_usage_error("%s", "--follow reads a whole table; drop "
                                     "--stream");
    }
    int64_t limit = 0, from = opts[3].set ? -1 : 1;
    if (opts[4].set && !cli_parse_int(opts[4].value, 0, &limit)) {
        return cli_usage_error("--limit must be a number >= 0, found \"%s\"",
                               opts[4].value);
    }
    if (by_stream && opts[1].set && !cli_parse_int(opts[1].value, -1, &from)) {
        return cli_usage_error(
            "--from with --stream is a version, found \"%s\"", opts[1].value);
    }
    lh_db *db;
    r = cli_open_db(a.pos[0], true, &db);
    if (r != 0) {
        return r;
    }
    lh_err err;
    lh_reader *rd = NULL;
    lh_rc rc;
    if (by_stream) {
        rc = lh_read_stream(db, a.pos[1], opts[0].value, from,
                            opts[3].set ? LH_BACKWARD : LH_FORWARD, limit, &rd,
                            &err);
    } else {
        rc = lh_read_all(db, a.pos[1], opts[1].value, opts[2].set, &rd, &err);
    }
    if (rc == LH_OK && opts[2].set) {
        active_reader = rd;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    int64_t printed = 0;
    while (rc == LH_OK && !stop_reading) {
        const lh_event *ev;
        rc = lh_reader_next(rd, &ev, &err);
        if (rc != LH_OK) {
            break;
        }
        if (ev != NULL) {
            if (print_event(ev) != 0) {
                rc = LH_ENOMEM;
                snprintf(err.msg, sizeof(err.msg), "out of memory");
                break;
            }
            printed++;
            if (!by_stream && limit > 0 && printed >= limit) {
                break;
            }
            continue;
        }
        fflush(stdout);
        if (!opts[2].set) {
            break;
        }
        rc = lh_reader_wait(rd, 1000, &err);
        if (rc == LH_ETIMEDOUT) {
            rc = LH_OK;
        } else if (rc == LH_ECANCELED) {
            rc = LH_OK;
            break;
        }
    }
    fflush(stdout);
    active_reader = NULL;
    lh_reader_close(rd);
    lh_db_close(db);
    return rc == LH_OK ? 0 : cli_fail(&err, rc);
}

/* ---- stream
 * ------------------------------------------------------------------ */

static int
cmd_stream(int argc, char **argv)
{
    opt opts[] = {{"max-age", true, NULL, false},
                  {"max-count", true, NULL, false},
                  {"truncate-before", true, NULL, false}};
    args a;
    int r = cli_parse_args(argc, argv, opts, 3, &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != 4) {
        return cli_usage_error("%s", "stream info|meta DIR TABLE ID");
    }
    lh_err err;
    lh_db *db;
    lh_rc rc;
    if (strcmp(a.pos[0], "meta") == 0) {
        lh_stream_meta m = {0, 0, 0};
        int64_t *dst[] = {&m.max_age_s, &m.max_count, &m.truncate_before};
        for (int i = 0; i < 3; i++) {
            if (opts[i].set && !cli_parse_int(opts[i].value, 0, dst[i])) {
                return cli_usage_error("\"%s\" must be a number >= 0",
                                       opts[i].value);
            }
        }
        r = cli_open_db(a.pos[1], false, &db);
        if (r != 0) {
            return r;
        }
        rc = lh_stream_set_meta(db, a.pos[2], a.pos[3], &m, &err);
    } else if (strcmp(a.pos[0], "info") == 0) {
        r = cli_open_db(a.pos[1], true, &db);
        if (r != 0) {
            return r;
        }
        int64_t version = 0;
        lh_stream_meta m;
        rc = lh_stream_info(db, a.pos[2], a.pos[3], &version, &m, &err);
        if (rc == LH_OK) {
            printf("{\"stream\":");
            json_t *js = json_string(a.pos[3]);
            char *s = json_dumps(js, JSON_ENCODE_ANY);
            json_decref(js);
            printf("%s,\"version\":%lld,\"max_age\":%lld,\"max_count\":%lld,"
                   "\"truncate_before\":%lld}\n",
                   s ? s : "null", (long long)version, (long long)m.max_age_s,
                   (long long)m.max_count, (long long)m.truncate_before);
            free(s);
        }
    } else {
        return cli_usage_error("unknown stream subcommand \"%s\"", a.pos[0]);
    }
    lh_db_close(db);
    return rc == LH_OK ? 0 : cli_fail(&err, rc);
}

/* ---- the command table ----------------------------------------------- */

static const char hot_usage[] =
    "  lakehouse init DIR\n"
    "  lakehouse table create DIR --schema FILE.json\n"
    "  lakehouse table create --server URL --schema FILE.json [--token T]\n"
    "  lakehouse table list DIR\n"
    "  lakehouse table describe DIR TABLE\n"
    "  lakehouse table drop DIR TABLE\n"
    "  lakehouse append DIR TABLE [FILE|-] [--batch N]\n"
    "  lakehouse append --server URL TABLE [FILE|-] [--batch N]"
    " [--token T]\n"
    "  lakehouse read DIR TABLE --stream ID [--from VERSION] [--backward]"
    " [--limit N]\n"
    "  lakehouse read DIR TABLE --from CHECKPOINT [--follow]\n"
    "  lakehouse stream info DIR TABLE ID\n"
    "  lakehouse stream meta DIR TABLE ID [--max-age SECONDS]"
    " [--max-count N] [--truncate-before VERSION]\n";

/* Families in the order the usage lists them. */
static const cli_command commands[] = {
    {"init", cmd_init, NULL},
    {"table", cmd_table, NULL},
    {"append", cmd_append, NULL},
    {"read", cmd_read, NULL},
    {"stream", cmd_stream, hot_usage},
    {"pipeline", cli_pipeline, cli_pipeline_usage},
    {"tiers", cli_tiers, cli_tiers_usage},
    {"erase", cli_erase, cli_erase_usage},
    {"demo", cli_demo, cli_demo_usage},
    {"parquet", cli_parquet, cli_parquet_usage},
    {"iceberg", cli_iceberg, cli_iceberg_usage},
    {"serve", cli_serve, cli_serve_usage},
    {"token", cli_token, cli_token_usage},
    {"sql", cli_sql, cli_sql_usage},
};

void
cli_usage(FILE *f)
{
    fputs("usage:\n", f);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (commands[i].usage != NULL) {
            fputs(commands[i].usage, f);
        }
    }
}

int
main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        cli_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BADINPUT : 0;
    }
    lh_err err;
    lh_rc rc = lh_global_init(&err);
    if (rc != LH_OK) {
        return cli_fail(&err, rc);
    }
    /* A reader piped into `head` should end quietly. */
    signal(SIGPIPE, SIG_DFL);
    const char *cmd = argv[1];
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(cmd, commands[i].name) == 0) {
            return commands[i].run(argc - 2, argv + 2);
        }
    }
    return cli_usage_error("unknown command \"%s\"", cmd);
}
