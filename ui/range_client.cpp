// RangeClient (see range_client.h): requests are queued to an object on the worker thread; the
// reader is opened there and used only there.
#include "range_client.h"

#include <QElapsedTimer>

namespace spanscope::ui {

struct RangeClient::Worker {
    QString path;
    std::unique_ptr<session::SessionReader> reader;
};

RangeClient::RangeClient(QObject* parent)
    : QObject(parent),
      m_context(new QObject),
      m_worker(std::make_shared<Worker>()),
      m_latest(std::make_shared<std::atomic<uint64_t>>(0)) {
    qRegisterMetaType<RangePtr>();
    m_context->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_context, &QObject::deleteLater);
    m_thread.start();
}

RangeClient::~RangeClient() {
    m_latest->store(UINT64_MAX);  // queued requests return at once
    m_thread.quit();
    m_thread.wait();
}

void RangeClient::setSession(const QString& path) {
    m_path = path;
}

void RangeClient::request(int64_t t0, int64_t t1, bool withStats, bool withFlow) {
    const uint64_t token = m_latest->fetch_add(1) + 1;
    auto worker = m_worker;
    auto latest = m_latest;
    const QString path = m_path;
    QMetaObject::invokeMethod(
        m_context,
        [this, worker, latest, token, path, t0, t1, withStats, withFlow] {
            if (latest->load() != token) return;  // superseded
            QElapsedTimer timer;
            timer.start();
            auto snap = std::make_shared<RangeSnapshot>();
            snap->token = token;
            if (!worker->reader || worker->path != path) {
                std::string err;
                worker->reader = session::SessionReader::open(path.toStdString(), &err);
                worker->path = path;
                if (!worker->reader) snap->error = QString::fromStdString(err);
            } else {
                worker->reader->refresh();  // a live session grows
            }
            if (worker->reader) {
                if (withStats) {
                    session::RangeSpans spans;
                    snap->stats = session::rangeStats(*worker->reader, t0, t1, &spans);
                    snap->changes = session::spanChanges(spans.atStart, spans.atEnd);
                    auto start = std::make_shared<MomentSnapshot>(),
                         end = std::make_shared<MomentSnapshot>();
                    fillMomentHeap(*worker->reader, snap->stats.t0, spans.atStart, start.get());
                    fillMomentHeap(*worker->reader, snap->stats.t1, spans.atEnd, end.get());
                    snap->start = std::move(start), snap->end = std::move(end);
                    snap->jumps = session::jumpTargets(snap->stats);
                }
                if (withFlow) snap->flow = session::allocationFlow(*worker->reader, t0, t1);
                snap->ok = true;
            }
            snap->ms = double(timer.nsecsElapsed()) / 1e6;
            if (latest->load() != token) return;
            QMetaObject::invokeMethod(
                this,
                [this, snap, latest, token] {
                    if (latest->load() == token) emit rangeReady(snap);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

}  // namespace spanscope::ui
