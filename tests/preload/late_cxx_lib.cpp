// A C++ library that a C program loads after start-up (late_cxx_main.c): its operator new fails
// under the preload, and its catch must see the std::bad_alloc of its own C++ runtime, which the
// preload's weak references did not bind to (app/preload/preload.cpp, newSlow).
#include <cstddef>
#include <new>

extern "C" {
char* volatile g_lateCxxSink;

int lateCxxTryNew(size_t n) {
    try {
        g_lateCxxSink = new char[n];
    } catch (const std::bad_alloc&) {
        return 1;
    }
    delete[] g_lateCxxSink;
    return 0;
}
}
