/* `lakehouse serve` as a user runs it: a real process, real curl, the
 * directory created and locked, options from flags, the environment and
 * a config file, the loopback rule, tokens from the CLI, and SIGTERM
 * (requests finish, exit 0, the lock is released). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "it.h"

/* Runs argv (PATH lookup) with input on stdin; returns the exit code and
 * stdout (malloc'd). */
static int
run(const char *const *argv, const char *input, char **out)
{
    int in[2], o[2];
    if (pipe(in) != 0 || pipe(o) != 0) {
        fail_msg("pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(o[1], 1);
        close(in[1]);
        close(o[0]);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(o[1]);
    if (input != NULL) {
        size_t n = strlen(input);
        while (n > 0) {
            ssize_t w = write(in[1], input, n);
            if (w <= 0) {
                break;
            }
            input += w;
            n -= (size_t)w;
        }
    }
    close(in[1]);
    lh_buf b = LH_BUF_INIT;
    char tmp[4096];
    ssize_t n;
    while ((n = read(o[0], tmp, sizeof(tmp))) > 0) {
        lh_buf_append(&b, tmp, (size_t)n);
    }
    close(o[0]);
    int st;
    waitpid(pid, &st, 0);
    lh_buf_putc(&b, 0);
    *out = lh_buf_take(&b, NULL);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Waits for DIR/server.json and returns its HTTP URL (malloc'd). */
static char *
wait_served(it_proc *p, const char *dir)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/server.json", dir);
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            char buf[1024];
            size_t n = fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
            buf[n] = 0;
            json_t *j = json_loads(buf, 0, NULL);
            const char *u = json_string_value(json_object_get(j, "http"));
            char *url = u ? strdup(u) : NULL;
            json_decref(j);
            if (url != NULL) {
                return url;
            }
        }
        if (!it_proc_pump(p, 50)) {
            break;
        }
    }
    fail_msg("the server did not start: %s", p->err.data ? p->err.data : "");
    return NULL;
}

static int
curl(const char *method, const char *url, const char *token, const char *ctype,
     const char *body, char **out)
{
    char auth[200] = "X-None: 1";
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    }
    char ct[200] = "X-None: 2";
    if (ctype != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    }
    const char *argv[] = {"curl",
                          "-sS",
                          "-X",
                          method,
                          "-H",
                          auth,
                          "-H",
                          ct,
                          "-w",
                          "\n%{http_code}",
                          "--data-binary",
                          body ? "@-" : "",
                          url,
                          NULL};
    if (body == NULL) {
        argv[10] = "-g"; /* no body: a harmless flag in its place */
        argv[11] = "-g";
    }
    int code = run(argv, body, out);
    if (code != 0) {
        fail_msg("curl %s %s exited %d: %s", method, url, code, *out);
    }
    char *nl = strrchr(*out, '\n');
    int status = atoi(nl + 1);
    *nl = 0;
    return status;
}

static void
test_serve_lifecycle(void **state)
{
    (void)state;
    char *root = it_tmpdir();
    char *dir = it_path(root, "new/data"); /* created by serve */
    it_proc p;
    it_spawn(&p, NULL, "serve", dir, "--http", "127.0.0.1:0", "--pg", "off",
             NULL);
    char *url = wait_served(&p, dir);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);

    char u[700], *out;
    snprintf(u, sizeof(u), "%s/v1/tables", url);
    char *schema = it_path(root, "orders.json");
    int st = curl("POST", u, NULL, NULL,
                  "{\"name\":\"orders\",\"columns\":[{\"name\":\"qty\","
                  "\"type\":\"INTEGER\"}],\"shards\":4}",
                  &out);
    assert_int_equal(st, 201);
    free(out);
    snprintf(u, sizeof(u), "%s/v1/tables/orders/events", url);
    st = curl("POST", u, NULL, "application/x-ndjson",
              "{\"stream\":\"o-1\",\"type\":\"Placed\",\"data\":{\"qty\":2}}\n"
              "{\"stream\":\"o-1\",\"type\":\"Paid\"}\n",
              &out);
    assert_int_equal(st, 200);
    it_expect_contains(out, "\"version\":2", "append acks");
    free(out);

    /* The directory is the server's: a CLI write says where to go. */
    it_result r;
    it_run(&r, "{\"stream\":\"x\",\"type\":\"T\"}\n", NULL, "append", dir,
           "orders", NULL);
    it_expect_code(&r, 1, "append to a served directory");
    it_expect_contains(r.err, "is served by `lakehouse serve`", "message");
    it_expect_contains(r.err, url, "the server's URL");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "token", "create", dir, "--name", "n", "--role",
           "admin", NULL);
    it_expect_code(&r, 1, "token create on a served directory");
    it_expect_contains(r.err, "--server", "message");
    it_result_release(&r);
    /* ... and through the server the same commands work, with the local
     * commands' output and exit codes. */
    it_run(&r,
           "{\"stream\":\"o-2\",\"type\":\"Placed\",\"expected_version\":"
           "\"no_stream\"}\n\n{\"stream\":\"o-2\",\"type\":\"Paid\"}\n",
           NULL, "append", "--server", url, "orders", "--batch", "2", NULL);
    it_expect_code(&r, 0, "append --server");
    json_t *acks = it_ndjson(r.out, "append --server acks");
    assert_int_equal(json_array_size(acks), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(acks, 1), "version")),
        2);
    json_decref(acks);
    it_result_release(&r);
    it_run(&r,
           "{\"stream\":\"o-2\",\"type\":\"T\"}\n{\"stream\":\"o-2\","
           "\"type\":\"T\",\"data\":{\"qty\":\"x\"}}\n",
           NULL, "append", "--server", url, "orders", "--batch", "5", NULL);
    it_expect_code(&r, 2, "append --server, bad input");
    it_expect_contains(r.err, "line 2: data.qty", "the line and field");
    it_result_release(&r);
    it_run(&r, "{\"stream\":\"o-2\",\"type\":\"T\",\"expected_version\":1}\n",
           NULL, "append", "--server", url, "orders", NULL);
    it_expect_code(&r, 3, "append --server, conflict");
    it_expect_contains(r.err, "current version 2", "the current version");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "token", "create", "--server", url, "--name", "ci",
           "--role", "writer", NULL);
    it_expect_code(&r, 0, "token create --server");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "token", "list", "--server", url, NULL);
    it_expect_code(&r, 1, "a token is now required");
    it_expect_contains(r.err, "requires a token", "401");
    it_result_release(&r);
    /* Reading needs no lock. */
    it_run(&r, NULL, NULL, "read", dir, "orders", "--stream", "o-1", NULL);
    it_expect_code(&r, 0, "read beside the server");
    it_expect_contains(r.out, "\"type\":\"Paid\"", "read");
    it_result_release(&r);

    /* SIGTERM: exit 0, server.json gone, the lock released. */
    it_proc_kill(&p, SIGTERM);
    assert_int_equal(it_proc_wait(&p, 10000), 0);
    it_expect_contains(p.out.data, "stopped", "serve's last words");
    char sj[700];
    snprintf(sj, sizeof(sj), "%s/server.json", dir);
    assert_int_not_equal(access(sj, F_OK), 0);
    it_run(&r, "{\"stream\":\"o-1\",\"type\":\"Shipped\"}\n", NULL, "append",
           dir, "orders", NULL);
    it_expect_code(&r, 0, "append after the server stopped");
    it_expect_contains(r.out, "\"version\":3", "the stream goes on");
    it_result_release(&r);
    it_proc_release(&p);
    free(url);
    free(schema);
    free(dir);
    it_rmrf(root);
}

/* The pipeline runs inside the server: a table created after it started
 * (flushing every second), with events dated long ago, has them in the
 * lake within seconds, and SIGTERM still exits 0. */
static void
test_serve_pipeline(void **state)
{
    (void)state;
    char *root = it_tmpdir();
    char *dir = it_path(root, "data");
    it_proc p;
    it_spawn(&p, NULL, "serve", dir, "--http", "127.0.0.1:0", "--pg", "off",
             NULL);
    char *url = wait_served(&p, dir);
    char u[700], *out;
    snprintf(u, sizeof(u), "%s/v1/tables", url);
    int st = curl("POST", u, NULL, NULL,
                  "{\"name\":\"old\",\"columns\":[{\"name\":\"n\","
                  "\"type\":\"INTEGER\"}],\"shards\":2,"
                  "\"flush_interval\":\"1s\"}",
                  &out);
    assert_int_equal(st, 201);
    free(out);
    snprintf(u, sizeof(u), "%s/v1/tables/old/events", url);
    st = curl("POST", u, NULL, "application/x-ndjson",
              "{\"stream\":\"a\",\"type\":\"T\",\"ts\":"
              "\"2020-01-01T00:00:00Z\",\"data\":{\"n\":1}}\n"
              "{\"stream\":\"b\",\"type\":\"T\",\"ts\":"
              "\"2020-01-02T00:00:00Z\",\"data\":{\"n\":2}}\n"
              "{\"stream\":\"c\",\"type\":\"T\",\"ts\":"
              "\"2020-01-03T00:00:00Z\",\"data\":{\"n\":3}}\n",
              &out);
    assert_int_equal(st, 200);
    free(out);
    /* the watch sees the table within 5 s, its flush is due at once */
    int64_t warm = 0;
    for (int i = 0; i < 150 && warm < 3; i++) {
        it_result r;
        it_run(&r, NULL, NULL, "tiers", dir, "old", "--format", "json", NULL);
        if (r.code == 0) {
            json_t *a = json_loads(r.out, 0, NULL);
            for (size_t k = 0; k < json_array_size(a); k++) {
                json_t *t = json_array_get(a, k);
                if (strcmp(json_string_value(json_object_get(t, "tier")),
                           "hot") != 0) {
                    warm += json_integer_value(json_object_get(t, "rows"));
                }
            }
            json_decref(a);
        }
        it_result_release(&r);
        if (warm < 3) {
            warm = 0;
            it_proc_pump(&p, 100);
        }
    }
    assert_int_equal(warm, 3);
    it_proc_kill(&p, SIGTERM);
    assert_int_equal(it_proc_wait(&p, 10000), 0);
    it_proc_release(&p);
    free(url);
    free(dir);
    it_rmrf(root);
}

static void
test_options_env_config(void **state)
{
    (void)state;
    char *root = it_tmpdir();
    char *dir = it_path(root, "data");
    char *cfg = it_path(root, "serve.json");
    it_write_file(cfg, "{\"pg\": \"off\", \"max_body\": \"50\", "
                       "\"http\": \"127.0.0.1:1\"}\n");
    /* The environment overrides the file, flags override both. */
    const char *env[] = {"LAKEHOUSE_HTTP=127.0.0.1:0", NULL};
    it_proc p;
    it_spawn(&p, env, "serve", dir, "--config", cfg, "--max-events", "1", NULL);
    char *url = wait_served(&p, dir);
    char u[700], *out;
    snprintf(u, sizeof(u), "%s/v1/tables", url);
    int st = curl("POST", u, NULL, NULL,
                  "{\"name\":\"t\",\"columns\":[],\"hot_window\":\"72h\","
                  "\"shards\":2,\"partition_by\":\"day(ts)\"}",
                  &out);
    assert_int_equal(st, 413); /* max_body 50 from the file */
    free(out);
    it_proc_kill(&p, SIGTERM);
    assert_int_equal(it_proc_wait(&p, 10000), 0);
    it_proc_release(&p);
    free(url);

    /* A bad option names itself; exit 2. */
    it_result r;
    it_run(&r, NULL, NULL, "serve", dir, "--max-connections", "lots", NULL);
    it_expect_code(&r, 2, "a bad option");
    it_expect_contains(r.err, "max_connections", "the option is named");
    it_result_release(&r);
    const char *badenv[] = {"LAKEHOUSE_IDLE_TIMEOUT=never", NULL};
    it_run(&r, NULL, badenv, "serve", dir, NULL);
    it_expect_code(&r, 2, "a bad environment variable");
    it_expect_contains(r.err, "LAKEHOUSE_IDLE_TIMEOUT", "the variable");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "serve", dir, "--config", "/nonexistent.json", NULL);
    it_expect_code(&r, 2, "a missing config file");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "serve", NULL);
    it_expect_code(&r, 2, "no directory");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "serve", "--help", NULL);
    it_expect_code(&r, 0, "help");
    it_expect_contains(r.out, "--idle-timeout", "options listed");
    it_result_release(&r);
    free(cfg);
    free(dir);
    it_rmrf(root);
}

static void
test_loopback_and_tokens(void **state)
{
    (void)state;
    char *root = it_tmpdir();
    char *dir = it_path(root, "data");
    it_result r;
    /* Beyond loopback without a token: refused, saying what to do. */
    it_run(&r, NULL, NULL, "serve", dir, "--http", "0.0.0.0:0", "--pg", "off",
           NULL);
    it_expect_code(&r, 2, "serve beyond loopback without a token");
    it_expect_contains(r.err, "lakehouse token create", "the advice");
    it_expect_contains(r.err, "--insecure-no-auth", "the way out");
    it_result_release(&r);

    /* The token CLI: the secret is the last line, once. */
    it_run(&r, NULL, NULL, "token", "create", dir, "--name", "ops", "--role",
           "admin", NULL);
    it_expect_code(&r, 0, "token create");
    char *last = strrchr(r.out, '\n');
    *last = 0;
    last = strrchr(r.out, '\n');
    char token[100];
    snprintf(token, sizeof(token), "%s", last ? last + 1 : r.out);
    assert_int_equal(strlen(token), 67);
    it_result_release(&r);
    it_run(&r, NULL, NULL, "token", "create", dir, "--name", "bi", "--role",
           "reader", NULL);
    it_expect_code(&r, 0, "second token");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "token", "create", dir, "--name", "x", "--role",
           "root", NULL);
    it_expect_code(&r, 2, "a bad role");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "token", "list", dir, NULL);
    it_expect_code(&r, 0, "token list");
    it_expect_contains(r.out, "\"name\":\"bi\",\"role\":\"reader\"", "list");
    assert_null(strstr(r.out, token));
    it_result_release(&r);
    it_run(&r, NULL, NULL, "token", "revoke", dir, "--name", "bi", NULL);
    it_expect_code(&r, 0, "token revoke");
    it_result_release(&r);
    it_run(&r, NULL, NULL, "token", "revoke", dir, "--name", "bi", NULL);
    it_expect_code(&r, 1, "revoke twice");
    it_result_release(&r);

    /* With a token, any address; every request needs it. */
    it_proc p;
    it_spawn(&p, NULL, "serve", dir, "--http", "0.0.0.0:0", "--pg", "off",
             NULL);
    char *url = wait_served(&p, dir);
    char u[700], *out;
    char *port = strrchr(url, ':');
    snprintf(u, sizeof(u), "http://127.0.0.1%s/v1/tables", port);
    assert_int_equal(curl("GET", u, NULL, NULL, NULL, &out), 401);
    free(out);
    assert_int_equal(curl("GET", u, token, NULL, NULL, &out), 200);
    free(out);
    it_proc_kill(&p, SIGINT);
    assert_int_equal(it_proc_wait(&p, 10000), 0);
    it_proc_release(&p);
    free(url);

    /* --insecure-no-auth with no token: served to anyone. */
    char *dir2 = it_path(root, "open");
    it_spawn(&p, NULL, "serve", dir2, "--http", "0.0.0.0:0", "--pg", "off",
             "--insecure-no-auth", NULL);
    url = wait_served(&p, dir2);
    port = strrchr(url, ':');
    snprintf(u, sizeof(u), "http://127.0.0.1%s/v1/tables", port);
    assert_int_equal(curl("GET", u, NULL, NULL, NULL, &out), 200);
    free(out);
    it_proc_kill(&p, SIGTERM);
    assert_int_equal(it_proc_wait(&p, 10000), 0);
    it_proc_release(&p);
    free(url);
    free(dir2);
    free(dir);
    it_rmrf(root);
}

int
main(int argc, char **argv)
{
    it_init(argc, argv);
    char *out;
    const char *v[] = {"curl", "--version", NULL};
    if (run(v, NULL, &out) != 0) {
        fprintf(stderr, "skipped: no curl\n");
        return IT_SKIP;
    }
    free(out);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_lifecycle),
        cmocka_unit_test(test_serve_pipeline),
        cmocka_unit_test(test_options_env_config),
        cmocka_unit_test(test_loopback_and_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
