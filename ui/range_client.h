// The range-aware panels' reader: a worker thread with its own SessionReader that answers "what
// happened in [t0, t1]" (range statistics, "jump to" targets, the allocation flow) off the GUI
// thread. A range's answer also holds the heap at its two ends (the span tables the statistics
// compared), so that the heap map, size-class and fragmentation panels can show the range from the
// same reading as the range panel. Only the answer to the latest request is delivered (older ones
// are dropped by token).
#pragma once
#include <QObject>
#include <QString>
#include <QThread>
#include <atomic>
#include <memory>

#include "snapshots.h"
#include "spanscope/session_range.h"

namespace spanscope::ui {

struct RangeSnapshot {
    uint64_t token = 0;
    bool ok = false;
    QString error;  // why not ok
    session::RangeStats stats;
    session::JumpTargets jumps;
    session::FlowRates flow;
    // With stats: the heap at t0 and at t1 (scene, per-class totals), and the spans taken and
    // returned between them (stats.spansTaken == changes.taken.size(), and so on).
    MomentPtr start, end;
    session::SpanChanges changes;
    double ms = 0;  // time the worker took
};
using RangePtr = std::shared_ptr<const RangeSnapshot>;

class RangeClient : public QObject {
    Q_OBJECT
public:
    explicit RangeClient(QObject* parent = nullptr);
    ~RangeClient() override;
    void setSession(const QString& path);  // the next request opens it (on the worker)
    // Statistics (withStats) and the allocation flow (withFlow) over [t0, t1]: answered by
    // rangeReady.
    void request(int64_t t0, int64_t t1, bool withStats, bool withFlow);

signals:
    void rangeReady(spanscope::ui::RangePtr range);

private:
    struct Worker;
    QThread m_thread;
    QObject* m_context;  // lives on m_thread: requests run there
    std::shared_ptr<Worker> m_worker;
    std::shared_ptr<std::atomic<uint64_t>> m_latest;
    QString m_path;
};

}  // namespace spanscope::ui

Q_DECLARE_METATYPE(spanscope::ui::RangePtr)
