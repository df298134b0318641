/* Shared helpers for the server tests: scratch data directories and
 * plain TCP clients of a server in the test process. */
#ifndef LH_SERVER_TEST_H
#define LH_SERVER_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

/* Scratch data directories: the hot tier tests' (ht_tmpdir, ht_rmdir). */
#include "../hot/hot_test.h"
#define st_tmpdir ht_tmpdir
#define st_rmdir ht_rmdir

/* A connection to 127.0.0.1:port, or -1 when refused. */
static inline int
st_dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline void
st_send(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

#endif
