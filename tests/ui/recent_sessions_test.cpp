// The recent sessions list (ui/recent_sessions.h) and opening sessions from the session panel:
// each row's program, date, duration and size agree with the reader and the file system; a
// missing or foreign file stays listed with its reason; a double-click opens a session, and so
// does a file dropped on the window.
#include "recent_sessions.h"

#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QDragEnterEvent>
#include <QFile>
#include <QFileInfo>
#include <QMimeData>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include "format.h"
#include "main_window.h"
#include "session_panel.h"
#include "spanscope/session_reader.h"
#include "ui_test_util.h"

using namespace spanscope;
using namespace spanscope::ui;
using uitest::waitFor;

namespace {
QString cell(const QAbstractItemModel& m, int row, int col) {
    return m.index(row, col).data().toString();
}
}  // namespace

TEST(RecentSessions, EachRowAgreesWithTheSessionAndTheFile) {
    QTemporaryDir dir;
    const QString rec = dir.filePath(QStringLiteral("live.spanscope"));
    QProcess p;
    p.start(QStringLiteral(SPANSCOPE_CLI),
            {QStringLiteral("demo"), QStringLiteral("live"), QStringLiteral("--seconds"),
             QStringLiteral("0.2"), QStringLiteral("-o"), rec});
    ASSERT_TRUE(p.waitForFinished(60000) && p.exitCode() == 0)
        << p.readAllStandardError().toStdString();
    const QString missing = dir.filePath(QStringLiteral("gone.spanscope"));
    const QString foreign = dir.filePath(QStringLiteral("notes.txt"));
    QFile f(foreign);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("not a session\n");
    f.close();

    RecentSessionsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSignalSpy loaded(&model, &RecentSessionsModel::loaded);
    model.setFiles({rec, missing, foreign});
    ASSERT_EQ(model.rowCount(), 3);
    EXPECT_EQ(cell(model, 0, RecentSessionsModel::Session),
              QStringLiteral("live.spanscope"));  // names at once
    ASSERT_TRUE(waitFor([&] { return loaded.count() > 0; }, 20000));

    std::string err;
    auto reader = session::SessionReader::open(rec.toStdString(), &err);
    ASSERT_TRUE(reader) << err;
    const session::SessionInfo& info = reader->info();
    EXPECT_TRUE(cell(model, 0, RecentSessionsModel::Program)
                    .startsWith(QStringLiteral("demo live --seconds 0.2")))
        << cell(model, 0, RecentSessionsModel::Program)
               .toStdString();  // a demo: named by its scenario
    EXPECT_TRUE(model.index(0, RecentSessionsModel::Program)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .startsWith(QStringLiteral("spanscope-cli demo live")));
    EXPECT_EQ(cell(model, 0, RecentSessionsModel::Duration), formatSeconds(info.endNs));
    EXPECT_EQ(cell(model, 0, RecentSessionsModel::Size),
              formatBytes(uint64_t(QFileInfo(rec).size())));
    const QDateTime started = QDateTime::fromMSecsSinceEpoch(info.startUnixNs / 1000000);
    EXPECT_EQ(cell(model, 0, RecentSessionsModel::Recorded),
              RecentSessionsModel::formatDate(started));
    EXPECT_LT(std::abs(started.secsTo(QFileInfo(rec).lastModified())), 120);  // recorded just now

    EXPECT_EQ(cell(model, 1, RecentSessionsModel::Program), QStringLiteral("no longer exists"));
    EXPECT_TRUE(cell(model, 1, RecentSessionsModel::Duration).isEmpty());
    EXPECT_FALSE(cell(model, 2, RecentSessionsModel::Program).isEmpty());  // the reader's reason
    EXPECT_TRUE(model.index(2, 0).data(Qt::ToolTipRole).toString().startsWith(foreign));
    EXPECT_TRUE(model.index(1, 0).data(Qt::ForegroundRole).isValid());  // greyed
    EXPECT_FALSE(model.index(0, 0).data(Qt::ForegroundRole).isValid());
    EXPECT_EQ(model.pathAt(2), foreign);
    EXPECT_TRUE(model.pathAt(3).isEmpty());

    // A newer list replaces an older one; the older answer is not shown.
    model.setFiles({missing});
    model.setFiles({rec});
    ASSERT_TRUE(waitFor(
        [&] {
            return loaded.count() >= 2 && model.rowCount() == 1 &&
                   !cell(model, 0, RecentSessionsModel::Duration).isEmpty();
        },
        20000));
    EXPECT_EQ(model.pathAt(0), rec);
}

TEST(RecentSessions, DatesAreShortInTheCurrentYear) {
    const QDateTime now(QDate(2026, 12, 1), QTime(2, 40));
    EXPECT_EQ(RecentSessionsModel::formatDate(QDateTime(QDate(2026, 3, 7), QTime(14, 5)), now),
              QStringLiteral("7 Mar 14:05"));
    EXPECT_EQ(RecentSessionsModel::formatDate(QDateTime(QDate(2025, 12, 31), QTime(23, 59)), now),
              QStringLiteral("31 Dec 2025"));
}

TEST(RecentSessions, DoubleClickAndDropOpenASession) {
    QTemporaryDir dir;
    const QString a = dir.filePath(QStringLiteral("a.spanscope")),
                  b = dir.filePath(QStringLiteral("b.spanscope"));
    ASSERT_TRUE(uitest::recordKnownSession(a.toStdString()));
    ASSERT_TRUE(QFile::copy(a, b));
    MainWindow w;
    w.resize(1280, 800);
    w.show();
    SessionPanel* panel = w.sessionPanel();
    panel->setRecentFiles({a, b});
    ASSERT_TRUE(waitFor(
        [&] { return !cell(*panel->recentModel(), 1, RecentSessionsModel::Duration).isEmpty(); },
        20000));

    // Double-click on the second row: that session opens.
    w.panel(QStringLiteral("session"))->raise();  // its tab to the front
    panel->window()->activateWindow();
    QTableView* view = panel->recentView();
    ASSERT_TRUE(waitFor([&] { return view->isVisible(); }, 5000));
    const QRect r = view->visualRect(panel->recentModel()->index(1, RecentSessionsModel::Session));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, r.center());
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, r.center());
    ASSERT_TRUE(waitFor([&] { return w.summary() && w.summary()->path == b; }, 20000));

    // A file dropped on the window opens.
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(a)});
    QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&w, &enter);
    EXPECT_TRUE(enter.isAccepted());
    QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&w, &drop);
    ASSERT_TRUE(waitFor([&] { return w.summary() && w.summary()->path == a; }, 20000));

    // Anything but one local file is refused at the door.
    QMimeData text;
    text.setText(QStringLiteral("hello"));
    QDragEnterEvent refused(QPoint(50, 50), Qt::CopyAction, &text, Qt::LeftButton, Qt::NoModifier);
    refused.setAccepted(false);
    QCoreApplication::sendEvent(&w, &refused);
    EXPECT_FALSE(refused.isAccepted());
}
