// libFuzzer target for StreamDecoder: any bytes, fed in one piece and in small pieces, must give
// events, a trailer or one clean error: never a crash, a hang or a read out of bounds.
#include <cstddef>
#include <cstdint>

#include "spanscope/decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    for (size_t chunk : {size ? size : size_t{1}, size_t{7}}) {
        spanscope::StreamDecoder d;
        size_t events = 0;
        for (size_t off = 0; off < size; off += chunk) {
            d.feed(data + off, off + chunk > size ? size - off : chunk);
            for (;;) {
                auto s = d.next();
                if (s == spanscope::StreamDecoder::Status::Events) events += d.events().size();
                if (s == spanscope::StreamDecoder::Status::NeedMore ||
                    s == spanscope::StreamDecoder::Status::Error)
                    break;
            }
        }
        (void)d.checkComplete();
        (void)events;
    }
    return 0;
}
