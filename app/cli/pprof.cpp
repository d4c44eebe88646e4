// spanscope-cli pprof: a session's heap profile as a gzipped pprof profile (profile.proto), the
// way Go's runtime/pprof writes a heap profile (protomem.go): sample types alloc_objects/count,
// alloc_space/bytes, inuse_objects/count, inuse_space/bytes, values scaled by scaleHeapSample,
// period_type space/bytes with the sampling rate, a "bytes" label with the objects' average size,
// and functions, files and lines filled in (has_functions etc.), so that 'go tool pprof -top'
// needs no binary. Encoded with libprotobuf (profile.proto, compiled by protoc) and gzipped with
// zlib; the file appears whole or not at all (written beside, then renamed).
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "cli.h"
#include "profile.pb.h"
#include "profile_cli.h"
#include "spanscope/profile.h"

namespace spanscope::cli {

using namespace spanscope::session;

namespace {

class Builder {
public:
    explicit Builder(pprof::Profile* p) : m_p(p) { str(""); }
    int64_t str(const std::string& s) {
        auto [it, fresh] = m_strings.try_emplace(s, static_cast<int64_t>(m_strings.size()));
        if (fresh) m_p->add_string_table(s);
        return it->second;
    }
    uint64_t function(const ProfileFrame& f) {
        auto key = std::make_pair(f.function, f.file);
        auto it = m_functions.find(key);
        if (it != m_functions.end()) return it->second;
        pprof::Function* fn = m_p->add_function();
        fn->set_id(m_functions.size() + 1);
        fn->set_name(str(f.function));
        fn->set_system_name(str(f.function));
        fn->set_filename(str(f.file));
        m_functions.emplace(key, fn->id());
        return fn->id();
    }
    uint64_t location(const HeapProfile& prof, uint64_t pc) {
        auto it = m_locations.find(pc);
        if (it != m_locations.end()) return it->second;
        pprof::Location* loc = m_p->add_location();
        loc->set_id(m_locations.size() + 1);
        loc->set_address(pc);
        if (const ProfileLocation* li = prof.location(pc)) {
            if (li->module > 0) loc->set_mapping_id(static_cast<uint64_t>(li->module));
            for (const ProfileFrame& f : li->frames) {
                pprof::Line* line = loc->add_line();
                line->set_function_id(function(f));
                line->set_line(f.line);
            }
        }
        m_locations.emplace(pc, loc->id());
        return loc->id();
    }

private:
    pprof::Profile* m_p;
    std::map<std::string, int64_t> m_strings;
    std::map<std::pair<std::string, std::string>, uint64_t> m_functions;
    std::map<uint64_t, uint64_t> m_locations;
};

void build(const HeapProfile& prof, pprof::Profile* out) {
    Builder b(out);
    for (auto [type, unit] : {std::pair{"alloc_objects", "count"},
                              {"alloc_space", "bytes"},
                              {"inuse_objects", "count"},
                              {"inuse_space", "bytes"}}) {
        pprof::ValueType* vt = out->add_sample_type();
        vt->set_type(b.str(type));
        vt->set_unit(b.str(unit));
    }
    out->mutable_period_type()->set_type(b.str("space"));
    out->mutable_period_type()->set_unit(b.str("bytes"));
    out->set_period(prof.rate);
    out->set_duration_nanos(prof.toNs - prof.fromNs);
    for (size_t m = 0; m < prof.modules.size(); m++) {
        pprof::Mapping* map = out->add_mapping();
        map->set_id(m + 1);
        map->set_memory_start(prof.modules[m].start);
        map->set_memory_limit(prof.modules[m].end);
        map->set_filename(b.str(prof.modules[m].path));
        map->set_build_id(b.str(prof.modules[m].buildId));
        map->set_has_functions(prof.symbolized);
        map->set_has_filenames(prof.symbolized);
        map->set_has_line_numbers(prof.symbolized);
        map->set_has_inline_frames(prof.symbolized);
    }
    for (const ProfileStack& s : prof.stacks) {
        int64_t ac, ab, ic, ib;
        scaleHeapSample(s.allocObjects, s.allocBytes, s.rate, &ac, &ab);
        scaleHeapSample(s.inuseObjects, s.inuseBytes, s.rate, &ic, &ib);
        if (!ac && !ab && !ic && !ib) continue;
        pprof::Sample* smp = out->add_sample();
        for (uint64_t pc : s.pcs) smp->add_location_id(b.location(prof, pc));
        for (int64_t v : {ac, ab, ic, ib}) smp->add_value(v);
        pprof::Label* label = smp->add_label();
        label->set_key(b.str("bytes"));
        label->set_num(s.allocObjects ? static_cast<int64_t>(s.allocBytes / s.allocObjects) : 0);
    }
}

bool gzip(const std::string& in, std::string* out) {
    z_stream z{};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    out->resize(deflateBound(&z, in.size()) + 64);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out->data());
    z.avail_out = static_cast<uInt>(out->size());
    const int rc = deflate(&z, Z_FINISH);
    out->resize(z.total_out);
    deflateEnd(&z);
    return rc == Z_STREAM_END;
}

// Writes data to path whole or not at all: a temporary file beside it, then rename.
bool writeAtomically(const std::string& path, const std::string& data, std::string* err) {
    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        *err = tmp + ": " + std::strerror(errno);
        return false;
    }
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            *err = tmp + ": " + std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            return false;
        }
        done += static_cast<size_t>(w);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        *err = path + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    return true;
}

}  // namespace

int pprofCommand(int argc, char** argv) {
    std::string path, output;
    ProfileWindowArgs w;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        int rc = -1;
        if (a == "--help" || a == "-h") {
            std::puts(
                "usage: spanscope-cli pprof FILE [--at T | --range A..B] -o heap.pb.gz\n\n"
                "Writes a session's heap profile as a gzipped pprof profile, as Go writes one\n"
                "(alloc_objects, alloc_space, inuse_objects, inuse_space; values scaled from the\n"
                "samples), with functions and lines, so that 'go tool pprof -top heap.pb.gz' "
                "needs\n"
                "no binary and 'go tool pprof -base old.pb.gz new.pb.gz' compares two moments.\n"
                "--at T: the profile at that moment (default: the end); --range A..B: only what\n"
                "was allocated between A and B. Times as in 'spanscope-cli top'.");
            return 0;
        }
        if (parseProfileWindow("pprof", argc, argv, &i, &w, &rc)) {
            if (rc >= 0) return rc;
            continue;
        }
        if (a == "-o") {
            if (i + 1 >= argc) return usageError("pprof", "-o needs a file name");
            output = argv[++i];
        } else if (!a.empty() && a[0] == '-') {
            return usageError("pprof", ("unknown option " + a).c_str());
        } else if (path.empty()) {
            path = a;
        } else {
            return usageError("pprof", "more than one FILE");
        }
    }
    if (path.empty()) return usageError("pprof", "missing FILE");
    if (output.empty()) return usageError("pprof", "missing -o OUTPUT (e.g. -o heap.pb.gz)");
    HeapProfile prof;
    std::string err;
    if (!loadHeapProfile(path, w.fromNs, w.atNs, w.ranged, &prof, &err)) {
        std::fprintf(stderr, "spanscope-cli pprof: %s\n", err.c_str());
        return 1;
    }
    pprof::Profile pb;
    build(prof, &pb);
    std::string raw, gz;
    if (!pb.SerializeToString(&raw) || !gzip(raw, &gz)) {
        std::fprintf(stderr, "spanscope-cli pprof: cannot encode the profile\n");
        return 1;
    }
    if (!writeAtomically(output, gz, &err)) {
        std::fprintf(stderr, "spanscope-cli pprof: %s\n", err.c_str());
        return 1;
    }
    std::printf("%s: %d samples, %d locations, %d functions (rate %lld B)\n", output.c_str(),
                pb.sample_size(), pb.location_size(), pb.function_size(),
                static_cast<long long>(prof.rate));
    return 0;
}

}  // namespace spanscope::cli
