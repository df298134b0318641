/*
 * Support for the integration tests: real processes of the lakehouse CLI
 * (spawned with pipes, fed, read, killed), scratch directories, and NDJSON.
 * The tests are cmocka programs; helpers that find something wrong fail
 * the running test with both sides printed.
 *
 * The CLI's path comes from argv[1] (CTest passes $<TARGET_FILE:lakehouse>).
 */
#ifndef LH_IT_H
#define LH_IT_H

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>

#include "lakehouse.h"
#include "util/util.h"

/* CTest's "skipped" exit code (SKIP_RETURN_CODE in CMakeLists.txt). */
#define IT_SKIP 77

/* The lakehouse binary. */
extern const char *it_cli;

/* Reads argv[1] into it_cli; exits 2 with a usage line when missing. */
void it_init(int argc, char **argv);

/* A process with its stdin, stdout and stderr on pipes. What it prints is
 * collected into out and err as it is read. */
typedef struct it_proc {
    pid_t pid;
    int in_fd;  /* -1 once closed */
    int out_fd; /* -1 at end of file */
    int err_fd;
    lh_buf out, err;
    size_t out_taken; /* it_proc_line's read offset into out */
    bool waited;
    int code; /* once waited: exit code, or 128 + signal */
} it_proc;

/* Starts `it_cli args...` (NULL-terminated) with the extra environment
 * entries ("K=V", NULL-terminated; env may be NULL). */
void it_spawn(it_proc *p, const char *const *env, const char *arg, ...);
void it_spawnv(it_proc *p, const char *const *env, const char *const *args);
/* Forks a child that runs fn(arg, out_fd) and _exits with its result; its
 * out_fd is the pipe the parent reads as p->out. No stdin pipe. */
void it_fork(it_proc *p, int (*fn)(void *arg, int out_fd), void *arg);

/* Reads what is available for up to timeout_ms. False when both output
 * pipes reached end of file. */
bool it_proc_pump(it_proc *p, int timeout_ms);
/* Writes all of data to the child's stdin, reading its output meanwhile
 * (so neither side blocks). False if the child closed its stdin. */
bool it_proc_write(it_proc *p, const char *data, size_t len);
void it_proc_close_in(it_proc *p);
/* The next complete line of stdout (without the newline), or NULL. The
 * pointer is valid until the next pump. */
const char *it_proc_line(it_proc *p, size_t *len);
/* Waits for the exit, reading all output; fails the test if it takes
 * longer than timeout_ms (the process is killed first). Returns the exit
 * code, or 128 + signal. */
int it_proc_wait(it_proc *p, int timeout_ms);
void it_proc_kill(it_proc *p, int sig);
void it_proc_release(it_proc *p);

/* The outcome of a run to completion. */
typedef struct it_result {
    int code;  /* exit code, or 128 + signal */
    char *out; /* malloc'd, NUL-terminated */
    char *err;
} it_result;

/* Runs `it_cli args...` with `input` on stdin (NULL: empty), waits (at most
 * 30 s, then the test fails as a hang). */
void it_run(it_result *r, const char *input, const char *const *env,
            const char *arg, ...);
void it_runv(it_result *r, const char *input, const char *const *env,
             const char *const *args);
void it_result_release(it_result *r);

/* Fails unless the run exited with `code`; prints the command's output. */
void it_expect_code(const it_result *r, int code, const char *what);
/* Fails unless `needle` occurs in `hay`, printing both. */
void it_expect_contains(const char *hay, const char *needle, const char *what);

/* A fresh directory under /tmp (malloc'd path); it_rmrf removes a tree and
 * frees the path. */
char *it_tmpdir(void);
void it_rmrf(char *path);
/* Copies the tree src to dst (which must not exist), as `cp -a`. */
void it_copy_tree(const char *src, const char *dst);
/* path = dir + "/" + name, malloc'd. */
char *it_path(const char *dir, const char *name);
void it_write_file(const char *path, const char *text);
/* A random UUID v4 in text form (buf of 37 bytes). */
void it_uuid(char *buf);

/* Parses NDJSON (one object per non-empty line) into a JSON array; fails
 * the test on a malformed line, naming `what`. */
json_t *it_ndjson(const char *text, const char *what);

/* Runs `lakehouse init DIR` and `table create DIR --schema` for each
 * schema (NULL-terminated; written to DIR.schema.json first), failing the
 * test on any error. */
void it_make_db(const char *dir, const char *const *schemas);

#endif
