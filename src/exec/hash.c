/*
 * The group table: distinct key tuples in insertion order, each with a
 * row of aggregate state. Used by hash aggregation, DISTINCT and the set
 * operations.
 *
 * Layout: keys are stored by column (one array per key, with a validity
 * bitmap), the full 64-bit hash per group, the states row-major
 * (state_size bytes a group). The index is open addressing with linear
 * probing over group numbers, at most half full, so a probe usually looks
 * at one slot and compares the stored hash before any key. A batch is
 * hashed column by column first (lh__vec_hash), then probed.
 */
#include <string.h>

#include "exec/exec_int.h"

struct lh_gtable {
    lh_exec *ex;
    uint32_t nkeys;
    lh_type *types;
    uint32_t state_size;
    uint32_t ngroups, cap;
    uint64_t *hashes;
    lh_vector *keys; /* FLAT views over the key arrays (cap rows) */
    uint8_t *states;
    lh_arena strings;
    uint64_t *slots; /* group + 1 in the low half, the high half of its hash
                        in the high half (a probe reads one cache line of
                        the index before any key) */
    uint32_t nslots;
    int64_t charged;
    /* scratch for a batch */
    uint64_t *h;
    uint32_t hcap;
    /* DICT keys: per dictionary entry, its group (or UINT32_MAX unseen);
     * the entries used by the batch's rows */
    uint32_t *dgid, *dused;
    uint32_t dcap;
};

static lh_rc
charge(lh_gtable *g, int64_t bytes, lh_err *err)
{
    g->charged += bytes;
    return lh__exec_charge(g->ex, bytes, err);
}

static lh_rc
grow_groups(lh_gtable *g, uint32_t need, lh_err *err)
{
    if (need <= g->cap) {
        return LH_OK;
    }
    uint32_t ncap = g->cap ? g->cap : 64;
    while (ncap < need) {
        ncap *= 2;
    }
    int64_t bytes = 0;
    uint64_t *nh = lh_realloc(g->hashes, (size_t)ncap * sizeof(uint64_t));
    if (nh == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for the group table");
    }
    g->hashes = nh;
    bytes += (int64_t)(ncap - g->cap) * 8;
    for (uint32_t k = 0; k < g->nkeys; k++) {
        lh_vector *v = &g->keys[k];
        size_t w = lh_type_width(v->type);
        void *nd = lh_realloc(v->data, (size_t)ncap * w);
        if (nd == NULL) {
            return lh_err_set(err, LH_ENOMEM,
                              "out of memory for the group table");
        }
        v->data = nd;
        size_t oldw = ((size_t)g->cap + 63) / 64,
               neww = ((size_t)ncap + 63) / 64;
        uint64_t *nv = lh_realloc(v->validity, neww * 8);
        if (nv == NULL) {
            return lh_err_set(err, LH_ENOMEM,
                              "out of memory for the group table");
        }
        memset(nv + oldw, 0xff, (neww - oldw) * 8);
        v->validity = nv;
        bytes += (int64_t)((ncap - g->cap) * w + (neww - oldw) * 8);
    }
    if (g->state_size) {
        uint8_t *ns = lh_realloc(g->states, (size_t)ncap * g->state_size);
        if (ns == NULL) {
            return lh_err_set(err, LH_ENOMEM,
                              "out of memory for the group table");
        }
        g->states = ns;
        bytes += (int64_t)(ncap - g->cap) * g->state_size;
    }
    g->cap = ncap;
    return charge(g, bytes, err);
}

static inline uint64_t
slot_of(uint64_t h, uint32_t gi)
{
    return (h & 0xffffffff00000000ull) | ((uint64_t)gi + 1);
}

static lh_rc
rehash(lh_gtable *g, uint32_t nslots, lh_err *err)
{
    uint64_t *ns = lh_calloc(nslots, sizeof(uint64_t));
    if (ns == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for the group table");
    }
    uint32_t mask = nslots - 1;
    for (uint32_t gi = 0; gi < g->ngroups; gi++) {
        uint32_t s = (uint32_t)g->hashes[gi] & mask;
        while (ns[s]) {
            s = (s + 1) & mask;
        }
        ns[s] = slot_of(g->hashes[gi], gi);
    }
    lh_rc rc = charge(g, (int64_t)(nslots - g->nslots) * 8, err);
    lh_free(g->slots);
    g->slots = ns;
    g->nslots = nslots;
    return rc;
}

lh_rc
lh__gtable_new(lh_exec *ex, const lh_type *key_types, uint32_t nkeys,
               uint32_t state_size, lh_gtable **out, lh_err *err)
{
    lh_gtable *g = lh_calloc(1, sizeof(lh_gtable));
    if (g == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory for the group table");
    }
    g->ex = ex;
    g->nkeys = nkeys;
    g->state_size = state_size;
    lh_arena_init(&g->strings, 0);
    g->keys = lh_calloc(nkeys ? nkeys : 1, sizeof(lh_vector));
    if (g->keys == NULL) {
        lh_free(g);
        return lh_err_set(err, LH_ENOMEM, "out of memory for the group table");
    }
    for (uint32_t k = 0; k < nkeys; k++) {
        g->keys[k].type = key_types[k];
        g->keys[k].kind = LH_VEC_FLAT;
    }
    lh_rc rc = grow_groups(g, 64, err);
    if (rc == LH_OK) {
        rc = rehash(g, 128, err);
    }
    if (rc != LH_OK) {
        lh__gtable_free(g);
        return rc;
    }
    *out = g;
    return LH_OK;
}

void
lh__gtable_free(lh_gtable *g)
{
    if (g == NULL) {
        return;
    }
    for (uint32_t k = 0; k < g->nkeys; k++) {
        lh_free(g->keys[k].data);
        lh_free(g->keys[k].validity);
    }
    lh_free(g->keys);
    lh_free(g->hashes);
    lh_free(g->states);
    lh_free(g->slots);
    lh_free(g->h);
    lh_free(g->dgid);
    lh_free(g->dused);
    lh__exec_charge(g->ex, -g->charged, NULL);
    lh_arena_release(&g->strings);
    lh_free(g);
}

uint32_t
lh__gtable_count(const lh_gtable *g)
{
    return g->ngroups;
}

void *
lh__gtable_state(lh_gtable *g, uint32_t gid)
{
    return g->states + (size_t)gid * g->state_size;
}

static bool
keys_equal(const lh_gtable *g, uint32_t gi, const lh_vector *const *keys,
           uint32_t r)
{
    for (uint32_t k = 0; k < g->nkeys; k++) {
        const lh_vector *kv = &g->keys[k];
        bool gv = (kv->validity[gi >> 6] >> (gi & 63)) & 1;
        bool rv = lh_vec_valid(keys[k], r);
        if (gv != rv) {
            return false;
        }
        if (gv && !lh__vec_eq(kv, gi, keys[k], r)) {
            return false;
        }
    }
    return true;
}

static lh_rc
insert(lh_gtable *g, const lh_vector *const *keys, uint32_t r, uint64_t h,
       uint32_t *gid, lh_err *err)
{
    lh_rc rc = grow_groups(g, g->ngroups + 1, err);
    if (rc != LH_OK) {
        return rc;
    }
    uint32_t gi = g->ngroups++;
    g->hashes[gi] = h;
    size_t before = g->strings.held;
    for (uint32_t k = 0; k < g->nkeys; k++) {
        rc = lh__vec_copy_row(&g->strings, &g->keys[k], gi, keys[k], r, true,
                              err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (g->strings.held != before) {
        rc = charge(g, (int64_t)(g->strings.held - before), err);
        if (rc != LH_OK) {
            return rc;
        }
    }
    if (g->state_size) {
        memset(g->states + (size_t)gi * g->state_size, 0, g->state_size);
    }
    *gid = gi;
    if ((uint64_t)g->ngroups * 2 > g->nslots) {
        return rehash(g, g->nslots * 2, err);
    }
    /* place it in the index */
    uint32_t mask = g->nslots - 1;
    uint32_t s = (uint32_t)h & mask;
    while (g->slots[s]) {
        s = (s + 1) & mask;
    }
    g->slots[s] = slot_of(h, gi);
    return LH_OK;
}

static lh_rc probe(lh_gtable *g, const lh_vector *const *keys,
                   const uint32_t *sel, uint32_t n, uint32_t *gid, bool add,
                   lh_err *err);

/* One DICT key (no NULL entries in its dictionary): the groups of the
 * dictionary entries the rows use, found once each, then one lookup by
 * code a row; rows that are NULL take the general path. False when the
 * batch is not of that shape (nothing done). */
static bool
probe_dict(lh_gtable *g, const lh_vector *key, const uint32_t *sel, uint32_t n,
           uint32_t *gid, bool add, lh_rc *rc, lh_err *err)
{
    uint32_t dn = key->dict_size;
    if (g->nkeys != 1 || key->kind != LH_VEC_DICT || dn == 0 || dn >= n ||
        key->dict->validity != NULL) {
        return false;
    }
    if (dn > g->dcap) {
        uint32_t *a = lh_realloc(g->dgid, (size_t)dn * sizeof(uint32_t));
        if (a) {
            g->dgid = a;
        }
        uint32_t *b =
            a ? lh_realloc(g->dused, (size_t)dn * sizeof(uint32_t)) : NULL;
        if (b) {
            g->dused = b;
        }
        if (a == NULL || b == NULL) {
            *rc = lh_err_set(err, LH_ENOMEM, "out of memory hashing keys");
            return true;
        }
        g->dcap = dn;
    }
    const uint32_t *codes = key->data;
    for (uint32_t e = 0; e < dn; e++) {
        g->dgid[e] = UINT32_MAX - 1; /* not used by this batch */
    }
    uint32_t nused = 0;
    bool nulls = false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lh_row(sel, i);
        if (!lh_vec_valid(key, r)) {
            nulls = true;
            continue;
        }
        uint32_t c = codes[r];
        if (c >= dn) {
            return false; /* not a code of this dictionary: general path */
        }
        if (g->dgid[c] == UINT32_MAX - 1) {
            g->dgid[c] = UINT32_MAX;
            g->dused[nused++] = c;
        }
    }
    const lh_vector *d = key->dict;
    uint32_t *found = lh_malloc((size_t)(nused ? nused : 1) * sizeof(uint32_t));
    if (found == NULL) {
        *rc = lh_err_set(err, LH_ENOMEM, "out of memory hashing keys");
        return true;
    }
    *rc = probe(g, &d, g->dused, nused, found, add, err);
    for (uint32_t k = 0; k < nused && *rc == LH_OK; k++) {
        g->dgid[g->dused[k]] = found[k];
    }
    lh_free(found);
    if (*rc != LH_OK) {
        return true;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lh_row(sel, i);
        gid[i] = lh_vec_valid(key, r) ? g->dgid[codes[r]] : UINT32_MAX;
    }
    if (nulls) {
        /* the NULL rows, one at a time through the general path */
        for (uint32_t i = 0; i < n && *rc == LH_OK; i++) {
            uint32_t r = lh_row(sel, i);
            if (!lh_vec_valid(key, r)) {
                *rc = probe(g, &key, &r, 1, &gid[i], add, err);
            }
        }
    }
    return true;
}

static lh_rc
probe(lh_gtable *g, const lh_vector *const *keys, const uint32_t *sel,
      uint32_t n, uint32_t *gid, bool add, lh_err *err)
{
    lh_rc drc = LH_OK;
    if (g->nkeys == 1 && keys[0]->kind == LH_VEC_DICT &&
        probe_dict(g, keys[0], sel, n, gid, add, &drc, err)) {
        return drc;
    }
    if (g->nkeys == 0) {
        if (g->ngroups == 0 && add && n > 0) {
            uint32_t gi;
            lh_rc rc = insert(g, keys, 0, 0, &gi, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        for (uint32_t i = 0; i < n; i++) {
            gid[i] = g->ngroups ? 0 : UINT32_MAX;
        }
        return LH_OK;
    }
    if (n > g->hcap) {
        uint64_t *nh = lh_realloc(g->h, (size_t)n * sizeof(uint64_t));
        if (nh == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory hashing keys");
        }
        g->h = nh;
        g->hcap = n;
    }
    for (uint32_t k = 0; k < g->nkeys; k++) {
        lh__vec_hash(keys[k], sel, n, g->h, k > 0);
    }
    /* A table past the caches costs a miss a row: ask for the batch's
     * slots first, so the misses overlap instead of queueing. */
    if ((size_t)g->nslots * sizeof(uint64_t) > ((size_t)256 << 10)) {
        uint32_t mask = g->nslots - 1;
        for (uint32_t i = 0; i < n; i++) {
            __builtin_prefetch(&g->slots[(uint32_t)g->h[i] & mask]);
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = lh_row(sel, i);
        uint64_t h = g->h[i];
        uint32_t mask = g->nslots - 1;
        uint32_t s = (uint32_t)h & mask;
        uint32_t found = UINT32_MAX;
        uint64_t hi = h & 0xffffffff00000000ull;
        uint64_t sv;
        while ((sv = g->slots[s]) != 0) {
            uint32_t gi = (uint32_t)sv - 1;
            if ((sv & 0xffffffff00000000ull) == hi &&
                keys_equal(g, gi, keys, r)) {
                found = gi;
                break;
            }
            s = (s + 1) & mask;
        }
        if (found == UINT32_MAX && add) {
            lh_rc rc = insert(g, keys, r, h, &found, err);
            if (rc != LH_OK) {
                return rc;
            }
        }
        gid[i] = found;
    }
    return LH_OK;
}

lh_rc
lh__gtable_find(lh_gtable *g, const lh_vector *const *keys, uint32_t count,
                const uint32_t *sel, uint32_t n, uint32_t *gid, lh_err *err)
{
    (void)count;
    return probe(g, keys, sel, n, gid, true, err);
}

lh_rc lh__gtable_lookup(lh_gtable *g, const lh_vector *const *keys,
                        const uint32_t *sel, uint32_t n, uint32_t *gid,
                        lh_err *err);

lh_rc
lh__gtable_lookup(lh_gtable *g, const lh_vector *const *keys,
                  const uint32_t *sel, uint32_t n, uint32_t *gid, lh_err *err)
{
    return probe(g, keys, sel, n, gid, false, err);
}

lh_rc
lh__gtable_keys(lh_gtable *g, uint32_t k, uint32_t from, uint32_t n,
                lh_arena *a, lh_vector **out, lh_err *err)
{
    const lh_vector *src = &g->keys[k];
    lh_vector *v = lh_arena_alloc(a, sizeof(lh_vector));
    if (v == NULL) {
        return lh_err_set(err, LH_ENOMEM, "out of memory");
    }
    /* a view into the table: valid while the table does not grow */
    memset(v, 0, sizeof *v);
    v->type = src->type;
    v->kind = LH_VEC_FLAT;
    size_t w = lh_type_width(src->type);
    v->data = (char *)src->data + (size_t)from * w;
    if (from % 64 == 0) {
        v->validity = src->validity + from / 64;
    } else {
        v->validity = lh_arena_alloc(a, ((size_t)n + 63) / 64 * 8 + 8);
        if (v->validity == NULL) {
            return lh_err_set(err, LH_ENOMEM, "out of memory");
        }
        for (uint32_t i = 0; i < n; i++) {
            uint32_t gi = from + i;
            lh_bit_set(v->validity, i,
                       (src->validity[gi >> 6] >> (gi & 63)) & 1);
        }
    }
    *out = v;
    return LH_OK;
}
