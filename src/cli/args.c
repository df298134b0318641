/*
 * The CLI's argument parser and the helpers every command file shares.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- arguments: positionals and --options in any order ------------------- */

int
cli_usage_error(const char *fmt, const char *a)
{
    fprintf(stderr, "lakehouse: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    cli_usage(stderr);
    return EXIT_BADINPUT;
}

int
cli_parse_args(int argc, char **argv, opt *opts, size_t nopts, args *out)
{
    out->npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) == 0 && a[2] != 0) {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t nl = eq ? (size_t)(eq - name) : strlen(name);
            opt *o = NULL;
            for (size_t k = 0; k < nopts; k++) {
                if (strlen(opts[k].name) == nl &&
                    strncmp(opts[k].name, name, nl) == 0) {
                    o = &opts[k];
                }
            }
            if (o == NULL) {
                return cli_usage_error("unknown option \"%s\"", a);
            }
            o->set = true;
            if (o->takes_value) {
                if (eq != NULL) {
                    o->value = eq + 1;
                } else if (i + 1 < argc) {
                    o->value = argv[++i];
                } else {
                    return cli_usage_error("option \"%s\" needs a value", a);
                }
            } else if (eq != NULL) {
                return cli_usage_error("option \"%s\" takes no value", a);
            }
        } else {
            if (out->npos >= (int)(sizeof(out->pos) / sizeof(out->pos[0]))) {
                return cli_usage_error("too many arguments at \"%s\"", a);
            }
            out->pos[out->npos++] = a;
        }
    }
    return 0;
}

int
cli_exit_code(lh_rc rc)
{
    switch (rc) {
    case LH_OK:
        return 0;
    case LH_ECONFLICT:
        return EXIT_CONFLICT;
    case LH_EINVAL:
        return EXIT_BADINPUT;
    default:
        return EXIT_FAIL;
    }
}

int
cli_fail(const lh_err *err, lh_rc rc)
{
    fprintf(stderr, "lakehouse: %s\n", err->msg);
    return cli_exit_code(rc);
}

int
cli_fail_input(const lh_err *err, lh_rc rc)
{
    fprintf(stderr, "lakehouse: %s\n", err->msg);
    switch (rc) {
    case LH_EFORMAT:
    case LH_ECORRUPT:
    case LH_EUNSUPPORTED:
    case LH_ELIMIT:
    case LH_EINVAL:
        return EXIT_BADINPUT;
    default:
        return EXIT_FAIL;
    }
}

bool
cli_parse_int(const char *s, int64_t min, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != 0 || errno != 0 || v < min) {
        return false;
    }
    *out = v;
    return true;
}

/* A served directory's server.json (written by `lakehouse serve`): its
 * HTTP URL, or "" when there is none. */
static void
served_url(const char *dir, char *url, size_t cap)
{
    url[0] = 0;
    char path[4096];
    snprintf(path, sizeof(path), "%s/server.json", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return;
    }
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *h = strstr(buf, "\"http\":\"");
    if (h == NULL) {
        return;
    }
    h += 8;
    const char *e = strchr(h, '"');
    if (e != NULL && (size_t)(e - h) < cap) {
        memcpy(url, h, (size_t)(e - h));
        url[e - h] = 0;
    }
}

int
cli_open_db(const char *dir, bool readonly, lh_db **db)
{
    lh_err err;
    lh_db_options o = {.flags = readonly ? LH_OPEN_READONLY : 0};
    lh_rc rc = lh_db_open(dir, &o, db, &err);
    if (rc == LH_ELOCKED) {
        char url[512];
        served_url(dir, url, sizeof(url));
        if (url[0] != 0) {
            fprintf(stderr,
                    "lakehouse: %s is served by `lakehouse serve` (%s); "
                    "write through the server instead: --server %s\n",
                    dir, err.msg, url);
            return EXIT_FAIL;
        }
    }
    return rc == LH_OK ? 0 : cli_fail(&err, rc);
}
