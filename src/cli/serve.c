/*
 * lakehouse serve DIR [--http ADDR:PORT] [--pg ADDR:PORT] [--config FILE]
 *                     [--insecure-no-auth] [--OPTION VALUE ...]
 *
 * Options come from, last one winning: the defaults, the config file (a
 * JSON object; --config or LAKEHOUSE_CONFIG), the environment
 * (LAKEHOUSE_<NAME>), the command line. DIR may also be LAKEHOUSE_DIR.
 * SIGTERM or SIGINT stops gracefully (requests in flight finish); the exit
 * code is then 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"

const char cli_serve_usage[] =
    "  lakehouse serve DIR [--http ADDR:PORT] [--pg ADDR:PORT]"
    " [--config FILE] [--insecure-no-auth] [--OPTION VALUE]\n";

static lh_server *volatile running;

static void
on_stop(int sig)
{
    (void)sig;
    lh_server *s = running;
    if (s != NULL) {
        lh_server_stop(s);
    }
}

/* Many connections need many descriptors: raise the soft limit to the
 * hard one. */
static void
raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void
print_help(void)
{
    size_t n;
    const lh_server_option *o = lh_server_options(&n);
    printf("usage:\n%s\noptions (config file key; environment "
           "LAKEHOUSE_<KEY>):\n",
           cli_serve_usage);
    for (size_t i = 0; i < n; i++) {
        char dashed[64];
        snprintf(dashed, sizeof(dashed), "%s", o[i].name);
        for (char *p = dashed; *p; p++) {
            *p = *p == '_' ? '-' : *p;
        }
        printf("  --%-18s %s (default: %s)\n", dashed, o[i].help,
               o[i].def[0] ? o[i].def : "none");
    }
}

int
cli_serve(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            print_help();
            return 0;
        }
    }
    size_t n;
    const lh_server_option *sopts = lh_server_options(&n);
    opt *opts = calloc(n + 1, sizeof(opt));
    char(*names)[64] = calloc(n + 1, sizeof(*names));
    if (opts == NULL || names == NULL) {
        free(opts);
        free(names);
        fprintf(stderr, "lakehouse: out of memory\n");
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "%s", sopts[i].name);
        for (char *p = names[i]; *p; p++) {
            *p = *p == '_' ? '-' : *p;
        }
        opts[i] = (opt){names[i], !sopts[i].flag, NULL, false};
    }
    opts[n] = (opt){"config", true, NULL, false};
    args a;
    lh_server_config *cfg = NULL;
    lh_db *db = NULL;
    lh_server *srv = NULL;
    lh_err err;
    lh_rc rc = LH_OK;
    int r = cli_parse_args(argc, argv, opts, n + 1, &a);
    const char *dir = a.npos == 1 ? a.pos[0] : getenv("LAKEHOUSE_DIR");
    if (r == 0 && (a.npos > 1 || dir == NULL || dir[0] == 0)) {
        r = cli_usage_error("%s", "serve takes one data directory");
    }
    if (r != 0) {
        goto out;
    }
    rc = lh_server_config_new(&cfg, &err);
    if (rc == LH_OK) {
        /* the main job moves events to the lake; the config, the
         * environment or --pipeline false may turn that off */
        rc = lh_server_config_set(cfg, "pipeline", "true", &err);
    }
    const char *file = opts[n].set ? opts[n].value : getenv("LAKEHOUSE_CONFIG");
    if (rc == LH_OK && file != NULL && file[0] != 0) {
        rc = lh_server_config_load(cfg, file, &err);
    }
    if (rc == LH_OK) {
        rc = lh_server_config_env(cfg, &err);
    }
    for (size_t i = 0; rc == LH_OK && i < n; i++) {
        if (opts[i].set) {
            rc = lh_server_config_set(cfg, sopts[i].name,
                                      sopts[i].flag ? "true" : opts[i].value,
                                      &err);
        }
    }
    if (rc != LH_OK) {
        r = cli_fail(&err, rc == LH_ENOENT && file != NULL ? LH_EINVAL : rc);
        goto out;
    }
    raise_nofile();
    lh_db_options o = {.flags = LH_OPEN_CREATE};
    rc = lh_db_open(dir, &o, &db, &err);
    if (rc == LH_OK) {
        rc = lh_server_start(db, cfg, &srv, &err);
    }
    if (rc != LH_OK) {
        r = cli_fail(&err, rc == LH_EEXIST ? LH_EIO : rc);
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    running = srv;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    const char *http = lh_server_address(srv, "http");
    const char *pg = lh_server_address(srv, "pg");
    printf("lakehouse: serving %s\n", dir);
    if (http != NULL) {
        printf("  HTTP        http://%s\n", http);
    }
    if (pg != NULL) {
        printf("  PostgreSQL  postgresql://%s\n", pg);
    }
    fflush(stdout);
    lh_server_wait(srv);
    running = NULL;
    printf("lakehouse: stopped\n");
    fflush(stdout);
out:
    lh_server_close(srv);
    lh_db_close(db);
    lh_server_config_free(cfg);
    free(opts);
    free(names);
    return r;
}
