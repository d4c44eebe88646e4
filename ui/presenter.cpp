// Presenter and NarrationBar (see presenter.h).
#include "presenter.h"

#include <QAbstractAxis>
#include <QAction>
#include <QChart>
#include <QChartView>
#include <QDockWidget>
#include <QFileDialog>
#include <QGuiApplication>
#include <QHeaderView>
#include <QLegend>
#include <QMenu>
#include <QPainter>
#include <QScreen>
#include <QStatusBar>
#include <QTableView>
#include <QToolBar>
#include <algorithm>

#include "main_window.h"
#include "narration.h"
#include "spanscope/kinds.h"

namespace spanscope::ui {

namespace {
constexpr double kDefaultDwellSeconds = 2.5;  // auto-play: how long a step stays without "wait"

QFont scaledFont(QFont f, double scale) {
    if (f.pointSizeF() > 0)
        f.setPointSizeF(f.pointSizeF() * scale);
    else if (f.pixelSize() > 0)
        f.setPixelSize(static_cast<int>(f.pixelSize() * scale + 0.5));
    return f;
}

bool offscreen() {
    return QGuiApplication::platformName() == QLatin1String("offscreen");
}
}  // namespace

// ---- NarrationBar ----------------------------------------------------------------------------

NarrationBar::NarrationBar(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void NarrationBar::setNarration(const QString& time, const QString& text) {
    m_time = time;
    m_text = text;
    setToolTip(text);
    update();
}

void NarrationBar::setCaption(const QString& caption, const QString& progress) {
    m_caption = caption;
    m_progress = progress;
    update();
}

// Two lines for the narration (a long one wraps instead of losing its end on a small stage),
// always, so that the panels below do not jump as the speaker steps; one for the caption.
QSize NarrationBar::sizeHint() const {
    QFont big = font();
    big.setBold(true);
    return {600, 2 * QFontMetrics(big).height() + fontMetrics().height() + 18};
}

QStringList NarrationBar::narrationLines(const QString& text, const QFont& big, int width) {
    const QFontMetrics fm(big);
    if (fm.horizontalAdvance(text) <= width) return {text};
    // Break at the last space that leaves the first line within the width.
    int cut = -1;
    for (int i = text.indexOf(QLatin1Char(' ')); i > 0; i = text.indexOf(QLatin1Char(' '), i + 1)) {
        if (fm.horizontalAdvance(text.left(i)) > width) break;
        cut = i;
    }
    if (cut < 0) return {fm.elidedText(text, Qt::ElideRight, width)};
    return {text.left(cut), fm.elidedText(text.mid(cut + 1), Qt::ElideRight, width)};
}

void NarrationBar::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), QColor(0x1d, 0x27, 0x33));
    p.fillRect(QRect(0, height() - 3, width(), 3), QColor(0x4a, 0x90, 0xd9));
    QFont big = font();
    big.setBold(true);
    const QFontMetrics fmBig(big), fm(font());
    const int pad = fm.horizontalAdvance(QLatin1Char('M'));
    int x = pad;
    const int y1 = 6 + fmBig.ascent();
    if (!m_time.isEmpty()) {
        p.setFont(font());
        p.setPen(QColor(0x9c, 0xc3, 0xee));
        p.drawText(x, y1, m_time);
        x += fm.horizontalAdvance(m_time) + pad;
    }
    p.setFont(big);
    p.setPen(Qt::white);
    const QString text =
        m_text.isEmpty()
            ? tr("Open a session, then step with → (next record) or PgDn (next GC phase).")
            : m_text;
    const QStringList lines = narrationLines(text, big, width() - x - pad);
    for (int i = 0; i < lines.size(); i++) p.drawText(x, y1 + i * fmBig.height(), lines[i]);
    const int y2 = y1 + fmBig.height() + fmBig.descent() + 4 + fm.ascent();
    int right = width() - pad;
    if (!m_progress.isEmpty()) {
        p.setFont(font());
        p.setPen(QColor(0x9c, 0xa8, 0xb4));
        const int w = fm.horizontalAdvance(m_progress);
        p.drawText(right - w, y2, m_progress);
        right -= w + pad;
    }
    if (!m_caption.isEmpty()) {
        QFont it = font();
        it.setItalic(true);
        p.setFont(it);
        p.setPen(QColor(0xf5, 0xd0, 0x6b));
        p.drawText(pad, y2, QFontMetrics(it).elidedText(m_caption, Qt::ElideRight, right - pad));
    }
}

// ---- Presenter -------------------------------------------------------------------------------

Presenter::Presenter(MainWindow* window, SessionClient* client)
    : QObject(window),
      m_window(window),
      m_client(client),
      m_bar(new NarrationBar),
      m_barHolder(new QToolBar(tr("Narration"), window)) {
    m_barHolder->setObjectName(QStringLiteral("narration"));
    m_barHolder->setMovable(false);
    m_barHolder->setFloatable(false);
    m_barHolder->setContextMenuPolicy(Qt::PreventContextMenu);
    m_barHolder->setStyleSheet(
        QStringLiteral("QToolBar { padding: 0; margin: 0; border: 0; spacing: 0; }"));
    m_barHolder->addWidget(m_bar);
    window->addToolBar(Qt::TopToolBarArea, m_barHolder);
    m_barHolder->hide();
    connect(m_client, &SessionClient::eventFound, this, &Presenter::onEventFound);
    connect(m_client, &SessionClient::opened, this, [this] {
        m_current.reset();
        m_currentAt = -1;
        m_inFlight = false;
        m_sourceOpened = true;
        m_momentsSinceOpen = 0;
    });
    connect(m_window, &MainWindow::momentShown, this, &Presenter::onMomentShown);
    m_sceneTimer.setInterval(50);
    connect(&m_sceneTimer, &QTimer::timeout, this, [this] {
        if (!m_waitDone) return m_sceneTimer.stop();
        const bool timedOut = m_waitClock.elapsed() > m_waitTimeoutMs;
        if (!m_waitDone() && !timedOut) return;
        if (timedOut && !m_waitIsPause)
            m_window->statusBar()->showMessage(
                tr("Scene step %1: the session did not get there in time; going on.")
                    .arg(m_sceneIndex + 1),
                5000);
        m_sceneTimer.stop();
        m_waitDone = nullptr;
        continueScene();
    });
}

// Both lists come from the kinds table (spanscope/kinds.h): a kind added there with kKindStep is
// stepped through without a change here.
const std::vector<uint16_t>& Presenter::eventKinds() {
    static const std::vector<uint16_t> list = kinds::withFlag(kKindStep);
    return list;
}

const std::vector<uint16_t>& Presenter::phaseKinds() {
    static const std::vector<uint16_t> list = kinds::withFlag(kKindPhase);
    return list;
}

void Presenter::addActions(QMenu* menu) {
    m_toggle = menu->addAction(tr("&Presenter mode"));
    m_toggle->setCheckable(true);
    m_toggle->setShortcuts(
        {QKeySequence(Qt::Key_F11), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P)});
    connect(m_toggle, &QAction::toggled, this, &Presenter::setActive);
    menu->addAction(tr("Next &record (presenter: →)"), this, [this] { nextEvent(); })
        ->setShortcut(Qt::Key_Space);
    menu->addAction(tr("Previous re&cord (presenter: ←)"), this, [this] { previousEvent(); })
        ->setShortcut(Qt::Key_Backspace);
    menu->addAction(tr("Next &GC phase / sweep generation"), this, [this] { nextPhase(); })
        ->setShortcuts({QKeySequence(Qt::Key_PageDown), QKeySequence(Qt::Key_N)});
    menu->addAction(tr("Previous GC p&hase / sweep generation"), this, [this] { previousPhase(); })
        ->setShortcuts({QKeySequence(Qt::Key_PageUp), QKeySequence(Qt::Key_P)});
    m_sceneNext = menu->addAction(tr("Next scene ste&p"), this, [this] { advanceScene(); });
    m_sceneNext->setShortcuts({QKeySequence(Qt::Key_Return), QKeySequence(Qt::Key_Enter)});
    m_sceneAuto = menu->addAction(tr("&Auto-play the scene"));
    m_sceneAuto->setCheckable(true);
    m_sceneAuto->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    connect(m_sceneAuto, &QAction::toggled, this, &Presenter::setAutoPlay);
    menu->addAction(tr("Load a scene &file…"), this, [this] {
        const QString f =
            QFileDialog::getOpenFileName(m_window, tr("Load a presenter scene"), QString(),
                                         tr("Scenes (*.json);;All files (*)"));
        if (f.isEmpty()) return;
        Scene s;
        QString error;
        if (!loadScene(f, &s, &error)) {
            m_window->statusBar()->showMessage(error);
            emit sceneError(error);
            return;
        }
        setScene(s);
        setActive(true);
        advanceScene();
    });
    menu->addAction(tr("Play the &built-in scene"), this, [this] {
        setScene(defaultScene());
        setActive(true);
        advanceScene();
    });
    updateSceneActions();
}

void Presenter::updateSceneActions() {
    // Return belongs to the focused widget unless a scene is loaded.
    if (m_sceneNext) m_sceneNext->setEnabled(!m_scene.steps.isEmpty());
    if (m_sceneAuto) {
        m_sceneAuto->setEnabled(!m_scene.steps.isEmpty());
        const QSignalBlocker block(m_sceneAuto);
        m_sceneAuto->setChecked(m_autoPlay);
    }
    QString progress;
    if (!m_scene.steps.isEmpty())
        progress =
            m_autoPlay
                ? tr("scene %1/%2 · auto-play").arg(m_sceneIndex + 1).arg(m_scene.steps.size())
                : tr("scene %1/%2 · Return: next").arg(m_sceneIndex + 1).arg(m_scene.steps.size());
    m_bar->setCaption(m_bar->caption(), progress);
}

void Presenter::setActive(bool on) {
    if (on == m_active) return;
    m_active = on;
    if (m_toggle) {
        const QSignalBlocker block(m_toggle);
        m_toggle->setChecked(on);
    }
    if (on) {
        m_stateBefore = m_window->windowState();
        m_layoutBefore = m_window->saveState();
        applyLargeType(true);
        m_barHolder->show();
        if (!offscreen())
            m_window->showFullScreen();  // offscreen (screenshots, tests): just the window
        // The map gets the middle of the stage; the timeline, grown for its larger labels, below.
        // Once the larger type has been laid out (the next turn of the event loop).
        QTimer::singleShot(0, this, [this] {
            if (!m_active) return;
            const QSize size = m_window->size();
            QList<QDockWidget*> right, bottom;
            for (QDockWidget* d : m_window->findChildren<QDockWidget*>()) {
                if (m_window->dockWidgetArea(d) == Qt::RightDockWidgetArea) right << d;
                if (m_window->dockWidgetArea(d) == Qt::BottomDockWidgetArea) bottom << d;
            }
            if (!right.isEmpty())
                m_window->resizeDocks({right.first()}, {size.width() * 31 / 100}, Qt::Horizontal);
            if (right.size() > 1)  // fragmentation above, size classes and session tabbed below
                m_window->resizeDocks({right[0], right[1]},
                                      {size.height() * 60 / 100, size.height() * 40 / 100},
                                      Qt::Vertical);
            if (!bottom.isEmpty())
                m_window->resizeDocks(bottom, QList<int>(bottom.size(), size.height() * 30 / 100),
                                      Qt::Vertical);
        });
        m_currentAt = -1;
        describeCursor();
    } else {
        m_barHolder->hide();
        m_window->heapMap()->setFocus(std::nullopt, false);
        applyLargeType(false);
        if (!offscreen()) m_window->setWindowState(m_stateBefore);
        m_window->restoreState(m_layoutBefore);
    }
    emit activeChanged(on);
}

double Presenter::fontScaleFor(int stageHeight) {
    const double k = std::clamp((stageHeight - 640) / (1000.0 - 640), 0.0, 1.0);
    return kMinFontScale + k * (kFontScale - kMinFontScale);
}

void Presenter::applyLargeType(bool on) {
    if (on) {
        m_fontBefore = m_window->font();
        const QScreen* screen = m_window->screen();
        const int stage =
            offscreen() || !screen ? m_window->height() : screen->availableGeometry().height();
        m_fontScale = fontScaleFor(stage);
        const double chartScale = chartFontScale();
        m_window->setFont(scaledFont(m_fontBefore, m_fontScale));
        m_bar->setFont(
            scaledFont(m_fontBefore, m_fontScale * 1.15));  // a toolbar does not pass fonts on
        // Charts draw with their own fonts (the theme's), not the widget's.
        for (QChartView* v : m_window->findChildren<QChartView*>()) {
            QChart* c = v->chart();
            const QFont title = c->titleFont(), legend = c->legend()->font();
            c->setTitleFont(scaledFont(title, chartScale));
            // The timeline's legend has seven entries on half the window's width: scaled, they
            // would be elided.
            if (v != m_window->timeline()) c->legend()->setFont(scaledFont(legend, chartScale));
            m_restoreFonts.push_back([c, title, legend] {
                c->setTitleFont(title);
                c->legend()->setFont(legend);
            });
            for (QAbstractAxis* a : c->axes()) {
                const QFont labels = a->labelsFont(), axisTitle = a->titleFont();
                a->setLabelsFont(scaledFont(labels, chartScale));
                a->setTitleFont(scaledFont(axisTitle, chartScale));
                m_restoreFonts.push_back([a, labels, axisTitle] {
                    a->setLabelsFont(labels);
                    a->setTitleFont(axisTitle);
                });
            }
        }
    } else {
        m_fontScale = 1;
        m_window->setFont(m_fontBefore);
        m_bar->setFont(m_fontBefore);
        for (auto& restore : m_restoreFonts) restore();
        m_restoreFonts.clear();
    }
    for (QTableView* t : m_window->findChildren<QTableView*>())
        t->verticalHeader()->setDefaultSectionSize(QFontMetrics(t->font()).height() + 6);
}

bool Presenter::step(int direction, const std::vector<uint16_t>& kinds) {
    if (!m_client->summary()) return false;
    int64_t t = 0, id = 0;
    if (m_current) {
        t = static_cast<int64_t>(m_current->event.timeNs);
        id = m_current->id;
    } else {  // from the cursor: records after it, or strictly before it
        t = m_window->timeline()->cursorTime();
        id = direction > 0 ? INT64_MAX : 0;
    }
    m_window->setFollowingEnd(false);  // a step holds the moment still, even while recording
    request(t, id, direction, kinds, Purpose::Step);
    return true;
}

bool Presenter::firstEvent() {
    if (!m_client->summary()) return false;
    m_window->setFollowingEnd(false);
    request(-1, INT64_MAX, +1, eventKinds(), Purpose::Step);
    return true;
}

bool Presenter::lastEvent() {
    if (!m_client->summary()) return false;
    m_window->setFollowingEnd(false);
    request(INT64_MAX, INT64_MAX, -1, eventKinds(), Purpose::Step);
    return true;
}

bool Presenter::step(const QString& name) {
    if (name == QLatin1String("next-event")) return nextEvent();
    if (name == QLatin1String("previous-event")) return previousEvent();
    if (name == QLatin1String("next-gc-phase")) return nextPhase();
    if (name == QLatin1String("previous-gc-phase")) return previousPhase();
    if (name == QLatin1String("first-event")) return firstEvent();
    if (name == QLatin1String("last-event")) return lastEvent();
    return false;
}

void Presenter::request(int64_t t, int64_t id, int direction, const std::vector<uint16_t>& kinds,
                        Purpose purpose) {
    m_purpose = purpose;
    m_inFlight = true;
    m_client->findEvent(t, id, direction, kinds);
}

void Presenter::showNarration(const QString& text) {
    const QString time =
        m_current ? QStringLiteral("%1 s").arg(double(m_current->event.timeNs) / 1e9, 0, 'f', 6)
                  : QString();
    m_bar->setNarration(time, text);
    emit narrationChanged(text);
}

void Presenter::onEventFound(const EventPtr& e) {
    m_inFlight = false;
    const SummaryPtr s = m_client->summary();
    static const std::vector<stream::ClassEntry> kNoClasses;
    const auto& classes = s ? s->classes : kNoClasses;
    if (m_purpose == Purpose::Describe) {
        if (e->found) {
            m_current = e->row;
            m_currentContext = e->context;
            showNarration(narrate(e->row.event, classes, e->context));
        } else {
            m_current.reset();
            showNarration(tr("Nothing has been recorded yet at this moment."));
        }
        return;
    }
    if (!e->found) {
        m_window->statusBar()->showMessage(tr("No further record that way."), 3000);
        if (m_phase == Phase::Stepping) m_repeatLeft = 0;
        emit stepped(false);
        return;
    }
    m_current = e->row;
    m_currentContext = e->context;
    m_currentAt = static_cast<int64_t>(e->row.event.timeNs);
    showNarration(narrate(e->row.event, classes, e->context));
    // The span (or page run) the narration is about: outlined, and zoomed to when small.
    const uint64_t addr = e->row.event.addr;
    m_window->heapMap()->setFocus(addr ? std::optional<uint64_t>(addr) : std::nullopt, true);
    m_window->seekTo(m_currentAt);
    emit stepped(true);
    if (m_phase == Phase::Stepping && --m_repeatLeft > 0)  // a scene's "repeat"
        step(m_scene.steps[m_sceneIndex].step);
}

void Presenter::onMomentShown() {
    const MomentPtr m = m_window->moment();
    if (!m) return;
    m_momentsSinceOpen++;
    if (m->tNs == m_currentAt) return;  // the step's own seek, or already described
    if (m_inFlight && m_purpose == Purpose::Step) return;  // a step is on its way: it decides
    m_current.reset();
    m_currentAt = -1;
    if (m_active) describeCursor();
}

void Presenter::describeCursor() {
    const MomentPtr m = m_window->moment();
    if (!m_client->summary() || !m) return;
    m_currentAt = m->tNs;  // the last record at or before the cursor
    request(m->tNs, INT64_MAX, -1, eventKinds(), Purpose::Describe);
}

// ---- Scenes ----------------------------------------------------------------------------------

void Presenter::setScene(const Scene& scene) {
    m_scene = scene;
    m_sceneIndex = -1;
    m_phase = Phase::Idle;
    m_waitDone = nullptr;
    m_sceneTimer.stop();
    m_bar->setCaption(scene.title, QString());
    updateSceneActions();
}

void Presenter::setAutoPlay(bool on) {
    m_autoPlay = on;
    updateSceneActions();
    if (on && m_phase == Phase::Idle) advanceScene();
}

void Presenter::advanceScene() {
    if (m_scene.steps.isEmpty()) {
        m_window->statusBar()->showMessage(tr("No scene loaded (View > Load a scene file…)"), 3000);
        return;
    }
    if (m_phase == Phase::Wait) {  // Return during an auto-play pause: go on now
        m_sceneTimer.stop();
        m_waitDone = nullptr;
        continueScene();
        return;
    }
    if (m_phase != Phase::Idle) return;  // still running the current step
    runSceneStep(m_sceneIndex + 1);
}

void Presenter::runSceneStep(int index) {
    if (index >= m_scene.steps.size()) {
        m_sceneIndex = -1;
        m_autoPlay = false;
        m_bar->setCaption(tr("End of the scene. Return plays it again."), QString());
        updateSceneActions();
        return;
    }
    m_sceneIndex = index;
    if (!m_autoPlay && m_scene.steps[index].onlyWaits())
        return runSceneStep(index + 1);  // pauses are for auto-play
    m_phase = Phase::Source;
    updateSceneActions();
    continueScene();
}

void Presenter::waitUntil(std::function<bool()> done, int timeoutMs, bool pause) {
    m_waitIsPause = pause;
    m_waitDone = std::move(done);
    m_waitTimeoutMs = timeoutMs;
    m_waitClock.start();
    m_sceneTimer.start();
}

void Presenter::continueScene() {
    if (m_sceneIndex < 0 || m_sceneIndex >= m_scene.steps.size()) return;
    const SceneStep& s = m_scene.steps[m_sceneIndex];
    for (;;) {
        switch (m_phase) {
            case Phase::Idle:
                return;
            case Phase::Source:
                m_phase = Phase::Seek;
                if (!s.scenario.isEmpty() || !s.open.isEmpty()) {
                    m_sourceOpened = false;
                    m_momentsSinceOpen = 0;
                    if (!s.scenario.isEmpty())
                        m_window->startLive(LiveSource::scenario(s.scenario, s.scenarioSeconds));
                    else
                        m_window->openFile(s.open);
                    // Errors show in the window's banner; the watchdog then goes on.
                    waitUntil([this] { return m_sourceOpened && m_momentsSinceOpen > 0; }, 30000);
                    return;
                }
                break;
            case Phase::Seek:
                m_phase = Phase::Step;
                if (s.seekSeconds >= 0 && m_client->summary()) {
                    m_seekTarget = static_cast<int64_t>(s.seekSeconds * 1e9);
                    m_phase = Phase::SeekShown;
                    // A live session is waited for until it has reached the time.
                    waitUntil(
                        [this] {
                            const SummaryPtr sum = m_client->summary();
                            return !sum || !sum->live || sum->info.endNs >= m_seekTarget;
                        },
                        30000);
                    return;
                }
                break;
            case Phase::SeekShown: {
                m_phase = Phase::Step;
                const SummaryPtr sum = m_client->summary();
                if (sum) m_seekTarget = std::min(m_seekTarget, sum->info.endNs);
                m_window->setFollowingEnd(false);
                m_window->seekTo(m_seekTarget);
                waitUntil(
                    [this] {
                        return m_window->moment() && m_window->moment()->tNs == m_seekTarget;
                    },
                    10000);
                return;
            }
            case Phase::Step:
                m_phase = Phase::Caption;
                if (!s.step.isEmpty() && m_client->summary()) {
                    m_repeatLeft = s.repeat;
                    m_phase = Phase::Stepping;  // onEventFound counts the repeats down
                    step(s.step);
                    // Done when the last answer came and its moment is on screen.
                    waitUntil(
                        [this] {
                            const MomentPtr m = m_window->moment();
                            return (m_repeatLeft <= 0 || !m_inFlight) &&
                                   (!m_current || (m && m->tNs == m_currentAt));
                        },
                        20000);
                    return;
                }
                break;
            case Phase::Stepping:
                m_phase = Phase::Caption;
                break;
            case Phase::Caption:
                m_phase = Phase::Wait;
                if (s.hasCaption) m_bar->setCaption(s.caption, QString());
                updateSceneActions();
                break;
            case Phase::Wait: {
                m_phase = Phase::Done;
                const double secs = s.waitSeconds > 0 ? s.waitSeconds
                                    : s.onlyWaits()   ? 0
                                                      : kDefaultDwellSeconds;
                if (m_autoPlay && secs > 0) {
                    waitUntil([] { return false; }, static_cast<int>(secs * 1000), true);
                    return;
                }
                break;
            }
            case Phase::Done:
                m_phase = Phase::Idle;
                emit sceneStepDone(m_sceneIndex);
                if (m_autoPlay)
                    QTimer::singleShot(0, this, [this] {
                        if (m_phase == Phase::Idle && m_autoPlay) runSceneStep(m_sceneIndex + 1);
                    });
                return;
        }
    }
}

}  // namespace spanscope::ui
