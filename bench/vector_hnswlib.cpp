// bench/vector_hnswlib.cpp: hnswlib (Debian's header-only libhnswlib-dev)
// on the files bench_vector writes, compiled by bench_vector with
// -O3 -march=native so hnswlib runs its AVX-512 / AVX distance code.
//
// usage: vector_hnswlib BASE QUERIES GT N NQ DIM K M EFC BUILD_THREADS
//                       INDEX_OUT EF,EF,... THREADS,THREADS,...
// prints: "build_s S", "bytes_per_vector B",
//         "search THREADS EF RECALL QPS" per point.
#include <hnswlib/hnswlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

static double now_s() {
    return std::chrono::duration<double>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

template <class T> static std::vector<T> read_file(const char *p, size_t n) {
    std::vector<T> v(n);
    FILE *f = fopen(p, "rb");
    if (!f || fread(v.data(), sizeof(T), n, f) != n) {
        fprintf(stderr, "vector_hnswlib: cannot read %s\n", p);
        exit(1);
    }
    fclose(f);
    return v;
}

static std::vector<int> list(const char *s) {
    std::vector<int> out;
    std::stringstream ss(s);
    std::string x;
    while (std::getline(ss, x, ',')) out.push_back(atoi(x.c_str()));
    return out;
}

template <class F> static void parallel(int threads, size_t n, F fn) {
    std::atomic<size_t> next(0);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++)
        ts.emplace_back([&] {
            for (;;) {
                size_t i = next.fetch_add(1);
                if (i >= n) return;
                fn(i);
            }
        });
    for (auto &t : ts) t.join();
}

int main(int argc, char **argv) {
    if (argc != 14) {
        fprintf(stderr, "usage: see the header of vector_hnswlib.cpp\n");
        return 2;
    }
    size_t n = atol(argv[4]), nq = atol(argv[5]), dim = atol(argv[6]);
    size_t k = atol(argv[7]);
    int M = atoi(argv[8]), efc = atoi(argv[9]), bt = atoi(argv[10]);
    auto base = read_file<float>(argv[1], n * dim);
    auto qs = read_file<float>(argv[2], nq * dim);
    auto gt = read_file<int64_t>(argv[3], nq * k);
    hnswlib::L2Space space(dim);
    double t0 = now_s();
    auto *idx = new hnswlib::HierarchicalNSW<float>(&space, n, M, efc, 100);
    if (bt <= 1) {
        for (size_t i = 0; i < n; i++) idx->addPoint(&base[i * dim], i);
    } else {
        parallel(bt, n, [&](size_t i) { idx->addPoint(&base[i * dim], i); });
    }
    printf("build_s %.3f\n", now_s() - t0);
    idx->saveIndex(argv[11]);
    FILE *f = fopen(argv[11], "rb");
    fseek(f, 0, SEEK_END);
    printf("bytes_per_vector %.1f\n", (double)ftell(f) / n);
    fclose(f);
    remove(argv[11]);
    for (int threads : list(argv[13])) {
        for (int ef : list(argv[12])) {
            idx->setEf(ef);
            std::vector<size_t> found(nq * k);
            size_t rounds = 0;
            double t1 = now_s(), el = 0;
            do {
                parallel(threads, nq, [&](size_t q) {
                    auto r = idx->searchKnn(&qs[q * dim], k);
                    for (size_t i = r.size(); i-- > 0;) {
                        found[q * k + i] = r.top().second;
                        r.pop();
                    }
                });
                rounds++;
                el = now_s() - t1;
            } while (el < 0.5);
            size_t hit = 0;
            for (size_t q = 0; q < nq; q++)
                for (size_t i = 0; i < k; i++)
                    for (size_t j = 0; j < k; j++)
                        if ((int64_t)found[q * k + j] == gt[q * k + i]) {
                            hit++;
                            break;
                        }
            printf("search %d %d %.4f %.1f\n", threads, ef,
                   (double)hit / (nq * k), rounds * nq / el);
        }
    }
    delete idx;
    return 0;
}
