// The peers of bench_convert_limits.py: the fields of a CSV column group parsed one by one by
// fast_float::from_chars (double; int64 too from fast_float 7, else std::from_chars), the
// fields packed end to end in one buffer (no CSV, no index: an easier job than a converter's).
// Input file: per field a 4-byte little-endian length, then its bytes. Prints JSON: ns a
// value, best of reps passes; with OUT_FILE, writes the values (native doubles or int64s, in
// the fields' order) there.
#include <fast_float/fast_float.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#ifndef FASTFLOAT_VERSION_STR
#define FASTFLOAT_VERSION_STR "unknown"
#endif
#if defined(FASTFLOAT_VERSION_MAJOR) && FASTFLOAT_VERSION_MAJOR >= 7
#define INT_PARSER "fast_float::from_chars"
#define INT_NS fast_float
#else
#define INT_PARSER "std::from_chars"
#define INT_NS std
#endif

template <class T, class Parse>
static double best_ns(const std::vector<char> &data, const std::vector<uint32_t> &off, int reps,
                      Parse parse, size_t *bad, double *sum, const char *out_path)
{
    const size_t n = off.size() - 1;
    std::vector<T> out(n);
    double best = 1e30;
    for (int r = 0; r <= reps; r++) { // pass 0 untimed: writes every page of out
        size_t b = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (size_t i = 0; i < n; i++)
            b += !parse(data.data() + off[i], data.data() + off[i + 1], out[i]);
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (r && t < best)
            best = t;
        *bad = b;
    }
    double s = 0; // the values are used, so the loop cannot be dropped
    for (const T v : out)
        s += (double)v;
    *sum = s;
    if (out_path) {
        FILE *o = fopen(out_path, "wb");
        if (!o || fwrite(out.data(), sizeof(T), n, o) != n || fclose(o)) {
            perror(out_path);
            exit(1);
        }
    }
    return best * 1e9 / (double)n;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: from_chars FIELDS_FILE double|int64 REPS [OUT_FILE]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    const bool dbl = strcmp(argv[2], "double") == 0;
    const int reps = atoi(argv[3]);
    const char *out_path = argc == 5 ? argv[4] : nullptr;
    std::vector<char> data;
    std::vector<uint32_t> off{0};
    uint32_t len;
    std::vector<char> tmp;
    while (fread(&len, 4, 1, f) == 1) {
        tmp.resize(len);
        if (fread(tmp.data(), 1, len, f) != len)
            return 1;
        data.insert(data.end(), tmp.begin(), tmp.end());
        off.push_back((uint32_t)data.size());
    }
    fclose(f);
    size_t bad = 0;
    double sum = 0, ns;
    if (dbl)
        ns = best_ns<double>(data, off, reps,
                             [](const char *a, const char *b, double &v) {
                                 const auto r = fast_float::from_chars(a, b, v);
                                 return r.ec == std::errc() && r.ptr == b;
                             },
                             &bad, &sum, out_path);
    else
        ns = best_ns<int64_t>(data, off, reps,
                              [](const char *a, const char *b, int64_t &v) {
                                  const auto r = INT_NS::from_chars(a, b, v);
                                  return r.ec == std::errc() && r.ptr == b;
                              },
                              &bad, &sum, out_path);
    printf("{\"ns\": %.4f, \"fields\": %zu, \"unparsed\": %zu, \"checksum\": %.17g, "
           "\"fast_float\": \"%s\", \"parser\": \"%s\"}\n",
           ns, off.size() - 1, bad, sum, FASTFLOAT_VERSION_STR,
           dbl ? "fast_float::from_chars" : INT_PARSER);
    return 0;
}
