/*
 * lakehouse iceberg inspect | scan | maintain: Apache Iceberg tables (the CLI
 * section of issue 4; README "Iceberg tables").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char cli_iceberg_usage[] =
    "  lakehouse iceberg inspect TABLE [--snapshots|--files|--manifests|"
    "--history|--partitions] [--format json|table] [--store URI]"
    " [--path-map FROM=TO]...\n"
    "  lakehouse iceberg scan TABLE [--snapshot ID | --as-of TS]"
    " [--columns a,b] [--where \"col op literal\"]"
    " [--format csv|json|ndjson|table] [--path-map FROM=TO]..."
    " [--store URI] [--limit N]\n"
    "  lakehouse iceberg maintain TABLE --expire-older-than TS"
    " [--retain-last N] [--remove-orphans [--older-than TS]] [--store URI]\n";

#define MAX_MAPS 64

/* Takes every --path-map out of argv (it may repeat); the rest stays. */
static int
take_path_maps(int *argc, char **argv, const char **maps, size_t *nmaps)
{
    int o = 0;
    *nmaps = 0;
    for (int i = 0; i < *argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--path-map") == 0) {
            if (i + 1 >= *argc) {
                return cli_usage_error("%s", "--path-map needs FROM=TO");
            }
            v = argv[++i];
        } else if (strncmp(argv[i], "--path-map=", 11) == 0) {
            v = argv[i] + 11;
        } else {
            argv[o++] = argv[i];
            continue;
        }
        if (*nmaps >= MAX_MAPS) {
            return cli_usage_error("%s", "at most 64 --path-map");
        }
        if (strchr(v, '=') == NULL) {
            return cli_usage_error("--path-map wants FROM=TO, found \"%s\"", v);
        }
        maps[(*nmaps)++] = v;
    }
    *argc = o;
    return 0;
}

static int
cmd_inspect(int argc, char **argv)
{
    const char *maps[MAX_MAPS];
    size_t nmaps;
    int r = take_path_maps(&argc, argv, maps, &nmaps);
    if (r != 0) {
        return r;
    }
    opt opts[] = {
        {"snapshots", false, NULL, false},  {"files", false, NULL, false},
        {"manifests", false, NULL, false},  {"history", false, NULL, false},
        {"partitions", false, NULL, false}, {"format", true, NULL, false},
        {"store", true, NULL, false}};
    args a;
    r = cli_parse_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != 1) {
        return cli_usage_error("%s", "iceberg inspect takes one TABLE");
    }
    const char *what = NULL;
    for (int i = 0; i < 5; i++) {
        if (opts[i].set) {
            if (what != NULL) {
                return cli_usage_error("%s", "inspect takes one of "
                                             "--snapshots, --files, "
                                             "--manifests, --history, "
                                             "--partitions");
            }
            what = opts[i].name;
        }
    }
    if (opts[5].set && strcmp(opts[5].value, "json") != 0 &&
        strcmp(opts[5].value, "table") != 0) {
        return cli_usage_error("inspect --format is json or table, found "
                               "\"%s\"",
                               opts[5].value);
    }
    lh_iceberg_opts io = {.store = opts[6].value,
                          .path_map = maps,
                          .npath_map = nmaps,
                          .format = opts[5].value};
    lh_err err;
    lh_rc rc = lh_iceberg_inspect(a.pos[0], &io, what, stdout, &err);
    return rc == LH_OK ? 0 : cli_fail_input(&err, rc);
}

static int
cmd_scan(int argc, char **argv)
{
    const char *maps[MAX_MAPS];
    size_t nmaps;
    int r = take_path_maps(&argc, argv, maps, &nmaps);
    if (r != 0) {
        return r;
    }
    opt opts[] = {{"snapshot", true, NULL, false}, {"as-of", true, NULL, false},
                  {"columns", true, NULL, false},  {"where", true, NULL, false},
                  {"format", true, NULL, false},   {"store", true, NULL, false},
                  {"limit", true, NULL, false}};
    args a;
    r = cli_parse_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != 1) {
        return cli_usage_error("%s", "iceberg scan takes one TABLE");
    }
    if (opts[0].set && opts[1].set) {
        return cli_usage_error("%s", "give --snapshot or --as-of, not both");
    }
    lh_iceberg_scan_opts so = {.base = {.store = opts[5].value,
                                        .path_map = maps,
                                        .npath_map = nmaps,
                                        .format = opts[4].value},
                               .as_of = opts[1].value,
                               .columns = opts[2].value,
                               .where = opts[3].value};
    if (opts[0].set) {
        if (!cli_parse_int(opts[0].value, INT64_MIN, &so.snapshot_id)) {
            return cli_usage_error("--snapshot is a snapshot id, found \"%s\"",
                                   opts[0].value);
        }
        so.has_snapshot_id = true;
    }
    if (opts[6].set && !cli_parse_int(opts[6].value, 1, &so.limit)) {
        return cli_usage_error("--limit must be a number >= 1, found \"%s\"",
                               opts[6].value);
    }
    if (so.base.format == NULL) {
        /* output-formats.md: the table on a terminal, else CSV */
        so.base.format = isatty(STDOUT_FILENO) ? "table" : "csv";
    }
    lh_err err;
    lh_rc rc = lh_iceberg_scan(a.pos[0], &so, stdout, &err);
    fflush(stdout);
    return rc == LH_OK ? 0 : cli_fail_input(&err, rc);
}

static int
cmd_maintain(int argc, char **argv)
{
    const char *maps[MAX_MAPS];
    size_t nmaps;
    int r = take_path_maps(&argc, argv, maps, &nmaps);
    if (r != 0) {
        return r;
    }
    opt opts[] = {{"expire-older-than", true, NULL, false},
                  {"retain-last", true, NULL, false},
                  {"remove-orphans", false, NULL, false},
                  {"older-than", true, NULL, false},
                  {"store", true, NULL, false}};
    args a;
    r = cli_parse_args(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != 1 || !opts[0].set) {
        return cli_usage_error("%s", "iceberg maintain TABLE "
                                     "--expire-older-than TS");
    }
    if (opts[3].set && !opts[2].set) {
        return cli_usage_error("%s", "--older-than goes with --remove-orphans");
    }
    lh_iceberg_maintain_opts mo = {
        .base = {.store = opts[4].value, .path_map = maps, .npath_map = nmaps},
        .expire_older_than = opts[0].value,
        .remove_orphans = opts[2].set,
        .orphans_older_than = opts[3].value};
    if (opts[1].set && !cli_parse_int(opts[1].value, 1, &mo.retain_last)) {
        return cli_usage_error("--retain-last must be a number >= 1, found "
                               "\"%s\"",
                               opts[1].value);
    }
    lh_err err;
    lh_rc rc = lh_iceberg_maintain(a.pos[0], &mo, stdout, &err);
    return rc == LH_OK ? 0 : cli_fail_input(&err, rc);
}

int
cli_iceberg(int argc, char **argv)
{
    if (argc < 1) {
        return cli_usage_error("%s", "iceberg needs inspect, scan or maintain");
    }
    if (strcmp(argv[0], "inspect") == 0) {
        return cmd_inspect(argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "scan") == 0) {
        return cmd_scan(argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "maintain") == 0) {
        return cmd_maintain(argc - 1, argv + 1);
    }
    return cli_usage_error("unknown iceberg subcommand \"%s\"", argv[0]);
}
