// A program for the robustness tests (robustness_test.cpp), run under libspanscope.so:
//   robust_target huge [BYTES]    its first allocation asks for BYTES (default 2 TiB), then
//                                 posix_memalign with alignments up to 2^36; prints what it got
//   robust_target churn ROUNDS [UNTIL_FILE]
//                                 ROUNDS rounds of malloc/free churn, and more until UNTIL_FILE
//                                 exists; prints a checksum of what the first ROUNDS rounds read
//                                 back (the same on every run) on stdout, and the longest gap
//                                 between two rounds on stderr ("stall_ms=N")
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {
int huge(size_t bytes) {
    void* p = std::malloc(bytes);
    std::printf("malloc(%zu) %s\n", bytes, p ? "succeeded" : "failed");
    std::free(p);
    int failed = 0;
    for (int shift = 12; shift <= 36; shift += 8) {
        void* q = nullptr;
        if (posix_memalign(&q, size_t{1} << shift, 4096) != 0) failed++;
        std::free(q);
    }
    std::printf("posix_memalign: %d of 4 failed\n", failed);
    return 0;
}

int churn(long rounds, const char* until) {
    using Clock = std::chrono::steady_clock;
    auto last = Clock::now();
    double stallMs = 0;
    uint64_t sum = 0, x = 88172645463325252ull;
    std::vector<unsigned char*> live(2048, nullptr);
    for (long r = 0; r < rounds || (until && access(until, F_OK) != 0); r++) {
        for (int k = 0; k < 1000; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned char*& slot = live[x % live.size()];
            if (slot && r < rounds)
                sum = sum * 31 + slot[0] + slot[1];  // what was written is there
            std::free(slot);
            const size_t n = 8 + (x >> 20) % (x % 50 == 0 ? 60000 : 500);
            slot = static_cast<unsigned char*>(std::malloc(n));
            slot[0] = static_cast<unsigned char>(n);
            slot[1] = static_cast<unsigned char>(x);
        }
        const auto now = Clock::now();
        const double gap = std::chrono::duration<double, std::milli>(now - last).count();
        if (gap > stallMs) stallMs = gap;
        last = now;
    }
    for (unsigned char* p : live) std::free(p);
    std::printf("checksum=%llu\n", static_cast<unsigned long long>(sum));
    std::fprintf(stderr, "stall_ms=%.0f\n", stallMs);
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && !std::strcmp(argv[1], "huge"))
        return huge(argc >= 3 ? std::strtoull(argv[2], nullptr, 0) : size_t{2} << 40);
    if (argc >= 3 && !std::strcmp(argv[1], "churn"))
        return churn(std::atol(argv[2]), argc >= 4 ? argv[3] : nullptr);
    std::fprintf(stderr, "usage: robust_target huge [BYTES] | churn ROUNDS [UNTIL_FILE]\n");
    return 2;
}
