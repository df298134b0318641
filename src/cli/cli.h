/*
 * What the files of the lakehouse command share: the argument parser, the
 * exit codes and one entry point per command family. Each family lives in
 * its own file (main.c: init, table, append, read, stream; parquet.c: ...)
 * and is listed once in main.c's command table, with its usage lines.
 */
#ifndef LH_CLI_H
#define LH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lakehouse.h"

#define EXIT_FAIL 1
#define EXIT_BADINPUT 2
#define EXIT_CONFLICT 3

typedef struct opt {
    const char *name;
    bool takes_value;
    const char *value;
    bool set;
} opt;

typedef struct args {
    const char *pos[8];
    int npos;
} args;

/* A command family: `lakehouse NAME ...` runs run(argc, argv) with the
 * arguments after NAME; usage is its lines of the usage text (each starts
 * with two spaces and ends with a newline). */
typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
} cli_command;

/* Prints the whole usage text (every family's lines) to f. */
void cli_usage(FILE *f);
/* Prints "lakehouse: " fmt (with a) and the usage to stderr; returns
 * EXIT_BADINPUT. */
int cli_usage_error(const char *fmt, const char *a);
/* Splits argv into positionals and the --options of opts (given as
 * "--name value", "--name=value" or "--name" for flags), in any order.
 * 0, or the exit code after printing the error. */
int cli_parse_args(int argc, char **argv, opt *opts, size_t nopts, args *out);
/* The exit code for a library status: 0, 3 (conflict), 2 (EINVAL), 1. */
int cli_exit_code(lh_rc rc);
/* Prints err's message and returns cli_exit_code(rc). */
int cli_fail(const lh_err *err, lh_rc rc);
/* The same for a file or table from outside: one we refuse (not the
 * format, damaged, unsupported, too large, bad input) is exit 2, the OS or
 * the store failing exit 1. */
int cli_fail_input(const lh_err *err, lh_rc rc);
/* A decimal integer >= min, the whole string. */
bool cli_parse_int(const char *s, int64_t min, int64_t *out);
/* Opens the database at dir; 0 or the exit code after printing. */
int cli_open_db(const char *dir, bool readonly, lh_db **db);

/* The families outside main.c. */
int cli_parquet(int argc, char **argv);
extern const char cli_parquet_usage[];
int cli_iceberg(int argc, char **argv);
extern const char cli_iceberg_usage[];
int cli_pipeline(int argc, char **argv);
extern const char cli_pipeline_usage[];
int cli_tiers(int argc, char **argv);
extern const char cli_tiers_usage[];
int cli_erase(int argc, char **argv);
extern const char cli_erase_usage[];
/* The tiers as `lakehouse tiers --format table` prints them. */
void cli_tiers_print(const lh_tier_stats *ts, size_t n);
int cli_demo(int argc, char **argv);
extern const char cli_demo_usage[];
int cli_serve(int argc, char **argv);
extern const char cli_serve_usage[];
int cli_token(int argc, char **argv);
extern const char cli_token_usage[];
int cli_sql(int argc, char **argv);
extern const char cli_sql_usage[];
/* remote.c: the writing commands through a server's HTTP API (--server
 * URL, token from --token or LAKEHOUSE_TOKEN); the local commands' output
 * and exit codes. */
int cli_remote_append(const char *server, const char *token, const char *table,
                      const char *path, int64_t batch);
int cli_remote_table_create(const char *server, const char *token,
                            const char *json, size_t len);
int cli_remote_token(const char *server, const char *token, const char *sub,
                     const char *name, const char *role);
/* lakehouse sql --server URL: the statements (sql, or stdin when NULL)
 * through POST /v1/query, rows to stdout in format; sql's exit codes. */
int cli_remote_sql(const char *server, const char *token, const char *sql,
                   const char *format);

#endif
