/*
 * lakehouse sql DIR [-c "SQL"] [--format table|csv|json|ndjson]
 *
 * With -c: the statements run in order and the last one's rows are
 * printed. Without: statements come from stdin when it is not a
 * terminal, else from an interactive shell (readline: history, .tables,
 * .schema T, .timer on|off, .mode FORMAT, .quit).
 *
 * Exit codes: 0 success, 2 a SQL error (the message and where it points
 * in the text on stderr), 1 anything else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"

const char cli_sql_usage[] =
    "  lakehouse sql DIR [-c SQL] [--format table|csv|json|ndjson]"
    " [--threads N] [--dialect NAME]\n"
    "  lakehouse sql --server URL [--token T] [-c SQL] [--format ...]\n";

static bool
sql_error(lh_rc rc)
{
    switch (rc) {
    case LH_EINVAL:
    case LH_EUNSUPPORTED:
    case LH_ENOENT:
    case LH_EEXIST:
    case LH_ELIMIT:
    case LH_ECONFLICT:
    case LH_EREADONLY:
        return true;
    default:
        return false;
    }
}

/* The message, and when it has a position the line of the text with a
 * caret under it (PostgreSQL's LINE n: form). */
static int
report(const char *sql, const lh_err *err, lh_rc rc)
{
    int64_t off = err->offset;
    if (sql == NULL || off < 0 || (size_t)off > strlen(sql)) {
        fprintf(stderr, "lakehouse: ERROR: %s\n", err->msg);
        return sql_error(rc) ? EXIT_BADINPUT : EXIT_FAIL;
    }
    int line = 1;
    const char *ls = sql;
    for (const char *p = sql; p < sql + off; p++) {
        if (*p == '\n') {
            line++;
            ls = p + 1;
        }
    }
    const char *le = strchr(ls, '\n');
    size_t llen = le ? (size_t)(le - ls) : strlen(ls);
    /* columns count characters, not bytes */
    int col = 1;
    for (const char *p = ls; p < sql + off; p++) {
        col += ((unsigned char)*p & 0xc0) != 0x80;
    }
    fprintf(stderr, "lakehouse: ERROR: %s\n", err->msg);
    fprintf(stderr, "LINE %d, column %d (position %lld):\n", line, col,
            (long long)off + 1);
    fprintf(stderr, "  %.*s\n  %*s^\n", (int)llen, ls, col - 1, "");
    return sql_error(rc) ? EXIT_BADINPUT : EXIT_FAIL;
}

static double
now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

/* ---- the shell
 * --------------------------------------------------------------- */

/* A growing text (the CLI uses only lakehouse.h). */
typedef struct text {
    char *data;
    size_t len, cap;
} text;

static void
text_add(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        while (ncap < t->len + n + 1) {
            ncap *= 2;
        }
        char *nd = realloc(t->data, ncap);
        if (nd == NULL) {
            fprintf(stderr, "lakehouse: out of memory\n");
            exit(EXIT_FAIL);
        }
        t->data = nd;
        t->cap = ncap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = 0;
}

typedef struct shell {
    lh_session *s;
    char format[16];
    bool timer;
    int status;
} shell;

static void
dot_command(shell *sh, char *line)
{
    char *cmd = strtok(line, " \t");
    char *arg = strtok(NULL, " \t");
    lh_err err;
    if (strcmp(cmd, ".tables") == 0) {
        char **names;
        size_t n;
        if (lh_session_tables(sh->s, &names, &n, &err) != LH_OK) {
            fprintf(stderr, "lakehouse: %s\n", err.msg);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            printf("%s\n", names[i]);
        }
        lh_free_strings(names, n);
    } else if (strcmp(cmd, ".schema") == 0) {
        if (arg == NULL) {
            char **names;
            size_t n;
            if (lh_session_tables(sh->s, &names, &n, &err) != LH_OK) {
                fprintf(stderr, "lakehouse: %s\n", err.msg);
                return;
            }
            for (size_t i = 0; i < n; i++) {
                char *sql;
                if (lh_session_describe(sh->s, names[i], &sql, &err) == LH_OK) {
                    printf("%s\n", sql);
                    lh_free_mem(sql);
                }
            }
            lh_free_strings(names, n);
            return;
        }
        char *sql;
        if (lh_session_describe(sh->s, arg, &sql, &err) != LH_OK) {
            fprintf(stderr, "lakehouse: %s\n", err.msg);
            return;
        }
        printf("%s\n", sql);
        lh_free_mem(sql);
    } else if (strcmp(cmd, ".timer") == 0) {
        sh->timer = arg && strcmp(arg, "on") == 0;
    } else if (strcmp(cmd, ".mode") == 0) {
        if (arg == NULL || (strcmp(arg, "csv") && strcmp(arg, "json") &&
                            strcmp(arg, "ndjson") && strcmp(arg, "table"))) {
            fprintf(stderr, "lakehouse: .mode is csv, json, ndjson or table\n");
            return;
        }
        snprintf(sh->format, sizeof sh->format, "%s", arg);
    } else if (strcmp(cmd, ".help") == 0) {
        printf(".tables            the tables\n"
               ".schema [TABLE]    their CREATE statements\n"
               ".timer on|off      time each statement\n"
               ".mode FORMAT       table, csv, json or ndjson\n"
               ".quit              leave\n");
    } else {
        fprintf(stderr, "lakehouse: unknown command \"%s\" (.help)\n", cmd);
    }
}

static void
run_text(shell *sh, const char *sql)
{
    lh_err err;
    double t0 = now_ms();
    lh_rc rc = lh_sql_run(sh->s, sql, sh->format, stdout, &err);
    fflush(stdout);
    if (rc != LH_OK) {
        sh->status = report(sql, &err, rc);
    }
    if (sh->timer) {
        fprintf(stderr, "Run Time: %.3f ms\n", now_ms() - t0);
    }
}

/* Whether text holds a complete statement: a ';' outside quotes and
 * comments at its end. */
static bool
complete(const char *s)
{
    char q = 0;
    bool semi = false;
    for (const char *p = s; *p; p++) {
        if (q) {
            if (*p == q) {
                q = 0;
            }
            continue;
        }
        if (*p == '\'' || *p == '"') {
            q = *p;
            semi = false;
        } else if (*p == '-' && p[1] == '-') {
            while (*p && *p != '\n') {
                p++;
            }
            if (!*p) {
                break;
            }
        } else if (*p == ';') {
            semi = true;
        } else if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            semi = false;
        }
    }
    return semi && !q;
}

static int
interactive(shell *sh)
{
    char hist[4096] = "";
    const char *home = getenv("HOME");
    if (home) {
        snprintf(hist, sizeof hist, "%s/.lakehouse_history", home);
        read_history(hist);
    }
    text buf = {0};
    for (;;) {
        char *line = readline(buf.len ? "   ...> " : "lakehouse> ");
        if (line == NULL) {
            break;
        }
        if (buf.len == 0 && line[0] == '.') {
            add_history(line);
            if (strcmp(line, ".quit") == 0 || strcmp(line, ".exit") == 0) {
                free(line);
                break;
            }
            dot_command(sh, line);
            free(line);
            continue;
        }
        if (buf.len) {
            text_add(&buf, "\n", 1);
        }
        text_add(&buf, line, strlen(line));
        free(line);
        if (buf.data && complete(buf.data)) {
            add_history(buf.data);
            run_text(sh, buf.data);
            buf.len = 0;
        }
    }
    if (hist[0]) {
        write_history(hist);
    }
    free(buf.data);
    return 0;
}

/* Statements from a pipe: dot commands on their own lines, SQL until a
 * ';' ends a line. */
static int
piped(shell *sh)
{
    text buf = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n') {
            line[--n] = 0;
        }
        if (buf.len == 0 && line[0] == '.') {
            if (strcmp(line, ".quit") == 0 || strcmp(line, ".exit") == 0) {
                break;
            }
            dot_command(sh, line);
            continue;
        }
        text_add(&buf, line, strlen(line));
        text_add(&buf, "\n", 1);
        if (complete(buf.data)) {
            run_text(sh, buf.data);
            buf.len = 0;
        }
    }
    if (buf.len && buf.data) {
        run_text(sh, buf.data);
    }
    free(line);
    free(buf.data);
    return sh->status;
}

/* The sql contract: 2 is for SQL errors only, so a usage error is 1. */
static int
usage_error(const char *fmt, const char *a)
{
    cli_usage_error(fmt, a);
    return EXIT_FAIL;
}

int
cli_sql(int argc, char **argv)
{
    const char *dir = NULL, *sql = NULL, *format = NULL, *dialect = NULL;
    const char *server = NULL, *token = NULL; /* through a server (remote.c) */
    int64_t threads = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-c") == 0 || strcmp(a, "--command") == 0) {
            if (i + 1 >= argc) {
                return usage_error("%s", "-c needs the SQL text");
            }
            sql = argv[++i];
        } else if (strcmp(a, "--format") == 0 || strcmp(a, "-f") == 0) {
            if (i + 1 >= argc) {
                return usage_error("%s", "--format needs a value");
            }
            format = argv[++i];
        } else if (strncmp(a, "--format=", 9) == 0) {
            format = a + 9;
        } else if (strcmp(a, "--threads") == 0) {
            if (i + 1 >= argc || !cli_parse_int(argv[i + 1], 1, &threads)) {
                return usage_error("%s", "--threads needs a number >= 1");
            }
            i++;
        } else if ((strcmp(a, "--server") == 0 || strcmp(a, "--token") == 0) &&
                   i + 1 < argc) {
            *(a[2] == 's' ? &server : &token) = argv[++i];
        } else if (strcmp(a, "--dialect") == 0) {
            if (i + 1 >= argc) {
                return usage_error("%s", "--dialect needs a name");
            }
            dialect = argv[++i];
        } else if (a[0] == '-' && a[1] != 0) {
            return usage_error("unknown option \"%s\"", a);
        } else if (dir == NULL) {
            dir = a;
        } else {
            return usage_error("%s", "sql takes one directory");
        }
    }
    if (dir == NULL && server == NULL) {
        return usage_error("%s", "sql DIR [-c SQL]");
    }
    if (format == NULL) {
        format = "table";
    } else if (strcmp(format, "table") && strcmp(format, "csv") &&
               strcmp(format, "json") && strcmp(format, "ndjson")) {
        return usage_error("--format is table, csv, json or ndjson, not "
                           "\"%s\"",
                           format);
    }
    if (server != NULL) {
        return cli_remote_sql(server, token, sql, format);
    }
    lh_err err;
    lh_db *db = NULL;
    lh_db_options o = {0};
    lh_rc rc = lh_db_open(dir, &o, &db, &err);
    if (rc == LH_ELOCKED) {
        /* another process writes: read what it committed */
        o.flags = LH_OPEN_READONLY;
        rc = lh_db_open(dir, &o, &db, &err);
    }
    if (rc != LH_OK) {
        return cli_fail(&err, rc);
    }
    lh_session_options so = {.dialect = dialect, .threads = (int)threads};
    lh_session *s;
    rc = lh_session_open(db, &so, &s, &err);
    if (rc != LH_OK) {
        lh_db_close(db);
        return cli_fail(&err, rc);
    }
    shell sh = {.s = s};
    snprintf(sh.format, sizeof sh.format, "%s", format);
    int status = 0;
    if (sql) {
        rc = lh_sql_run(s, sql, format, stdout, &err);
        if (fflush(stdout) != 0 && rc == LH_OK) {
            rc = LH_EIO;
            snprintf(err.msg, sizeof err.msg, "could not write the result: %s",
                     strerror(errno));
            err.offset = -1;
        }
        if (rc != LH_OK) {
            status = report(sql, &err, rc);
        }
    } else if (!isatty(STDIN_FILENO)) {
        status = piped(&sh);
    } else {
        status = interactive(&sh);
    }
    lh_session_close(s);
    lh_db_close(db);
    return status;
}
