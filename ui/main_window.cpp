// MainWindow (see main_window.h).
#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QRegularExpression>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>
#include <QVBoxLayout>

#include "format.h"
#include "glossary.h"
#include "range_features.h"
#include "session_info_model.h"

static void initSpanscopeResources() {
    Q_INIT_RESOURCE(spanscope);
}

namespace spanscope::ui {

void initResources() {
    static bool done = false;
    if (!done) initSpanscopeResources(), done = true;
}

namespace {
constexpr int kMaxRecent = 10;
const char* kRecentKey = "recentFiles";
}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      m_client(new SessionClient(this)),
      m_live(new LiveRecording(this)),
      m_map(new HeapMapView),
      m_legend(new HeapMapLegend),
      m_banner(new QLabel),
      m_timeline(new TimelineView),
      m_frag(new FragmentationView),
      m_table(new SizeClassTable),
      m_sessionPanel(new SessionPanel),
      m_presenter(new Presenter(this, m_client)),
      m_stEvents(new QLabel),
      m_stTime(new QLabel),
      m_stHeap(new QLabel),
      m_stCycle(new QLabel),
      m_stRead(new QLabel) {
    initResources();
    setWindowTitle(tr("spanscope"));
    setWindowIcon(QIcon(QStringLiteral(":/spanscope/icons/spanscope.svg")));
    setDockOptions(AnimatedDocks | AllowTabbedDocks);
    setAcceptDrops(true);  // drop a session file on the window to open it

    auto* central = new QWidget;
    auto* lay = new QVBoxLayout(central);
    lay->setContentsMargins(0, 0, 0, 0);
    lay->setSpacing(0);
    m_banner->setWordWrap(true);
    m_banner->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_banner->hide();
    lay->addWidget(m_banner);
    lay->addWidget(m_map, 1);
    // The legend lists every class present: a scroll area keeps it to three rows at most.
    auto* legendScroll = new QScrollArea;
    legendScroll->setWidget(m_legend);
    legendScroll->setWidgetResizable(true);
    legendScroll->setFrameShape(QFrame::NoFrame);
    legendScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    legendScroll->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
    auto fitLegend = [this, legendScroll] {
        const int rows = m_legend->fontMetrics().height() + 6;
        const int want = m_legend->heightForWidth(legendScroll->viewport()->width());
        // Three whole rows (entries start 3 px down, a row every `rows` px) and no sliver of the
        // fourth: the rest scrolls.
        legendScroll->setFixedHeight(std::min(want, rows * 3 + 3));
    };
    connect(m_legend, &HeapMapLegend::classClicked, this, &MainWindow::setClassFilter);
    // The legend names the classes of the heap the map shows: the cursor's moment, or the end of
    // a selected range.
    connect(m_map, &HeapMapView::shownMomentChanged, this, [this] {
        m_legend->setMoment(m_map->shownMoment());
        if (m_legendFit) m_legendFit();
    });
    m_legendFit = fitLegend;
    legendScroll->setFixedHeight((m_legend->fontMetrics().height() + 6) * 2 +
                                 3);  // until a moment is shown
    lay->addWidget(legendScroll);
    setCentralWidget(central);

    auto dock = [this](const QString& title, const QString& name, QWidget* w,
                       Qt::DockWidgetArea area) {
        auto* d = new QDockWidget(title, this);
        d->setObjectName(name);
        d->setWidget(w);
        addDockWidget(area, d);
        return d;
    };
    dock(tr("Timeline"), QStringLiteral("timeline"), m_timeline, Qt::BottomDockWidgetArea);
    auto* fr =
        dock(tr("Fragmentation"), QStringLiteral("fragmentation"), m_frag, Qt::RightDockWidgetArea);
    auto* sc =
        dock(tr("Size classes"), QStringLiteral("sizeClasses"), m_table, Qt::RightDockWidgetArea);
    auto* se =
        dock(tr("Session"), QStringLiteral("session"), m_sessionPanel, Qt::RightDockWidgetArea);
    m_inspector = new SpanInspector;  // opened by a click on a span (inspectSpan)
    m_inspectorDock = dock(tr("Span inspector"), QStringLiteral("spanInspector"), m_inspector,
                           Qt::RightDockWidgetArea);
    // The timeline takes the whole width (its legend has up to seven entries); the side panels are
    // arranged by layoutFor (fitToScreen).
    tabifyDockWidget(fr, m_inspectorDock);
    // Who allocated it: the heap profile's flame graph and call trees (profile_panel.h).
    m_profile = new ProfilePanel(m_client);
    QDockWidget* profileDock =
        dock(tr("Profile"), QStringLiteral("profile"), m_profile, Qt::RightDockWidgetArea);
    tabifyDockWidget(fr, profileDock);
    connect(m_profile, &ProfilePanel::selectionChanged, m_map, &HeapMapView::setMarkedAddresses);
    connect(m_profile, &ProfilePanel::profileShown, this,
            [this] { m_inspector->setProfile(m_profile->profile()); });
    // A range selected on the timeline: what was allocated in it.
    connect(m_timeline, &TimelineView::rangeSelected, m_profile,
            [this](qint64 t0, qint64 t1) { m_profile->setRange(t0, t1); });
    connect(m_timeline, &TimelineView::rangeCleared, m_profile, &ProfilePanel::clearRange);
    fr->raise();
    (void)sc, (void)se;
    m_inspectorDock->hide();
    connect(m_inspectorDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible) refreshInspector();
    });
    // The profile is folded at each moment only while something shows it: its tab in front, or
    // the span inspector (which lists the span's sampled objects) open.
    auto profileWanted = [this, profileDock] {
        m_profile->setWanted(m_profileInView || m_inspectorDock->isVisible());
    };
    connect(profileDock, &QDockWidget::visibilityChanged, this, [this, profileWanted](bool v) {
        m_profileInView = v;
        profileWanted();
    });
    connect(m_inspectorDock, &QDockWidget::visibilityChanged, this, profileWanted);

    buildStatusBar();
    m_stRead->setToolTip(tr("time the worker thread took to read the state at the cursor"));
    connect(m_presenter, &Presenter::activeChanged, m_stRead,
            [this](bool on) { m_stRead->setVisible(!on); });
    statusBar()->showMessage(
        tr("Open a session (File > Open) or run the live demo (File > Live demo)."));

    buildMenus();
    refreshRecentMenu();

    connect(m_client, &SessionClient::opened, this, &MainWindow::onOpened);
    connect(m_client, &SessionClient::openFailed, this, [this](const QString& msg) {
        showBanner(tr("Cannot open the session. %1").arg(msg), true);
        m_moment.reset();
        m_map->setMoment(nullptr);
        m_legend->setMoment(nullptr);
        m_table->setMoment(nullptr);
        m_frag->setMoment(nullptr);
        m_sessionPanel->setSummary(nullptr);
        updateStatus();
        emit errorShown(msg);
    });
    connect(m_client, &SessionClient::summaryUpdated, this, &MainWindow::onSummaryUpdated);
    connect(m_client, &SessionClient::momentReady, this, &MainWindow::onMoment);
    connect(m_client, &SessionClient::spanObjectsReady, this, [this](const SpanObjectsPtr& s) {
        m_inspector->setObjects(s);
        emit spanInspected();
    });
    connect(m_map, &HeapMapView::spanClicked, this, [this](quint64 base) { inspectSpan(base); });
    connect(m_table->view(), &QTableView::clicked, this, [this](const QModelIndex& i) {
        const int c = i.data(SizeClassModel::kSizeClassRole).toInt();
        setClassFilter(c == m_map->classFilter() ? -1 : c);
    });
    connect(m_client, &SessionClient::seriesReady, this, &MainWindow::onSeries);
    connect(m_client, &SessionClient::readError, this, [this](const QString& msg) {
        showBanner(tr("Reading the session failed: %1").arg(msg), true);
    });
    connect(m_timeline, &TimelineView::seek, this, [this](qint64 t) { m_client->seek(t); });
    connect(m_timeline, &TimelineView::userMovedCursor, this, [this] {
        if (m_followAction->isChecked()) m_followAction->setChecked(false);
    });
    connect(m_timeline, &TimelineView::rangeRequested, this,
            [this](qint64 t0, qint64 t1) { m_client->requestSeries(t0, t1); });
    connect(m_map, &HeapMapView::hovered, this, [this](const QString& d) {
        QString plain = d;
        plain.replace(QStringLiteral("<br>"), QStringLiteral(" · "));
        plain.remove(QRegularExpression(QStringLiteral("<[^>]*>")));
        statusBar()->showMessage(plain);
    });
    connect(m_sessionPanel, &SessionPanel::openRequested, this, &MainWindow::openFile);
    connect(m_sessionPanel, &SessionPanel::attachRequested, this,
            [this](qint64 pid) { startLive(LiveSource::attach(pid)); });
    connect(m_sessionPanel, &SessionPanel::detachRequested, this, &MainWindow::detach);
    connect(m_live, &LiveRecording::finished, this, [this] {  // the attached program exited
        m_attachedPid = 0;
        m_sessionPanel->setAttachedPid(0);
    });
    connect(m_sessionPanel, &SessionPanel::browseRequested, this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Open a spanscope session"), QString(),
            tr("spanscope sessions (*.spanscope *.db *.sqlite);;All files (*)"));
        if (!f.isEmpty()) openFile(f);
    });
    connect(m_live, &LiveRecording::finished, this, [this](int code, const QString& last) {
        if (m_client->isOpen()) return;
        m_client->close();  // stop waiting for the file: the recorder's own words say more
        const QString msg = tr("The live recording ended before any data arrived (status %1): %2")
                                .arg(code)
                                .arg(last);
        showBanner(msg, true);
        emit errorShown(msg);
    });
    m_seriesThrottle.setSingleShot(true);
    m_seriesThrottle.setInterval(1000);
    connect(&m_seriesThrottle, &QTimer::timeout, this, [this] {
        if (m_seriesPending && m_client->summary()) {  // the whole session so far
            m_seriesPending = false;
            m_client->requestSeries(0, m_client->summary()->info.endNs);
        }
    });
    m_sideThrottle.setSingleShot(true);
    m_sideThrottle.setInterval(1000);
    connect(&m_sideThrottle, &QTimer::timeout, this, [this] {
        if (m_sidePending) showSidePanels();
    });
    updateStatus();
    fitToScreen();
}

MainWindow::~MainWindow() {
    m_live->stop();
}

void MainWindow::closeEvent(QCloseEvent* e) {
    saveLayout();
    m_live->stop();
    e->accept();
}

// The status bar: two rows that fit a 1024-pixel-wide window without cutting a figure.
//   row 1: the latest message (hover, open, save...) | the cycle and phase | the time | read time
//   row 2: the heap's figures                         | events and file size
void MainWindow::buildStatusBar() {
    auto* box = new QWidget;
    auto* rows = new QVBoxLayout(box);
    rows->setContentsMargins(4, 0, 4, 0);
    rows->setSpacing(0);
    m_stMessage = new QLabel;
    auto row = [rows](std::initializer_list<QLabel*> labels) {  // each row fits on its own
        auto* h = new QHBoxLayout;
        h->setSpacing(16);
        for (QLabel* l : labels) h->addWidget(l, l == *labels.begin() ? 1 : 0);
        rows->addLayout(h);
    };
    row({m_stMessage, m_stCycle, m_stTime, m_stRead});
    row({m_stHeap, m_stEvents});
    for (QLabel* l : {m_stMessage, m_stEvents, m_stTime, m_stHeap, m_stCycle, m_stRead}) {
        l->setMinimumWidth(1);  // never widen the window; the layout test checks nothing is cut
        l->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
    }
    m_stMessage->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
    statusBar()->addPermanentWidget(box, 1);
    // Messages go to row 1 (QStatusBar would draw them under the permanent rows), elided to the
    // room there with the whole text as the tooltip.
    connect(statusBar(), &QStatusBar::messageChanged, this, [this](const QString& msg) {
        m_stMessage->setToolTip(msg);
        m_stMessage->setText(
            m_stMessage->fontMetrics().elidedText(msg, Qt::ElideMiddle, m_stMessage->width()));
    });
}

QStringList MainWindow::clippedStatusTexts() const {
    QStringList out;
    for (QLabel* l : {m_stEvents, m_stTime, m_stHeap, m_stCycle, m_stRead})
        if (l->isVisible() && !l->text().isEmpty() &&
            l->fontMetrics().horizontalAdvance(l->text()) > l->contentsRect().width())
            out << l->text();
    return out;
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open session…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Open a spanscope session"), QString(),
            tr("spanscope sessions (*.spanscope *.db *.sqlite);;All files (*)"));
        if (!f.isEmpty()) openFile(f);
    });
    open->setShortcut(QKeySequence::Open);
    m_recentMenu = file->addMenu(tr("Open &recent"));
    m_saveAsAction = file->addAction(tr("&Save session as…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Save the session as"),
                                                       QFileInfo(m_path).fileName(),
                                                       tr("spanscope sessions (*.spanscope)"));
        if (!f.isEmpty()) saveSessionAs(f);
    });
    m_saveAsAction->setShortcut(QKeySequence::SaveAs);
    file->addAction(tr("&Live demo"), this, [this] { startLive(LiveSource::demo()); });
    m_stopAction = file->addAction(tr("S&top recording"), this, [this] {
        if (m_attachedPid)
            detach();
        else
            m_live->stop();  // the program is stopped; the recorder finishes the session
        updateStatus();
    });
    m_range = new RangeFeatures(this);
    m_range->addFileActions(file);
    file->addSeparator();
    file->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(tr("&Fit heap map"), this, [this] { m_map->fitToView(); })
        ->setShortcut(Qt::Key_F);
    QAction* whole = view->addAction(tr("Whole &arenas on the heap map"));
    whole->setCheckable(true);
    whole->setShortcut(Qt::Key_A);
    whole->setToolTip(
        tr("Off: the map fits the address range the heap has mapped. On: whole 64 MiB arenas."));
    connect(whole, &QAction::toggled, m_map, &HeapMapView::setWholeArenas);
    view->addAction(tr("&Zoom to the inspected span"), this,
                    [this] {
                        if (m_inspector->target()) m_map->zoomToSpan(*m_inspector->target());
                    })
        ->setShortcut(Qt::Key_Z);
    // Esc undoes a narrowing: the class filter, and the time range (back to the cursor's moment).
    view->addAction(tr("Show all size &classes, back to the cursor"), this,
                    [this] {
                        setClassFilter(-1);
                        m_timeline->clearSelection();
                    })
        ->setShortcut(Qt::Key_Escape);
    view->addAction(tr("Whole &session on the timeline"), this,
                    [this] { m_timeline->resetZoom(); });
    m_followAction = view->addAction(tr("Follow the &end (live)"));
    m_followAction->setCheckable(true);
    m_followAction->setShortcut(Qt::Key_L);
    connect(m_followAction, &QAction::toggled, this, [this](bool on) {
        m_timeline->setFollowEnd(on);
        if (on && m_client->summary()) seekTo(m_client->summary()->info.endNs);
    });
    view->addSeparator();
    // In presenter mode the arrows, Home and End step by record instead (presenter.h).
    view->addAction(tr("Step &back"), this,
                    [this] {
                        if (m_presenter->active())
                            m_presenter->previousEvent();
                        else
                            stepCursor(-0.01);
                    })
        ->setShortcut(Qt::Key_Left);
    view->addAction(tr("Step &forward"), this,
                    [this] {
                        if (m_presenter->active())
                            m_presenter->nextEvent();
                        else
                            stepCursor(0.01);
                    })
        ->setShortcut(Qt::Key_Right);
    view->addAction(tr("&Next sweep / GC cycle"), this, [this] { stepCycle(+1); })
        ->setShortcut(Qt::Key_BracketRight);
    view->addAction(tr("&Previous sweep / GC cycle"), this, [this] { stepCycle(-1); })
        ->setShortcut(Qt::Key_BracketLeft);
    view->addAction(tr("Go to &start"), this,
                    [this] {
                        if (m_presenter->active())
                            m_presenter->firstEvent();
                        else
                            seekTo(0);
                    })
        ->setShortcut(Qt::Key_Home);
    view->addAction(tr("Go to &end"), this,
                    [this] {
                        if (m_presenter->active())
                            m_presenter->lastEvent();
                        else if (m_client->summary())
                            seekTo(m_client->summary()->info.endNs);
                    })
        ->setShortcut(Qt::Key_End);
    view->addSeparator();
    m_range->addViewActions(view);
    view->addSeparator();
    m_presenter->addActions(view);
    view->addSeparator();
    for (QDockWidget* d : findChildren<QDockWidget*>()) view->addAction(d->toggleViewAction());

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About spanscope"), this, [this] {
        QMessageBox::about(
            this, tr("About spanscope"),
            tr("<b>spanscope</b> %1<br>A Go-style allocator, instrumented, and this viewer of its "
               "recorded sessions.<br><br>Heap map: one cell per 8 KiB page, 128 pages (1 MiB) to "
               "a "
               "row, 64 MiB arenas. Colour = size class, brightness = occupancy.")
                .arg(QApplication::applicationVersion()));
    });
}

void MainWindow::showBanner(const QString& text, bool error) {
    m_banner->setText(text);
    m_banner->setStyleSheet(
        error ? QStringLiteral(
                    "QLabel { background: #fde2e1; color: #7a1712; border-bottom: 2px solid "
                    "#d9534f; padding: 8px 12px; font-weight: 600; }")
              : QStringLiteral(
                    "QLabel { background: #e3effc; color: #123f6b; border-bottom: 2px solid "
                    "#4a90d9; padding: 6px 12px; }"));
    m_banner->show();
    if (error) statusBar()->showMessage(text);
}

void MainWindow::hideBanner() {
    m_banner->hide();
}

QString MainWindow::bannerText() const {
    return m_banner->isVisible() || !m_banner->isHidden() ? m_banner->text() : QString();
}

QStringList MainWindow::recentFiles() {
    return QSettings().value(QLatin1String(kRecentKey)).toStringList();
}

void MainWindow::addRecent(const QString& path) {
    const QString abs = QFileInfo(path).absoluteFilePath();
    QStringList l = recentFiles();
    l.removeAll(abs);
    l.prepend(abs);
    while (l.size() > kMaxRecent) l.removeLast();
    QSettings().setValue(QLatin1String(kRecentKey), l);
    refreshRecentMenu();
}

void MainWindow::refreshRecentMenu() {
    const QStringList l = recentFiles();
    m_recentMenu->clear();
    for (const QString& f : l) m_recentMenu->addAction(f, this, [this, f] { openFile(f); });
    m_recentMenu->setEnabled(!l.isEmpty());
    m_sessionPanel->setRecentFiles(l);
}

void MainWindow::openFile(const QString& path) {
    m_live->stop();
    m_attachedPid = 0;
    m_sessionPanel->setAttachedPid(0);
    m_path = path;
    hideBanner();
    m_followAction->setChecked(false);
    statusBar()->showMessage(tr("Opening %1…").arg(path));
    m_client->setPolling(0);
    m_client->open(path);
}

bool MainWindow::startLive(const LiveSource& src) {
    hideBanner();
    m_attachedPid = 0;  // starting anything else ends an attach
    m_sessionPanel->setAttachedPid(0);
    if (!m_live->start(LiveRecording::findCli(), src)) {
        showBanner(tr("Cannot record %1: %2").arg(src.describe(), m_live->error()), true);
        emit errorShown(m_live->error());
        return false;
    }
    m_path = m_live->sessionPath();
    if (src.kind == LiveSource::Kind::Attach) {
        m_attachedPid = src.pid;
        m_sessionPanel->setAttachedPid(src.pid);
    }
    m_followAction->setChecked(true);
    statusBar()->showMessage(
        tr("Recording %1 into %2…").arg(src.describe(), QFileInfo(m_path).fileName()));
    m_client->open(m_path, 15000);  // the file appears with the recorder's first commit
    return true;
}

bool MainWindow::saveSessionAs(const QString& dest) {
    if (m_path.isEmpty() || !m_client->summary()) return false;
    if (isRecording()) {
        showBanner(tr("The session is still being recorded: stop the recording (File > Stop "
                      "recording) or let it "
                      "end, then save it."),
                   true);
        return false;
    }
    const QString from = QFileInfo(m_path).absoluteFilePath(),
                  to = QFileInfo(dest).absoluteFilePath();
    if (from == to) return true;
    QFile::remove(to);  // the dialog asked before replacing it
    if (!QFile::copy(from, to)) {
        showBanner(tr("Cannot save the session as %1.").arg(to), true);
        return false;
    }
    statusBar()->showMessage(
        tr("Saved as %1 (%2).").arg(to, formatBytes(uint64_t(QFileInfo(to).size()))), 6000);
    addRecent(to);
    return true;
}

bool MainWindow::followingEnd() const {
    return m_followAction->isChecked();
}

void MainWindow::setFollowingEnd(bool on) {
    m_followAction->setChecked(on);
}

bool MainWindow::detach() {
    if (!m_attachedPid || !m_live->running()) return false;
    const qint64 pid = m_attachedPid;
    m_live->stop();  // SIGINT to the attach client: the program sends its trailer and runs on
    m_attachedPid = 0;
    m_sessionPanel->setAttachedPid(0);
    m_followAction->setChecked(false);
    // The worker keeps polling until the session says how it ended ("detached").
    showBanner(
        tr("Detached from process %1; it runs on. The session recorded so far stays browsable.")
            .arg(pid),
        false);
    statusBar()->showMessage(tr("Detached from process %1.").arg(pid), 5000);
    return true;
}

void MainWindow::onOpened(const SummaryPtr& s) {
    setWindowTitle(tr("%1 — spanscope").arg(QFileInfo(s->path).fileName()));
    if (!m_live->running() || s->path != m_live->sessionPath()) addRecent(s->path);
    m_sessionPanel->setSummary(s);
    m_map->setSizeClasses(s->classes);
    m_inspector->setSession(s->classes, static_cast<uint64_t>(s->info.pageSize));
    m_timeline->resetZoom();
    m_profile->clear();
    m_timeline->setSessionLength(s->info.endNs);
    m_timeline->setKeptFrom(s->info.keptFromNs);
    m_timeline->setGaps(s->info.gaps);
    m_client->requestSeries(0, s->info.endNs);
    const bool live = s->live && m_live->running();
    if (s->live) {
        m_client->setPolling(250);
        if (!m_live->running())
            showBanner(tr("This session is still being recorded, or its recorder stopped without "
                          "finishing it; "
                          "it is shown as far as it was committed and updated as it grows."),
                       false);
    }
    if (live) m_followAction->setChecked(true);
    seekTo(s->info.endNs);
    statusBar()->showMessage(tr("Opened %1").arg(QFileInfo(s->path).fileName()), 4000);
    updateStatus();
}

void MainWindow::onSummaryUpdated(const SummaryPtr& s) {
    m_sessionPanel->setSummary(s);
    m_timeline->setSessionLength(s->info.endNs);
    m_timeline->setKeptFrom(s->info.keptFromNs);  // a live bounded recording drops as it goes
    m_timeline->setGaps(s->info.gaps);
    m_seriesPending = true;
    if (!m_seriesThrottle.isActive()) m_seriesThrottle.start();
    if (m_followAction->isChecked()) seekTo(s->info.endNs);
    if (!s->live) {
        showBanner(tr("The recording has ended: %1. The session is complete and stays browsable.")
                       .arg(SessionInfoModel::endDescription(s->info)),
                   false);
        m_seriesPending = true;
        m_seriesThrottle.start(0);
    }
    updateStatus();
}

int64_t MainWindow::seekTo(int64_t t) {
    t = std::max<int64_t>(0, t);
    if (const SummaryPtr s = m_client->summary()) {
        // A bounded recording knows nothing before its kept part: the moment shown is its start.
        t = std::max<int64_t>(t, s->info.keptFromNs);
        t = std::min<int64_t>(t, s->info.endNs);
    }
    m_timeline->setCursorTime(t);
    m_client->seek(t);
    return t;
}

namespace {
const char* kGeometryKey = "window/geometry";
const char* kStateKey = "window/state";
}  // namespace

void MainWindow::fitToScreen() {
    const QScreen* sc = screen() ? screen() : QGuiApplication::primaryScreen();
    const QRect avail = sc ? sc->availableGeometry() : QRect(0, 0, 1440, 900);
    const QSize size(std::min(2560, avail.width() * 9 / 10),
                     std::min(1600, avail.height() * 9 / 10));
    layoutFor(size);
    if (sc) move(avail.center() - QPoint(size.width() / 2, size.height() / 2));
}

void MainWindow::layoutFor(QSize size) {
    // Under 760 pixels of height the fragmentation charts and the table cannot both be readable
    // one above the other: every side panel becomes a tab of one dock. Else fragmentation above,
    // size classes and session (tabs) below.
    QDockWidget* fr = findChild<QDockWidget*>(QStringLiteral("fragmentation"));
    QDockWidget* sc = findChild<QDockWidget*>(QStringLiteral("sizeClasses"));
    QDockWidget* se = findChild<QDockWidget*>(QStringLiteral("session"));
    QDockWidget* tl = findChild<QDockWidget*>(QStringLiteral("timeline"));
    const bool compact = size.height() < 760;
    m_frag->setCompact(compact);
    if (compact) {
        tabifyDockWidget(fr, sc);
        tabifyDockWidget(fr, se);
    } else {
        splitDockWidget(fr, sc, Qt::Vertical);
        tabifyDockWidget(sc, se);
        sc->raise();
    }
    fr->raise();
    resize(size);
    // The proportions once the window is laid out (resizeDocks does nothing before).
    auto proportions = [this, fr, sc, tl, size] {
        // The side: wide enough for the size-class table's columns on a small screen.
        const int side = std::max(std::min(560, size.width() * 55 / 100), size.width() * 36 / 100);
        resizeDocks({fr}, {side}, Qt::Horizontal);
        resizeDocks({tl}, {std::max(210, size.height() * 26 / 100)}, Qt::Vertical);
        if (!tabifiedDockWidgets(fr).contains(sc))
            resizeDocks({fr, sc}, {size.height() * 55 / 100, size.height() * 45 / 100},
                        Qt::Vertical);
    };
    if (isVisible())
        proportions();
    else
        QTimer::singleShot(0, this, proportions);
}

void MainWindow::restoreLayout() {
    QSettings st;
    const bool geometry = restoreGeometry(st.value(QLatin1String(kGeometryKey)).toByteArray());
    if (!geometry) {
        fitToScreen();
        return;
    }
    // A window remembered on a larger screen than this one is fitted instead.
    if (const QScreen* sc = screen(); sc && !sc->availableGeometry().contains(frameGeometry()))
        fitToScreen();
    restoreState(st.value(QLatin1String(kStateKey)).toByteArray());
}

void MainWindow::saveLayout() const {
    if (m_presenter->active()) return;  // presenter mode's layout is its own
    QSettings st;
    st.setValue(QLatin1String(kGeometryKey), saveGeometry());
    st.setValue(QLatin1String(kStateKey), saveState());
}

void MainWindow::stepCursor(double fraction) {
    if (!m_client->summary()) return;
    const auto [t0, t1] = m_timeline->visibleRange();
    const int64_t step =
        std::max<int64_t>(1000, static_cast<int64_t>(double(t1 - t0) * std::abs(fraction)));
    int64_t t = m_timeline->cursorTime() + (fraction < 0 ? -step : step);
    t = std::clamp<int64_t>(t, 0, m_client->summary()->info.endNs);
    m_followAction->setChecked(false);
    seekTo(t);
}

void MainWindow::setClassFilter(int sizeClass) {
    m_map->setClassFilter(sizeClass);
    m_legend->setSelectedClass(sizeClass);
    statusBar()->showMessage(
        sizeClass < 0 ? tr("All size classes shown.")
                      : tr("Only size class %1 in colour; click it again in the legend (or press "
                           "Escape) to show all.")
                            .arg(sizeClass),
        5000);
}

void MainWindow::onMoment(const MomentPtr& m) {
    m_moment = m;
    m_map->setMoment(m);  // the legend follows what the map shows (shownMomentChanged)
    if (m_inspectorDock->isVisible()) refreshInspector();  // the inspector follows the cursor
    // Following a live session, moments come four times a second; the bar chart and the table
    // (a chart re-layout and a model update each) follow at most once a second, in an event-loop
    // turn of their own, so that no turn of the GUI thread does all the work at once.
    if (followingEnd() && isRecording()) {
        m_sidePending = true;
        if (!m_sideThrottle.isActive()) m_sideThrottle.start();
    } else {
        m_sideThrottle.stop();
        showSidePanels();
    }
    m_timeline->setCursorTime(m->tNs);
    if (m->hasHeap) m_timeline->setTail(m->tNs, m->heap);
    updateStatus();
    emit momentShown();
}

void MainWindow::inspectSpan(uint64_t addr) {
    m_inspector->setTarget(addr);
    m_inspectorDock->show();
    m_inspectorDock->raise();
    refreshInspector();
}

// The inspector describes the span at the moment the heap map shows: the cursor's, or the end of
// the selected range while the map shows a range (a click on a span of that map is about it).
void MainWindow::refreshInspector() {
    const MomentPtr& shown =
        m_map->showsRange() && m_map->shownMoment() ? m_map->shownMoment() : m_moment;
    if (!shown) return;
    m_inspector->setGcPhase(shown->gcPhase);
    if (m_inspector->target()) m_client->requestSpanObjects(*m_inspector->target(), shown->tNs);
}

void MainWindow::showSidePanels() {
    m_sidePending = false;
    m_frag->setMoment(m_moment);
    m_table->setMoment(m_moment);
    if (m_moment) m_profile->setMoment(m_moment->tNs);
}

bool MainWindow::stepCycle(int direction) {
    if (!m_series || m_series->cycles.empty()) return false;
    const int64_t now = m_timeline->cursorTime();
    int64_t target = -1;
    for (const auto& c : m_series->cycles) {
        if (direction > 0 && c.startNs > now) {
            target = c.startNs;
            break;
        }
        if (direction < 0 && c.startNs < now) target = c.startNs;
    }
    if (target < 0) return false;
    m_followAction->setChecked(false);
    seekTo(target);
    return true;
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
    if (e->mimeData()->hasUrls() && e->mimeData()->urls().size() == 1 &&
        e->mimeData()->urls().first().isLocalFile())
        e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
    openFile(e->mimeData()->urls().first().toLocalFile());
}

void MainWindow::onSeries(const SeriesPtr& s) {
    m_series = s;
    m_timeline->setSeries(s);
    m_frag->setSeries(s);
    emit seriesShown();
}

QWidget* MainWindow::panel(const QString& name) const {
    if (name == QLatin1String("heapmap")) return centralWidget();
    const QWidget* inner =
        name == QLatin1String("timeline")        ? static_cast<QWidget*>(m_timeline)
        : name == QLatin1String("fragmentation") ? static_cast<QWidget*>(m_frag)
        : name == QLatin1String("sizeclasses")   ? static_cast<QWidget*>(m_table)
        : name == QLatin1String("session")       ? static_cast<QWidget*>(m_sessionPanel)
        : name == QLatin1String("inspector")     ? static_cast<QWidget*>(m_inspector)
        : name == QLatin1String("range")         ? static_cast<QWidget*>(m_range->rangePanel())
        : name == QLatin1String("flow")          ? static_cast<QWidget*>(m_range->flowView())
        : name == QLatin1String("profile")       ? static_cast<QWidget*>(m_profile)
                                                 : nullptr;
    for (QDockWidget* d : findChildren<QDockWidget*>())
        if (d->widget() == inner) return d;
    return const_cast<MainWindow*>(this);
}

QString MainWindow::statusText() const {
    QStringList parts;
    for (QLabel* l : {m_stEvents, m_stTime, m_stHeap, m_stCycle, m_stRead})
        if (!l->text().isEmpty()) parts << l->text();
    return parts.join(QStringLiteral(" | "));
}

void MainWindow::updateStatus() {
    const SummaryPtr s = m_client->summary();
    m_saveAsAction->setEnabled(s && !isRecording());
    m_stopAction->setEnabled(isRecording());
    if (!s) {
        for (QLabel* l : {m_stEvents, m_stTime, m_stHeap, m_stCycle, m_stRead}) l->clear();
        return;
    }
    const auto& in = s->info;
    // The file's size: live recordings go to the user's data folder (LiveRecording::recordingsDir).
    m_stEvents->setText(tr("%1%2 · %3 file")
                            .arg(countOf(uint64_t(in.events), "event", "events"),
                                 s->live ? tr(" (recording)") : QString(),
                                 formatBytes(uint64_t(QFileInfo(m_path).size()))));
    m_stEvents->setToolTip(m_path);
    const int64_t t = m_moment ? m_moment->tNs : 0;
    m_stTime->setText(tr("t = %1 / %2").arg(formatSeconds(t), formatSeconds(in.endNs)));
    m_stTime->setStyleSheet(QString());
    m_stTime->setToolTip(QString());
    if (const session::DropGap* g = m_moment ? in.gapAt(t) : nullptr) {
        // The replay lost records here: say so where the numbers are, not only on the timeline.
        m_stTime->setText(m_stTime->text() + tr(" · incomplete: records dropped"));
        m_stTime->setStyleSheet(QStringLiteral("color: #b00000; font-weight: bold"));
        m_stTime->setToolTip(
            g->resynced ? tr("The program outran the recorder from %1 to %2: %3 records were "
                             "dropped, so the heap "
                             "map and size classes here may miss spans. At %2 the probe sent the "
                             "whole span table "
                             "again (a resync rundown).")
                              .arg(formatSeconds(g->fromNs), formatSeconds(g->toNs),
                                   formatCount(uint64_t(g->dropped)))
                        : tr("The program outran the recorder from %1 on: %2 records were dropped "
                             "and the span "
                             "table was not sent again before the end, so the heap map and size "
                             "classes may miss spans.")
                              .arg(formatSeconds(g->fromNs), formatCount(uint64_t(g->dropped))));
    }
    if (m_moment && m_moment->hasHeap) {
        const auto& h = m_moment->heap;
        m_stHeap->setText(tr("%1 %2 · %3 %4 · %5 %6 · %7 %8")
                              .arg(termLabel(Term::Allocated), formatBytes(h.heapAlloc),
                                   termLabel(Term::InSpans), formatBytes(h.heapInuse),
                                   termLabel(Term::HeapSys), formatBytes(h.heapSys),
                                   termLabel(Term::Released), formatBytes(h.heapReleased)));
    } else {
        m_stHeap->setText(tr("heap: no sample yet"));
    }
    if (m_moment && m_moment->cycle) {
        const auto& c = *m_moment->cycle;
        if (c.kind == "gc") {
            const QString phase = !m_moment->gcPhase.empty() ? gcPhaseLabel(m_moment->gcPhase)
                                  : m_moment->cycleRunning   ? tr("marking")
                                                             : tr("off");
            m_stCycle->setText(
                tr("%1 %2 · phase: %3").arg(termLabel(Term::GcCycle)).arg(c.cycle).arg(phase));
        } else {  // malloc mode: generations follow one another; the current one sweeps as it goes
            // The trigger is refined once the generation is swept (mgcsweep.cpp): the heap sample,
            // if it is newer than the generation's start, has the refined one (as the timeline's
            // line and `report` show it).
            const bool sampled = m_moment->hasHeap && m_moment->heap.tNs >= c.startNs &&
                                 m_moment->heap.nextSweep != 0;
            m_stCycle->setText(
                tr("%1 %2 (since %3) · %4 %5")
                    .arg(termLabel(Term::SweepGeneration))
                    .arg(c.cycle)
                    .arg(formatSeconds(c.startNs), termLabel(Term::NextSweep),
                         formatBytes(sampled ? m_moment->heap.nextSweep : c.trigger)));
        }
    } else if (m_moment && m_moment->hasHeap && m_moment->heap.numSweepCycles > 0) {
        // Attached to a running program: its generations began before the recording did.
        m_stCycle->setText(
            tr("%1 %2 (began before the recording) · %3 %4")
                .arg(termLabel(Term::SweepGeneration))
                .arg(m_moment->heap.numSweepCycles)
                .arg(termLabel(Term::NextSweep), formatBytes(m_moment->heap.nextSweep)));
    } else {
        m_stCycle->setText(tr("no %1 yet").arg(termLabel(Term::SweepGeneration)));
    }
    m_stRead->setText(
        m_moment ? tr("read %1").arg(formatDuration(static_cast<uint64_t>(m_moment->readMs * 1e6)))
                 : QString());
}

}  // namespace spanscope::ui
