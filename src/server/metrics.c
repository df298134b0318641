/*
 * /metrics: the Prometheus text exposition format (version 0.0.4). The
 * server's counters are atomics updated by whichever thread does the work;
 * per-table group-commit counts come from lh_table_stats_get.
 */
/* OpenSSL's 1.1-era lhash macros (lh_free, lh_new...) would shadow ours. */
#define OPENSSL_NO_DEPRECATED
#include <string.h>

#include "server/server_int.h"

/* Latency bucket bounds in µs: 100 µs to about 30 s. */
static const lh_us bounds[SRV_LAT_BUCKETS] = {
    100,   250,   500,    1000,   2500,    5000,    10000,
    25000, 50000, 100000, 250000, 1000000, 5000000, 30000000,
};

void
lh__hist_add(srv_hist *h, lh_us us)
{
    int b = 0;
    while (b < SRV_LAT_BUCKETS - 1 && us > bounds[b]) {
        b++;
    }
    if (us > bounds[SRV_LAT_BUCKETS - 1]) {
        b = SRV_LAT_BUCKETS; /* only +Inf */
    } else {
        atomic_fetch_add(&h->le[b], 1);
    }
    atomic_fetch_add(&h->count, 1);
    atomic_fetch_add(&h->sum_us, (uint64_t)(us > 0 ? us : 0));
}

static void
hist(lh_buf *b, const char *name, const char *help, srv_hist *h)
{
    lh_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (int i = 0; i < SRV_LAT_BUCKETS; i++) {
        cum += atomic_load(&h->le[i]);
        lh_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
                      (double)bounds[i] / 1e6, (unsigned long long)cum);
    }
    uint64_t count = atomic_load(&h->count);
    lh_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                  (unsigned long long)count);
    lh_buf_printf(b, "%s_sum %.6f\n%s_count %llu\n", name,
                  (double)atomic_load(&h->sum_us) / 1e6, name,
                  (unsigned long long)count);
}

static void
counter(lh_buf *b, const char *name, const char *help, uint64_t v)
{
    lh_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help,
                  name, name, (unsigned long long)v);
}

/* A label value, escaped as the format says (\\, \", \n). */
static void
label(lh_buf *b, const char *s)
{
    for (; *s != 0; s++) {
        if (*s == '\\' || *s == '"') {
            lh_buf_putc(b, '\\');
            lh_buf_putc(b, *s);
        } else if (*s == '\n') {
            lh_buf_puts(b, "\\n");
        } else {
            lh_buf_putc(b, *s);
        }
    }
}

static void
tables(lh_server *s, lh_buf *b)
{
    char **names = NULL;
    size_t n = 0;
    if (lh_table_list(s->db, &names, &n, NULL) != LH_OK) {
        return;
    }
    lh_table_stats *st = lh_calloc(n ? n : 1, sizeof(*st));
    bool *ok = lh_calloc(n ? n : 1, sizeof(bool));
    if (st == NULL || ok == NULL) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ok[i] = lh_table_stats_get(s->db, names[i], 0, &st[i], NULL) == LH_OK;
    }
    lh_buf_puts(b, "# HELP lakehouse_group_commits_total Group commits (one "
                   "fsync each) by table.\n"
                   "# TYPE lakehouse_group_commits_total counter\n");
    for (size_t i = 0; i < n; i++) {
        if (ok[i]) {
            lh_buf_puts(b, "lakehouse_group_commits_total{table=\"");
            label(b, names[i]);
            lh_buf_printf(b, "\"} %llu\n", (unsigned long long)st[i].commits);
        }
    }
    lh_buf_puts(b, "# HELP lakehouse_group_commit_size Append requests per "
                   "group commit.\n"
                   "# TYPE lakehouse_group_commit_size histogram\n");
    for (size_t i = 0; i < n; i++) {
        if (!ok[i]) {
            continue;
        }
        uint64_t cum = 0;
        for (int k = 0; k < LH_GROUP_BUCKETS; k++) {
            cum += st[i].group_size[k];
            lh_buf_puts(b, "lakehouse_group_commit_size_bucket{table=\"");
            label(b, names[i]);
            if (k == LH_GROUP_BUCKETS - 1) {
                lh_buf_printf(b, "\",le=\"+Inf\"} %llu\n",
                              (unsigned long long)cum);
            } else {
                lh_buf_printf(b, "\",le=\"%d\"} %llu\n", 1 << k,
                              (unsigned long long)cum);
            }
        }
        lh_buf_puts(b, "lakehouse_group_commit_size_sum{table=\"");
        label(b, names[i]);
        lh_buf_printf(b, "\"} %llu\n",
                      (unsigned long long)st[i].commit_requests);
        lh_buf_puts(b, "lakehouse_group_commit_size_count{table=\"");
        label(b, names[i]);
        lh_buf_printf(b, "\"} %llu\n", (unsigned long long)st[i].commits);
    }
out:
    lh_free(st);
    lh_free(ok);
    lh_free_strings(names, n);
}

void
lh__metrics_render(lh_server *s, lh_buf *b)
{
    srv_metrics *m = &s->m;
    lh_buf_printf(b,
                  "# HELP lakehouse_uptime_seconds Seconds since the server "
                  "started.\n# TYPE lakehouse_uptime_seconds gauge\n"
                  "lakehouse_uptime_seconds %.3f\n",
                  (double)(lh_mono_now() - s->started) / 1e6);
    lh_buf_puts(b, "# HELP lakehouse_connections Open connections.\n"
                   "# TYPE lakehouse_connections gauge\n");
    lh_buf_printf(b, "lakehouse_connections{protocol=\"http\"} %d\n",
                  atomic_load(&m->conns_open[SRV_HTTP]));
    lh_buf_printf(b, "lakehouse_connections{protocol=\"pg\"} %d\n",
                  atomic_load(&m->conns_open[SRV_PG]));
    lh_buf_puts(b, "# HELP lakehouse_connections_total Connections accepted.\n"
                   "# TYPE lakehouse_connections_total counter\n");
    lh_buf_printf(b, "lakehouse_connections_total{protocol=\"http\"} %llu\n",
                  (unsigned long long)atomic_load(&m->conns_total[SRV_HTTP]));
    lh_buf_printf(b, "lakehouse_connections_total{protocol=\"pg\"} %llu\n",
                  (unsigned long long)atomic_load(&m->conns_total[SRV_PG]));
    counter(b, "lakehouse_connections_refused_total",
            "Connections refused at max_connections.",
            atomic_load(&m->conns_refused));
    counter(b, "lakehouse_connections_dropped_total",
            "Connections dropped for timeouts, limits or malformed bytes.",
            atomic_load(&m->conns_dropped));
    lh_buf_puts(b, "# HELP lakehouse_http_requests_total HTTP requests "
                   "answered, by status class.\n"
                   "# TYPE lakehouse_http_requests_total counter\n");
    static const char *const cls[] = {"other", "1xx", "2xx",
                                      "3xx",   "4xx", "5xx"};
    for (int i = 1; i <= 5; i++) {
        lh_buf_printf(b, "lakehouse_http_requests_total{code=\"%s\"} %llu\n",
                      cls[i],
                      (unsigned long long)atomic_load(&m->http_requests[i]));
    }
    hist(b, "lakehouse_http_request_seconds",
         "HTTP request latency, head received to reply queued.",
         &m->http_latency);
    counter(b, "lakehouse_events_appended_total",
            "Events appended (durable) through the server; rate() of it is "
            "the ingest rate.",
            atomic_load(&m->events_appended));
    counter(b, "lakehouse_append_requests_total", "Append requests.",
            atomic_load(&m->append_requests));
    counter(b, "lakehouse_append_conflicts_total",
            "Append requests refused for an expected version.",
            atomic_load(&m->append_conflicts));
    hist(b, "lakehouse_append_seconds",
         "Append latency, to durable commit (parse included).",
         &m->append_latency);
    hist(b, "lakehouse_query_seconds",
         "Query latency (HTTP: the whole reply; PostgreSQL: to the answer).",
         &m->query_latency);
    counter(b, "lakehouse_pg_queries_total",
            "PostgreSQL protocol queries (simple and extended).",
            atomic_load(&m->pg_queries));
    counter(b, "lakehouse_pg_inline_runs_total",
            "PostgreSQL statements run on the I/O thread (fast before).",
            atomic_load(&m->pg_inline));
    counter(b, "lakehouse_auth_failures_total",
            "Requests and sessions refused for a missing or wrong token.",
            atomic_load(&m->auth_failures));
    tables(s, b);
}
