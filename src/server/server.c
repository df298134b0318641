/*
 * The server's frame: sockets, event loops, connections, the hand-off of
 * blocking work to the pool and back, table watches, start and stop. The
 * protocols live in http.c and pg.c (server_int.h has the design).
 */
/* OpenSSL's 1.1-era lhash macros (lh_free, lh_new...) would shadow ours. */
#define OPENSSL_NO_DEPRECATED
#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent_ssl.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server_int.h"

static const char *const kind_name[] = {"HTTP", "PostgreSQL"};

/* How long a closing connection's late bytes are read and dropped. */
#define LINGER_MS 2000
/* How often a closing TLS connection looks whether its socket drained. */
#define TLS_FLUSH_MS 10

/* ---- connections --------------------------------------------------------- */

static void
maybe_exit(srv_loop *l)
{
    if (l->draining && l->nconns == 0 && l->nwork == 0) {
        event_base_loopexit(l->base, NULL);
    }
}

static void
conn_unref(srv_conn *c)
{
    if (--c->refs > 0) {
        return;
    }
    srv_loop *l = c->loop;
    c->proto->free(c);
    lh_free(c);
    maybe_exit(l);
}

void
lh__srv_conn_close(srv_conn *c)
{
    if (c->closed) {
        return;
    }
    c->closed = true;
    srv_loop *l = c->loop;
    lh__srv_unwait(c);
    if (c->timer != NULL) {
        event_free(c->timer);
        c->timer = NULL;
    }
    if (c->bev != NULL) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        l->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
    l->nconns--;
    atomic_fetch_sub(&l->srv->nconns, 1);
    atomic_fetch_sub(&l->srv->m.conns_open[c->kind], 1);
    c->proto->on_close(c);
    conn_unref(c);
}

size_t
lh__srv_conn_pending(const srv_conn *c)
{
    if (c->bev == NULL) {
        return 0;
    }
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* After the last reply: send FIN and read (and drop) what the client
 * still sends for a moment before closing, so that closing over unread
 * bytes (a refused body) does not reset the connection and destroy the
 * reply before the client reads it (nginx's lingering close). */
static void
linger(srv_conn *c)
{
    if (c->tls) {
        /* A TLS bufferevent's output is empty once it went into the
         * socket's bufferevent below: wait (a few ms at a time) until that
         * one is empty too, or the reply would be cut. */
        struct bufferevent *under = bufferevent_get_underlying(c->bev);
        size_t left =
            under ? evbuffer_get_length(bufferevent_get_output(under)) : 0;
        if (left == 0 || c->linger_polls > LINGER_MS / TLS_FLUSH_MS) {
            lh__srv_conn_close(c);
            return;
        }
        c->close_when_flushed = false;
        c->lingering = true;
        c->linger_polls++;
        lh__srv_conn_timer(c, TLS_FLUSH_MS);
        return;
    }
    int fd = bufferevent_getfd(c->bev);
    if (fd < 0 || lh__srv_draining(c)) {
        lh__srv_conn_close(c);
        return;
    }
    c->close_when_flushed = false;
    c->lingering = true;
    shutdown(fd, SHUT_WR);
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    bufferevent_enable(c->bev, EV_READ);
    lh__srv_conn_timer(c, LINGER_MS);
}

void
lh__srv_conn_close_flushed(srv_conn *c)
{
    if (c->closed) {
        return;
    }
    if (lh__srv_conn_pending(c) == 0) {
        linger(c);
        return;
    }
    c->close_when_flushed = true;
}

void
lh__srv_conn_write(srv_conn *c, const void *p, size_t n)
{
    if (c->bev != NULL && n > 0) {
        bufferevent_write(c->bev, p, n);
    }
}

void
lh__srv_conn_send(srv_conn *c, const void *p, size_t n)
{
    /* Straight into the socket while nothing waits before it: a reply that
     * fits the socket's buffer costs one send, where the bufferevent adds
     * its write event, waits for the next turn of the loop to write, then
     * removes the event (two epoll_ctl and an epoll_wait more per reply of
     * a point lookup). What does not fit goes through the bufferevent, as
     * do errors: its own write meets them and closes the connection. */
    if (c->bev != NULL && n > 0 && !c->tls && lh__srv_conn_pending(c) == 0) {
        int fd = bufferevent_getfd(c->bev);
        ssize_t w = fd >= 0 ? send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) : -1;
        if (w > 0) {
            p = (const char *)p + w;
            n -= (size_t)w;
        }
    }
    lh__srv_conn_write(c, p, n);
}

void
lh__srv_conn_timer(srv_conn *c, int64_t ms)
{
    if (c->timer == NULL) {
        return;
    }
    if (ms <= 0) {
        evtimer_del(c->timer);
        return;
    }
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

bool
lh__srv_draining(const srv_conn *c)
{
    return c->loop->draining;
}

static void
on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    srv_conn *c = arg;
    if (c->lingering || c->close_when_flushed) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    c->refs++;
    c->proto->on_read(c);
    conn_unref(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    srv_conn *c = arg;
    if (c->close_when_flushed) {
        linger(c);
        return;
    }
    if (c->lingering) {
        return;
    }
    c->refs++;
    c->proto->on_write(c);
    conn_unref(c);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    srv_conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        return; /* a TLS handshake finished */
    }
    if ((what & BEV_EVENT_EOF) && c->busy && !c->lingering) {
        /* A client may half-close after its request: the reply still goes
         * out, then the connection closes. */
        c->peer_eof = true;
        bufferevent_disable(c->bev, EV_READ);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        atomic_fetch_add(&c->loop->srv->m.conns_dropped, 1);
        lh_log(LH_LOG_INFO, "%s client %s: write timed out; dropped",
               kind_name[c->kind], c->peer);
    } else if (what & BEV_EVENT_ERROR) {
        unsigned long e = bufferevent_get_openssl_error(c->bev);
        if (e != 0) {
            char buf[160];
            ERR_error_string_n(e, buf, sizeof(buf));
            lh_log(LH_LOG_INFO, "%s client %s: TLS: %s", kind_name[c->kind],
                   c->peer, buf);
        }
    }
    lh__srv_conn_close(c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    srv_conn *c = arg;
    if (c->lingering) {
        if (c->tls) {
            linger(c);
        } else {
            lh__srv_conn_close(c);
        }
        return;
    }
    c->refs++;
    c->proto->on_timer(c);
    conn_unref(c);
}

static void
peer_name(const struct sockaddr *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof(host));
        port = ntohs(in->sin6_port);
    }
    snprintf(out, cap, "%s:%d", host, port);
}

/* Installs the callbacks and timeouts on a connection's (new) bev. */
static void
setup_bev(srv_conn *c)
{
    lh_server *s = c->loop->srv;
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    lh_us wt = s->cfg.write_timeout;
    struct timeval tv = {(time_t)(wt / LH_US_PER_SEC),
                         (suseconds_t)(wt % LH_US_PER_SEC)};
    bufferevent_set_timeouts(c->bev, NULL, &tv);
    /* Stop reading while a megabyte waits unparsed (a client pipelining
     * into a busy connection). */
    bufferevent_setwatermark(c->bev, EV_READ, 0, 1u << 20);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

lh_rc
lh__srv_conn_start_tls(srv_conn *c, lh_err *err)
{
    lh_server *s = c->loop->srv;
    SSL *ssl = SSL_new(s->tls);
    if (ssl == NULL) {
        return lh_err_set(err, LH_ENOMEM, "could not start TLS");
    }
    struct bufferevent *tb = bufferevent_openssl_filter_new(
        c->loop->base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
        BEV_OPT_CLOSE_ON_FREE);
    if (tb == NULL) {
        SSL_free(ssl);
        return lh_err_set(err, LH_ENOMEM, "could not start TLS");
    }
    c->bev = tb;
    c->tls = true;
    setup_bev(c);
    return LH_OK;
}

static void
refuse(lh_server *s, int fd, int kind)
{
    const srv_proto *p = kind == SRV_HTTP ? &lh__http_proto : &lh__pg_proto;
    atomic_fetch_add(&s->m.conns_refused, 1);
    if (!(kind == SRV_HTTP && s->cfg.http_tls)) {
        ssize_t w =
            send(fd, p->refusal, p->refusal_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
    }
    close(fd);
}

static void
accept_conn(srv_loop *l, int kind, evutil_socket_t fd, struct sockaddr *sa)
{
    lh_server *s = l->srv;
    if (l->draining) {
        close(fd);
        return;
    }
    if (atomic_fetch_add(&s->nconns, 1) >= s->cfg.max_connections) {
        atomic_fetch_sub(&s->nconns, 1);
        refuse(s, fd, kind);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    evutil_make_socket_nonblocking(fd);
    srv_conn *c = lh_calloc(1, sizeof(*c));
    struct bufferevent *bev = NULL;
    if (c != NULL && kind == SRV_HTTP && s->cfg.http_tls) {
        SSL *ssl = SSL_new(s->tls);
        if (ssl != NULL) {
            bev = bufferevent_openssl_socket_new(l->base, fd, ssl,
                                                 BUFFEREVENT_SSL_ACCEPTING,
                                                 BEV_OPT_CLOSE_ON_FREE);
            if (bev == NULL) {
                SSL_free(ssl);
            }
        }
    } else if (c != NULL) {
        bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    struct event *timer = NULL;
    if (bev != NULL) {
        timer = evtimer_new(l->base, on_timer, c);
    }
    if (c == NULL || bev == NULL || timer == NULL) {
        if (timer != NULL) {
            event_free(timer);
        }
        if (bev != NULL) {
            bufferevent_free(bev);
        } else {
            close(fd);
        }
        lh_free(c);
        atomic_fetch_sub(&s->nconns, 1);
        lh_log(LH_LOG_WARN, "out of memory accepting a connection");
        return;
    }
    c->loop = l;
    c->kind = kind;
    c->proto = kind == SRV_HTTP ? &lh__http_proto : &lh__pg_proto;
    c->bev = bev;
    c->timer = timer;
    c->tls = kind == SRV_HTTP && s->cfg.http_tls;
    c->refs = 1;
    peer_name(sa, c->peer, sizeof(c->peer));
    c->next = l->conns;
    if (l->conns != NULL) {
        l->conns->prev = c;
    }
    l->conns = c;
    l->nconns++;
    atomic_fetch_add(&s->m.conns_open[kind], 1);
    atomic_fetch_add(&s->m.conns_total[kind], 1);
    setup_bev(c);
    if (c->proto->open(c) != LH_OK) {
        lh__srv_conn_close(c);
    }
}

static void
accept_http(struct evconnlistener *ln, evutil_socket_t fd, struct sockaddr *sa,
            int len, void *arg)
{
    (void)ln;
    (void)len;
    accept_conn(arg, SRV_HTTP, fd, sa);
}

static void
accept_pg(struct evconnlistener *ln, evutil_socket_t fd, struct sockaddr *sa,
          int len, void *arg)
{
    (void)ln;
    (void)len;
    accept_conn(arg, SRV_PG, fd, sa);
}

static void
accept_error(struct evconnlistener *ln, void *arg)
{
    (void)ln;
    (void)arg;
    /* EMFILE and friends: the connection waits in the backlog; log it
     * once a while rather than spin. */
    lh_log(LH_LOG_WARN, "accept failed: %s", strerror(errno));
}

/* ---- work on the pool ---------------------------------------------------- */

static void
wake_loop(srv_loop *l)
{
    uint64_t one = 1;
    ssize_t w = write(l->wake_fd, &one, sizeof(one));
    (void)w;
}

static void
queue_done(srv_work *w)
{
    srv_loop *l = w->conn->loop;
    pthread_mutex_lock(&l->mu);
    w->next = NULL;
    if (l->done_tail != NULL) {
        l->done_tail->next = w;
    } else {
        l->done_head = w;
    }
    l->done_tail = w;
    pthread_mutex_unlock(&l->mu);
    wake_loop(l);
}

static void
work_main(void *arg)
{
    srv_work *w = arg;
    w->run(w);
    queue_done(w);
}

void
lh__srv_post(srv_work *w)
{
    w->post = true;
    w->failed = false;
    queue_done(w);
}

void
lh__srv_submit(srv_conn *c, srv_work *w)
{
    w->conn = c;
    w->post = false;
    w->failed = false;
    c->refs++;
    c->loop->nwork++;
    if (lh_pool_submit(c->loop->srv->pool, work_main, w) != LH_OK) {
        w->failed = true;
        queue_done(w);
    }
}

void
lh__srv_run_here(srv_conn *c, srv_work *w)
{
    w->conn = c;
    w->post = false;
    w->failed = false;
    c->refs++;
    w->run(w);
    w->done(w);
    conn_unref(c);
}

static void
wake_waiters(srv_loop *l)
{
    srv_conn *c = l->waiters;
    while (c != NULL) {
        srv_conn *next = c->wnext;
        if (atomic_load(&c->watch->epoch) != c->watch_epoch) {
            lh__srv_unwait(c);
            c->refs++;
            c->proto->on_wake(c);
            conn_unref(c);
        }
        c = next;
    }
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    srv_loop *l = arg;
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
    pthread_mutex_lock(&l->mu);
    srv_work *w = l->done_head;
    l->done_head = l->done_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (w != NULL) {
        srv_work *next = w->next;
        srv_conn *c = w->conn;
        if (w->post) {
            w->done(w); /* a message from work in flight, which holds c */
            w = next;
            continue;
        }
        l->nwork--;
        w->done(w);
        conn_unref(c);
        w = next;
    }
    if (atomic_exchange(&l->watch_wake, false)) {
        wake_waiters(l);
    }
    maybe_exit(l);
}

/* ---- table watches --------------------------------------------------------
 */

static void *
watch_main(void *arg)
{
    srv_watch *w = arg;
    lh_server *s = w->srv;
    uint64_t seen = 0;
    while (!atomic_load(&w->stop)) {
        lh_err err;
        lh_rc rc = lh_table_wait(s->db, w->table, &seen, 500, &err);
        if (rc == LH_ETIMEDOUT) {
            continue;
        }
        if (rc != LH_OK) {
            /* No such table (yet): its waiters got 404; look again later. */
            usleep(200000);
            continue;
        }
        atomic_fetch_add(&w->epoch, 1);
        for (int i = 0; i < s->nloops; i++) {
            atomic_store(&s->loops[i].watch_wake, true);
            wake_loop(&s->loops[i]);
        }
    }
    return NULL;
}

lh_rc
lh__srv_watch_epoch(lh_server *s, const char *table, uint64_t *epoch,
                    lh_err *err)
{
    pthread_mutex_lock(&s->watch_mu);
    srv_watch *w = s->watches;
    while (w != NULL && strcmp(w->table, table) != 0) {
        w = w->next;
    }
    if (w == NULL) {
        w = lh_calloc(1, sizeof(*w));
        char *name = lh_strdup(table);
        if (w == NULL || name == NULL) {
            pthread_mutex_unlock(&s->watch_mu);
            lh_free(w);
            lh_free(name);
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        w->srv = s;
        w->table = name;
        int e = pthread_create(&w->thread, NULL, watch_main, w);
        if (e != 0) {
            pthread_mutex_unlock(&s->watch_mu);
            lh_free(name);
            lh_free(w);
            return lh_err_sys(err, LH_ENOMEM, e,
                              "could not start a watch of table \"%s\"", table);
        }
        w->next = s->watches;
        s->watches = w;
    }
    *epoch = atomic_load(&w->epoch);
    pthread_mutex_unlock(&s->watch_mu);
    /* The watch outlives every connection (freed at server close). */
    return LH_OK;
}

static srv_watch *
find_watch(lh_server *s, const char *table)
{
    pthread_mutex_lock(&s->watch_mu);
    srv_watch *w = s->watches;
    while (w != NULL && strcmp(w->table, table) != 0) {
        w = w->next;
    }
    pthread_mutex_unlock(&s->watch_mu);
    return w;
}

lh_rc
lh__srv_wait_table(srv_conn *c, const char *table, uint64_t epoch, lh_err *err)
{
    lh__srv_unwait(c);
    srv_watch *w = find_watch(c->loop->srv, table);
    if (w == NULL) {
        uint64_t e;
        lh_rc rc = lh__srv_watch_epoch(c->loop->srv, table, &e, err);
        if (rc != LH_OK) {
            return rc;
        }
        w = find_watch(c->loop->srv, table);
    }
    srv_loop *l = c->loop;
    c->watch = w;
    c->watch_epoch = epoch;
    c->waiting = true;
    c->wprev = NULL;
    c->wnext = l->waiters;
    if (l->waiters != NULL) {
        l->waiters->wprev = c;
    }
    l->waiters = c;
    if (atomic_load(&w->epoch) != epoch) {
        /* A commit came during the read: look again at once. */
        atomic_store(&l->watch_wake, true);
        wake_loop(l);
    }
    return LH_OK;
}

void
lh__srv_unwait(srv_conn *c)
{
    if (!c->waiting) {
        return;
    }
    srv_loop *l = c->loop;
    if (c->wprev != NULL) {
        c->wprev->wnext = c->wnext;
    } else {
        l->waiters = c->wnext;
    }
    if (c->wnext != NULL) {
        c->wnext->wprev = c->wprev;
    }
    c->wprev = c->wnext = NULL;
    c->waiting = false;
}

/* ---- stopping ------------------------------------------------------------ */

static void
on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    srv_loop *l = arg;
    srv_conn *c = l->conns;
    if (c != NULL) {
        lh_log(LH_LOG_WARN, "drain timeout: closing %d connection(s)",
               l->nconns);
    }
    while (c != NULL) {
        srv_conn *next = c->next;
        lh__srv_conn_close(c);
        c = next;
    }
    maybe_exit(l);
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    srv_loop *l = arg;
    if (l->draining) {
        return;
    }
    l->draining = true;
    event_del(l->stop_ev);
    for (int k = 0; k < 2; k++) {
        if (l->listen[k] != NULL) {
            evconnlistener_free(l->listen[k]);
            l->listen[k] = NULL;
        }
    }
    /* The last loop to stop listening closes the sockets: new clients are
     * refused by the kernel instead of waiting in a backlog no one reads. */
    lh_server *s = l->srv;
    if (atomic_fetch_add(&s->loops_unlistened, 1) + 1 == s->nloops) {
        for (int k = 0; k < 2; k++) {
            if (s->listen_fd[k] >= 0) {
                close(s->listen_fd[k]);
                s->listen_fd[k] = -1;
            }
        }
    }
    srv_conn *c = l->conns;
    while (c != NULL) {
        srv_conn *next = c->next;
        if (c->lingering) {
            lh__srv_conn_close(c);
        } else {
            c->refs++;
            c->proto->on_drain(c);
            conn_unref(c);
        }
        c = next;
    }
    lh_us dt = l->srv->cfg.drain_timeout;
    struct timeval tv = {(time_t)(dt / LH_US_PER_SEC),
                         (suseconds_t)(dt % LH_US_PER_SEC)};
    evtimer_add(l->drain_ev, &tv);
    maybe_exit(l);
}

static void *
loop_main(void *arg)
{
    srv_loop *l = arg;
    /* Writes to closed sockets must not kill the process. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    event_base_dispatch(l->base);
    /* OpenSSL keeps per-thread state (the random generator of the backend
     * keys and SCRAM nonces): free it with the thread. */
    OPENSSL_thread_stop();
    return NULL;
}

void
lh_server_stop(lh_server *s)
{
    atomic_store(&s->stopping, true);
    uint64_t one = 1;
    ssize_t w = write(s->stop_fd, &one, sizeof(one));
    (void)w;
}

void
lh_server_wait(lh_server *s)
{
    if (s->waited) {
        return;
    }
    for (int i = 0; i < s->nloops; i++) {
        if (s->loops[i].started) {
            pthread_join(s->loops[i].thread, NULL);
            s->loops[i].started = false;
        }
    }
    s->waited = true;
}

/* ---- start ----------------------------------------------------------------
 */

static bool
sockaddr_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in->sin6_addr);
    }
    return false;
}

/* Binds and listens on "host:port"; fills the bound "host:port". */
static lh_rc
bind_addr(const char *what, const char *addr, int *fd_out, char *bound,
          size_t cap, bool *loopback, lh_err *err)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    size_t hl = (size_t)(colon - addr);
    if (addr[0] == '[') {
        memcpy(host, addr + 1, hl - 2);
        host[hl - 2] = 0;
    } else {
        memcpy(host, addr, LH_MIN(hl, sizeof(host) - 1));
        host[LH_MIN(hl, sizeof(host) - 1)] = 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
    if (g != 0) {
        return lh_err_set(err, LH_EINVAL, "%s address \"%s\": %s", what, addr,
                          gai_strerror(g));
    }
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
            listen(fd, 1024) != 0) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        return lh_err_sys(err, e == EADDRINUSE ? LH_EEXIST : LH_EIO, e,
                          "could not listen for %s on \"%s\"", what, addr);
    }
    evutil_make_socket_nonblocking(fd);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char h[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in->sin6_addr, h, sizeof(h));
        port = ntohs(in->sin6_port);
        snprintf(bound, cap, "[%s]:%d", h, port);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, h, sizeof(h));
        port = ntohs(in->sin_port);
        snprintf(bound, cap, "%s:%d", h, port);
    }
    *loopback = sockaddr_loopback((struct sockaddr *)&ss);
    *fd_out = fd;
    return LH_OK;
}

static lh_rc
tls_setup(lh_server *s, lh_err *err)
{
    const srv_config *c = &s->cfg;
    if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
        return lh_err_set(err, LH_EINVAL,
                          "tls_cert and tls_key go together: give both");
    }
    if (c->tls_cert == NULL) {
        if (c->http_tls) {
            return lh_err_set(err, LH_EINVAL,
                              "http_tls needs tls_cert and "
                              "tls_key");
        }
        return LH_OK;
    }
    s->tls = SSL_CTX_new(TLS_server_method());
    if (s->tls == NULL) {
        return lh_err_set(err, LH_ENOMEM, "could not make a TLS context");
    }
    SSL_CTX_set_min_proto_version(s->tls, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(s->tls, c->tls_cert) != 1) {
        char buf[160];
        ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
        return lh_err_set(err, LH_EINVAL,
                          "could not load certificate \"%s\": "
                          "%s",
                          c->tls_cert, buf);
    }
    if (SSL_CTX_use_PrivateKey_file(s->tls, c->tls_key, SSL_FILETYPE_PEM) !=
            1 ||
        SSL_CTX_check_private_key(s->tls) != 1) {
        char buf[160];
        ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
        return lh_err_set(err, LH_EINVAL, "could not load key \"%s\": %s",
                          c->tls_key, buf);
    }
    return LH_OK;
}

static lh_rc
loop_init(lh_server *s, srv_loop *l, int index, lh_err *err)
{
    l->srv = s;
    l->index = index;
    l->wake_fd = -1;
    pthread_mutex_init(&l->mu, NULL);
    l->base = event_base_new();
    if (l->base == NULL) {
        return lh_err_set(err, LH_ENOMEM, "could not make an event loop");
    }
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->wake_fd < 0) {
        return lh_err_sys(err, LH_EIO, errno, "could not make an eventfd");
    }
    l->wake_ev =
        event_new(l->base, l->wake_fd, EV_READ | EV_PERSIST, on_wake, l);
    l->stop_ev =
        event_new(l->base, s->stop_fd, EV_READ | EV_PERSIST, on_stop, l);
    l->drain_ev = evtimer_new(l->base, on_drain_deadline, l);
    if (l->wake_ev == NULL || l->stop_ev == NULL || l->drain_ev == NULL) {
        return lh_err_set(err, LH_ENOMEM, "could not make an event loop");
    }
    event_add(l->wake_ev, NULL);
    event_add(l->stop_ev, NULL);
    evconnlistener_cb cbs[2] = {accept_http, accept_pg};
    for (int k = 0; k < 2; k++) {
        if (s->listen_fd[k] < 0) {
            continue;
        }
        l->listen[k] =
            evconnlistener_new(l->base, cbs[k], l, 0, 0, s->listen_fd[k]);
        if (l->listen[k] == NULL) {
            return lh_err_set(err, LH_ENOMEM, "could not make a listener");
        }
        evconnlistener_set_error_cb(l->listen[k], accept_error);
    }
    return LH_OK;
}

static void
loop_release(srv_loop *l)
{
    for (int k = 0; k < 2; k++) {
        if (l->listen[k] != NULL) {
            evconnlistener_free(l->listen[k]);
        }
    }
    if (l->wake_ev != NULL) {
        event_free(l->wake_ev);
    }
    if (l->stop_ev != NULL) {
        event_free(l->stop_ev);
    }
    if (l->drain_ev != NULL) {
        event_free(l->drain_ev);
    }
    if (l->base != NULL) {
        event_base_free(l->base);
    }
    if (l->wake_fd >= 0) {
        close(l->wake_fd);
    }
    pthread_mutex_destroy(&l->mu);
}

/* DIR/server.json: where the server listens, for CLI commands that find
 * the directory locked. */
static void
write_server_file(lh_server *s)
{
    lh_buf p = LH_BUF_INIT, j = LH_BUF_INIT;
    lh_buf_printf(&p, "%s/server.json", lh_db_dir(s->db));
    lh_buf_printf(&j, "{\"pid\":%d", (int)getpid());
    if (s->listen_fd[SRV_HTTP] >= 0) {
        lh_buf_printf(&j, ",\"http\":\"%s://%s\"",
                      s->cfg.http_tls ? "https" : "http", s->bound[SRV_HTTP]);
    }
    if (s->listen_fd[SRV_PG] >= 0) {
        lh_buf_printf(&j, ",\"pg\":\"postgresql://%s\"", s->bound[SRV_PG]);
    }
    lh_buf_puts(&j, "}\n");
    if (!lh_buf_ok(&p) || !lh_buf_ok(&j)) {
        goto done;
    }
    lh_buf tmp = LH_BUF_INIT;
    lh_buf_printf(&tmp, "%s.tmp", p.data);
    FILE *f = lh_buf_ok(&tmp) ? fopen(tmp.data, "w") : NULL;
    if (f != NULL) {
        bool ok = fwrite(j.data, 1, j.len, f) == j.len;
        ok = fclose(f) == 0 && ok;
        if (ok && rename(tmp.data, p.data) == 0) {
            s->server_file = lh_buf_take(&p, NULL);
        } else {
            unlink(tmp.data);
        }
    }
    lh_buf_release(&tmp);
done:
    lh_buf_release(&p);
    lh_buf_release(&j);
}

static lh_rc
start(lh_server *s, const lh_server_config *cfg, lh_err *err)
{
    lh_rc rc = lh__srv_config_copy(&s->cfg, &cfg->c, err);
    if (rc != LH_OK) {
        return rc;
    }
    if (s->cfg.http == NULL && s->cfg.pg == NULL) {
        return lh_err_set(err, LH_EINVAL,
                          "nothing to serve: both http and pg are off");
    }
    rc = tls_setup(s, err);
    if (rc == LH_OK) {
        rc = lh__tokens_open(lh_db_dir(s->db), &s->tokens, err);
    }
    if (rc != LH_OK) {
        return rc;
    }
    const char *addrs[2] = {s->cfg.http, s->cfg.pg};
    static const char *const what[2] = {"HTTP", "PostgreSQL"};
    s->loopback_only = true;
    for (int k = 0; k < 2; k++) {
        if (addrs[k] == NULL) {
            continue;
        }
        bool lo = false;
        rc = bind_addr(what[k], addrs[k], &s->listen_fd[k], s->bound[k],
                       sizeof(s->bound[k]), &lo, err);
        if (rc != LH_OK) {
            return rc;
        }
        s->loopback_only = s->loopback_only && lo;
        if (!lo && lh__tokens_count(s->tokens) == 0 &&
            !s->cfg.insecure_no_auth) {
            return lh_err_set(
                err, LH_EINVAL,
                "refusing to serve %s on %s beyond loopback without a token: "
                "create one with `lakehouse token create %s --name NAME "
                "--role admin`, or pass --insecure-no-auth",
                what[k], s->bound[k], lh_db_dir(s->db));
        }
    }
    int workers = s->cfg.workers > 0 ? s->cfg.workers : 64;
    rc = lh_pool_new(workers, &s->pool, err);
    if (rc != LH_OK) {
        return rc;
    }
    s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->stop_fd < 0) {
        return lh_err_sys(err, LH_EIO, errno, "could not make an eventfd");
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int n = s->cfg.io_threads > 0 ? s->cfg.io_threads
                                  : (int)LH_MAX(1, LH_MIN(ncpu, 4));
    s->loops = lh_calloc((size_t)n, sizeof(srv_loop));
    if (s->loops == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    s->nloops = n;
    for (int i = 0; i < n; i++) {
        rc = loop_init(s, &s->loops[i], i, err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    for (int i = 0; i < n; i++) {
        int e =
            pthread_create(&s->loops[i].thread, NULL, loop_main, &s->loops[i]);
        if (e != 0) {
            return lh_err_sys(err, LH_ENOMEM, e,
                              "could not start an event loop");
        }
        s->loops[i].started = true;
    }
    if (s->cfg.pipeline) {
        rc = lh_pipeline_start(s->db, &s->pipeline, err);
        if (rc != LH_OK) {
            lh_err_prefix(err, "the pipeline");
            return rc;
        }
    }
    write_server_file(s);
    return LH_OK;
}

lh_rc
lh_server_start(lh_db *db, const lh_server_config *cfg, lh_server **out,
                lh_err *err)
{
    *out = NULL;
    if (lh_db_readonly(db)) {
        return lh_err_set(err, LH_EREADONLY,
                          "a server needs a database opened for writing");
    }
    lh_server *s = lh_calloc(1, sizeof(*s));
    if (s == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    s->db = db;
    s->listen_fd[0] = s->listen_fd[1] = -1;
    s->stop_fd = -1;
    s->started = lh_mono_now();
    pthread_mutex_init(&s->watch_mu, NULL);
    pthread_mutex_init(&s->pg_mu, NULL);
    lh_map_init(&s->pg_backends);
    pthread_mutex_init(&s->q_mu, NULL);
    lh_map_init(&s->queries);
    lh_rc rc = start(s, cfg, err);
    if (rc != LH_OK) {
        lh_server_close(s);
        return rc;
    }
    *out = s;
    return LH_OK;
}

const char *
lh_server_address(lh_server *s, const char *protocol)
{
    int k = strcmp(protocol, "http") == 0 ? SRV_HTTP
            : strcmp(protocol, "pg") == 0 ? SRV_PG
                                          : -1;
    if (k < 0 || s->bound[k][0] == 0) {
        return NULL;
    }
    return s->bound[k];
}

void
lh_server_close(lh_server *s)
{
    if (s == NULL) {
        return;
    }
    bool running = false;
    for (int i = 0; i < s->nloops; i++) {
        running = running || s->loops[i].started;
    }
    if (running) {
        lh_server_stop(s);
        lh_server_wait(s);
    }
    lh_pipeline_stop(s->pipeline); /* waits for a flush in progress */
    s->pipeline = NULL;
    pthread_mutex_lock(&s->watch_mu);
    srv_watch *w = s->watches;
    s->watches = NULL;
    pthread_mutex_unlock(&s->watch_mu);
    for (srv_watch *x = w; x != NULL; x = x->next) {
        atomic_store(&x->stop, true);
    }
    while (w != NULL) {
        srv_watch *next = w->next;
        pthread_join(w->thread, NULL);
        lh_free(w->table);
        lh_free(w);
        w = next;
    }
    lh_pool_free(s->pool);
    for (int i = 0; i < s->nloops; i++) {
        loop_release(&s->loops[i]);
    }
    lh_free(s->loops);
    for (int k = 0; k < 2; k++) {
        if (s->listen_fd[k] >= 0) {
            close(s->listen_fd[k]);
        }
    }
    if (s->stop_fd >= 0) {
        close(s->stop_fd);
    }
    if (s->server_file != NULL) {
        unlink(s->server_file);
        lh_free(s->server_file);
    }
    lh__tokens_free(s->tokens);
    if (s->tls != NULL) {
        SSL_CTX_free(s->tls);
    }
    lh__srv_config_release(&s->cfg);
    pthread_mutex_destroy(&s->watch_mu);
    lh_map_release(&s->pg_backends);
    pthread_mutex_destroy(&s->pg_mu);
    lh__srv_queries_release(s);
    pthread_mutex_destroy(&s->q_mu);
    lh_free(s);
}
