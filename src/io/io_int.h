/*
 * io internals shared by the implementations.
 *
 * io.c checks keys and arguments and dispatches to the store's methods, so
 * an implementation sees only valid keys, part numbers and ranges it still
 * has to cut to the object's size. An upload is the store it belongs to,
 * its key and the implementation's state; io.c frees the common part.
 */
#ifndef LH_IO_INT_H
#define LH_IO_INT_H

#include "io/io.h"

struct lh_io_upload {
    lh_io_store *s;
    char *key;  /* lh_malloc'd */
    void *impl; /* the implementation's, freed by its complete/abort */
};

/* Allocates an upload for s and key (LH_ENOMEM). */
lh_rc lh__io_upload_new(lh_io_store *s, const char *key, void *impl,
                        lh_io_upload **out, lh_err *err);
void lh__io_upload_free(lh_io_upload *u);

/* The quoted XXH3-128 hex of data (35 bytes with NUL). */
#define LH__IO_HASH_ETAG_LEN 34
void lh__io_etag_of(const void *data, size_t len, char etag[LH_IO_ETAG_MAX]);
/* The same from a canonical (big-endian) XXH3-128 digest. */
void lh__io_etag_format(const unsigned char digest[16],
                        char etag[LH_IO_ETAG_MAX]);

/* Cuts [off, off+len) to size; LH_EINVAL "range not satisfiable". */
lh_rc lh__io_range_fit(const char *key, uint64_t size, uint64_t off,
                       uint64_t *len, lh_err *err);

/* Sorts keys (char *) in byte order. */
void lh__io_sort_keys(char **keys, size_t n);

/* Fills page with the keys (sorted, unique, all matching the prefix) that
 * come after opts' start_after and token, at most max_keys; sizes and
 * ETags are left to the caller (`stat` is called per chosen key). */
typedef lh_rc (*lh__io_stat_fn)(void *ctx, const char *key, lh_io_entry *e,
                                lh_err *err);
lh_rc lh__io_page_fill(char **keys, size_t n, const lh_io_list_opts *opts,
                       lh_arena *a, lh_io_page *page, lh__io_stat_fn stat,
                       void *ctx, lh_err *err);

#endif
