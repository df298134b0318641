/*
 * bench_server: the server against its peers, in one run.
 *
 * 1. Ingest: the same events appended (a) through the C API, lh_append
 *    with batches of --batch events from --clients threads, and (b) over
 *    HTTP, POST /v1/tables/orders/events with NDJSON bodies of the same
 *    batches from --clients keep-alive connections to a server in this
 *    process (127.0.0.1, no token). Each on a fresh database with the same
 *    16-shard table; events/s and the ratio HTTP / C API. The gap is the
 *    price of the wire: HTTP framing, JSON parsing, the hand-off to the
 *    pool and back.
 * 2. Point lookups over the PostgreSQL protocol with pgbench (-M simple, a
 *    custom SELECT script, --clients clients, --seconds): against a real
 *    PostgreSQL 15 (Debian's, started here with initdb in a temporary
 *    directory on a loopback port) holding the same rows with an index,
 *    and against lakehouse, in -M simple and -M prepared (Parse once, then
 *    Bind / Describe / Execute). A second script without a table measures
 *    what the protocol, parsing and planning cost alone. Transactions/s
 *    and latency; the goal is at least PostgreSQL's throughput. Also each
 *    server's CPU time per transaction (PostgreSQL's processes; this
 *    process, which is the server, pgbench being a child) and its ratio
 *    (PostgreSQL's / ours): pgbench and both servers share the machine's
 *    cores, so on a loaded machine the CPU a transaction costs each server
 *    is the steadier comparison. A row whose
 *    queries fail says why (SQL over the event tables comes with the SQL
 *    engine's hot-tier source).
 *
 * Exits 0 whether the goals are met or not; 1 when an append fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lakehouse.h"

#define MIN_(a, b) ((a) < (b) ? (a) : (b))
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char table_json[] =
    "{\"name\": \"orders\", \"shards\": 16, \"columns\": ["
    "{\"name\": \"tenant_id\", \"type\": \"VARCHAR(64)\"},"
    "{\"name\": \"product_id\", \"type\": \"BIGINT\"},"
    "{\"name\": \"qty\", \"type\": \"INTEGER\"},"
    "{\"name\": \"price\", \"type\": \"DECIMAL(10,2)\"}]}";

typedef struct opts {
    const char *dir;
    size_t events;
    size_t batch;
    int clients;
    double seconds;
    bool quick;
} opts;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_server: %s: %s\n", what, detail);
    exit(1);
}

/* The payload of event i. */
static int
payload(char *buf, size_t cap, size_t i)
{
    return snprintf(buf, cap,
                    "{\"tenant_id\":\"t%zu\",\"product_id\":%zu,\"qty\":%zu,"
                    "\"price\":\"%zu.%02zu\"}",
                    i % 97, i % 10007, 1 + i % 5, 1 + i % 500, i % 100);
}

static lh_db *
fresh_db(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    lh_db *db;
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE};
    if (lh_db_open(path, &o, &db, &err) != LH_OK ||
        lh_table_create(db, table_json, strlen(table_json), &err) != LH_OK) {
        die(path, err.msg);
    }
    return db;
}

/* ---- C API ingest -----------------------------------------------------------
 */

typedef struct capi_worker {
    lh_db *db;
    const opts *o;
    int id;
    atomic_size_t *next; /* the next batch to take */
} capi_worker;

static void *
capi_main(void *arg)
{
    capi_worker *w = arg;
    size_t nb = w->o->events / w->o->batch;
    lh_event_in *evs = calloc(w->o->batch, sizeof(*evs));
    char *texts = malloc(w->o->batch * 128);
    char *streams = malloc(w->o->batch * 32);
    for (;;) {
        size_t b = atomic_fetch_add(w->next, 1);
        if (b >= nb) {
            break;
        }
        for (size_t k = 0; k < w->o->batch; k++) {
            size_t i = b * w->o->batch + k;
            char *t = texts + k * 128, *s = streams + k * 32;
            payload(t, 128, i);
            snprintf(s, 32, "o-%zu", i / 4);
            evs[k] = (lh_event_in){
                .stream = s, .type = "OrderPlaced", .data_json = t};
        }
        lh_err err;
        if (lh_append(w->db, "orders", evs, w->o->batch, NULL, NULL, &err) !=
            LH_OK) {
            die("lh_append", err.msg);
        }
    }
    free(evs);
    free(texts);
    free(streams);
    return NULL;
}

static double
ingest_capi(const opts *o)
{
    lh_db *db = fresh_db(o->dir, "capi");
    atomic_size_t next = 0;
    pthread_t th[64];
    capi_worker w[64];
    double t0 = now_s();
    for (int i = 0; i < o->clients; i++) {
        w[i] = (capi_worker){db, o, i, &next};
        pthread_create(&th[i], NULL, capi_main, &w[i]);
    }
    for (int i = 0; i < o->clients; i++) {
        pthread_join(th[i], NULL);
    }
    double dt = now_s() - t0;
    lh_db_close(db);
    return (double)(o->events / o->batch * o->batch) / dt;
}

/* ---- HTTP ingest
 * ------------------------------------------------------------- */

typedef struct http_worker {
    int port;
    const opts *o;
    atomic_size_t *next;
} http_worker;

static int
dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        die("connect", strerror(errno));
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            die("send", strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Reads one reply with a Content-Length body; returns its status. */
static int
read_reply(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    char *end = NULL;
    for (;;) {
        ssize_t r = recv(fd, buf + got, cap - got - 1, 0);
        if (r <= 0) {
            die("recv", "the server closed");
        }
        got += (size_t)r;
        buf[got] = 0;
        end = strstr(buf, "\r\n\r\n");
        if (end != NULL) {
            const char *cl = strstr(buf, "Content-Length: ");
            size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0;
            size_t need = (size_t)(end - buf) + 4 + body;
            while (got < need) {
                if (need >= cap) {
                    /* Drain a reply larger than the buffer. */
                    r = recv(fd, buf, MIN_(cap - 1, need - got), 0);
                } else {
                    r = recv(fd, buf + got, need - got, 0);
                }
                if (r <= 0) {
                    die("recv", "the server closed");
                }
                got += (size_t)r;
            }
            return atoi(buf + 9);
        }
        if (got >= cap - 1) {
            die("recv", "a reply head larger than the buffer");
        }
    }
}

static void *
http_main(void *arg)
{
    http_worker *w = arg;
    int fd = dial(w->port);
    size_t nb = w->o->events / w->o->batch;
    size_t cap = w->o->batch * 200 + 1024;
    char *body = malloc(cap);
    char *reply = malloc(1 << 20);
    for (;;) {
        size_t b = atomic_fetch_add(w->next, 1);
        if (b >= nb) {
            break;
        }
        size_t n = 0;
        for (size_t k = 0; k < w->o->batch; k++) {
            size_t i = b * w->o->batch + k;
            char t[128];
            payload(t, sizeof(t), i);
            n += (size_t)snprintf(body + n, cap - n,
                                  "{\"stream\":\"o-%zu\",\"type\":"
                                  "\"OrderPlaced\",\"data\":%s}\n",
                                  i / 4, t);
        }
        char head[256];
        int hl =
            snprintf(head, sizeof(head),
                     "POST /v1/tables/orders/events HTTP/1.1\r\nHost: b\r\n"
                     "Content-Type: application/x-ndjson\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     n);
        send_all(fd, head, (size_t)hl);
        send_all(fd, body, n);
        int st = read_reply(fd, reply, 1 << 20);
        if (st != 200) {
            die("append over HTTP", reply);
        }
    }
    close(fd);
    free(body);
    free(reply);
    return NULL;
}

static double
ingest_http(const opts *o)
{
    lh_db *db = fresh_db(o->dir, "http");
    lh_server_config *c;
    lh_server *srv;
    lh_err err;
    lh_server_config_new(&c, &err);
    lh_server_config_set(c, "http", "127.0.0.1:0", &err);
    lh_server_config_set(c, "pg", "off", &err);
    if (lh_server_start(db, c, &srv, &err) != LH_OK) {
        die("server", err.msg);
    }
    lh_server_config_free(c);
    int port = atoi(strrchr(lh_server_address(srv, "http"), ':') + 1);
    atomic_size_t next = 0;
    pthread_t th[64];
    http_worker w[64];
    double t0 = now_s();
    for (int i = 0; i < o->clients; i++) {
        w[i] = (http_worker){port, o, &next};
        pthread_create(&th[i], NULL, http_main, &w[i]);
    }
    for (int i = 0; i < o->clients; i++) {
        pthread_join(th[i], NULL);
    }
    double dt = now_s() - t0;
    lh_server_close(srv);
    lh_db_close(db);
    return (double)(o->events / o->batch * o->batch) / dt;
}

/* ---- pgbench: PostgreSQL 15 and lakehouse
 * --------------------------------------- */

static const char *pg_bin = "/usr/lib/postgresql/15/bin";

static int
run(const char *cmd)
{
    int r = system(cmd);
    return WIFEXITED(r) ? WEXITSTATUS(r) : 128;
}

/* CPU seconds (user + system) of process pid, with its reaped children
 * when kids (/proc/PID/stat); 0 when it is gone. */
static double
proc_cpu(long pid, bool kids)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    /* After "(name)" (which may hold spaces) and the state letter come
     * fields 4 (ppid) on: utime, stime, cutime and cstime are 14-17. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ' || p[2] == 0) {
        return 0;
    }
    p += 3;
    unsigned long long v[14] = {0};
    for (int k = 0; k < 14; k++) {
        char *e;
        v[k] = strtoull(p, &e, 10);
        if (e == p) {
            return 0;
        }
        p = e;
    }
    double ticks = (double)(v[10] + v[11] + (kids ? v[12] + v[13] : 0));
    return ticks / (double)sysconf(_SC_CLK_TCK);
}

/* The CPU seconds a PostgreSQL server used so far: the postmaster's, with
 * its exited backends', and its live children's (checkpointer, WAL
 * writer...). */
static double
pg_cpu(const char *pgdir)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/postmaster.pid", pgdir);
    FILE *f = fopen(path, "r");
    long pm = 0;
    if (f == NULL || fscanf(f, "%ld", &pm) != 1) {
        if (f != NULL) {
            fclose(f);
        }
        return 0;
    }
    fclose(f);
    double sum = proc_cpu(pm, true);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "pgrep -P %ld", pm);
    FILE *ps = popen(cmd, "r");
    long kid;
    while (ps != NULL && fscanf(ps, "%ld", &kid) == 1) {
        sum += proc_cpu(kid, false);
    }
    if (ps != NULL) {
        pclose(ps);
    }
    return sum;
}

/* This process's CPU seconds (the server in it: pgbench is a child). */
static double
self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Runs pgbench (-M mode) with a script against port; fills tps and the
 * mean latency (ms) from its output. false when pgbench failed (its first
 * ERROR line is kept in why). */
static bool
pgbench(const char *dir, int port, const char *user, const char *mode,
        const char *script, const opts *o, double *tps, double *lat,
        double *txns, char *why, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "PGPASSWORD=x pgbench -n -M %s -h 127.0.0.1 -p %d -U %s -c %d "
             "-j %d -T %d -f %s/%s -D n=%zu bench > %s/pgbench.out 2>&1",
             mode, port, user, o->clients, MIN_(o->clients, 2),
             (int)(o->seconds < 1 ? 1 : o->seconds), dir, script, o->events / 4,
             dir);
    int rc = run(cmd);
    char path[1024];
    snprintf(path, sizeof(path), "%s/pgbench.out", dir);
    FILE *f = fopen(path, "r");
    *tps = *lat = *txns = 0;
    why[0] = 0;
    char line[512];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        sscanf(line, "tps = %lf", tps);
        sscanf(line, "latency average = %lf ms", lat);
        sscanf(line, "number of transactions actually processed: %lf", txns);
        const char *e = strstr(line, "ERROR");
        if (rc != 0 && why[0] == 0 && e != NULL) {
            snprintf(why, cap, "%s", e);
            why[strcspn(why, "\n")] = 0;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return rc == 0 && *tps > 0;
}

/* The workloads: a point lookup of an order by its stream (the rows are
 * the same on both sides), and a statement without a table (the cost of
 * the protocol, parsing and planning alone). */
static const struct {
    const char *name, *file, *text;
} scripts[] = {
    {"point lookup by stream", "lookup.sql",
     "\\set id random(0, :n - 1)\n"
     "SELECT tenant_id, product_id, qty, price FROM orders WHERE stream "
     "= 'o-' || :id;\n"},
    {"no table: SELECT :id * 2, 'o-' || :id", "expr.sql",
     "\\set id random(0, :n - 1)\n"
     "SELECT :id::bigint * 2 AS x, 'o-' || :id AS s;\n"},
};
static const char *const modes[] = {"simple", "prepared"};

typedef struct bench_row {
    double tps, lat;
    double cpu_us; /* the server's CPU time per transaction */
    bool ok;
    char why[200];
} bench_row;

/* pgdir: the PostgreSQL server's (its CPU is its processes'), or NULL for
 * lakehouse in this process. */
static void
run_all(const char *dir, int port, const char *pgdir, const opts *o,
        bench_row *rows)
{
    for (size_t s = 0; s < NELEMS(scripts); s++) {
        for (size_t m = 0; m < NELEMS(modes); m++) {
            bench_row *r = &rows[s * NELEMS(modes) + m];
            double txns, c0 = pgdir ? pg_cpu(pgdir) : self_cpu();
            r->ok = pgbench(dir, port, "bench", modes[m], scripts[s].file, o,
                            &r->tps, &r->lat, &txns, r->why, sizeof(r->why));
            if (pgdir) {
                usleep(100000); /* the backends reaped */
            }
            double c1 = pgdir ? pg_cpu(pgdir) : self_cpu();
            r->cpu_us = txns > 0 ? (c1 - c0) / txns * 1e6 : 0;
        }
    }
}

static void
lookups(const opts *o)
{
    char initdb[1024];
    snprintf(initdb, sizeof(initdb), "%s/initdb", pg_bin);
    if (access(initdb, X_OK) != 0 || run("pgbench --version >/dev/null") != 0) {
        printf("point lookups: skipped (no PostgreSQL 15 server or pgbench; "
               "Debian's postgresql and postgresql-contrib)\n");
        return;
    }
    char pgdir[1024];
    snprintf(pgdir, sizeof(pgdir), "%s/pg", o->dir);
    for (size_t s = 0; s < NELEMS(scripts); s++) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/%s", o->dir, scripts[s].file);
        FILE *f = fopen(path, "w");
        fputs(scripts[s].text, f);
        fclose(f);
    }
    int port = 20000 + (int)(getpid() % 20000);
    /* PostgreSQL refuses to run as root: then as the postgres user. */
    const char *as = geteuid() == 0 ? "runuser -u postgres -- " : "";
    char cmd[8192];
    if (geteuid() == 0) {
        snprintf(cmd, sizeof(cmd), "mkdir -p %s && chown postgres %s %s", pgdir,
                 pgdir, o->dir);
        run(cmd);
    }
    snprintf(cmd, sizeof(cmd),
             "%s%s/initdb -D %s -A trust -U bench --no-sync >/dev/null 2>&1 && "
             "%s%s/pg_ctl -D %s -w -l %s/pg.log -o \"-p %d -k %s -c "
             "listen_addresses=127.0.0.1\" start >/dev/null 2>&1",
             as, pg_bin, pgdir, as, pg_bin, pgdir, pgdir, port, pgdir);
    if (run(cmd) != 0) {
        printf("point lookups: PostgreSQL did not start (see %s/pg.log)\n",
               pgdir);
        return;
    }
    snprintf(cmd, sizeof(cmd),
             "psql -q -h 127.0.0.1 -p %d -U bench postgres -c 'CREATE DATABASE "
             "bench' && psql -q -h 127.0.0.1 -p %d -U bench bench -c \""
             "CREATE TABLE orders (stream text, version bigint, tenant_id "
             "varchar(64), product_id bigint, qty int, price numeric(10,2));"
             "INSERT INTO orders SELECT 'o-' || (i / 4), i %% 4 + 1, 't' || (i "
             "%% 97), i %% 10007, 1 + i %% 5, (1 + i %% 500) + (i %% 100) / "
             "100.0 FROM generate_series(0, %zu) i;"
             "CREATE INDEX ON orders (stream, version); ANALYZE orders;\"",
             port, port, o->events - 1);
    bench_row pg[NELEMS(scripts) * NELEMS(modes)] = {0};
    if (run(cmd) == 0) {
        run_all(o->dir, port, pgdir, o, pg);
    }
    snprintf(cmd, sizeof(cmd), "%s%s/pg_ctl -D %s -m fast stop >/dev/null 2>&1",
             as, pg_bin, pgdir);
    run(cmd);

    /* lakehouse: the same rows (appended through the C API), the same
     * scripts. */
    lh_db *db = fresh_db(o->dir, "lookups");
    for (size_t b = 0; b * 1000 < o->events; b++) {
        lh_event_in evs[1000];
        char texts[1000][128], streams[1000][32];
        size_t n = MIN_(1000, o->events - b * 1000);
        for (size_t k = 0; k < n; k++) {
            size_t i = b * 1000 + k;
            payload(texts[k], 128, i);
            snprintf(streams[k], 32, "o-%zu", i / 4);
            evs[k] = (lh_event_in){.stream = streams[k],
                                   .type = "OrderPlaced",
                                   .data_json = texts[k]};
        }
        lh_err err;
        if (lh_append(db, "orders", evs, n, NULL, NULL, &err) != LH_OK) {
            die("lh_append", err.msg);
        }
    }
    lh_server_config *c;
    lh_server *srv;
    lh_err err;
    lh_server_config_new(&c, &err);
    lh_server_config_set(c, "http", "off", &err);
    lh_server_config_set(c, "pg", "127.0.0.1:0", &err);
    if (lh_server_start(db, c, &srv, &err) != LH_OK) {
        die("server", err.msg);
    }
    lh_server_config_free(c);
    int lport = atoi(strrchr(lh_server_address(srv, "pg"), ':') + 1);
    bench_row ours[NELEMS(scripts) * NELEMS(modes)] = {0};
    run_all(o->dir, lport, NULL, o, ours);
    lh_server_close(srv);
    lh_db_close(db);
    printf("pgbench (%d clients, %.0f s, %zu rows; PostgreSQL 15 with an "
           "index on (stream, version)):\n",
           o->clients, o->seconds < 1 ? 1 : o->seconds, o->events);
    for (size_t s = 0; s < NELEMS(scripts); s++) {
        for (size_t m = 0; m < NELEMS(modes); m++) {
            size_t k = s * NELEMS(modes) + m;
            printf("  %s, -M %s:\n", scripts[s].name, modes[m]);
            printf("    PostgreSQL 15  %10.0f tps  %7.3f ms  %6.1f us "
                   "CPU/txn%s%s\n",
                   pg[k].tps, pg[k].lat, pg[k].cpu_us,
                   pg[k].ok ? "" : "  failed: ", pg[k].why);
            if (ours[k].ok) {
                printf(
                    "    lakehouse      %10.0f tps  %7.3f ms  %6.1f us CPU/txn"
                    "   ratio %.2f (goal >= 1), CPU ratio %.2f\n",
                    ours[k].tps, ours[k].lat, ours[k].cpu_us,
                    pg[k].tps > 0 ? ours[k].tps / pg[k].tps : 0,
                    ours[k].cpu_us > 0 ? pg[k].cpu_us / ours[k].cpu_us : 0);
            } else {
                printf("    lakehouse             n/a   %s\n", ours[k].why);
            }
        }
    }
}

int
main(int argc, char **argv)
{
    opts o = {.dir = "/tmp",
              .events = 200000,
              .batch = 1000,
              .clients = 4,
              .seconds = 10};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o.quick = true;
            o.events = 8000;
            o.seconds = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--dir") == 0) {
            o.dir = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--events") == 0) {
            o.events = strtoul(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--batch") == 0) {
            o.batch = strtoul(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--clients") == 0) {
            o.clients = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0) {
            o.seconds = atof(argv[++i]);
        } else {
            fprintf(stderr,
                    "usage: bench_server [--dir DIR] [--quick] [--events N] "
                    "[--batch N] [--clients N] [--seconds S]\n");
            return 2;
        }
    }
    if (o.batch == 0 || o.events < o.batch || o.clients < 1 || o.clients > 64) {
        fprintf(stderr, "bench_server: bad sizes\n");
        return 2;
    }
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/bench-server-XXXXXX", o.dir);
    if (mkdtemp(dir) == NULL) {
        die("mkdtemp", strerror(errno));
    }
    o.dir = dir;
    lh_global_init(NULL);
    signal(SIGPIPE, SIG_IGN);
    double capi = ingest_capi(&o);
    double http = ingest_http(&o);
    printf("ingest (%zu events, batches of %zu, %d clients):\n", o.events,
           o.batch, o.clients);
    printf("  C API lh_append                          %10.0f events/s\n",
           capi);
    printf("  HTTP POST NDJSON (keep-alive)            %10.0f events/s\n",
           http);
    printf("  ratio HTTP / C API                       %10.2f\n",
           capi > 0 ? http / capi : 0);
    if (!o.quick) {
        lookups(&o);
    }
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    run(cmd);
    return 0;
}
