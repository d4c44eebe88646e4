// End-to-end tests of spanscope-cli diff, export (--perfetto, --csv) and frames on real
// recordings of the GOGC 50 and 400 demos: diffs agree with each session's own figures, the
// Perfetto JSON is well formed, the CSV files match the session's tables, frames = duration x fps.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "spanscope/session.h"
#include "spanscope/session_range.h"

using nlohmann::json;

namespace {
const std::string kCli = SPANSCOPE_CLI;

std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// The two recordings are made once for the whole suite by the ctest fixture cli_export_record
// (tests/app/CMakeLists.txt) into SPANSCOPE_FIXTURE_DIR; each test writes into its own directory.
class CliExport : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        char tmpl[] = "/tmp/spanscope-export-XXXXXX";
        s_dir = mkdtemp(tmpl);
        for (const char* name : {"gogc50.db", "gogc400.db"}) {
            const std::string from = std::string(SPANSCOPE_FIXTURE_DIR) + "/" + name;
            s_recorded = s_recorded && access(from.c_str(), R_OK) == 0 &&
                         std::system(("cp " + from + " " + s_dir + "/" + name).c_str()) == 0;
        }
    }
    static void TearDownTestSuite() { std::system(("rm -rf " + s_dir).c_str()); }
    void SetUp() override {
        ASSERT_TRUE(s_recorded)
            << "the demo recordings are missing (run the cli_export_record test)";
    }
    static std::string path(const std::string& name) { return s_dir + "/" + name; }
    int run(const std::string& args) {
        const int st =
            std::system((kCli + " " + args + " >" + path("out") + " 2>" + path("err")).c_str());
        out = slurp(path("out"));
        err = slurp(path("err"));
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    static double sqlOne(const std::string& db, const std::string& sql) {
        sqlite3* h = nullptr;
        sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
        sqlite3_stmt* st = nullptr;
        double v = -1;
        if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(h);
        return v;
    }
    std::string out, err;
    static inline std::string s_dir;
    static inline bool s_recorded = true;
};

// Every {a, b, delta} object under j.
void forEachFigure(const json& j, const std::function<void(const std::string&, const json&)>& fn,
                   const std::string& where = "") {
    if (!j.is_object()) {
        if (j.is_array())
            for (const auto& x : j) forEachFigure(x, fn, where);
        return;
    }
    if (j.contains("a") && j.contains("b") && j.contains("delta") && j["a"].is_number()) {
        fn(where, j);
        return;
    }
    for (auto it = j.begin(); it != j.end(); ++it)
        forEachFigure(it.value(), fn, where + "/" + it.key());
}
}  // namespace

TEST_F(CliExport, ASessionDiffedWithItselfIsAllZeros) {
    ASSERT_EQ(run("diff " + path("gogc50.db") + " " + path("gogc50.db") + " --json"), 0) << err;
    const json j = json::parse(out);
    size_t figures = 0;
    forEachFigure(j, [&](const std::string& where, const json& f) {
        EXPECT_EQ(f["delta"].get<int64_t>(), 0) << where;
        EXPECT_EQ(f["a"], f["b"]) << where;
        figures++;
    });
    EXPECT_GT(figures, 20u);
    EXPECT_GT(j["summary"]["cycles"]["a"].get<int64_t>(), 0);
    EXPECT_FALSE(j["classes"].empty());
}

TEST_F(CliExport, Gogc50HasMoreCyclesAndASmallerPeakThan400) {
    ASSERT_EQ(run("diff " + path("gogc50.db") + " " + path("gogc400.db") + " --json"), 0) << err;
    const json j = json::parse(out);
    const json& s = j["summary"];
    EXPECT_GT(s["cycles"]["a"].get<int64_t>(), s["cycles"]["b"].get<int64_t>());
    EXPECT_LT(s["cycles"]["delta"].get<int64_t>(), 0);
    EXPECT_LT(s["peakHeapInuse"]["a"].get<int64_t>(), s["peakHeapInuse"]["b"].get<int64_t>());
    EXPECT_GT(s["peakHeapInuse"]["delta"].get<int64_t>(), 0);
    // The figures are each session's own: cycles as gc_cycles counts them.
    EXPECT_EQ(s["cycles"]["a"].get<double>(),
              sqlOne(path("gogc50.db"), "SELECT count(*) FROM gc_cycles"));
    EXPECT_EQ(s["peakHeapAlloc"]["b"].get<double>(),
              sqlOne(path("gogc400.db"), "SELECT max(heap_alloc) FROM heap_totals"));
    forEachFigure(j, [&](const std::string& where, const json& f) {
        EXPECT_EQ(f["delta"].get<int64_t>(), f["b"].get<int64_t>() - f["a"].get<int64_t>())
            << where;
    });
    // The text form says the same.
    ASSERT_EQ(run("diff " + path("gogc50.db") + " " + path("gogc400.db")), 0) << err;
    EXPECT_NE(out.find("cycles"), std::string::npos);
    EXPECT_NE(out.find("per size class"), std::string::npos);
}

TEST_F(CliExport, DiffAndExportRefuseBadInput) {
    EXPECT_EQ(run("diff " + path("gogc50.db")), 2);
    EXPECT_NE(err.find("two session files"), std::string::npos) << err;
    EXPECT_EQ(run("diff " + path("gogc50.db") + " " + path("missing.db")), 1);
    EXPECT_NE(err.find("missing.db"), std::string::npos) << err;
    EXPECT_EQ(run("export " + path("gogc50.db")), 2);
    std::ofstream(path("junk.db")) << "not a session";
    EXPECT_EQ(run("export " + path("junk.db") + " --perfetto " + path("junk.json")), 1);
    EXPECT_NE(err.find("not a spanscope session"), std::string::npos) << err;
    EXPECT_NE(access(path("junk.json").c_str(), F_OK), 0);  // nothing written
    EXPECT_EQ(run("export " + path("gogc50.db") + " --perfetto /nonexistent-dir/x.json"), 1);
    EXPECT_NE(err.find("/nonexistent-dir/x.json"), std::string::npos) << err;
}

// report --from --to: the figures the GUI's range views show (session::rangeStats), and what the
// class counters say when summed with SQL over the same range.
TEST_F(CliExport, ReportOfARangeIsTheRangeStatsAndTheCountersSum) {
    const std::string db = path("gogc50.db");
    ASSERT_EQ(run("report " + db + " --from 0.5 --to 1.5 --json"), 0) << err;
    const json j = json::parse(out);
    std::string why;
    auto r = spanscope::session::SessionReader::open(db, &why);
    ASSERT_TRUE(r) << why;
    const int64_t t0 = 500000000, t1 = std::min<int64_t>(1500000000, r->info().endNs);
    const auto s = spanscope::session::rangeStats(*r, t0, t1);
    EXPECT_EQ(j["range"]["t0_ns"].get<int64_t>(), s.t0);
    EXPECT_EQ(j["range"]["t1_ns"].get<int64_t>(), s.t1);
    EXPECT_EQ(j["objects_allocated"].get<uint64_t>(), s.allocObjects);
    EXPECT_EQ(j["objects_freed"].get<uint64_t>(), s.freedObjects);
    EXPECT_EQ(j["bytes_allocated"].get<uint64_t>(), s.allocBytes);
    EXPECT_EQ(j["spans_taken"].get<uint64_t>(), s.spansTaken);
    EXPECT_EQ(j["spans_returned"].get<uint64_t>(), s.spansReturned);
    EXPECT_EQ(j["cycles"].size(), s.cycles.size());
    EXPECT_EQ(j["pauses"].size(), s.pauses.size());
    EXPECT_GT(s.cycles.size(), 0u);  // GOGC=50 collects many times a second
    ASSERT_EQ(j["classes"].size(), s.classes.size());
    uint64_t taken = 0;
    for (size_t i = 0; i < s.classes.size(); i++) {
        EXPECT_EQ(j["classes"][i]["class"].get<int>(), s.classes[i].sizeClass);
        EXPECT_EQ(j["classes"][i]["objects_allocated"].get<uint64_t>(), s.classes[i].allocObjects);
        EXPECT_EQ(j["classes"][i]["spans_taken"].get<uint64_t>(), s.classes[i].spansTaken);
        taken += j["classes"][i]["spans_taken"].get<uint64_t>();
    }
    EXPECT_EQ(taken, s.spansTaken);  // per class they sum to the total
    const auto* frag = s.find("Fragmentation");
    ASSERT_TRUE(frag && frag->samples);
    EXPECT_EQ(j["series"]["Fragmentation"]["max"].get<uint64_t>(), frag->max);
    // Independently: each class's latest cumulative mallocs at or before t1 less its latest before
    // t0.
    const std::string q =
        "SELECT sum(coalesce((SELECT mallocs FROM class_counters c WHERE c.class = k.class AND "
        "t_ns <= " +
        std::to_string(t1) +
        " ORDER BY t_ns DESC LIMIT 1), 0) - coalesce((SELECT mallocs FROM class_counters c WHERE "
        "c.class = k.class AND t_ns < " +
        std::to_string(t0) +
        " ORDER BY t_ns DESC LIMIT 1), 0)) FROM (SELECT DISTINCT class FROM class_counters) k";
    EXPECT_EQ(j["objects_allocated"].get<double>(), sqlOne(db, q));
    EXPECT_GT(j["objects_allocated"].get<uint64_t>(), 0u);
    // The text form, and bad ranges refused.
    ASSERT_EQ(run("report " + db + " --from 0.5 --to 1.5"), 0) << err;
    EXPECT_NE(out.find("objects allocated"), std::string::npos);
    EXPECT_NE(out.find(std::to_string(s.allocObjects)), std::string::npos);
    EXPECT_EQ(run("report " + db + " --from 1.5 --to 0.5"), 2);
    EXPECT_NE(err.find("--from"), std::string::npos) << err;
    EXPECT_EQ(run("report " + db + " --from soon"), 2);
    EXPECT_EQ(run("report " + db + " --at 1 --to 2"), 2);
    EXPECT_EQ(run("report " + db + " --from 1000"), 2);  // past the end: said, not an empty range
    EXPECT_NE(err.find("after the session's end"), std::string::npos) << err;
}

TEST_F(CliExport, PerfettoJsonIsWellFormedNestedAndCarriesTheSeries) {
    const std::string db = path("gogc50.db"), trace = path("trace.json");
    ASSERT_EQ(run("export " + db + " --perfetto " + trace), 0) << err;
    const json j = json::parse(slurp(trace));
    ASSERT_TRUE(j["traceEvents"].is_array());
    std::map<int64_t, std::vector<std::pair<double, double>>> slicesByTid;
    std::map<std::string, std::vector<double>> counters;
    std::map<int64_t, std::string> threadNames;
    for (const json& e : j["traceEvents"]) {
        for (const char* key : {"ph", "ts", "pid", "tid", "name"}) {
            ASSERT_TRUE(e.contains(key)) << key << " in " << e;
        }
        const std::string ph = e["ph"];
        if (ph == "X") {
            ASSERT_GE(e["dur"].get<double>(), 0);
            slicesByTid[e["tid"].get<int64_t>()].push_back(
                {e["ts"].get<double>(), e["ts"].get<double>() + e["dur"].get<double>()});
        } else if (ph == "C") {
            const auto& args = e["args"];
            ASSERT_EQ(args.size(), 1u);
            counters[e["name"]].push_back(args.begin().value().get<double>());
        } else if (ph == "M" && e["name"] == "thread_name") {
            threadNames[e["tid"].get<int64_t>()] = e["args"]["name"];
        } else {
            ASSERT_EQ(ph, "M");
        }
    }
    // Slices on one track nest: sorted by start (longest first), each lies inside the enclosing
    // one.
    size_t slices = 0;
    for (auto& [tid, v] : slicesByTid) {
        EXPECT_TRUE(threadNames.count(tid)) << "track " << tid << " has no name";
        std::sort(v.begin(), v.end(), [](auto x, auto y) {
            return x.first != y.first ? x.first < y.first : x.second > y.second;
        });
        std::vector<double> open;  // ends of the enclosing slices
        for (const auto& [b, e] : v) {
            while (!open.empty() && b >= open.back() - 1e-6) open.pop_back();
            if (!open.empty()) {
                EXPECT_LE(e, open.back() + 1e-6)
                    << "slice [" << b << ", " << e << "] on track " << tid;
            }
            open.push_back(e);
            slices++;
        }
    }
    const double cycles = sqlOne(db, "SELECT count(*) FROM gc_cycles");
    EXPECT_GE(double(slices),
              cycles * 4);  // each cycle and its sweep termination, mark, mark termination
    // Counters: one point per heap_totals row, each series' values those of the session.
    const double samples = sqlOne(db, "SELECT count(*) FROM heap_totals");
    ASSERT_GT(samples, 0);
    for (const char* name :
         {"HeapAlloc", "HeapInuse", "HeapSys", "HeapReleased", "HeapObjects", "Fragmentation"})
        EXPECT_EQ(double(counters[name].size()), samples) << name;
    EXPECT_EQ(*std::max_element(counters["HeapAlloc"].begin(), counters["HeapAlloc"].end()),
              sqlOne(db, "SELECT max(heap_alloc) FROM heap_totals"));
    EXPECT_EQ(counters["HeapInuse"].back(),
              sqlOne(db, "SELECT heap_inuse FROM heap_totals ORDER BY t_ns DESC LIMIT 1"));
}

TEST_F(CliExport, CsvRowsAndColumnsMatchTheSession) {
    const std::string db = path("gogc400.db"), dir = path("csv");
    ASSERT_EQ(run("export " + db + " --csv " + dir), 0) << err;
    const std::pair<const char*, const char*> files[] = {
        {"size_classes.csv", "SELECT count(*) FROM size_classes"},
        {"heap_totals.csv", "SELECT count(*) FROM heap_totals"},
        {"class_counters.csv", "SELECT count(*) FROM class_counters"},
        {"gc_cycles.csv", "SELECT count(*) FROM gc_cycles"},
        {"gc_phases.csv", "SELECT count(*) FROM gc_phases"}};
    for (const auto& [file, countSql] : files) {
        SCOPED_TRACE(file);
        std::istringstream in(slurp(dir + "/" + file));
        std::string header, line;
        ASSERT_TRUE(std::getline(in, header));
        const auto columns = std::count(header.begin(), header.end(), ',') + 1;
        size_t rows = 0;
        while (std::getline(in, line)) {
            EXPECT_EQ(std::count(line.begin(), line.end(), ',') + 1, columns) << line;
            rows++;
        }
        EXPECT_EQ(double(rows), sqlOne(db, countSql));
    }
    // heap_totals.csv: the columns are the table's, in its order, and the values its values.
    std::istringstream heap(slurp(dir + "/heap_totals.csv"));
    std::string header, first;
    std::getline(heap, header);
    std::getline(heap, first);
    EXPECT_EQ(header.rfind("t_ns,heap_alloc,heap_inuse,", 0), 0u) << header;
    std::vector<double> v;
    std::stringstream ss(first);
    for (std::string cell; std::getline(ss, cell, ',');) v.push_back(std::stod(cell));
    ASSERT_GE(v.size(), 3u);
    EXPECT_EQ(v[0], sqlOne(db, "SELECT min(t_ns) FROM heap_totals"));
    EXPECT_EQ(v[1], sqlOne(db, "SELECT heap_alloc FROM heap_totals ORDER BY t_ns LIMIT 1"));
    EXPECT_EQ(v[2], sqlOne(db, "SELECT heap_inuse FROM heap_totals ORDER BY t_ns LIMIT 1"));
}

#ifdef SPANSCOPE_HAVE_UI
TEST_F(CliExport, FramesAreDurationTimesFpsAtTheRequestedSize) {
    const std::string dir = path("frames");
    ASSERT_EQ(run("frames " + path("gogc50.db") +
                  " --from 0.2 --to 0.9 --fps 10 --size 320x200 -o " + dir),
              0)
        << err;
    int frames = 0;
    for (int i = 0; i < 100; i++) {
        char name[64];
        std::snprintf(name, sizeof name, "/frame_%05d.png", i);
        const std::string png = slurp(dir + name);
        if (png.empty()) break;
        frames++;
        ASSERT_GE(png.size(), 24u);
        ASSERT_EQ(png.substr(1, 3), "PNG");
        auto be32 = [&](size_t at) {
            return uint32_t(uint8_t(png[at])) << 24 | uint32_t(uint8_t(png[at + 1])) << 16 |
                   uint32_t(uint8_t(png[at + 2])) << 8 | uint32_t(uint8_t(png[at + 3]));
        };
        EXPECT_EQ(be32(16), 320u);  // IHDR width
        EXPECT_EQ(be32(20), 200u);  // IHDR height
    }
    EXPECT_EQ(frames, 7);  // 0.7 s x 10 fps
    EXPECT_EQ(run("frames " + path("gogc50.db") + " --fps 0 -o " + dir), 2);
    EXPECT_EQ(run("frames " + path("gogc50.db") + " --from 9999 -o " + dir), 2);
}
#endif
