/*
 * lakehouse parquet inspect | cat | write: the Parquet files' commands.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char cli_parquet_usage[] =
    "  lakehouse parquet inspect FILE [--format json]\n"
    "  lakehouse parquet cat FILE [--columns a,b] [--limit N]"
    " [--format csv|json|ndjson|table]\n"
    "  lakehouse parquet write OUT.parquet --from FILE.csv|FILE.ndjson"
    " [--schema FILE.json] [--codec zstd] [--row-group-rows N]"
    " [--bloom col,..] [--page-v2]\n";

/* ---- parquet --------------------------------------------------------------
 */

/* parquet write OUT --from IN [--schema F] [--codec C] [--row-group-rows N]
 * [--bloom a,b] [--page-v2] */
static int
cmd_parquet_write(int argc, char **argv)
{
    opt opts[] = {
        {"from", true, NULL, false},  {"schema", true, NULL, false},
        {"codec", true, NULL, false}, {"row-group-rows", true, NULL, false},
        {"bloom", true, NULL, false}, {"page-v2", false, NULL, false}};
    args a;
    int r = cli_parse_args(argc, argv, opts, 6, &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != 1 || !opts[0].set) {
        return cli_usage_error("%s", "parquet write OUT.parquet --from FILE");
    }
    lh_parquet_write_opts wo = {.schema_path = opts[1].value,
                                .codec = opts[2].value,
                                .bloom = opts[4].value,
                                .page_v2 = opts[5].set};
    if (opts[3].set && !cli_parse_int(opts[3].value, 1, &wo.row_group_rows)) {
        return cli_usage_error("--row-group-rows must be a number >= 1, found "
                               "\"%s\"",
                               opts[3].value);
    }
    lh_err err;
    lh_rc rc = lh_parquet_write(a.pos[0], opts[0].value, &wo, &err);
    return rc == LH_OK ? 0 : cli_fail_input(&err, rc);
}

int
cli_parquet(int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "write") == 0) {
        return cmd_parquet_write(argc - 1, argv + 1);
    }
    opt opts[] = {{"format", true, NULL, false},
                  {"columns", true, NULL, false},
                  {"limit", true, NULL, false}};
    args a;
    int r = cli_parse_args(argc, argv, opts, 3, &a);
    if (r != 0) {
        return r;
    }
    if (a.npos != 2) {
        return cli_usage_error("%s", "parquet inspect|cat FILE [options], or "
                                     "parquet write OUT --from FILE");
    }
    lh_err err;
    lh_rc rc;
    if (strcmp(a.pos[0], "inspect") == 0) {
        bool json = false;
        if (opts[0].set) {
            if (strcmp(opts[0].value, "json") == 0) {
                json = true;
            } else if (strcmp(opts[0].value, "text") != 0) {
                return cli_usage_error(
                    "inspect --format is json or text, found "
                    "\"%s\"",
                    opts[0].value);
            }
        }
        if (opts[1].set || opts[2].set) {
            return cli_usage_error("%s", "inspect takes only --format");
        }
        rc = lh_parquet_inspect(a.pos[1], json, stdout, &err);
    } else if (strcmp(a.pos[0], "cat") == 0) {
        lh_parquet_cat_opts co = {
            .columns = opts[1].value, .limit = -1, .format = opts[0].value};
        if (!co.format) {
            /* output-formats.md: the table on a terminal, else CSV */
            co.format = isatty(STDOUT_FILENO) ? "table" : "csv";
        }
        if (opts[2].set && !cli_parse_int(opts[2].value, 0, &co.limit)) {
            return cli_usage_error(
                "--limit must be a number >= 0, found \"%s\"", opts[2].value);
        }
        rc = lh_parquet_cat(a.pos[1], &co, stdout, &err);
    } else {
        return cli_usage_error("unknown parquet subcommand \"%s\"", a.pos[0]);
    }
    return rc == LH_OK ? 0 : cli_fail_input(&err, rc);
}
