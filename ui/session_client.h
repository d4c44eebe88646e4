// The GUI thread's handle on a session: starts the worker thread, turns calls into queued requests
// with fresh tokens, and forwards only the answers to the latest request of each kind.
#pragma once
#include <QObject>
#include <QThread>
#include <memory>

#include "session_worker.h"

namespace spanscope::ui {

class SessionClient : public QObject {
    Q_OBJECT
public:
    explicit SessionClient(QObject* parent = nullptr);
    ~SessionClient() override;

    void open(const QString& path, int retryMs = 0);
    void close();
    void seek(int64_t tNs);
    // The span inspector's data (answered by spanObjectsReady; only the latest request is).
    void requestSpanObjects(uint64_t addr, int64_t tNs);
    void requestSeries(int64_t t0, int64_t t1, int maxPoints = 1200);  // about a point per pixel
    void setPolling(int intervalMs);
    // Presenter stepping: the record after (direction > 0) or before (t, id) in (time, id) order
    // whose kind is in kinds (any if empty); answered by eventFound.
    void findEvent(int64_t tNs, int64_t id, int direction, const std::vector<uint16_t>& kinds);
    // The heap profile at tNs, or allocated in [fromNs, tNs] when ranged (answered by
    // profileReady).
    void requestProfile(int64_t fromNs, int64_t tNs, bool ranged);
    bool isOpen() const { return m_summary != nullptr; }
    const SummaryPtr& summary() const { return m_summary; }

signals:
    void opened(spanscope::ui::SummaryPtr summary);
    void openFailed(const QString& message);
    void summaryUpdated(spanscope::ui::SummaryPtr summary);
    void momentReady(spanscope::ui::MomentPtr moment);
    void spanObjectsReady(spanscope::ui::SpanObjectsPtr objects);
    void seriesReady(spanscope::ui::SeriesPtr series);
    void eventFound(spanscope::ui::EventPtr event);
    void profileReady(spanscope::ui::ProfilePtr profile);
    void readError(const QString& message);

private:
    std::shared_ptr<RequestTokens> m_tokens;
    QThread m_thread;
    SessionWorker* m_worker;
    SummaryPtr m_summary;
    uint64_t m_next = 0;
};

}  // namespace spanscope::ui
