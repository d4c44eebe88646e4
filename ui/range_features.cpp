// RangeFeatures (see range_features.h).
#include "range_features.h"

#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QEventLoop>
#include <QFileDialog>
#include <QFormLayout>
#include <QMenu>
#include <QMessageBox>
#include <QProgressDialog>
#include <QSpinBox>
#include <QStatusBar>
#include <QTabBar>
#include <QThread>
#include <QTimer>
#include <functional>

#include "compare_view.h"
#include "export.h"
#include "flow_view.h"
#include "format.h"
#include "frame_export.h"
#include "main_window.h"
#include "presenter.h"
#include "profile_panel.h"
#include "range_panel.h"
#include "span_inspector.h"
#include "spanscope/session_export.h"

namespace spanscope::ui {

RangeFeatures::RangeFeatures(MainWindow* window)
    : QObject(window), m_window(window), m_panel(new RangePanel), m_flow(new FlowView) {
    auto dock = [window](const QString& title, const QString& name, QWidget* w) {
        auto* d = new QDockWidget(title, window);
        d->setObjectName(name);
        d->setWidget(w);
        window->addDockWidget(Qt::RightDockWidgetArea, d);
        if (auto* frag = window->findChild<QDockWidget*>(QStringLiteral("fragmentation")))
            window->tabifyDockWidget(frag, d);
        return d;
    };
    m_rangeDock = dock(tr("Range"), QStringLiteral("range"), m_panel);
    m_flowDock =
        dock(tr("Flow"), QStringLiteral("flow"), m_flow);  // short: six tabs share the side
    m_flowDock->setToolTip(tr("The allocation flow: mcache ↔ mcentral ↔ mheap ↔ OS"));
    // The side's tab bars show whole titles and scroll when they do not fit, rather than eliding
    // every title to "Fra…" (tab bars are made as docks are tabified: those to come too).
    for (QTabBar* tb : window->findChildren<QTabBar*>()) keepTitles(tb);
    window->installEventFilter(this);
    if (auto* frag = window->findChild<QDockWidget*>(QStringLiteral("fragmentation")))
        frag->raise();

    TimelineView* tl = window->timeline();
    connect(tl, &TimelineView::rangeSelected, this, [this](qint64 t0, qint64 t1) {
        m_selection = std::make_pair(int64_t(t0), int64_t(t1));
        m_rangeDock->raise();
        requestRange();
    });
    connect(tl, &TimelineView::rangeCleared, this, [this] {
        m_selection.reset();
        showInPanels(nullptr);
        requestRange();
        requestFlowAtCursor();
    });
    connect(window, &MainWindow::seriesShown, this, &RangeFeatures::onSessionShown);
    // The rates around the cursor are read (every record of a 200 ms window: 150,000 of them
    // when a live recording runs at 750,000 a second) only while the flow view can be seen, or
    // when it comes into view; a shown window with the view behind another tab skips them.
    connect(window, &MainWindow::momentShown, this, [this] {
        if (m_selection) return;
        if (m_window->isVisible() && !m_flowInView) {
            m_flowStale = true;
            return;
        }
        requestFlowAtCursor();
    });
    connect(m_flowDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        m_flowInView = visible;
        if (visible && m_flowStale && !m_selection) requestFlowAtCursor();
    });
    // Presenter mode: the path of the record being narrated runs on the flow view.
    Presenter* presenter = window->presenter();
    connect(presenter, &Presenter::narrationChanged, this, [this, presenter] {
        const auto& cur = presenter->current();
        if (!presenter->active() || !cur || cur->id == m_animatedId) return;
        m_animatedId = cur->id;
        m_flow->animateStep(flowPathOf(cur->event));
        if (!m_selection) requestFlowAtCursor();  // the rates around the narrated step
    });
    connect(presenter, &Presenter::activeChanged, this, [this](bool on) {
        if (on) {  // after the presenter's own arrangement (the next turn of the event loop)
            m_frontBeforePresenter = frontOfFlowGroup();
            QTimer::singleShot(0, this, &RangeFeatures::placeFlowForPresenter);
            return;
        }
        m_animatedId = -1;
        m_flow->animateStep(-1);
        // The tab that was in front before presenter mode comes back to the front (restoreState
        // keeps the docks' places, not which tab of a group is shown).
        QTimer::singleShot(0, this, [this] {
            if (m_frontBeforePresenter && !m_window->presenter()->active())
                m_frontBeforePresenter->raise();
        });
    });
    connect(m_panel, &RangePanel::jumpRequested, window, [window](qint64 t) { window->seekTo(t); });
    // The panels' "Back to the cursor" buttons clear the selection (as Esc and a click on the
    // timeline do), which brings every panel back to the moment.
    for (RangeBanner* b : {window->sizeClasses()->banner(), window->fragmentation()->banner(),
                           window->heapMap()->banner()})
        connect(b, &RangeBanner::backRequested, tl, &TimelineView::clearSelection);
    connect(&m_rangeClient, &RangeClient::rangeReady, this, [this](const RangePtr& r) {
        m_panel->setRange(r);
        if (m_selection && r->ok) showInPanels(r);
        if (m_selection && r->ok)
            m_flow->setFlow(
                r->flow,
                tr("over %1 – %2").arg(formatSeconds(r->stats.t0), formatSeconds(r->stats.t1)));
        emit rangeShown();
        if (m_selection) emit flowShown();
    });
    connect(&m_flowClient, &RangeClient::rangeReady, this, [this](const RangePtr& r) {
        if (m_selection || !r->ok) return;
        m_flow->setFlow(r->flow,
                        tr(m_flowAtStep ? "around the narrated step at %1 (±%2)" : "at %1 (±%2)")
                            .arg(formatSeconds(m_flowAt), formatSeconds(kFlowWindowNs)));
        emit flowShown();
    });
}

void RangeFeatures::showInPanels(const RangePtr& r) {
    m_window->sizeClasses()->setRange(r);
    m_window->fragmentation()->setRange(r);
    m_window->heapMap()->setRange(r);
    if (m_window->spanInspector()->target())
        m_window->refreshInspector();  // now at the map's moment
}

void RangeFeatures::keepTitles(QTabBar* tb) {
    tb->setElideMode(Qt::ElideNone);
    tb->setUsesScrollButtons(true);
}

// Presenter mode: the flow animates each narrated step, so it is the side's front tab (the
// fragmentation chart is one click away). A place of its own beside the fragmentation chart was
// tried: on a 1920x1080 stage both became too small to read, and the timeline lost its axis labels.
QDockWidget* RangeFeatures::frontOfFlowGroup() const {
    QList<QDockWidget*> group = m_window->tabifiedDockWidgets(m_flowDock);
    group.prepend(m_flowDock);
    for (QDockWidget* d : group)
        if (d->isVisible() && d->widget() && !d->widget()->visibleRegion().isEmpty()) return d;
    return nullptr;
}

void RangeFeatures::placeFlowForPresenter() {
    if (m_window->presenter()->active()) m_flowDock->raise();
}

bool RangeFeatures::eventFilter(QObject* watched, QEvent* e) {
    if (watched == m_window && e->type() == QEvent::ChildPolished)
        if (auto* tb = qobject_cast<QTabBar*>(static_cast<QChildEvent*>(e)->child()))
            keepTitles(tb);
    return QObject::eventFilter(watched, e);
}

void RangeFeatures::onSessionShown() {
    const SummaryPtr s = m_window->summary();
    if (!s) return;
    const bool newSession = s->path != m_path;
    m_end = s->info.endNs;
    if (!newSession) return;
    m_path = s->path;
    m_selection.reset();
    showInPanels(nullptr);
    m_rangeClient.setSession(m_path);
    m_flowClient.setSession(m_path);
    requestRange();
    requestFlowAtCursor();
}

void RangeFeatures::requestRange() {
    if (m_path.isEmpty()) return;
    if (m_selection)
        m_rangeClient.request(m_selection->first, m_selection->second, true, true);
    else
        m_rangeClient.request(0, m_end, true, false);  // the whole session: its figures and jumps
}

// The window around the cursor; in presenter mode around the narrated record (which may be before
// the cursor), so that the path being animated shows its own rate.
void RangeFeatures::requestFlowAtCursor() {
    const MomentPtr m = m_window->moment();
    if (m_path.isEmpty() || !m) return;
    m_flowStale = false;
    const Presenter* p = m_window->presenter();
    m_flowAtStep = p->active() && p->current();
    m_flowAt = m_flowAtStep ? int64_t(p->current()->event.timeNs) : m->tNs;
    m_flowClient.request(std::max<int64_t>(0, m_flowAt - kFlowWindowNs), m_flowAt + kFlowWindowNs,
                         false, true);
}

void RangeFeatures::addFileActions(QMenu* file) {
    file->addAction(tr("&Compare with…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            m_window, tr("Compare with a session"), QString(),
            tr("spanscope sessions (*.spanscope *.db *.sqlite);;All files (*)"));
        if (!f.isEmpty()) compareWith(f);
    });
    QMenu* exp = file->addMenu(tr("&Export"));
    exp->addAction(tr("View as PNG or SVG…"), this, &RangeFeatures::exportViewDialog);
    exp->addAction(tr("Tables and series as CSV…"), this, &RangeFeatures::exportCsvDialog);
    exp->addAction(tr("Heap-map frames…"), this, &RangeFeatures::exportFramesDialog);
}

void RangeFeatures::addViewActions(QMenu* view) {
    view->addMenu(m_panel->jumpMenu());
    view->addAction(tr("Select the &whole session"), this, [this] {
        if (m_end > 0) m_window->timeline()->setSelection(0, m_end);
    });
    view->addAction(tr("C&lear the range"), this,
                    [this] { m_window->timeline()->clearSelection(); });
}

QStringList RangeFeatures::exportableViews() {
    return {QStringLiteral("heapmap"),       QStringLiteral("timeline"),
            QStringLiteral("fragmentation"), QStringLiteral("sizeclasses"),
            QStringLiteral("range"),         QStringLiteral("flow"),
            QStringLiteral("profile"),       QStringLiteral("window")};
}

QWidget* RangeFeatures::exportableView(const QString& name) const {
    if (!exportableViews().contains(name)) return nullptr;
    if (name == QLatin1String("range")) return m_panel;
    if (name == QLatin1String("flow")) return m_flow;
    if (name == QLatin1String("window")) return m_window;
    if (name == QLatin1String("heapmap")) return m_window->heapMap();
    return m_window->panel(name);
}

bool RangeFeatures::exportView(const QString& name, const QString& path, QSize size, QString* err) {
    QWidget* w = exportableView(name);
    if (!w) {
        *err = tr("no view named %1").arg(name);
        return false;
    }
    // A view kept up to date only while in view (the flow, the profile) catches up first: asked,
    // then waited for (at most 10 s; a failed read leaves the view's own message).
    auto catchUp = [](auto* sender, auto shown, const std::function<bool()>& ask) {
        QEventLoop loop;
        QObject::connect(sender, shown, &loop, &QEventLoop::quit);
        QTimer::singleShot(10000, &loop, &QEventLoop::quit);
        if (ask()) loop.exec();
    };
    const bool whole = name == QLatin1String("window");
    if ((whole || name == QLatin1String("flow")) && m_flowStale && !m_selection)
        catchUp(this, &RangeFeatures::flowShown, [this] {
            requestFlowAtCursor();
            return true;
        });
    auto* profile = qobject_cast<ProfilePanel*>(m_window->panel(QStringLiteral("profile")));
    if ((whole || name == QLatin1String("profile")) && profile)
        catchUp(profile, &ProfilePanel::profileShown, [profile] { return profile->catchUp(); });
    return exportWidget(w, path, size, err);
}

CompareWindow* RangeFeatures::compareWith(const QString& other) {
    if (m_path.isEmpty()) {
        QMessageBox::information(m_window, tr("Compare"), tr("Open a session first."));
        return nullptr;
    }
    auto* w = new CompareWindow(m_path, other, m_window);
    w->setAttribute(Qt::WA_DeleteOnClose);
    w->show();
    m_compare = w;
    return w;
}

void RangeFeatures::exportViewDialog() {
    QDialog dlg(m_window);
    dlg.setWindowTitle(tr("Export a view"));
    auto* form = new QFormLayout(&dlg);
    auto* which = new QComboBox;
    const QStringList titles = {tr("Heap map"),
                                tr("Timeline"),
                                tr("Fragmentation"),
                                tr("Size classes"),
                                tr("Range"),
                                tr("Allocation flow"),
                                tr("Profile (flame graph, call trees)"),
                                tr("Whole window")};
    which->addItems(titles);
    auto* width = new QSpinBox;
    auto* height = new QSpinBox;
    width->setRange(64, 16384), height->setRange(64, 16384);
    width->setValue(1920), height->setValue(1080);
    form->addRow(tr("View"), which);
    form->addRow(tr("Width (px)"), width);
    form->addRow(tr("Height (px)"), height);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dlg, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
    if (dlg.exec() != QDialog::Accepted) return;
    const QString path = QFileDialog::getSaveFileName(m_window, tr("Export to"), QString(),
                                                      tr("PNG image (*.png);;SVG drawing (*.svg)"));
    if (path.isEmpty()) return;
    QString err;
    if (!exportView(exportableViews()[which->currentIndex()], path,
                    QSize(width->value(), height->value()), &err))
        QMessageBox::warning(m_window, tr("Export"), tr("Cannot export: %1").arg(err));
}

void RangeFeatures::exportCsvDialog() {
    if (m_path.isEmpty()) return;
    const QString dir = QFileDialog::getExistingDirectory(m_window, tr("Export CSV files into"));
    if (dir.isEmpty()) return;
    QPointer<MainWindow> w(m_window);
    const QString path = m_path;
    QThread* t = QThread::create([w, path, dir] {  // the reader is used on this thread only
        std::string err;
        auto r = session::SessionReader::open(path.toStdString(), &err);
        const bool ok = r && session::exportCsv(*r, dir.toStdString(), &err);
        const QString msg = ok ? tr("CSV files written to %1").arg(dir)
                               : tr("Cannot export: %1").arg(QString::fromStdString(err));
        QMetaObject::invokeMethod(
            w,
            [w, msg] {
                if (w) w->statusBar()->showMessage(msg, 8000);
            },
            Qt::QueuedConnection);
    });
    connect(t, &QThread::finished, t, &QObject::deleteLater);
    t->start();
}

void RangeFeatures::exportFramesDialog() {
    if (m_path.isEmpty()) return;
    QDialog dlg(m_window);
    dlg.setWindowTitle(tr("Export heap-map frames"));
    auto* form = new QFormLayout(&dlg);
    auto* from = new QDoubleSpinBox;
    auto* to = new QDoubleSpinBox;
    auto* fps = new QDoubleSpinBox;
    for (QDoubleSpinBox* b : {from, to})
        b->setRange(0, double(m_end) / 1e9), b->setDecimals(3), b->setSuffix(tr(" s"));
    from->setValue(m_selection ? double(m_selection->first) / 1e9 : 0);
    to->setValue(m_selection ? double(m_selection->second) / 1e9 : double(m_end) / 1e9);
    fps->setRange(0.1, 120), fps->setValue(10);
    form->addRow(tr("From"), from);
    form->addRow(tr("To"), to);
    form->addRow(tr("Frames per second"), fps);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dlg, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
    if (dlg.exec() != QDialog::Accepted) return;
    const QString dir = QFileDialog::getExistingDirectory(m_window, tr("Write the frames into"));
    if (dir.isEmpty()) return;
    FrameOptions opts;
    opts.fromNs = int64_t(from->value() * 1e9),
    opts.toNs = int64_t(std::max(from->value(), to->value()) * 1e9);
    opts.fps = fps->value();
    QPointer<MainWindow> w(m_window);
    const QString path = m_path;
    QThread* t = QThread::create([w, path, dir, opts] {
        std::string err;
        QString qerr;
        auto r = session::SessionReader::open(path.toStdString(), &err);
        const bool ok = r && exportFrames(*r, opts, dir, &qerr);
        const QString msg =
            ok ? tr("%1 frames written to %2").arg(frameCount(opts)).arg(dir)
               : tr("Cannot export: %1").arg(r ? qerr : QString::fromStdString(err));
        QMetaObject::invokeMethod(
            w,
            [w, msg] {
                if (w) w->statusBar()->showMessage(msg, 8000);
            },
            Qt::QueuedConnection);
    });
    connect(t, &QThread::finished, t, &QObject::deleteLater);
    t->start();
}

}  // namespace spanscope::ui
