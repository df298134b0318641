/*
 * Crash safety with real kills.
 *
 * CLI mode: 50 rounds. Each starts `lakehouse append DIR TABLE - --batch K`
 * (K random in 1..20), feeds it NDJSON events over several streams (some
 * with an expected version), reads its ack lines, and SIGKILLs it after a
 * random 0-300 ms. A real client then retries: the next round of the same
 * table first re-sends every event not acknowledged yet (same ids, same
 * text), then new ones. After each kill `lakehouse read DIR TABLE --from 0`
 * must show:
 *   - every acknowledged event exactly once, where its ack said;
 *   - per stream, versions 1..N with no gap, each event at the version the
 *     test predicted (so no event was written twice or skipped);
 *   - no (shard, position) twice, no event the test did not send;
 *   - no half call: the events of one call (K lines) in one shard are all
 *     there or none (table "single" has one shard, so its calls are atomic
 *     as a whole), and nothing after a call that did not finish.
 * The next round opening the directory at once checks the lock died with
 * the killed process.
 *
 * Library mode: a forked child opens the directory and appends from 4
 * threads (group commit), writing each call's intent to a pipe before
 * lh_append and its ack after; it is SIGKILLed at random. Each call must be
 * there entirely or not at all, acked ones exactly as acked.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "it.h"

#define CLI_ROUNDS 50
#define LIB_ROUNDS 25
#define MAX_KILL_DELAY_MS 300
#define MAX_STREAMS 8
#define LINE_CAP 512
#define PENDING_BYTES (64 * 1024) /* about a pipe's worth of lines ahead */

static const char *schema_multi =
    "{\"name\": \"multi\", \"columns\": [{\"name\": \"n\", \"type\": "
    "\"BIGINT\"}, {\"name\": \"pad\", \"type\": \"VARCHAR\"}], \"shards\": 4}";
static const char *schema_single =
    "{\"name\": \"single\", \"columns\": [{\"name\": \"n\", \"type\": "
    "\"BIGINT\"}, {\"name\": \"pad\", \"type\": \"VARCHAR\"}], \"shards\": 1}";

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- CLI mode: the test's model of a table ----------------------------- */

typedef struct event {
    char id[37];
    int stream;
    int64_t version; /* predicted: the stream's events in sending order */
    char *line;      /* the NDJSON line, newline included, re-sent as is */
    bool acked;
    int64_t ack_version, ack_position;
    int ack_shard;
    bool present;        /* at the last verification */
    bool present_before; /* at the start of this round */
    bool written;        /* fully written to some process at least once */
} event;

typedef struct table_model {
    const char *name;
    int nstreams;
    bool runs; /* events come in runs on one stream (the 4-shard table) */
    int shard_of[MAX_STREAMS];
    int64_t next_version[MAX_STREAMS];
    event *evs;
    size_t n, cap;
    size_t first_unacked;
    int run_stream, run_left;
    lh_map ids; /* event id -> event index + 1 */
    int64_t seq;
} table_model;

static void
model_init(table_model *m, const char *name, int nstreams, bool runs)
{
    memset(m, 0, sizeof(*m));
    m->name = name;
    m->nstreams = nstreams;
    m->runs = runs;
    for (int i = 0; i < MAX_STREAMS; i++) {
        m->shard_of[i] = -1;
    }
    lh_map_init(&m->ids);
}

static void
model_release(table_model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->evs[i].line);
    }
    free(m->evs);
    lh_map_release(&m->ids);
}

static void
stream_name(const table_model *m, int s, char *buf, size_t n)
{
    snprintf(buf, n, "%c%d", m->name[0], s);
}

/* Makes the next new event: a run on one stream (4-shard table) or a
 * random stream (1-shard table); an expected version on about a third. */
static event *
new_event(table_model *m, int force_stream)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 1024;
        m->evs = realloc(m->evs, m->cap * sizeof(event));
        assert_non_null(m->evs);
    }
    size_t idx = m->n++;
    event *e = &m->evs[idx];
    memset(e, 0, sizeof(*e));
    int s;
    if (force_stream >= 0) {
        s = force_stream;
    } else if (m->runs) {
        if (m->run_left <= 0) {
            m->run_stream = rand() % m->nstreams;
            m->run_left = 1 + rand() % 20;
        }
        m->run_left--;
        s = m->run_stream;
    } else {
        s = rand() % m->nstreams;
    }
    e->stream = s;
    e->version = ++m->next_version[s];
    it_uuid(e->id);
    char stream[16], expect[48] = "";
    stream_name(m, s, stream, sizeof(stream));
    int x = rand() % 6;
    if (x == 0 && e->version == 1) {
        snprintf(expect, sizeof(expect),
                 ", \"expected_version\": "
                 "\"no_stream\"");
    } else if (x <= 1) {
        snprintf(expect, sizeof(expect), ", \"expected_version\": %lld",
                 (long long)(e->version - 1));
    } else if (x == 2) {
        snprintf(expect, sizeof(expect), ", \"expected_version\": \"any\"");
    }
    char pad[201];
    int padlen = rand() % 200;
    for (int i = 0; i < padlen; i++) {
        pad[i] = (char)('a' + rand() % 26);
    }
    pad[padlen] = 0;
    e->line = malloc(LINE_CAP);
    assert_non_null(e->line);
    int len = snprintf(e->line, LINE_CAP,
                       "{\"event_id\": \"%s\", \"stream\": \"%s\", \"type\": "
                       "\"Happened\", \"data\": {\"n\": %lld, \"pad\": "
                       "\"%s\"}%s}\n",
                       e->id, stream, (long long)++m->seq, pad, expect);
    assert_true(len > 0 && len < LINE_CAP);
    assert_int_equal(lh_map_put(&m->ids, e->id, 36, (void *)(idx + 1), NULL),
                     LH_OK);
    return e;
}

/* ---- CLI mode: one round ---------------------------------------------- */

typedef struct round_state {
    table_model *m;
    int k;
    size_t start;  /* first event of the round (m->first_unacked) */
    size_t nlines; /* events queued into wbuf */
    size_t *ends;  /* wbuf offset after each line */
    size_t ends_cap;
    lh_buf wbuf;
    size_t written; /* bytes of wbuf written to the child */
    size_t full;    /* lines fully written */
    size_t acks;    /* ack lines read */
    bool eof;       /* stdin was closed: a last short call is made too */
} round_state;

static void
queue_line(round_state *rs)
{
    table_model *m = rs->m;
    size_t idx = rs->start + rs->nlines;
    event *e = idx < m->n ? &m->evs[idx] : new_event(m, -1);
    lh_buf_puts(&rs->wbuf, e->line);
    if (rs->nlines == rs->ends_cap) {
        rs->ends_cap = rs->ends_cap ? rs->ends_cap * 2 : 1024;
        rs->ends = realloc(rs->ends, rs->ends_cap * sizeof(size_t));
        assert_non_null(rs->ends);
    }
    rs->ends[rs->nlines++] = rs->wbuf.len;
}

static void
mark_written(round_state *rs)
{
    while (rs->full < rs->nlines && rs->ends[rs->full] <= rs->written) {
        event *e = &rs->m->evs[rs->start + rs->full];
        e->written = true;
        rs->full++;
    }
}

/* An ack line: the next line of the round, at the predicted version. */
static void
take_ack(round_state *rs, const char *line, size_t len, const it_proc *p)
{
    table_model *m = rs->m;
    json_error_t je;
    json_t *o = json_loadb(line, len, 0, &je);
    if (o == NULL || json_object_size(o) != 5) {
        fail_msg("table %s: ack line is not an object of 5 fields: %.*s",
                 m->name, (int)len, line);
    }
    const char *id = json_string_value(json_object_get(o, "event_id"));
    const char *stream = json_string_value(json_object_get(o, "stream"));
    json_t *ver = json_object_get(o, "version");
    json_t *pos = json_object_get(o, "position");
    json_t *shard = json_object_get(o, "shard");
    if (id == NULL || stream == NULL || !json_is_integer(ver) ||
        !json_is_integer(pos) || !json_is_integer(shard)) {
        fail_msg("table %s: malformed ack: %.*s", m->name, (int)len, line);
    }
    if (rs->acks >= rs->full) {
        fail_msg("table %s: ack %zu for a line not sent yet: %.*s; stderr: "
                 "%s",
                 m->name, rs->acks, (int)len, line,
                 p->err.data ? p->err.data : "");
    }
    event *e = &m->evs[rs->start + rs->acks];
    char want_stream[16];
    stream_name(m, e->stream, want_stream, sizeof(want_stream));
    if (strcmp(id, e->id) != 0 || strcmp(stream, want_stream) != 0 ||
        json_integer_value(ver) != e->version) {
        fail_msg("table %s: ack %zu is %.*s; expected event %s of stream %s "
                 "at version %lld",
                 m->name, rs->acks, (int)len, line, e->id, want_stream,
                 (long long)e->version);
    }
    e->acked = true;
    e->ack_version = json_integer_value(ver);
    e->ack_position = json_integer_value(pos);
    e->ack_shard = (int)json_integer_value(shard);
    rs->acks++;
    m->first_unacked = rs->start + rs->acks;
    json_decref(o);
}

static void
take_acks(round_state *rs, it_proc *p)
{
    const char *line;
    size_t len;
    while ((line = it_proc_line(p, &len)) != NULL) {
        take_ack(rs, line, len, p);
    }
}

/* Feeds the child until kill_at (or, with kill_at < 0, just the events
 * already queued, then closes its stdin and lets it finish). Returns the
 * child's exit code. */
static int
feed(round_state *rs, it_proc *p, int64_t kill_at)
{
    int64_t give_up = mono_ms() + 60000;
    for (;;) {
        int64_t now = mono_ms();
        if (now > give_up) {
            it_proc_kill(p, SIGKILL);
            it_proc_wait(p, 10000);
            fail_msg("table %s: the append did not finish within 60 s; "
                     "stderr: %s",
                     rs->m->name, p->err.data ? p->err.data : "");
        }
        if (kill_at >= 0 && now >= kill_at) {
            it_proc_kill(p, SIGKILL);
            break;
        }
        while (kill_at >= 0 && rs->wbuf.len - rs->written < PENDING_BYTES) {
            queue_line(rs);
        }
        if (rs->written == rs->wbuf.len && p->in_fd >= 0 && kill_at < 0) {
            it_proc_close_in(p);
            rs->eof = true;
        }
        struct pollfd fds[3];
        int nf = 0;
        if (p->in_fd >= 0 && rs->written < rs->wbuf.len) {
            fds[nf++] = (struct pollfd){.fd = p->in_fd, .events = POLLOUT};
        }
        if (p->out_fd >= 0) {
            fds[nf++] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
        }
        if (p->err_fd >= 0) {
            fds[nf++] = (struct pollfd){.fd = p->err_fd, .events = POLLIN};
        }
        int wait = kill_at >= 0 ? (int)LH_MIN(kill_at - now, 5) : 5;
        poll(fds, (nfds_t)nf, wait);
        if (p->in_fd >= 0 && rs->written < rs->wbuf.len) {
            ssize_t w = write(p->in_fd, rs->wbuf.data + rs->written,
                              rs->wbuf.len - rs->written);
            if (w > 0) {
                rs->written += (size_t)w;
                mark_written(rs);
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                it_proc_close_in(p); /* it died: its exit code tells */
            }
        }
        it_proc_pump(p, 0);
        take_acks(rs, p);
        int status;
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->waited = true;
            p->code = WIFEXITED(status) ? WEXITSTATUS(status)
                                        : 128 + WTERMSIG(status);
            break;
        }
    }
    int code = it_proc_wait(p, 10000);
    take_acks(rs, p); /* acks it printed before it died count */
    return code;
}

/* ---- CLI mode: verification ------------------------------------------- */

static json_t *
read_table(const char *dir, const char *table)
{
    it_result r;
    it_run(&r, NULL, NULL, "read", dir, table, "--from", "0", NULL);
    it_expect_code(&r, 0, "lakehouse read --from 0");
    if (r.err[0] != 0) {
        fail_msg("lakehouse read printed to stderr: %s", r.err);
    }
    json_t *evs = it_ndjson(r.out, "lakehouse read --from 0");
    it_result_release(&r);
    return evs;
}

static void
verify_model(table_model *m, const char *dir, const round_state *rs, int round)
{
    json_t *evs = read_table(dir, m->name);
    for (size_t i = 0; i < m->n; i++) {
        m->evs[i].present = false;
    }
    lh_map slots;
    lh_map_init(&slots);
    size_t idx;
    json_t *o;
    json_array_foreach(evs, idx, o)
    {
        const char *id = json_string_value(json_object_get(o, "event_id"));
        const char *stream = json_string_value(json_object_get(o, "stream"));
        int64_t version = json_integer_value(json_object_get(o, "version"));
        int64_t position = json_integer_value(json_object_get(o, "position"));
        int shard = (int)json_integer_value(json_object_get(o, "shard"));
        size_t k = id ? (size_t)lh_map_get(&m->ids, id, strlen(id)) : 0;
        if (k == 0) {
            fail_msg("round %d, table %s: read an event the test never sent: "
                     "%s",
                     round, m->name, json_dumps(o, JSON_COMPACT));
        }
        event *e = &m->evs[k - 1];
        char want[16];
        stream_name(m, e->stream, want, sizeof(want));
        if (e->present) {
            fail_msg("round %d, table %s: event %s read twice", round, m->name,
                     id);
        }
        e->present = true;
        if (strcmp(stream, want) != 0 || version != e->version) {
            fail_msg("round %d, table %s: event %s read as stream %s version "
                     "%lld; sent as stream %s, the stream's event number "
                     "%lld",
                     round, m->name, id, stream, (long long)version, want,
                     (long long)e->version);
        }
        int64_t slot[2] = {shard, position};
        if (lh_map_has(&slots, slot, sizeof(slot))) {
            fail_msg("round %d, table %s: two events at shard %d position "
                     "%lld",
                     round, m->name, shard, (long long)position);
        }
        lh_map_put(&slots, slot, sizeof(slot), e, NULL);
        if (m->shard_of[e->stream] < 0) {
            m->shard_of[e->stream] = shard;
        } else if (m->shard_of[e->stream] != shard) {
            fail_msg("round %d, table %s: stream %s in shards %d and %d", round,
                     m->name, want, m->shard_of[e->stream], shard);
        }
        if (e->acked &&
            (e->ack_version != version || e->ack_position != position ||
             e->ack_shard != shard)) {
            fail_msg("round %d, table %s: event %s acked at version %lld "
                     "shard %d position %lld, read at version %lld shard %d "
                     "position %lld",
                     round, m->name, id, (long long)e->ack_version,
                     e->ack_shard, (long long)e->ack_position,
                     (long long)version, shard, (long long)position);
        }
    }
    lh_map_release(&slots);
    json_decref(evs);

    /* Acked events are all there; per stream the events present are the
     * first ones sent (no gap: versions 1..N). */
    bool absent_seen[MAX_STREAMS] = {false};
    for (size_t i = 0; i < m->n; i++) {
        event *e = &m->evs[i];
        if (e->acked && !e->present) {
            fail_msg("round %d, table %s: acknowledged event %s (stream "
                     "version %lld) is missing",
                     round, m->name, e->id, (long long)e->version);
        }
        if (e->present && !e->written) {
            fail_msg("round %d, table %s: event %s is there although its "
                     "line was never written completely",
                     round, m->name, e->id);
        }
        if (e->present && absent_seen[e->stream]) {
            fail_msg("round %d, table %s: stream version %lld (event %s) is "
                     "there but an earlier version is missing",
                     round, m->name, (long long)e->version, e->id);
        }
        if (!e->present) {
            absent_seen[e->stream] = true;
        }
    }

    /* No half call; nothing after a call that did not complete. */
    if (rs != NULL) {
        size_t ncalls = (rs->nlines + (size_t)rs->k - 1) / (size_t)rs->k;
        int last_new = -1; /* the last call with newly present events */
        for (size_t c = 0; c < ncalls; c++) {
            int present[4] = {0}, absent[4] = {0};
            for (size_t j = c * (size_t)rs->k;
                 j < rs->nlines && j < (c + 1) * (size_t)rs->k; j++) {
                event *e = &m->evs[rs->start + j];
                if (e->present_before) {
                    continue; /* a retry of an event already there */
                }
                int sh = m->shard_of[e->stream];
                if (sh < 0 || sh > 3) {
                    fail_msg("stream %d has no known shard", e->stream);
                }
                if (e->present) {
                    present[sh]++;
                    last_new = (int)c;
                } else {
                    absent[sh]++;
                }
            }
            for (int sh = 0; sh < 4; sh++) {
                if (present[sh] > 0 && absent[sh] > 0) {
                    fail_msg("round %d, table %s, --batch %d: call %zu has "
                             "%d of its %d new events in shard %d (a half "
                             "call)",
                             round, m->name, rs->k, c, present[sh],
                             present[sh] + absent[sh], sh);
                }
            }
        }
        if (!rs->eof && last_new >= 0 &&
            (size_t)last_new * (size_t)rs->k + (size_t)rs->k > rs->full) {
            fail_msg("round %d, table %s: events of call %d are there, but "
                     "only %zu of its lines were written (the call could not "
                     "have been made)",
                     round, m->name, last_new, rs->full % (size_t)rs->k);
        }
        /* events the round did not send cannot have come now */
        for (size_t i = 0; i < m->n; i++) {
            bool sent = i >= rs->start && i < rs->start + rs->nlines;
            if (!sent && m->evs[i].present && !m->evs[i].present_before) {
                fail_msg("round %d, table %s: event %s is there, but this "
                         "round did not send it and it was not there before",
                         round, m->name, m->evs[i].id);
            }
        }
        for (int c = 0; c < last_new; c++) {
            for (size_t j = (size_t)c * (size_t)rs->k;
                 j < (size_t)(c + 1) * (size_t)rs->k; j++) {
                if (!m->evs[rs->start + j].present) {
                    fail_msg("round %d, table %s: call %d has events there "
                             "but an event of the earlier call %d is "
                             "missing",
                             round, m->name, last_new, c);
                }
            }
        }
    }
    for (size_t i = 0; i < m->n; i++) {
        m->evs[i].present_before = m->evs[i].present;
    }
}

/* ---- CLI mode: the test -------------------------------------------------- */

static int
run_cli_round(table_model *m, const char *dir, int k, int64_t delay_ms,
              bool finish, int round)
{
    char batch[16];
    snprintf(batch, sizeof(batch), "%d", k);
    round_state rs;
    memset(&rs, 0, sizeof(rs));
    rs.m = m;
    rs.k = k;
    rs.start = m->first_unacked;
    if (finish) {
        while (rs.start + rs.nlines < m->n) {
            queue_line(&rs);
        }
    }
    it_proc p;
    it_spawn(&p, NULL, "append", dir, m->name, "-", "--batch", batch, NULL);
    int code = feed(&rs, &p, finish ? -1 : mono_ms() + delay_ms);
    if (finish ? code != 0 : code != 128 + SIGKILL) {
        fail_msg("round %d (table %s, --batch %d): the append exited with "
                 "%d before it was killed; stderr: %s",
                 round, m->name, k, code, p.err.data ? p.err.data : "");
    }
    size_t acks = rs.acks, lines = rs.full;
    it_proc_release(&p);
    verify_model(m, dir, &rs, round);
    lh_buf_release(&rs.wbuf);
    free(rs.ends);
    if (getenv("LH_IT_VERBOSE") != NULL) {
        printf("# round %2d: %-6s --batch %2d, killed after %3lld ms: %zu "
               "lines written, %zu acked, %zu acked in all\n",
               round, m->name, k, (long long)delay_ms, lines, acks,
               m->first_unacked);
    }
    return (int)acks;
}

static void
test_crash_cli(void **state)
{
    (void)state;
    char *top = it_tmpdir();
    char *dir = it_path(top, "data");
    const char *schemas[] = {schema_multi, schema_single, NULL};
    it_make_db(dir, schemas);
    table_model models[2];
    model_init(&models[0], "multi", 6, true);
    model_init(&models[1], "single", 4, false);
    /* Round 0, not killed: one event per stream, so every stream's shard
     * is known before the kills start. */
    for (int t = 0; t < 2; t++) {
        for (int s = 0; s < models[t].nstreams; s++) {
            new_event(&models[t], s);
        }
        run_cli_round(&models[t], dir, 3, 0, true, 0);
    }
    int64_t t0 = mono_ms();
    long total_acks = 0;
    for (int round = 1; round <= CLI_ROUNDS; round++) {
        table_model *m = &models[round % 2];
        int k = 1 + rand() % 20;
        int64_t delay = rand() % (MAX_KILL_DELAY_MS + 1);
        total_acks += run_cli_round(m, dir, k, delay, false, round);
    }
    printf("# %d kills in %.1f s, %ld ack lines; %zu and %zu events acked\n",
           CLI_ROUNDS, (double)(mono_ms() - t0) / 1000, total_acks,
           models[0].first_unacked, models[1].first_unacked);
    /* A last clean run per table: every re-sent event lands once, and the
     * store takes new events at the predicted versions. */
    for (int t = 0; t < 2; t++) {
        for (int s = 0; s < models[t].nstreams; s++) {
            new_event(&models[t], s);
        }
        run_cli_round(&models[t], dir, 5, 0, true, CLI_ROUNDS + 1);
        if (models[t].first_unacked != models[t].n) {
            fail_msg("table %s: %zu of %zu events acked after the clean run",
                     models[t].name, models[t].first_unacked, models[t].n);
        }
        for (size_t i = 0; i < models[t].n; i++) {
            assert_true(models[t].evs[i].present);
        }
        model_release(&models[t]);
    }
    free(dir);
    it_rmrf(top);
}

/* ---- library mode ---------------------------------------------------------
 */

#define LIB_THREADS 4
#define LIB_STREAMS_PER_THREAD 3
#define LIB_MAX_BATCH 5

typedef struct lib_child {
    const char *dir;
    int round;
    int out_fd;
    lh_db *db;
} lib_child;

typedef struct lib_thread {
    lib_child *c;
    int t;
} lib_thread;

static void
lib_stream(int t, int j, char *buf, size_t n)
{
    snprintf(buf, n, "L%d-%d", t, j);
}

static void
write_line(int fd, const char *s, size_t n)
{
    /* under PIPE_BUF: one write, not mixed with other threads' lines */
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            _exit(4);
        }
        s += w;
        n -= (size_t)w;
    }
}

static void *
lib_thread_main(void *arg)
{
    lib_thread *lt = arg;
    lib_child *c = lt->c;
    int64_t ver[LIB_STREAMS_PER_THREAD];
    char streams[LIB_STREAMS_PER_THREAD][16];
    lh_err err;
    for (int j = 0; j < LIB_STREAMS_PER_THREAD; j++) {
        lib_stream(lt->t, j, streams[j], sizeof(streams[j]));
        if (lh_stream_info(c->db, "lib", streams[j], &ver[j], NULL, &err) !=
            LH_OK) {
            fprintf(stderr, "stream info: %s\n", err.msg);
            _exit(5);
        }
    }
    unsigned seed = (unsigned)(c->round * 100 + lt->t);
    for (long k = 0;; k++) {
        int j = (int)(rand_r(&seed) % LIB_STREAMS_PER_THREAD);
        int n = 1 + (int)(rand_r(&seed) % LIB_MAX_BATCH);
        long call = ((long)c->round * LIB_THREADS + lt->t) * 1000000L + k;
        lh_event_in evs[LIB_MAX_BATCH];
        char ids[LIB_MAX_BATCH][37];
        char data[LIB_MAX_BATCH][48];
        char line[1024];
        int len = snprintf(line, sizeof(line), "I %ld %s %lld %d", call,
                           streams[j], (long long)ver[j], n);
        memset(evs, 0, sizeof(evs));
        for (int i = 0; i < n; i++) {
            lh_uuid u;
            lh_uuid_v4(&u, &err);
            lh_uuid_format(&u, ids[i]);
            snprintf(data[i], sizeof(data[i]), "{\"n\": %ld}", call);
            evs[i].event_id = ids[i];
            evs[i].stream = streams[j];
            evs[i].type = "Lib";
            evs[i].data_json = data[i];
            len +=
                snprintf(line + len, sizeof(line) - (size_t)len, " %s", ids[i]);
        }
        evs[0].expect = LH_EXPECT_EXACT;
        evs[0].expected_version = ver[j];
        line[len++] = '\n';
        write_line(c->out_fd, line, (size_t)len);
        lh_event_ack acks[LIB_MAX_BATCH];
        lh_rc rc = lh_append(c->db, "lib", evs, (size_t)n, NULL, acks, &err);
        if (rc != LH_OK) {
            len = snprintf(line, sizeof(line), "F %ld %s: %s\n", call,
                           lh_rc_name(rc), err.msg);
            write_line(c->out_fd, line, (size_t)len);
            _exit(6);
        }
        len = snprintf(line, sizeof(line), "A %ld %d", call, acks[0].shard);
        for (int i = 0; i < n; i++) {
            len += snprintf(line + len, sizeof(line) - (size_t)len,
                            " %lld %lld", (long long)acks[i].version,
                            (long long)acks[i].position);
        }
        line[len++] = '\n';
        write_line(c->out_fd, line, (size_t)len);
        ver[j] += n;
    }
    return NULL;
}

static int
lib_child_main(void *arg, int out_fd)
{
    lib_child *c = arg;
    c->out_fd = out_fd;
    lh_err err;
    if (lh_db_open(c->dir, NULL, &c->db, &err) != LH_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 3;
    }
    pthread_t th[LIB_THREADS];
    lib_thread lt[LIB_THREADS];
    for (int t = 0; t < LIB_THREADS; t++) {
        lt[t].c = c;
        lt[t].t = t;
        pthread_create(&th[t], NULL, lib_thread_main, &lt[t]);
    }
    for (int t = 0; t < LIB_THREADS; t++) {
        pthread_join(th[t], NULL);
    }
    return 0;
}

typedef struct lib_call {
    long id;
    char stream[16];
    int64_t expected;
    int n;
    char ids[LIB_MAX_BATCH][37];
    bool acked;
    int shard;
    int64_t version[LIB_MAX_BATCH], position[LIB_MAX_BATCH];
    int present;
} lib_call;

typedef struct lib_model {
    lib_call *calls;
    size_t n, cap;
    lh_map by_call;  /* call id -> index + 1 */
    lh_map by_event; /* event id -> (call index + 1) * 8 + i */
} lib_model;

static void
lib_take_line(lib_model *m, const char *line, size_t len)
{
    char buf[1024];
    if (len >= sizeof(buf)) {
        fail_msg("child line too long: %.*s", (int)len, line);
    }
    memcpy(buf, line, len);
    buf[len] = 0;
    char *save = NULL;
    char *kind = strtok_r(buf, " ", &save);
    char *callid = strtok_r(NULL, " ", &save);
    if (kind == NULL || callid == NULL) {
        fail_msg("bad child line: %s", line);
    }
    long id = strtol(callid, NULL, 10);
    if (kind[0] == 'F') {
        fail_msg("the appending child failed: %.*s", (int)len, line);
    }
    if (kind[0] == 'I') {
        if (m->n == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 1024;
            m->calls = realloc(m->calls, m->cap * sizeof(lib_call));
            assert_non_null(m->calls);
        }
        lib_call *c = &m->calls[m->n++];
        memset(c, 0, sizeof(*c));
        c->id = id;
        snprintf(c->stream, sizeof(c->stream), "%s",
                 strtok_r(NULL, " ", &save));
        c->expected = strtoll(strtok_r(NULL, " ", &save), NULL, 10);
        c->n = atoi(strtok_r(NULL, " ", &save));
        assert_true(c->n >= 1 && c->n <= LIB_MAX_BATCH);
        for (int i = 0; i < c->n; i++) {
            const char *eid = strtok_r(NULL, " ", &save);
            assert_non_null(eid);
            snprintf(c->ids[i], 37, "%s", eid);
            lh_map_put(&m->by_event, c->ids[i], 36,
                       (void *)(uintptr_t)(m->n * 8 + (size_t)i), NULL);
        }
        lh_map_put(&m->by_call, &c->id, sizeof(c->id), (void *)m->n, NULL);
        return;
    }
    size_t k = (size_t)lh_map_get(&m->by_call, &id, sizeof(id));
    if (kind[0] != 'A' || k == 0) {
        fail_msg("ack for a call without intent: %.*s", (int)len, line);
    }
    lib_call *c = &m->calls[k - 1];
    c->acked = true;
    c->shard = atoi(strtok_r(NULL, " ", &save));
    for (int i = 0; i < c->n; i++) {
        c->version[i] = strtoll(strtok_r(NULL, " ", &save), NULL, 10);
        c->position[i] = strtoll(strtok_r(NULL, " ", &save), NULL, 10);
        if (c->version[i] != c->expected + 1 + i) {
            fail_msg("call %ld acked version %lld for its event %d; it "
                     "expected version %lld",
                     c->id, (long long)c->version[i], i,
                     (long long)c->expected);
        }
    }
}

static void
lib_verify(lib_model *m, const char *dir, int round)
{
    lh_db *db = NULL;
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_READONLY};
    if (lh_db_open(dir, &o, &db, &err) != LH_OK) {
        fail_msg("round %d: read-only open: %s", round, err.msg);
    }
    lh_reader *r;
    if (lh_read_all(db, "lib", "0", false, &r, &err) != LH_OK) {
        fail_msg("round %d: read: %s", round, err.msg);
    }
    for (size_t i = 0; i < m->n; i++) {
        m->calls[i].present = 0;
    }
    lh_map slots, seen, streams;
    lh_map_init(&slots);
    lh_map_init(&seen);
    lh_map_init(&streams); /* stream -> the version due next */
    const lh_event *ev;
    lh_rc rc;
    while ((rc = lh_reader_next(r, &ev, &err)) == LH_OK && ev != NULL) {
        size_t v = (size_t)lh_map_get(&m->by_event, ev->event_id, 36);
        if (v == 0) {
            fail_msg("round %d: event %s (stream %s version %lld) was never "
                     "appended",
                     round, ev->event_id, ev->stream, (long long)ev->version);
        }
        if (lh_map_has(&seen, ev->event_id, 36)) {
            fail_msg("round %d: event %s read twice", round, ev->event_id);
        }
        lh_map_put(&seen, ev->event_id, 36, (void *)1, NULL);
        int64_t slot[2] = {ev->shard, ev->position};
        if (lh_map_has(&slots, slot, sizeof(slot))) {
            fail_msg("round %d: two events at shard %d position %lld", round,
                     ev->shard, (long long)ev->position);
        }
        lh_map_put(&slots, slot, sizeof(slot), (void *)1, NULL);
        lib_call *c = &m->calls[v / 8 - 1];
        int i = (int)(v % 8);
        c->present++;
        if (strcmp(ev->stream, c->stream) != 0 ||
            ev->version != c->expected + 1 + i) {
            fail_msg("round %d: event %s read as stream %s version %lld; "
                     "its call appended to %s expecting version %lld",
                     round, ev->event_id, ev->stream, (long long)ev->version,
                     c->stream, (long long)c->expected);
        }
        if (c->acked &&
            (c->version[i] != ev->version || c->position[i] != ev->position ||
             c->shard != ev->shard)) {
            fail_msg("round %d: event %s acked at version %lld shard %d "
                     "position %lld, read at %lld, %d, %lld",
                     round, ev->event_id, (long long)c->version[i], c->shard,
                     (long long)c->position[i], (long long)ev->version,
                     ev->shard, (long long)ev->position);
        }
        /* read in commit order: per stream, versions come 1, 2, 3... */
        uintptr_t due =
            (uintptr_t)lh_map_get(&streams, ev->stream, strlen(ev->stream));
        due = due == 0 ? 1 : due;
        if (ev->version != (int64_t)due) {
            fail_msg("round %d: stream %s: read version %lld where %lld was "
                     "due (a gap or a repeat)",
                     round, ev->stream, (long long)ev->version, (long long)due);
        }
        lh_map_put(&streams, ev->stream, strlen(ev->stream), (void *)(due + 1),
                   NULL);
    }
    if (rc != LH_OK) {
        fail_msg("round %d: read: %s", round, err.msg);
    }
    lh_reader_close(r);
    lh_db_close(db);
    lh_map_release(&slots);
    lh_map_release(&seen);
    lh_map_release(&streams);
    for (size_t i = 0; i < m->n; i++) {
        lib_call *c = &m->calls[i];
        if (c->present != 0 && c->present != c->n) {
            fail_msg("round %d: call %ld (%d events to %s) is there only in "
                     "part: %d events",
                     round, c->id, c->n, c->stream, c->present);
        }
        if (c->acked && c->present != c->n) {
            fail_msg("round %d: acked call %ld (%d events to %s at version "
                     "%lld) is missing",
                     round, c->id, c->n, c->stream, (long long)c->expected);
        }
    }
}

static void
test_crash_library(void **state)
{
    (void)state;
    char *top = it_tmpdir();
    char *dir = it_path(top, "data");
    const char *schemas[] = {
        "{\"name\": \"lib\", \"columns\": [{\"name\": \"n\", \"type\": "
        "\"BIGINT\"}], \"shards\": 4}",
        NULL};
    it_make_db(dir, schemas);
    lib_model m;
    memset(&m, 0, sizeof(m));
    lh_map_init(&m.by_call);
    lh_map_init(&m.by_event);
    int64_t t0 = mono_ms();
    size_t acked = 0;
    for (int round = 1; round <= LIB_ROUNDS; round++) {
        lib_child c = {.dir = dir, .round = round};
        it_proc p;
        it_fork(&p, lib_child_main, &c);
        int64_t kill_at = mono_ms() + rand() % (MAX_KILL_DELAY_MS + 1);
        while (mono_ms() < kill_at && !p.waited) {
            it_proc_pump(&p, 5);
            const char *line;
            size_t len;
            while ((line = it_proc_line(&p, &len)) != NULL) {
                lib_take_line(&m, line, len);
            }
            int status;
            if (waitpid(p.pid, &status, WNOHANG) == p.pid) {
                p.waited = true;
                p.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
            }
        }
        it_proc_kill(&p, SIGKILL);
        int code = it_proc_wait(&p, 10000);
        const char *line;
        size_t len;
        while ((line = it_proc_line(&p, &len)) != NULL) {
            lib_take_line(&m, line, len);
        }
        if (code != 128 + SIGKILL) {
            fail_msg("round %d: the appending child exited with %d before "
                     "it was killed; stderr: %s",
                     round, code, p.err.data ? p.err.data : "");
        }
        it_proc_release(&p);
        lib_verify(&m, dir, round);
    }
    for (size_t i = 0; i < m.n; i++) {
        acked += m.calls[i].acked;
    }
    printf("# %d kills in %.1f s: %zu calls started, %zu acked\n", LIB_ROUNDS,
           (double)(mono_ms() - t0) / 1000, m.n, acked);
    /* the lock died with the last child: a writer opens at once */
    lh_db *db = NULL;
    lh_err err;
    if (lh_db_open(dir, NULL, &db, &err) != LH_OK) {
        fail_msg("open after the last kill: %s", err.msg);
    }
    lh_db_close(db);
    free(m.calls);
    lh_map_release(&m.by_call);
    lh_map_release(&m.by_event);
    free(dir);
    it_rmrf(top);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    unsigned seed = (unsigned)time(NULL);
    if (getenv("LH_IT_SEED") != NULL) {
        seed = (unsigned)strtoul(getenv("LH_IT_SEED"), NULL, 10);
    }
    printf("# seed %u (set LH_IT_SEED to repeat)\n", seed);
    srand(seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_cli),
        cmocka_unit_test(test_crash_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
