/* Support for the integration tests (see it.h). */
#include "it.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_TIMEOUT_MS 30000
#define MAX_ARGS 32

const char *it_cli;

void
it_init(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-OF-lakehouse\n", argv[0]);
        exit(2);
    }
    it_cli = argv[1];
    /* A child that dies must not kill us through a write to its pipe. */
    signal(SIGPIPE, SIG_IGN);
}

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void
make_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) != 0) {
        fail_msg("pipe: %s", strerror(errno));
    }
}

static void
proc_start(it_proc *p)
{
    memset(p, 0, sizeof(*p));
    p->in_fd = p->out_fd = p->err_fd = -1;
}

void
it_spawnv(it_proc *p, const char *const *env, const char *const *args)
{
    proc_start(p);
    int in[2], out[2], err[2];
    make_pipe(in);
    make_pipe(out);
    make_pipe(err);
    const char *argv[MAX_ARGS + 2];
    int n = 0;
    argv[n++] = it_cli;
    for (int i = 0; args[i] != NULL && n < MAX_ARGS; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        fail_msg("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        for (int i = 0; env != NULL && env[i] != NULL; i++) {
            putenv((char *)env[i]);
        }
        signal(SIGPIPE, SIG_DFL);
        execv(it_cli, (char *const *)argv);
        fprintf(stderr, "could not run %s: %s\n", it_cli, strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    p->pid = pid;
    p->in_fd = in[1];
    p->out_fd = out[0];
    p->err_fd = err[0];
    set_nonblock(p->in_fd);
    set_nonblock(p->out_fd);
    set_nonblock(p->err_fd);
}

void
it_spawn(it_proc *p, const char *const *env, const char *arg, ...)
{
    const char *args[MAX_ARGS + 1];
    int n = 0;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL && n < MAX_ARGS;
         a = va_arg(ap, const char *)) {
        args[n++] = a;
    }
    va_end(ap);
    args[n] = NULL;
    it_spawnv(p, env, args);
}

void
it_fork(it_proc *p, int (*fn)(void *arg, int out_fd), void *arg)
{
    proc_start(p);
    int out[2], err[2];
    make_pipe(out);
    make_pipe(err);
    pid_t pid = fork();
    if (pid < 0) {
        fail_msg("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(out[0]);
        close(err[0]);
        dup2(err[1], 2);
        _exit(fn(arg, out[1]));
    }
    close(out[1]);
    close(err[1]);
    p->pid = pid;
    p->out_fd = out[0];
    p->err_fd = err[0];
    set_nonblock(p->out_fd);
    set_nonblock(p->err_fd);
}

/* Reads what fd has; closes it at end of file. */
static void
drain_fd(int *fd, lh_buf *b)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(*fd, chunk, sizeof(chunk));
        if (n > 0) {
            lh_buf_append(b, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0) {
            close(*fd);
            *fd = -1;
        }
        return; /* EAGAIN, or closed */
    }
}

bool
it_proc_pump(it_proc *p, int timeout_ms)
{
    struct pollfd fds[2];
    int n = 0;
    if (p->out_fd >= 0) {
        fds[n++] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
    }
    if (p->err_fd >= 0) {
        fds[n++] = (struct pollfd){.fd = p->err_fd, .events = POLLIN};
    }
    if (n == 0) {
        return false;
    }
    int r = poll(fds, (nfds_t)n, timeout_ms);
    if (r < 0 && errno != EINTR) {
        fail_msg("poll: %s", strerror(errno));
    }
    if (p->out_fd >= 0) {
        drain_fd(&p->out_fd, &p->out);
    }
    if (p->err_fd >= 0) {
        drain_fd(&p->err_fd, &p->err);
    }
    return p->out_fd >= 0 || p->err_fd >= 0;
}

bool
it_proc_write(it_proc *p, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        if (p->in_fd < 0) {
            return false;
        }
        ssize_t w = write(p->in_fd, data + off, len - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EPIPE) {
            it_proc_close_in(p);
            return false;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            fail_msg("write to child: %s", strerror(errno));
        }
        /* The pipe is full: wait for room while the child's output is
         * read, so it cannot block on its stdout. */
        struct pollfd fds[3];
        int n = 0;
        fds[n++] = (struct pollfd){.fd = p->in_fd, .events = POLLOUT};
        if (p->out_fd >= 0) {
            fds[n++] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
        }
        if (p->err_fd >= 0) {
            fds[n++] = (struct pollfd){.fd = p->err_fd, .events = POLLIN};
        }
        poll(fds, (nfds_t)n, 100);
        if (p->out_fd >= 0) {
            drain_fd(&p->out_fd, &p->out);
        }
        if (p->err_fd >= 0) {
            drain_fd(&p->err_fd, &p->err);
        }
    }
    return true;
}

void
it_proc_close_in(it_proc *p)
{
    if (p->in_fd >= 0) {
        close(p->in_fd);
        p->in_fd = -1;
    }
}

const char *
it_proc_line(it_proc *p, size_t *len)
{
    if (p->out.data == NULL || p->out_taken >= p->out.len) {
        return NULL;
    }
    char *start = p->out.data + p->out_taken;
    char *nl = memchr(start, '\n', p->out.len - p->out_taken);
    if (nl == NULL) {
        return NULL; /* an incomplete line: wait for the rest */
    }
    *len = (size_t)(nl - start);
    p->out_taken += *len + 1;
    return start;
}

static int
status_code(int status)
{
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

int
it_proc_wait(it_proc *p, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    bool timed_out = false;
    while (!p->waited) {
        int status;
        pid_t w = waitpid(p->pid, &status, WNOHANG);
        if (w == p->pid) {
            p->waited = true;
            p->code = status_code(status);
            break;
        }
        if (mono_ms() > deadline && !timed_out) {
            timed_out = true;
            kill(p->pid, SIGKILL);
        }
        it_proc_pump(p, 10);
    }
    /* What it wrote before it exited. A grandchild could hold the pipes
     * open: do not wait for their end for long. */
    while (it_proc_pump(p, 0)) {
        struct pollfd fds[2];
        int n = 0;
        if (p->out_fd >= 0) {
            fds[n++] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
        }
        if (p->err_fd >= 0) {
            fds[n++] = (struct pollfd){.fd = p->err_fd, .events = POLLIN};
        }
        if (poll(fds, (nfds_t)n, 200) <= 0) {
            break;
        }
    }
    if (timed_out) {
        fail_msg("process %ld did not finish within %d ms (a hang); its "
                 "stderr: %s",
                 (long)p->pid, timeout_ms, p->err.data ? p->err.data : "");
    }
    return p->code;
}

void
it_proc_kill(it_proc *p, int sig)
{
    if (!p->waited && p->pid > 0) {
        kill(p->pid, sig);
    }
}

void
it_proc_release(it_proc *p)
{
    if (!p->waited && p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->waited = true;
    }
    int *fds[] = {&p->in_fd, &p->out_fd, &p->err_fd};
    for (size_t i = 0; i < 3; i++) {
        if (*fds[i] >= 0) {
            close(*fds[i]);
            *fds[i] = -1;
        }
    }
    lh_buf_release(&p->out);
    lh_buf_release(&p->err);
}

static char *
take_text(lh_buf *b)
{
    char *s = strdup(b->data ? b->data : "");
    if (s == NULL) {
        fail_msg("out of memory");
    }
    return s;
}

void
it_runv(it_result *r, const char *input, const char *const *env,
        const char *const *args)
{
    it_proc p;
    it_spawnv(&p, env, args);
    if (input != NULL) {
        it_proc_write(&p, input, strlen(input));
    }
    it_proc_close_in(&p);
    r->code = it_proc_wait(&p, RUN_TIMEOUT_MS);
    r->out = take_text(&p.out);
    r->err = take_text(&p.err);
    it_proc_release(&p);
}

void
it_run(it_result *r, const char *input, const char *const *env, const char *arg,
       ...)
{
    const char *args[MAX_ARGS + 1];
    int n = 0;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL && n < MAX_ARGS;
         a = va_arg(ap, const char *)) {
        args[n++] = a;
    }
    va_end(ap);
    args[n] = NULL;
    it_runv(r, input, env, args);
}

void
it_result_release(it_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

void
it_expect_code(const it_result *r, int code, const char *what)
{
    if (r->code != code) {
        fail_msg("%s: exit code %d, expected %d\n--- stdout:\n%s--- "
                 "stderr:\n%s",
                 what, r->code, code, r->out, r->err);
    }
}

void
it_expect_contains(const char *hay, const char *needle, const char *what)
{
    if (hay == NULL || strstr(hay, needle) == NULL) {
        fail_msg("%s: expected \"%s\" in:\n%s", what, needle,
                 hay ? hay : "(null)");
    }
}

char *
it_tmpdir(void)
{
    char tmpl[] = "/tmp/lh-it-XXXXXX";
    char *d = mkdtemp(tmpl);
    if (d == NULL) {
        fail_msg("mkdtemp: %s", strerror(errno));
    }
    return strdup(d);
}

void
it_rmrf(char *path)
{
    if (path == NULL) {
        return;
    }
    if (strncmp(path, "/tmp/", 5) == 0 && strstr(path, "..") == NULL) {
        pid_t pid = fork();
        if (pid == 0) {
            execlp("rm", "rm", "-rf", "--", path, (char *)NULL);
            _exit(127);
        }
        if (pid > 0) {
            waitpid(pid, NULL, 0);
        }
    }
    free(path);
}

void
it_copy_tree(const char *src, const char *dst)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("cp", "cp", "-a", "--", src, dst, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fail_msg("could not copy %s to %s", src, dst);
    }
}

char *
it_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p == NULL) {
        fail_msg("out of memory");
    }
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void
it_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fail_msg("could not create %s: %s", path, strerror(errno));
    }
    size_t n = strlen(text);
    if (fwrite(text, 1, n, f) != n || fclose(f) != 0) {
        fail_msg("could not write %s", path);
    }
}

void
it_uuid(char *buf)
{
    lh_uuid u;
    lh_err err;
    if (lh_uuid_v4(&u, &err) != LH_OK) {
        fail_msg("uuid: %s", err.msg);
    }
    lh_uuid_format(&u, buf);
}

json_t *
it_ndjson(const char *text, const char *what)
{
    json_t *arr = json_array();
    const char *p = text;
    int lineno = 0;
    while (*p != 0) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (len > 0) {
            json_error_t je;
            json_t *o = json_loadb(p, len, 0, &je);
            if (o == NULL || !json_is_object(o)) {
                fail_msg("%s: line %d is not a JSON object (%s): %.*s", what,
                         lineno, je.text, (int)(len > 300 ? 300 : len), p);
            }
            json_array_append_new(arr, o);
        }
        p += len + (nl ? 1 : 0);
    }
    return arr;
}

void
it_make_db(const char *dir, const char *const *schemas)
{
    it_result r;
    it_run(&r, NULL, NULL, "init", dir, NULL);
    it_expect_code(&r, 0, "lakehouse init");
    it_result_release(&r);
    for (int i = 0; schemas[i] != NULL; i++) {
        size_t n = strlen(dir) + 16;
        char *path = malloc(n);
        assert_non_null(path);
        snprintf(path, n, "%s.schema.json", dir);
        it_write_file(path, schemas[i]);
        it_run(&r, NULL, NULL, "table", "create", dir, "--schema", path, NULL);
        it_expect_code(&r, 0, "lakehouse table create");
        it_result_release(&r);
        free(path);
    }
}
