# bench/vector_faiss.py: faiss IndexIVFPQ (Debian's python3-faiss, run with
# /usr/bin/python3) on the files bench_vector writes.
#
# usage: vector_faiss.py BASE QUERIES GT N NQ DIM K NLIST M ITERS
#                        NPROBE,... REFINE,... THREADS,...
# prints: "train_s T S", "add_s T S" per thread count, then
#         "search THREADS NPROBE REFINE RECALL QPS" per point.
import sys
import time

import faiss
import numpy as np


def main():
    a = sys.argv[1:]
    n, nq, dim, k, nlist, m, iters = (int(x) for x in a[3:10])
    nprobes = [int(x) for x in a[10].split(",")]
    refines = [int(x) for x in a[11].split(",")]
    threads = [int(x) for x in a[12].split(",")]
    xb = np.fromfile(a[0], dtype="float32").reshape(n, dim)
    xq = np.fromfile(a[1], dtype="float32").reshape(nq, dim)
    gt = np.fromfile(a[2], dtype="int64").reshape(nq, k)
    idx = None
    for t in threads:
        faiss.omp_set_num_threads(t)
        quant = faiss.IndexFlatL2(dim)
        idx = faiss.IndexIVFPQ(quant, dim, nlist, m, 8)
        idx.cp.niter = iters
        idx.pq.cp.niter = iters
        t0 = time.perf_counter()
        idx.train(xb)
        print("train_s %d %.3f" % (t, time.perf_counter() - t0))
        t0 = time.perf_counter()
        idx.add(xb)
        print("add_s %d %.3f" % (t, time.perf_counter() - t0), flush=True)
    for t in threads:
        faiss.omp_set_num_threads(t)
        for p in nprobes:
            idx.nprobe = p
            for r in refines:
                if r > 1:
                    s = faiss.IndexRefineFlat(idx, faiss.swig_ptr(xb))
                    s.k_factor = r
                else:
                    s = idx
                rounds = 0
                t0 = time.perf_counter()
                while True:
                    _, found = s.search(xq, k)
                    rounds += 1
                    el = time.perf_counter() - t0
                    if el >= 0.5:
                        break
                hit = sum(len(set(found[q]) & set(gt[q])) for q in range(nq))
                print("search %d %d %d %.4f %.1f"
                      % (t, p, r, hit / (nq * k), rounds * nq / el),
                      flush=True)


main()
