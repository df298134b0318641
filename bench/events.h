/*
 * events.h: the events data set the benchmarks share (bench_parquet,
 * bench_queries), like an order event: event_id (UUID text), stream
 * ("order-NNNNNNNN", four events each), version, type (placed, paid,
 * shipped, delivered), ts (TIMESTAMPTZ, 30 s apart from 2026-01-01: 1M
 * events span 347 days),
 * tenant (100), product (10,000), user_id (100,000), revenue
 * (DECIMAL(12,2)), quantity, region (12) and a JSON payload (NULL in 1 of
 * 20); deterministic, so every run makes the same rows.
 */
#ifndef LH_BENCH_EVENTS_H
#define LH_BENCH_EVENTS_H

#include <stdint.h>

#include "column/batch.h"

#define BENCH_EVENT_COLS 12

extern const char *const bench_event_names[BENCH_EVENT_COLS];

/* A 64-bit mixer (splitmix64's finalizer): the data set's randomness. */
uint64_t bench_mix(uint64_t x);

/* Rows [start, start + n) of the data set into b (memory in a); exits 1
 * when a vector cannot be allocated. */
void bench_events_batch(uint64_t start, uint32_t n, lh_arena *a, lh_batch *b);

#endif
