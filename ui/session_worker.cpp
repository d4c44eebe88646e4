// SessionWorker (see session_worker.h).
#include "session_worker.h"

#include <QElapsedTimer>
#include <algorithm>

namespace spanscope::ui {

SessionWorker::SessionWorker(std::shared_ptr<RequestTokens> tokens, QObject* parent)
    : QObject(parent), m_tokens(std::move(tokens)) {}

SessionWorker::~SessionWorker() = default;

SummaryPtr SessionWorker::makeSummary() const {
    auto s = std::make_shared<SessionSummary>();
    s->path = m_path;
    s->info = m_reader->info();
    s->classes = m_reader->sizeClasses();
    s->live = s->info.interrupted();
    return s;
}

void SessionWorker::open(const QString& path, quint64 token, int retryMs) {
    if (token != m_tokens->open.load()) return;  // another file was asked for since
    m_reader.reset();
    m_profileData.reset();  // another session: its profile is read at its first request
    m_path = path;
    std::string err;
    m_reader = session::SessionReader::open(path.toStdString(), &err);
    if (!m_reader) {
        if (retryMs > 0) {
            QTimer::singleShot(200, this,
                               [this, path, token, retryMs] { open(path, token, retryMs - 200); });
            return;
        }
        emit openFailed(QString::fromStdString(err), token);
        return;
    }
    m_lastEnd = m_reader->info().endNs;
    m_lastReason = m_reader->info().endReason;
    m_lastEvents = m_reader->info().events;
    emit opened(makeSummary(), token);
}

void SessionWorker::close() {
    setPolling(0);
    m_reader.reset();
    m_profileData.reset();
    m_skeletonTopDown = m_skeletonBottomUp = ProfileTree{};
}

void SessionWorker::seek(qint64 t, quint64 token) {
    if (!m_reader || token != m_tokens->seek.load()) return;
    QElapsedTimer timer;
    timer.start();
    auto m = std::make_shared<MomentSnapshot>();
    m->token = token;
    m->tNs = t;
    const auto spans = m_reader->spansAt(t);
    m->replayed = m_reader->lastReplayCount();
    if (token != m_tokens->seek.load()) return;  // superseded while reading
    fillMomentHeap(*m_reader, t, spans, m.get());
    // The cycle running at t, else the latest that started before t.
    const auto cycles = m_reader->gcCycles(std::max<int64_t>(0, t - 1), t);
    for (const auto& c : cycles) {
        if (c.startNs <= t && (c.endNs < 0 || c.endNs >= t)) m->cycle = c, m->cycleRunning = true;
    }
    if (!m->cycle) {
        const auto before = m_reader->gcCycles(0, t);
        if (!before.empty()) m->cycle = before.back();
    }
    if (m->cycle && m->cycle->kind == "gc")
        if (const auto phases = m_reader->gcPhases(m->cycle->startNs, t); !phases.empty())
            m->gcPhase = phases.back().phase;
    m->readMs = double(timer.nsecsElapsed()) / 1e6;
    emit momentReady(std::move(m));
}

void SessionWorker::spanObjects(quint64 addr, qint64 t, quint64 token) {
    if (!m_reader || token != m_tokens->objects.load()) return;
    QElapsedTimer timer;
    timer.start();
    auto s = std::make_shared<SpanObjectsSnapshot>();
    s->token = token;
    s->addr = addr;
    s->tNs = t;
    s->found = m_reader->spanObjectsAt(addr, t, &s->objects);
    s->readMs = double(timer.nsecsElapsed()) / 1e6;
    emit spanObjectsReady(std::move(s));
}

void SessionWorker::loadSeries(qint64 t0, qint64 t1, quint64 token, int maxPoints) {
    if (!m_reader || token != m_tokens->series.load()) return;
    auto s = std::make_shared<SeriesSnapshot>();
    s->token = token;
    s->t0 = t0;
    s->t1 = t1;
    auto raw = m_reader->heapSeries(t0, t1);
    s->rawSamples = raw.size();
    s->heap = decimate(raw, static_cast<size_t>(std::max(2, maxPoints)));
    s->cycles = m_reader->gcCycles(t0, t1);
    // The phases of the cycles shown (from the first one's start, which may precede t0); a long
    // session zoomed out draws whole cycles instead (the phases would be sub-pixel anyway).
    if (!s->cycles.empty() && s->cycles.size() <= kMaxPhasedCycles)
        s->phases = m_reader->gcPhases(std::min<int64_t>(t0, s->cycles.front().startNs), t1);
    emit seriesReady(std::move(s));
}

void SessionWorker::findEvent(qint64 t, qint64 id, int direction,
                              const std::vector<uint16_t>& kinds, quint64 token) {
    if (!m_reader || token != m_tokens->event.load()) return;
    auto s = std::make_shared<EventSnapshot>();
    s->token = token;
    s->found = direction > 0 ? m_reader->eventAfter(t, id, kinds, &s->row)
                             : m_reader->eventBefore(t, id, kinds, &s->row);
    if (s->found) {
        const Event& e = s->row.event;
        const auto at = static_cast<int64_t>(e.timeNs);
        if (e.kind == EventKind::GCPhase) {  // the earlier phases of its cycle (gctrace's heap0)
            for (const auto& c : m_reader->gcCycles(at, at))
                if (c.kind == "gc" && c.cycle == static_cast<int64_t>(e.a))
                    for (auto& p : m_reader->gcPhases(c.startNs, at))
                        if (p.cycle == c.cycle) s->context.cyclePhases.push_back(std::move(p));
        } else if (e.kind == EventKind::SweepCycle) {
            for (const auto& c : m_reader->gcCycles(at, at))
                if (c.kind == "sweep" && c.startNs == at) s->context.sweepCycle = c.cycle;
        }
        addFilledBy(e, &s->context);
    }
    emit eventFound(std::move(s));
}

void SessionWorker::loadProfile(qint64 fromNs, qint64 atNs, bool ranged, quint64 token) {
    if (!m_reader || token != m_tokens->profile.load()) return;
    QElapsedTimer timer;
    timer.start();
    auto p = std::make_shared<ProfileSnapshot>();
    p->token = token;
    p->tNs = atNs;
    p->fromNs = ranged ? fromNs : 0;
    p->ranged = ranged;
    std::string err;
    p->available = ensureProfile(&err);
    if (token != m_tokens->profile.load()) return;  // superseded while reading
    if (p->available) {
        p->profile = m_profileData->window(fromNs, atNs, ranged);
        p->topDown = profileTreeForWindow(m_skeletonTopDown, p->profile);
        p->bottomUp = profileTreeForWindow(m_skeletonBottomUp, p->profile);
    } else {
        p->error = QString::fromStdString(err);
    }
    p->readMs = double(timer.nsecsElapsed()) / 1e6;
    emit profileReady(std::move(p));
}

bool SessionWorker::ensureProfile(std::string* err) {
    bool fresh = false;
    if (!m_profileData) {
        auto d = std::make_unique<session::HeapProfileData>();
        if (!d->load(m_path.toStdString(), err)) return false;  // tried again at the next request
        m_profileData = std::move(d);
        fresh = true;
    } else if (!m_profileData->refresh(err)) {
        m_profileData.reset();
        return false;
    }
    if (fresh || m_skeletonVersion != m_profileData->stacksVersion()) {
        const session::HeapProfile all = allStacksOf(*m_profileData);
        m_skeletonTopDown = buildProfileTree(all, false);
        m_skeletonBottomUp = buildProfileTree(all, true);
        m_skeletonVersion = m_profileData->stacksVersion();
    }
    return true;
}

// A record about a span: the site whose sampled allocations fill it at that moment (the heap
// profile's live samples inside the span), for the presenter's "this span was filled by ...".
void SessionWorker::addFilledBy(const Event& e, NarrationContext* ctx) {
    const uint16_t k = uint16_t(e.kind);
    const bool large = e.kind == EventKind::LargeAlloc;
    const bool aboutSpan = large || e.kind == EventKind::SpanCache ||
                           e.kind == EventKind::SpanUncache || e.kind == EventKind::SpanSweep ||
                           e.kind == EventKind::SpanRefill || k == stream::kSpanState;
    if (!aboutSpan || !e.addr || !m_reader) return;
    // A large object's sample is recorded just after its span's record (the allocation returns
    // first): for a large span, the samples allocated in the next 100 ms (a new span at the same
    // address within that time would need the object freed and its pages reused), else what is
    // live at the record's time.
    const int64_t t = int64_t(e.timeNs);
    const uint64_t pageSize = uint64_t(std::max<int64_t>(1, m_reader->info().pageSize));
    const uint64_t hi = e.addr + uint64_t(std::max<uint32_t>(1, e.npages)) * pageSize;
    std::string err;
    if (!ensureProfile(&err)) return;
    const session::HeapProfile p =
        m_profileData->window(t, large ? t + 100000000 : t, large, e.addr, hi);
    if (p.live.empty()) return;
    SpanFiller f;
    if (!spanFilledBy(p, e.addr, hi, &f)) return;
    ctx->filledBy = f.frame.label();
    ctx->filledByOthers = f.otherStacks;
}

void SessionWorker::setPolling(int intervalMs) {
    if (intervalMs <= 0) {
        if (m_pollTimer) m_pollTimer->stop();
        return;
    }
    if (!m_pollTimer) {
        m_pollTimer = new QTimer(this);
        connect(m_pollTimer, &QTimer::timeout, this, &SessionWorker::poll);
    }
    m_pollTimer->start(intervalMs);
}

void SessionWorker::poll() {
    if (!m_reader) return;
    if (!m_reader->refresh()) {
        emit readError(QString::fromStdString(m_reader->error()));
        return;
    }
    const auto& in = m_reader->info();
    if (in.endNs == m_lastEnd && in.endReason == m_lastReason && in.events == m_lastEvents) return;
    m_lastEnd = in.endNs;
    m_lastReason = in.endReason;
    m_lastEvents = in.events;
    emit summaryUpdated(makeSummary());
    if (!in.interrupted()) setPolling(0);  // the recording ended: nothing more will come
}

}  // namespace spanscope::ui
