/*
 * lakehouse pipeline run DIR [--until-idle]
 * lakehouse tiers DIR [TABLE] [--format json|table]
 * lakehouse erase DIR TABLE STREAM
 *
 * `pipeline run` runs the flushes, compactions and snapshot expiry due at
 * "now" (LH_NOW when set) and exits: 0 when nothing is left due, 1 when a job
 * failed (its message on stderr; the others still ran). It prints one line of
 * counts. `tiers` prints what each tier of each table holds: with json one
 * array of {"table", "tier", "rows", "files", "bytes", "min_ts", "max_ts"} (an
 * object per table and tier, every tier present, timestamps in TIMESTAMP
 * text form or null when the tier is empty); table (the default) aligned
 * columns with the row count, as psql prints. `erase` removes a stream's
 * events from the hot tier at once and from the lake at the next pipeline
 * run (lh_stream_erase); exit 0, or 1 (also for a stream with no events).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_pipeline_usage[] =
    "  lakehouse pipeline run DIR [--until-idle]\n";
const char cli_tiers_usage[] =
    "  lakehouse tiers DIR [TABLE] [--format json|table]\n";
const char cli_erase_usage[] = "  lakehouse erase DIR TABLE STREAM\n";

int
cli_pipeline(int argc, char **argv)
{
    opt opts[] = {{"until-idle", false, NULL, false}};
    args a;
    int r = cli_parse_args(argc, argv, opts, 1, &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != 2 || strcmp(a.pos[0], "run") != 0) {
        return cli_usage_error("%s", "pipeline run DIR [--until-idle]");
    }
    lh_db *db;
    r = cli_open_db(a.pos[1], false, &db);
    if (r != 0) {
        return r;
    }
    lh_pipeline_stats st;
    lh_err err;
    lh_rc rc = lh_pipeline_run(db, opts[0].set, &st, &err);
    printf("flushed %lld events in %lld files (%lld bytes, %lld commits)",
           (long long)st.events_flushed, (long long)st.files_written,
           (long long)st.bytes_written, (long long)st.flushes);
    if (st.finished > 0) {
        printf("; finished an interrupted flush of %lld events",
               (long long)st.finished);
    }
    if (st.compactions > 0) {
        printf("; compacted %lld partitions (%lld files) into the cold tier",
               (long long)st.compactions, (long long)st.files_compacted);
    }
    if (st.events_removed > 0) {
        printf("; removed %lld expired or erased events (%lld lake files "
               "rewritten)",
               (long long)st.events_removed, (long long)st.files_rewritten);
    }
    if (st.expired_snapshots > 0) {
        printf("; expired %lld snapshots", (long long)st.expired_snapshots);
    }
    printf("; %s\n", st.idle ? "idle" : "work remains");
    lh_db_close(db);
    if (rc != LH_OK) {
        return cli_fail(&err, rc);
    }
    return 0;
}

static void
json_tier(const lh_tier_stats *t, bool first)
{
    /* Table names are identifiers: nothing to escape. */
    printf("%s{\"table\": \"%s\", \"tier\": \"%s\", \"rows\": %lld, "
           "\"files\": %lld, \"bytes\": %lld, ",
           first ? "" : ",\n ", t->table, t->tier, (long long)t->rows,
           (long long)t->files, (long long)t->bytes);
    if (t->empty) {
        printf("\"min_ts\": null, \"max_ts\": null}");
    } else {
        printf("\"min_ts\": \"%s\", \"max_ts\": \"%s\"}", t->min_ts_text,
               t->max_ts_text);
    }
}

void
cli_tiers_print(const lh_tier_stats *ts, size_t n)
{
    static const char *const head[] = {"table", "tier",   "rows",  "files",
                                       "bytes", "min_ts", "max_ts"};
    enum { NCOLS = 7 };
    char(*cells)[NCOLS][72] = calloc(n + 1, sizeof(*cells));
    if (cells == NULL) {
        return;
    }
    size_t w[NCOLS];
    for (int c = 0; c < NCOLS; c++) {
        w[c] = strlen(head[c]);
    }
    for (size_t i = 0; i < n; i++) {
        const lh_tier_stats *t = &ts[i];
        snprintf(cells[i][0], 72, "%s", t->table);
        snprintf(cells[i][1], 72, "%s", t->tier);
        snprintf(cells[i][2], 72, "%lld", (long long)t->rows);
        snprintf(cells[i][3], 72, "%lld", (long long)t->files);
        snprintf(cells[i][4], 72, "%lld", (long long)t->bytes);
        snprintf(cells[i][5], 72, "%s", t->empty ? "NULL" : t->min_ts_text);
        snprintf(cells[i][6], 72, "%s", t->empty ? "NULL" : t->max_ts_text);
        for (int c = 0; c < NCOLS; c++) {
            w[c] = w[c] > strlen(cells[i][c]) ? w[c] : strlen(cells[i][c]);
        }
    }
    for (int c = 0; c < NCOLS; c++) {
        printf("%s %-*s ", c ? "|" : "", (int)w[c], head[c]);
    }
    printf("\n");
    for (int c = 0; c < NCOLS; c++) {
        printf("%s", c ? "+" : "");
        for (size_t k = 0; k < w[c] + 2; k++) {
            putchar('-');
        }
    }
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < NCOLS; c++) {
            bool num = c >= 2 && c <= 4;
            printf("%s %*s ", c ? "|" : "", num ? (int)w[c] : -(int)w[c],
                   cells[i][c]);
        }
        printf("\n");
    }
    printf("(%zu row%s)\n", n, n == 1 ? "" : "s");
    free(cells);
}

int
cli_tiers(int argc, char **argv)
{
    opt opts[] = {{"format", true, NULL, false}};
    args a;
    int r = cli_parse_args(argc, argv, opts, 1, &a);
    if (r != 0) {
        return r;
    }
    if (a.npos < 1 || a.npos > 2) {
        return cli_usage_error("%s", "tiers DIR [TABLE] [--format json|table]");
    }
    const char *fmt = opts[0].set ? opts[0].value : "table";
    bool json = strcmp(fmt, "json") == 0;
    if (!json && strcmp(fmt, "table") != 0) {
        return cli_usage_error("unknown format \"%s\" (json or table)", fmt);
    }
    lh_db *db;
    r = cli_open_db(a.pos[0], true, &db);
    if (r != 0) {
        return r;
    }
    lh_tier_stats *ts = NULL;
    size_t n = 0;
    lh_err err;
    lh_rc rc = lh_tiers_get(db, a.npos == 2 ? a.pos[1] : NULL, &ts, &n, &err);
    if (rc == LH_OK && json) {
        printf("[");
        for (size_t i = 0; i < n; i++) {
            json_tier(&ts[i], i == 0);
        }
        printf("]\n");
    } else if (rc == LH_OK) {
        cli_tiers_print(ts, n);
    }
    lh_free_mem(ts);
    lh_db_close(db);
    return rc == LH_OK ? 0 : cli_fail(&err, rc);
}

int
cli_erase(int argc, char **argv)
{
    args a;
    int r = cli_parse_args(argc, argv, NULL, 0, &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != 3) {
        return cli_usage_error("%s", "erase DIR TABLE STREAM");
    }
    lh_db *db;
    r = cli_open_db(a.pos[0], false, &db);
    if (r != 0) {
        return r;
    }
    lh_err err;
    lh_rc rc = lh_stream_erase(db, a.pos[1], a.pos[2], &err);
    lh_db_close(db);
    if (rc != LH_OK) {
        return cli_fail(&err, rc);
    }
    printf("erased stream \"%s\" from the hot tier of \"%s\"; the lake "
           "follows at the next pipeline run\n",
           a.pos[2], a.pos[1]);
    return 0;
}
