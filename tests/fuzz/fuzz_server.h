/*
 * What the server's fuzz targets (fuzz_http, fuzz_pg) share: a real
 * server in the fuzzing process, started at the first input on a data
 * directory under /dev/shm (fsync is cheap there) and closed at exit, and
 * a client that sends bytes over TCP, half-closes and reads everything
 * until the server closes.
 */
#ifndef LH_FUZZ_SERVER_H
#define LH_FUZZ_SERVER_H

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server.h"

typedef struct fuzz_server {
    const char *name; /* the target's, for messages */
    char tmpdir[64];
    lh_db *db;
    lh_server *srv;
    int port;
} fuzz_server;

static fuzz_server fz;

static void
fz_die(const char *what, const char *detail)
{
    fprintf(stderr, "%s: %s: %s\n", fz.name, what, detail);
    abort();
}

static int
fz_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void
fz_cleanup(void)
{
    lh_server_close(fz.srv);
    lh_db_close(fz.db);
    if (fz.tmpdir[0] != '\0') {
        nftw(fz.tmpdir, fz_remove, 16, FTW_DEPTH | FTW_PHYS);
    }
}

/* Starts the server with the options opts[0..n) (name, value pairs) and a
 * table from table_json (NULL = none); protocol "http" or "pg" is the one
 * the target talks to. */
static void
fz_start(const char *name, const char *table_json, const char *const (*opts)[2],
         size_t n, const char *protocol)
{
    fz.name = name;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fz.tmpdir, sizeof(fz.tmpdir), "%s/lh-%s-XXXXXX", base, name);
    if (mkdtemp(fz.tmpdir) == NULL) {
        fz_die("mkdtemp", fz.tmpdir);
    }
    char dir[96];
    snprintf(dir, sizeof(dir), "%s/data", fz.tmpdir);
    lh_err err;
    lh_db_options o = {.flags = LH_OPEN_CREATE, .threads = 1};
    if (lh_db_open(dir, &o, &fz.db, &err) != LH_OK) {
        fz_die("open", err.msg);
    }
    if (table_json != NULL &&
        lh_table_create(fz.db, table_json, strlen(table_json), &err) != LH_OK) {
        fz_die("table", err.msg);
    }
    lh_server_config *c;
    lh_server_config_new(&c, &err);
    for (size_t i = 0; i < n; i++) {
        if (lh_server_config_set(c, opts[i][0], opts[i][1], &err) != LH_OK) {
            fz_die("option", err.msg);
        }
    }
    if (lh_server_start(fz.db, c, &fz.srv, &err) != LH_OK) {
        fz_die("start", err.msg);
    }
    lh_server_config_free(c);
    /* After the start, which initializes OpenSSL: its own exit handler
     * must run after ours (exit handlers run in reverse), once the loop
     * threads have freed their OpenSSL state. */
    atexit(fz_cleanup);
    fz.port = atoi(strrchr(lh_server_address(fz.srv, protocol), ':') + 1);
}

static int
fz_dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)fz.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        fz_die("connect", "the server does not accept");
    }
    return fd;
}

/* Sends a then b on a new connection, half-closes, and reads what comes
 * back until the server closes (out holds at most cap bytes of it);
 * returns how many bytes were kept. A server that keeps a finished
 * connection open for 10 s is a failure. */
static size_t
fz_exchange(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, char *out,
            size_t cap)
{
    int fd = fz_dial();
    uint8_t *all = malloc(an + bn + 1);
    if (an > 0) {
        memcpy(all, a, an);
    }
    if (bn > 0) {
        memcpy(all + an, b, bn);
    }
    size_t size = an + bn, off = 0, got = 0;
    bool shut = false;
    lh_us deadline = lh_mono_now() + 10 * LH_US_PER_SEC;
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (off < size) {
            pf.events |= POLLOUT;
        } else if (!shut) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        if (poll(&pf, 1, 100) > 0) {
            if ((pf.revents & POLLOUT) && off < size) {
                ssize_t w = send(fd, all + off, size - off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                /* The server may close on us mid-request: fine. */
                off = w > 0 ? off + (size_t)w : w < 0 ? size : off;
            }
            if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
                char tmp[16384];
                ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
                if (r <= 0) {
                    break;
                }
                size_t k = LH_MIN((size_t)r, cap - got);
                memcpy(out + got, tmp, k);
                got += k;
            }
        }
        if (lh_mono_now() > deadline) {
            fz_die("server", "did not close a finished connection in 10 s");
        }
    }
    free(all);
    close(fd);
    return got;
}

#endif
