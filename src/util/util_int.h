/*
 * util internals: shared between the files of src/util/ and their unit
 * tests, nothing else.
 *
 * Design notes, one paragraph per concern:
 *
 * alloc.c: lh_malloc and friends are malloc with one atomic sequence counter
 *   in front. lh_alloc_fail_at(n) arms the counter; the allocation whose
 *   sequence number is n fails (and every later one when sticky). Only the
 *   allocation functions count, lh_free does not. lh_malloc(0) and
 *   lh_realloc(p, 0) return a live 1-byte block, so NULL always means
 *   "out of memory".
 *
 * arena.c: a singly linked list of blocks, newest first. The head block is
 *   the one being bumped; normal blocks double from 8 KiB up to 1 MiB. A
 *   request that does not fit the head and is larger than a quarter of the
 *   head's size gets a block of its own,
 *   linked behind the head so the head keeps serving small requests. `held`
 *   is the sum of the malloc sizes of the blocks and is what the budget
 *   caps; when a doubled block would cross the budget the arena falls back
 *   to the smallest block that fits. Reset keeps the oldest normal block.
 *
 * buf.c: capacity grows by doubling (at least 64 bytes) and always leaves
 *   room for the terminating NUL. Failed growth sets `oom`; every later
 *   append returns LH_ENOMEM without touching the data. lh_buf_reset keeps
 *   `oom` (callers flush and reset mid-run, then check once); only
 *   release, take and init clear it.
 *
 * map.c: open addressing with linear probing over a power-of-two table of
 *   slots {hash, key copy, klen, value}. A slot's key is NULL when empty and
 *   the address of a static sentinel when deleted (a tombstone). The table
 *   is rebuilt when live + tombstones would pass 70% of it; the rebuild
 *   sizes the new table for at most 35% load, so a put never rebuilds
 *   twice in a row, and drops the tombstones.
 *
 * time.c: lh_now() reads LH_NOW once (pthread_once); the test override
 *   (lh_time_set_frozen) is two atomics checked first. Civil dates use
 *   Howard Hinnant's days_from_civil / civil_from_days, exact over the whole
 *   int64 day range the µs clock can reach.
 *
 * uuid.c: v7 ids carry a 74-bit counter after the ms (rand_a's 12 bits and
 *   rand_b's 62), RFC 9562 section 6.2 method 1, under a mutex. A new ms
 *   seeds it from getrandom() with its top bit clear, so 2^73 increments
 *   fit before it could wrap; the same ms adds one. There are two counters:
 *   one for the newest ms seen, one for the last older ms asked for (see
 *   the comment in uuid.c).
 *
 * crc32c.c: the table path is slice-by-8 (8 KiB of tables built once); the
 *   SSE4.2 path uses the crc32 instruction 8 bytes at a time. The choice is
 *   made once at run time. Both take and return the CRC pre- and post-
 *   inverted like the public function, so they can be compared directly.
 */
#ifndef LH_UTIL_INT_H
#define LH_UTIL_INT_H

#include "util/util.h"

/* The table implementation, always available. */
uint32_t lh__crc32c_sw(uint32_t crc, const void *p, size_t n);
/* The SSE4.2 implementation; the table one when the CPU (or the build
 * target) lacks it. */
uint32_t lh__crc32c_hw(uint32_t crc, const void *p, size_t n);
/* True when lh__crc32c_hw really uses the crc32 instruction. */
bool lh__crc32c_has_hw(void);

/* Tests only, not thread-safe: reads LH_NOW again, as the first lh_now()
 * does. */
void lh__time_reload_env(void);

#endif
