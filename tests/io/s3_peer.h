/*
 * s3rver for the object-store tests and bench_io: started on a free
 * loopback port with a temporary directory (tests/peers/s3rver.mjs) and
 * stopped again; it also stops by itself when this process dies (its
 * standard input closes). Buckets are made with a plain PUT.
 */
#ifndef LH_TESTS_S3_PEER_H
#define LH_TESTS_S3_PEER_H

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The key pair the server knows besides s3rver's own (S3RVER:S3RVER):
 * its secret has the characters that need care in a signature. */
#define S3PEER_KEY "AKIDLAKEHOUSETEST"
#define S3PEER_SECRET "secret/key+with=signs"

typedef struct s3peer {
    pid_t pid;
    int in; /* its stdin: closing it stops the server */
    int port;
    char dir[64];
    char why[512]; /* why it could not start */
} s3peer;

/* <source dir>/tests/peers/s3rver.mjs, from this header's path. */
static inline void
s3peer_script(char *buf, size_t size)
{
    snprintf(buf, size, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0'; /* tests/io */
    }
    strncat(buf, "/../peers/s3rver.mjs", size - strlen(buf) - 1);
}

static inline bool
s3peer_node_found(void)
{
    return system("command -v node >/dev/null 2>&1") == 0;
}

/* Starts s3rver; false with p->why set when node or s3rver is missing or
 * it does not come up within 30 s. */
static inline bool
s3peer_start(s3peer *p)
{
    memset(p, 0, sizeof(*p));
    p->pid = -1;
    p->in = -1;
    if (!s3peer_node_found()) {
        snprintf(p->why, sizeof(p->why), "node is not installed");
        return false;
    }
    snprintf(p->dir, sizeof(p->dir), "/tmp/lh-s3rver.XXXXXX");
    if (mkdtemp(p->dir) == NULL) {
        snprintf(p->why, sizeof(p->why), "mkdtemp: %s", strerror(errno));
        return false;
    }
    char script[4096];
    s3peer_script(script, sizeof(script));
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) {
        snprintf(p->why, sizeof(p->why), "pipe: %s", strerror(errno));
        return false;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        /* s3rver's continuation tokens are DES-encrypted, which Node's
         * OpenSSL 3 offers only through the legacy provider: without it
         * every truncated listing is a 500. */
        execlp("node", "node", "--openssl-legacy-provider", script, p->dir,
               "--key", S3PEER_KEY ":" S3PEER_SECRET, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->pid = pid;
    p->in = in[1];
    char line[256];
    size_t n = 0;
    struct pollfd pf = {out[0], POLLIN, 0};
    while (n + 1 < sizeof(line) && memchr(line, '\n', n) == NULL) {
        if (poll(&pf, 1, 30000) <= 0) {
            break;
        }
        ssize_t r = read(out[0], line + n, sizeof(line) - 1 - n);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
    }
    close(out[0]);
    line[n] = '\0';
    char *at = strstr(line, "\"port\":");
    if (at == NULL || (p->port = atoi(at + 7)) <= 0) {
        snprintf(p->why, sizeof(p->why),
                 "s3rver did not start (run scripts/peers.sh; it said "
                 "\"%.200s\")",
                 line);
        return false;
    }
    return true;
}

/* Stops the server (if it runs) and removes its directory. */
static inline void
s3peer_stop(s3peer *p)
{
    if (p->in >= 0) {
        close(p->in);
        p->in = -1;
    }
    if (p->pid > 0) {
        int status;
        for (int i = 0; i < 100; i++) {
            if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
                p->pid = -1;
                break;
            }
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
        }
        if (p->pid > 0) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            p->pid = -1;
        }
    }
    if (p->dir[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", p->dir);
        }
        p->dir[0] = '\0';
    }
}

static inline size_t
s3peer_discard(char *d, size_t s, size_t n, void *u)
{
    (void)d;
    (void)u;
    return s * n;
}

/* Creates bucket `name` (PUT /name); true when s3rver says 200. */
static inline bool
s3peer_make_bucket(const s3peer *p, const char *name)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", p->port, name);
    CURL *h = curl_easy_init();
    if (h == NULL) {
        return false;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s3peer_discard);
    long code = 0;
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    return rc == CURLE_OK && code == 200;
}

/* The store URI of a bucket of p (path style, region auto). */
static inline void
s3peer_uri(const s3peer *p, const char *bucket, const char *extra, char *buf,
           size_t size)
{
    snprintf(buf, size, "s3://%s?endpoint=http://127.0.0.1:%d&region=auto%s%s",
             bucket, p->port, extra != NULL && extra[0] != '\0' ? "&" : "",
             extra != NULL ? extra : "");
}

#endif
