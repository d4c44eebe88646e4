// spanscope-cli top: the heaviest allocation sites of a session's heap profile (like
// heaptrack_print): in-use bytes at a moment, or bytes allocated within a time range, per
// function that called the allocator, scaled from the samples as Go's pprof does.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "cli.h"
#include "profile_cli.h"
#include "spanscope/profile.h"

namespace spanscope::cli {

using namespace spanscope::session;

namespace {

std::string human(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

std::string frameText(const ProfileFrame& f) {
    std::string s = f.function;
    if (!f.file.empty()) {
        const size_t slash = f.file.rfind('/');
        s += " (" + f.file.substr(slash == std::string::npos ? 0 : slash + 1) + ":" +
             std::to_string(f.line) + ")";
    }
    return s;
}

struct Site {
    std::string name;
    int64_t inuseObjects = 0, inuseBytes = 0, allocObjects = 0, allocBytes = 0;
    const ProfileStack* heaviest = nullptr;
    int64_t heaviestBytes = -1;
};

}  // namespace

bool parseProfileWindow(const char* cmd, int argc, char** argv, int* i, ProfileWindowArgs* w,
                        int* rc) {
    const std::string a = argv[*i];
    if (a != "--at" && a != "--range") return false;
    if (*i + 1 >= argc) {
        *rc = usageError(cmd, (a + " needs a value").c_str());
        return true;
    }
    const std::string v = argv[++*i];
    if (a == "--at") {
        if (!parseSessionTime(v, &w->atNs))
            *rc = usageError(cmd, "--at needs a time: 1.5, 1.5s, 200ms, 3000us, 5000ns or end");
        w->ranged = false;
        return true;
    }
    const size_t dots = v.find("..");
    if (dots == std::string::npos || !parseSessionTime(v.substr(0, dots), &w->fromNs) ||
        !parseSessionTime(v.substr(dots + 2), &w->atNs) || w->fromNs < 0 ||
        (w->atNs >= 0 && w->atNs < w->fromNs)) {
        *rc = usageError(cmd, "--range needs A..B with times A <= B (e.g. 1s..2.5s, or 1s..end)");
        return true;
    }
    w->ranged = true;
    return true;
}

int topCommand(int argc, char** argv) {
    std::string path;
    ProfileWindowArgs w;
    size_t limit = 20;
    bool stacks = false, tsv = false;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        int rc = -1;
        if (a == "--help" || a == "-h") {
            std::puts(
                "usage: spanscope-cli top FILE [--at T | --range A..B] [-n N] [--stacks]\n\n"
                "The heaviest allocation sites in a session's heap profile (Go's MemProfileRate\n"
                "sampling, SPANSCOPE_MEMPROFILERATE): per function that called the allocator,\n"
                "the bytes and objects in use at T (default: the end) and allocated up to T,\n"
                "estimated from the samples as Go's pprof scales them. --range A..B counts what\n"
                "was allocated between A and B instead (and, of that, what is live at B).\n"
                "Times: seconds (1.5 or 1.5s), 200ms, 3000us, 5000ns, or end. -n: sites shown\n"
                "(20); --stacks: the heaviest stack of each site; --tsv: for scripts, one line\n"
                "per site: in-use bytes, objects, allocated bytes, objects, function (exact\n"
                "integers, tab-separated, no header).");
            return 0;
        }
        if (parseProfileWindow("top", argc, argv, &i, &w, &rc)) {
            if (rc >= 0) return rc;
            continue;
        }
        if (a == "-n") {
            char* end = nullptr;
            const long n = i + 1 < argc ? std::strtol(argv[++i], &end, 10) : 0;
            if (!end || *end || n <= 0) return usageError("top", "-n needs a positive number");
            limit = static_cast<size_t>(n);
        } else if (a == "--stacks") {
            stacks = true;
        } else if (a == "--tsv") {
            tsv = true;
        } else if (!a.empty() && a[0] == '-') {
            return usageError("top", ("unknown option " + a).c_str());
        } else if (path.empty()) {
            path = a;
        } else {
            return usageError("top", "more than one FILE");
        }
    }
    if (path.empty()) return usageError("top", "missing FILE");
    HeapProfile p;
    std::string err;
    if (!loadHeapProfile(path, w.fromNs, w.atNs, w.ranged, &p, &err)) {
        std::fprintf(stderr, "spanscope-cli top: %s\n", err.c_str());
        return 1;
    }
    std::map<std::string, Site> sites;
    for (const ProfileStack& s : p.stacks) {
        const ProfileFrame* leaf = p.leafFrame(s);
        const std::string name = leaf ? leaf->function : "(no stack)";
        Site& site = sites[name];
        site.name = name;
        int64_t ic, ib, ac, ab;
        scaleHeapSample(s.inuseObjects, s.inuseBytes, s.rate, &ic, &ib);
        scaleHeapSample(s.allocObjects, s.allocBytes, s.rate, &ac, &ab);
        site.inuseObjects += ic;
        site.inuseBytes += ib;
        site.allocObjects += ac;
        site.allocBytes += ab;
        const int64_t weight = w.ranged ? ab : ib;
        if (weight > site.heaviestBytes) {
            site.heaviestBytes = weight;
            site.heaviest = &s;
        }
    }
    std::vector<Site> order;
    for (auto& [k, v] : sites) order.push_back(v);
    std::sort(order.begin(), order.end(), [&](const Site& x, const Site& y) {
        return w.ranged                       ? x.allocBytes > y.allocBytes
               : x.inuseBytes != y.inuseBytes ? x.inuseBytes > y.inuseBytes
                                              : x.allocBytes > y.allocBytes;
    });
    if (tsv) {
        for (size_t k = 0; k < order.size() && k < limit; k++)
            std::printf("%lld\t%lld\t%lld\t%lld\t%s\n", static_cast<long long>(order[k].inuseBytes),
                        static_cast<long long>(order[k].inuseObjects),
                        static_cast<long long>(order[k].allocBytes),
                        static_cast<long long>(order[k].allocObjects), order[k].name.c_str());
        return 0;
    }
    if (w.ranged)
        std::printf("heap profile of %s: allocated in %.3f s .. %.3f s", path.c_str(),
                    p.fromNs / 1e9, p.toNs / 1e9);
    else
        std::printf("heap profile of %s at %.3f s", path.c_str(), p.toNs / 1e9);
    std::printf(" (%llu samples, rate %lld B%s)\n", static_cast<unsigned long long>(p.samples),
                static_cast<long long>(p.rate), p.symbolized ? "" : "; not symbolized");
    std::printf("%12s %10s %12s %10s  %s\n", "in use", "objects", "allocated", "objects", "site");
    for (size_t k = 0; k < order.size() && k < limit; k++) {
        const Site& s = order[k];
        std::string name = s.name;
        if (s.heaviest) {
            if (const ProfileFrame* f = p.leafFrame(*s.heaviest)) name = frameText(*f);
        }
        std::printf("%12s %10lld %12s %10lld  %s\n",
                    human(static_cast<double>(s.inuseBytes)).c_str(),
                    static_cast<long long>(s.inuseObjects),
                    human(static_cast<double>(s.allocBytes)).c_str(),
                    static_cast<long long>(s.allocObjects), name.c_str());
        if (stacks && s.heaviest)
            for (uint64_t pc : s.heaviest->pcs) {
                const ProfileLocation* loc = p.location(pc);
                if (!loc) continue;
                for (const ProfileFrame& f : loc->frames)
                    std::printf("%36s%s\n", "", frameText(f).c_str());
            }
    }
    if (order.empty()) std::printf("(no sampled allocations in this window)\n");
    return 0;
}

}  // namespace spanscope::cli
