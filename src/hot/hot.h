/*
 * hot: the event store on SQLite shards (the hot tier). Its public face is
 * the database, table, append and read API of include/lakehouse.h; this
 * header is what other modules (pipeline, router, exec) will use beside it:
 * table definitions and, with the SQL engine, scans into column batches.
 */
#ifndef LH_HOT_H
#define LH_HOT_H

#include "lakehouse.h"

#endif
