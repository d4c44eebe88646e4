#!/usr/bin/env bash
# gcc under the preload: compiles a generated C program of a few thousand lines at -O2 (its
# diagnostics, `objdump -d` of the object and the program's output must match the plain run),
# links it (also with -flto), compiles a file with errors (diagnostics and exit status), and
# compiles and runs an STL-heavy C++ program with g++.
source "$(dirname "$0")/common.sh"
need gcc g++ objdump sha256sum
COMPARE_STDERR=1  # the compiler's diagnostics must match too

"$TESTDIR/gen_c_program.sh" 300 >"$WORK/prog.c"

cat >"$WORK/broken.c" <<'C'
#include <stdio.h>
struct point { int x, y; };
int f(struct point p) { return p.x + p.z; }          /* no member z */
int g(void) { int *q = 3.5; return undeclared + 1; } /* bad init, undeclared */
int h(int a) { if (a) return 1 }                     /* syntax error */
C

cat >"$WORK/stl.cpp" <<'CXX'
#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

template <typename T> struct Tree {
    struct Node { T v; std::unique_ptr<Node> l, r; };
    std::unique_ptr<Node> root;
    size_t n = 0;
    void insert(const T& v) {
        auto* p = &root;
        while (*p) p = v < (*p)->v ? &(*p)->l : &(*p)->r;
        *p = std::make_unique<Node>(Node{v, nullptr, nullptr});
        n++;
    }
    template <typename F> void walk(const Node* x, F&& f) const {
        if (!x) return;
        walk(x->l.get(), f); f(x->v); walk(x->r.get(), f);
    }
};

int main() {
    std::map<std::string, std::vector<int>> m;
    std::unordered_map<uint64_t, std::string> um;
    uint64_t s = 42;
    for (int i = 0; i < 200000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        std::string key = "k" + std::to_string((s >> 33) % 5000);
        m[key].push_back(static_cast<int>(s >> 40));
        um[s % 20000] = key + ":" + std::to_string(i);
    }
    size_t total = 0;
    for (auto& [k, v] : m) { std::sort(v.begin(), v.end()); total += v.size() + static_cast<size_t>(v.front() & 0xff); }
    std::cout << "map " << m.size() << " " << total << "\n";
    std::set<std::string> vals;
    for (auto& [k, v] : um) vals.insert(v);
    std::cout << "umap " << um.size() << " first " << *vals.begin() << " last " << *vals.rbegin() << "\n";
    Tree<std::string> t;
    for (int i = 0; i < 30000; i++) t.insert(std::to_string((i * 7919) % 30011));
    std::ostringstream os;
    size_t k = 0;
    t.walk(t.root.get(), [&](const std::string& v) { if (k++ % 3000 == 0) os << v << ","; });
    std::cout << "tree " << t.n << " " << os.str() << "\n";
    std::regex re(R"((\w+)-(\d+)-([a-f0-9]+))");
    std::string text;
    for (int i = 0; i < 2000; i++) text += "item-" + std::to_string(i) + "-" + std::to_string(i * 31) + "ab ";
    size_t matches = 0, digits = 0;
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) { matches++; digits += (*it)[2].length(); }
    std::cout << "regex " << matches << " " << digits << "\n";
    std::vector<double> xs(100000);
    std::iota(xs.begin(), xs.end(), 1.0);
    std::cout << std::setprecision(12) << "sum " << std::accumulate(xs.begin(), xs.end(), 0.0) << "\n";
}
CXX

workload() {
    cp "$WORK/prog.c" "$WORK/broken.c" "$WORK/stl.cpp" .
    echo "== gcc -O2 -c prog.c"
    P gcc -O2 -g -Wall -Wextra -c prog.c -o prog.o
    echo "== objdump -d prog.o"
    objdump -d prog.o | tee objdump.txt | sha256sum
    cat objdump.txt
    echo "== link and run"
    P gcc -O2 prog.o -o prog
    P ./prog x yy zzz
    echo "== gcc -O2 -flto=2 (lto-wrapper, lto1, 4 partitions compiled in parallel)"
    P gcc -O2 -flto=2 --param lto-partitions=4 -w prog.c -o prog-lto
    ./prog-lto x yy zzz | sha256sum
    echo "== gcc broken.c"
    P gcc -c -Wall broken.c -o broken.o || echo "gcc exit status $?"
    echo "== g++ -O2 stl.cpp"
    P g++ -O2 -std=c++17 -Wall stl.cpp -o stl
    objdump -d stl | sed -e '1,3d' | sha256sum
    P ./stl
}
compare_runs gcc workload
finish
