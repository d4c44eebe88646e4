// SessionClient (see session_client.h).
#include "session_client.h"

namespace spanscope::ui {

SessionClient::SessionClient(QObject* parent)
    : QObject(parent),
      m_tokens(std::make_shared<RequestTokens>()),
      m_worker(new SessionWorker(m_tokens)) {
    qRegisterMetaType<SummaryPtr>();
    qRegisterMetaType<MomentPtr>();
    qRegisterMetaType<SpanObjectsPtr>();
    qRegisterMetaType<SeriesPtr>();
    qRegisterMetaType<EventPtr>();
    qRegisterMetaType<ProfilePtr>();
    m_thread.setObjectName(QStringLiteral("spanscope-session"));
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &SessionWorker::opened, this, [this](SummaryPtr s, quint64 token) {
        if (token != m_tokens->open.load()) return;
        m_summary = s;
        emit opened(s);
    });
    connect(m_worker, &SessionWorker::openFailed, this, [this](const QString& msg, quint64 token) {
        if (token == m_tokens->open.load()) emit openFailed(msg);
    });
    connect(m_worker, &SessionWorker::summaryUpdated, this, [this](SummaryPtr s) {
        m_summary = s;
        emit summaryUpdated(s);
    });
    connect(m_worker, &SessionWorker::momentReady, this, [this](MomentPtr m) {
        if (m->token == m_tokens->seek.load()) emit momentReady(m);
    });
    connect(m_worker, &SessionWorker::spanObjectsReady, this, [this](SpanObjectsPtr s) {
        if (s->token == m_tokens->objects.load()) emit spanObjectsReady(s);
    });
    connect(m_worker, &SessionWorker::seriesReady, this, [this](SeriesPtr s) {
        if (s->token == m_tokens->series.load()) emit seriesReady(s);
    });
    connect(m_worker, &SessionWorker::eventFound, this, [this](EventPtr e) {
        if (e->token == m_tokens->event.load()) emit eventFound(e);
    });
    connect(m_worker, &SessionWorker::profileReady, this, [this](ProfilePtr p) {
        if (p->token == m_tokens->profile.load()) emit profileReady(p);
    });
    connect(m_worker, &SessionWorker::readError, this, &SessionClient::readError);
    m_thread.start();
}

SessionClient::~SessionClient() {
    // Invalidate everything queued, then stop the thread (the worker is deleted on it).
    m_tokens->open = ++m_next;
    m_tokens->seek = ++m_next;
    m_tokens->series = ++m_next;
    m_tokens->event = ++m_next;
    m_tokens->profile = ++m_next;
    QMetaObject::invokeMethod(m_worker, &SessionWorker::close, Qt::QueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

void SessionClient::open(const QString& path, int retryMs) {
    const uint64_t token = ++m_next;
    m_tokens->open = token;
    m_tokens->seek = ++m_next;  // drop whatever was asked of the previous session
    m_tokens->series = ++m_next;
    m_tokens->event = ++m_next;
    m_tokens->profile = ++m_next;
    m_summary.reset();
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, path, token, retryMs] { w->open(path, token, retryMs); },
        Qt::QueuedConnection);
}

void SessionClient::close() {
    m_tokens->open = ++m_next;
    m_tokens->seek = ++m_next;
    m_tokens->series = ++m_next;
    m_tokens->event = ++m_next;
    m_tokens->profile = ++m_next;
    m_summary.reset();
    QMetaObject::invokeMethod(m_worker, &SessionWorker::close, Qt::QueuedConnection);
}

void SessionClient::seek(int64_t t) {
    const uint64_t token = ++m_next;
    m_tokens->seek = token;
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, t, token] { w->seek(t, token); }, Qt::QueuedConnection);
}

void SessionClient::requestSpanObjects(uint64_t addr, int64_t t) {
    const uint64_t token = ++m_next;
    m_tokens->objects = token;
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, addr, t, token] { w->spanObjects(addr, t, token); },
        Qt::QueuedConnection);
}

void SessionClient::requestSeries(int64_t t0, int64_t t1, int maxPoints) {
    const uint64_t token = ++m_next;
    m_tokens->series = token;
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, t0, t1, token, maxPoints] { w->loadSeries(t0, t1, token, maxPoints); },
        Qt::QueuedConnection);
}

void SessionClient::findEvent(int64_t t, int64_t id, int direction,
                              const std::vector<uint16_t>& kinds) {
    const uint64_t token = ++m_next;
    m_tokens->event = token;
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, t, id, direction, kinds, token] {
            w->findEvent(t, id, direction, kinds, token);
        },
        Qt::QueuedConnection);
}

void SessionClient::requestProfile(int64_t fromNs, int64_t t, bool ranged) {
    const uint64_t token = ++m_next;
    m_tokens->profile = token;
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, fromNs, t, ranged, token] { w->loadProfile(fromNs, t, ranged, token); },
        Qt::QueuedConnection);
}

void SessionClient::setPolling(int intervalMs) {
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, intervalMs] { w->setPolling(intervalMs); }, Qt::QueuedConnection);
}

}  // namespace spanscope::ui
