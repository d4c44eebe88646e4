// A program for the record tests: malloc/free churn on a few threads, then exit(status).
//   alloc_workload [--seconds S] [--threads N] [--exit CODE] [--forever] [--print-pid]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    double seconds = 0.3;
    int threads = 2, code = 0;
    bool forever = false;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--exit") && i + 1 < argc)
            code = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--forever"))
            forever = true;
    }
    auto work = [&](unsigned seed) {
        std::mt19937_64 rng(seed);
        std::vector<void*> live(4000, nullptr);
        auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (forever || std::chrono::steady_clock::now() < end) {
            for (int k = 0; k < 2000; k++) {
                void*& slot = live[rng() % live.size()];
                std::free(slot);
                size_t r = rng() % 100;
                size_t n = r < 70   ? 8 + rng() % 200
                           : r < 97 ? 256 + rng() % 4000
                                    : 40000 + rng() % 100000;
                slot = std::malloc(n);
                static_cast<char*>(slot)[0] = 1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        for (void* p : live) std::free(p);
    };
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++) ts.emplace_back(work, 1234u + t);
    for (auto& t : ts) t.join();
    std::printf("alloc_workload done\n");
    return code;
}
