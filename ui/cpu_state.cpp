// The vector registers' state after Qt's start-up (see cpu_state.h).
#include "cpu_state.h"

#if defined(__x86_64__)
#include <cpuid.h>

#include <cstdint>
#endif

namespace spanscope::ui {

#if defined(__x86_64__)
namespace {

struct Features {
    bool avx = false;     // AVX usable (CPUID.1:ECX.AVX and OSXSAVE, the OS saving YMM state)
    bool xinuse = false;  // XGETBV with ECX=1 (CPUID.(EAX=0DH,ECX=1):EAX[2])
};

Features features() {
    static const Features f = [] {
        Features out;
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!__get_cpuid(1, &a, &b, &c, &d)) return out;
        const bool osxsave = c & (1u << 27), avx = c & (1u << 28);
        if (!osxsave || !avx) return out;
        uint32_t lo = 0, hi = 0;
        asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        out.avx = (lo & 0x6) == 0x6;  // XMM and YMM state enabled by the OS
        if (out.avx && __get_cpuid_count(0xd, 1, &a, &b, &c, &d)) out.xinuse = a & (1u << 2);
        return out;
    }();
    return f;
}

}  // namespace

bool avxUpperStateInUse() {
    if (!features().xinuse) return false;
    uint32_t lo = 0, hi = 0;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
    return lo & (1u << 2);
}

void clearAvxUpperState() {
    if (features().avx) asm volatile("vzeroupper" ::: "memory");
}

#else

bool avxUpperStateInUse() {
    return false;
}
void clearAvxUpperState() {}

#endif

Application::Application(int& argc, char** argv) : QApplication(argc, argv) {
    clearAvxUpperState();  // before any thread is started from this one
}

bool Application::notify(QObject* receiver, QEvent* e) {
    clearAvxUpperState();
    return QApplication::notify(receiver, e);
}

}  // namespace spanscope::ui
