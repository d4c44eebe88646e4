// Every model under QAbstractItemModelTester (failures reported as warnings and counted here),
// plus sorting through the size-class table's proxy.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QSortFilterProxyModel>

#include "session_info_model.h"
#include "size_class_model.h"
#include "size_class_table.h"

using namespace spanscope;
using namespace spanscope::ui;

namespace {
// Counts the tester's complaints (it reports through qWarning in Warning mode).
class TesterFailures {
public:
    TesterFailures() {
        s_count = 0;
        m_prev = qInstallMessageHandler(handler);
    }
    ~TesterFailures() { qInstallMessageHandler(m_prev); }
    int count() const { return s_count; }

private:
    static void handler(QtMsgType type, const QMessageLogContext&, const QString& msg) {
        if (type != QtDebugMsg && msg.contains(QLatin1String("FAIL"))) {
            s_count++;
            ADD_FAILURE() << msg.toStdString();
        }
    }
    static inline int s_count = 0;
    QtMessageHandler m_prev;
};

std::vector<session::ClassTotals> totals(
    std::initializer_list<std::tuple<int, uint32_t, uint64_t>> rows) {
    std::vector<session::ClassTotals> v(68);
    for (size_t i = 0; i < v.size(); i++) v[i].sizeClass = int(i);
    for (auto [c, size, spans] : rows) {
        auto& t = v[size_t(c)];
        t.size = size;
        t.spans = spans;
        t.spanBytes = spans * 8192;
        t.objects = spans * (c ? 8192 / std::max<uint32_t>(size, 1) / 2 : 1);
        t.bytesInUse = t.objects * size;
        t.freeSlotBytes = t.spanBytes - t.bytesInUse;
    }
    return v;
}
}  // namespace

TEST(SizeClassModel, PassesTheModelTester) {
    TesterFailures f;
    SizeClassModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Warning);
    m.setTotals(totals({{1, 8, 3}, {5, 48, 10}, {0, 0, 2}}));
    EXPECT_EQ(m.rowCount(), 3);                                // only classes with spans
    m.setTotals(totals({{1, 8, 4}, {5, 48, 11}, {0, 0, 2}}));  // same classes: dataChanged
    m.setTotals(totals({{7, 112, 1}}));                        // different: reset
    EXPECT_EQ(m.rowCount(), 1);
    m.setTotals({});
    EXPECT_EQ(m.rowCount(), 0);
    EXPECT_EQ(f.count(), 0);
}

TEST(SizeClassModel, ShowsAndSortsNumbers) {
    SizeClassModel m;
    m.setTotals(totals({{1, 8, 3}, {5, 48, 10}, {0, 0, 2}, {30, 768, 7}}));
    QSortFilterProxyModel proxy;
    QAbstractItemModelTester tester(&proxy,
                                    QAbstractItemModelTester::FailureReportingMode::Warning);
    proxy.setSourceModel(&m);
    proxy.setSortRole(SizeClassModel::kSortRole);
    proxy.sort(SizeClassModel::Spans, Qt::DescendingOrder);
    auto cls = [&](int row) {
        return proxy.index(row, 0).data(SizeClassModel::kSizeClassRole).toInt();
    };
    EXPECT_EQ(cls(0), 5);
    EXPECT_EQ(cls(1), 30);
    EXPECT_EQ(cls(3), 0);
    proxy.sort(SizeClassModel::ObjectSize, Qt::AscendingOrder);  // numerically, "large" last
    EXPECT_EQ(cls(0), 1);
    EXPECT_EQ(cls(1), 5);
    EXPECT_EQ(cls(2), 30);
    EXPECT_EQ(cls(3), 0);
    const int row30 = 2;
    EXPECT_EQ(proxy.index(row30, SizeClassModel::ObjectSize).data().toString(),
              QStringLiteral("768 B"));
    EXPECT_EQ(proxy.index(row30, SizeClassModel::SpanBytes).data().toString(),
              QStringLiteral("56.0 KiB"));
    EXPECT_EQ(proxy.index(3, SizeClassModel::Class).data().toString(), QStringLiteral("large"));
    EXPECT_TRUE(
        proxy.index(0, SizeClassModel::Class).data(Qt::DecorationRole).canConvert<QColor>());
    EXPECT_EQ(m.headerData(SizeClassModel::Waste, Qt::Horizontal).toString(),
              QStringLiteral("Waste"));
}

TEST(SizeClassTable, TableWidgetSortsBySpanBytes) {
    TesterFailures f;
    SizeClassTable t;
    QAbstractItemModelTester tester(t.proxy(),
                                    QAbstractItemModelTester::FailureReportingMode::Warning);
    auto m = std::make_shared<MomentSnapshot>();
    m->classes = totals({{1, 8, 3}, {5, 48, 10}});
    t.setMoment(m);
    EXPECT_EQ(t.proxy()->rowCount(), 2);
    EXPECT_EQ(t.proxy()->index(0, 0).data(SizeClassModel::kSizeClassRole).toInt(), 5);
    t.setMoment(nullptr);
    EXPECT_EQ(t.proxy()->rowCount(), 0);
    EXPECT_EQ(f.count(), 0);
}

TEST(SessionInfoModel, PassesTheModelTesterAndDescribes) {
    TesterFailures f;
    SessionInfoModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::Warning);
    auto s = std::make_shared<SessionSummary>();
    s->path = QStringLiteral("/tmp/x.spanscope");
    s->info.program = "/usr/bin/python3";
    s->info.argv = {"python3", "-c", "pass"};
    s->info.pid = 42;
    s->info.endNs = 2500000000;
    s->info.endReason = "exit";
    s->info.exitCode = 3;
    s->info.streamStatus = "complete";
    s->info.events = 1234567;
    s->info.pageSize = 8192;
    s->info.arenaBytes = 64 << 20;
    m.setSummary(s);
    EXPECT_GT(m.rowCount(), 10);
    EXPECT_EQ(m.value(QStringLiteral("Program")), QStringLiteral("/usr/bin/python3"));
    EXPECT_EQ(m.value(QStringLiteral("Command")), QStringLiteral("python3 -c pass"));
    EXPECT_EQ(m.value(QStringLiteral("Ended")), QStringLiteral("exited with status 3"));
    EXPECT_EQ(m.value(QStringLiteral("Duration")), QStringLiteral("2.500 s"));
    EXPECT_EQ(m.value(QStringLiteral("Events")), QStringLiteral("1,234,567"));
    EXPECT_EQ(m.value(QStringLiteral("Arena size")), QStringLiteral("64.0 MiB"));
    m.setSummary(s);  // same rows: dataChanged
    s->info.endReason = "signal";
    s->info.signal = 9;
    EXPECT_EQ(SessionInfoModel::endDescription(s->info), QStringLiteral("killed by signal 9"));
    m.setSummary(nullptr);
    EXPECT_EQ(m.rowCount(), 0);
    EXPECT_EQ(f.count(), 0);
}
