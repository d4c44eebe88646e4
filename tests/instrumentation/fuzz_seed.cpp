// Writes a small valid stream (header, one events frame, trailer) as a seed for the decoder fuzzer.
#include <cstdio>

#include "stream_builder.h"

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    using namespace spanscope;
    test::StreamBuilder b;
    b.frame({test::makeEvent(1000001, EventKind::SpanAlloc, 0xc000000000, 21, 1, 64),
             test::makeEvent(1000002, EventKind::SpanRefill, 0xc000000000, 21, 1, 0, 64)});
    b.trailer();
    std::FILE* f = std::fopen(argv[1], "wb");
    if (!f) return 1;
    std::fwrite(b.bytes.data(), 1, b.bytes.size(), f);
    return std::fclose(f) == 0 ? 0 : 1;
}
