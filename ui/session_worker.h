// The only code that reads a session. SessionWorker lives on its own QThread (SessionClient moves
// it there), owns its SessionReader, and answers requests with immutable snapshots by queued
// signal. Every request carries a token; a seek or series request whose token is no longer the
// latest (shared with the client through an atomic) is dropped before any SQLite work is done.
#pragma once
#include <QObject>
#include <QTimer>
#include <atomic>
#include <memory>

#include "snapshots.h"

namespace spanscope::ui {

struct RequestTokens {
    std::atomic<uint64_t> objects{0};  // span inspector
    std::atomic<uint64_t> seek{0}, series{0}, open{0}, event{0}, profile{0};
};

class SessionWorker : public QObject {
    Q_OBJECT
public:
    static constexpr size_t kMaxPhasedCycles = 2000;  // more cycles in a series: no phase bands
    explicit SessionWorker(std::shared_ptr<RequestTokens> tokens, QObject* parent = nullptr);
    ~SessionWorker() override;

public slots:
    // Opens path. With retryMs > 0, a file not yet readable (a live recording that has not written
    // its first batch) is retried every 200 ms for that long.
    void open(const QString& path, quint64 token, int retryMs);
    void close();
    void seek(qint64 tNs, quint64 token);
    // The span inspector: the span holding addr at t, with its object slots when recorded.
    void spanObjects(quint64 addr, qint64 tNs, quint64 token);
    void loadSeries(qint64 t0, qint64 t1, quint64 token, int maxPoints);
    // Presenter: the record after (direction > 0) or before (t, id) of the given kinds (any if
    // empty), with its narration context.
    void findEvent(qint64 t, qint64 id, int direction, const std::vector<uint16_t>& kinds,
                   quint64 token);
    // The heap profile (spanscope/profile.h) at atNs, or over [fromNs, atNs] when ranged, with
    // its call trees.
    void loadProfile(qint64 fromNs, qint64 atNs, bool ranged, quint64 token);
    // Live: re-read the session row every intervalMs (0 stops) and report when it grew or ended.
    void setPolling(int intervalMs);

signals:
    void opened(spanscope::ui::SummaryPtr summary, quint64 token);
    void openFailed(const QString& message, quint64 token);
    void summaryUpdated(spanscope::ui::SummaryPtr summary);
    void momentReady(spanscope::ui::MomentPtr moment);
    void spanObjectsReady(spanscope::ui::SpanObjectsPtr objects);
    void seriesReady(spanscope::ui::SeriesPtr series);
    void eventFound(spanscope::ui::EventPtr event);
    void profileReady(spanscope::ui::ProfilePtr profile);
    void readError(const QString& message);

private:
    void poll();
    void addFilledBy(const Event& e, NarrationContext* ctx);
    // The session's heap profile in memory, read at the first request and refreshed (what a live
    // recording appended) at the next ones; with the call trees' skeletons over all its stacks,
    // rebuilt only when its stacks change. False with a reason if the session has none.
    bool ensureProfile(std::string* err);
    SummaryPtr makeSummary() const;
    std::shared_ptr<RequestTokens> m_tokens;
    std::unique_ptr<session::SessionReader> m_reader;
    std::unique_ptr<session::HeapProfileData> m_profileData;
    ProfileTree m_skeletonTopDown, m_skeletonBottomUp;
    uint64_t m_skeletonVersion = 0;
    QString m_path;
    QTimer* m_pollTimer = nullptr;
    int64_t m_lastEnd = -1;
    std::string m_lastReason;
    int64_t m_lastEvents = -1;
};

}  // namespace spanscope::ui
