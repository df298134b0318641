/*
 * tpch_gen DIR SF [ROW_GROUP_ROWS]: writes the eight TPC-H tables at scale
 * factor SF as DIR/<table>.parquet (tpch_gen.h). DIR is created when
 * missing. Exit 0, 1 on a failure (the message on stderr), 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tpch_gen.h"

int
main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: tpch_gen DIR SF [ROW_GROUP_ROWS]\n");
        return 2;
    }
    char *end;
    double sf = strtod(argv[2], &end);
    if (*end || !(sf > 0)) {
        fprintf(stderr, "tpch_gen: bad scale factor \"%s\"\n", argv[2]);
        return 2;
    }
    unsigned long long rg = argc == 4 ? strtoull(argv[3], NULL, 10) : 0;
    if (mkdir(argv[1], 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "tpch_gen: could not create \"%s\": %s\n", argv[1],
                strerror(errno));
        return 1;
    }
    lh_err err = {0};
    if (lh_tpch_generate(argv[1], sf, rg, &err) != LH_OK) {
        fprintf(stderr, "tpch_gen: %s\n", err.msg);
        return 1;
    }
    return 0;
}
