// Tests of SessionWorker and SessionClient: snapshots of a known session, stale requests dropped
// by token, and the one-line refusals of missing, foreign, corrupt and newer-version files.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>

#include "session_client.h"
#include "ui_test_util.h"

using namespace spanscope;
using namespace spanscope::ui;
using namespace spanscope::uitest;

namespace {
class SessionFiles : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(m_dir.isValid());
        m_known = m_dir.filePath(QStringLiteral("known.spanscope"));
        ASSERT_TRUE(recordKnownSession(m_known.toStdString()));
    }
    QString path(const char* name) const { return m_dir.filePath(QLatin1String(name)); }
    static void exec(const QString& file, const char* sql) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(file.toUtf8().constData(), &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK)
            << sqlite3_errmsg(db);
        sqlite3_close(db);
    }
    QTemporaryDir m_dir;
    QString m_known;
};
}  // namespace

TEST_F(SessionFiles, WorkerAnswersWithSnapshots) {
    auto tokens = std::make_shared<RequestTokens>();
    SessionWorker w(tokens);  // called directly on this thread: signals are direct
    QSignalSpy opened(&w, &SessionWorker::opened), moments(&w, &SessionWorker::momentReady),
        series(&w, &SessionWorker::seriesReady);
    tokens->open = 1;
    w.open(m_known, 1, 0);
    ASSERT_EQ(opened.count(), 1);
    const auto summary = opened.at(0).at(0).value<SummaryPtr>();
    EXPECT_EQ(summary->info.endReason, "exit");
    EXPECT_EQ(summary->classes.size(), 68u);
    EXPECT_FALSE(summary->live);

    tokens->seek = 7;
    w.seek(100, 7);
    ASSERT_EQ(moments.count(), 1);
    const auto m = moments.at(0).at(0).value<MomentPtr>();
    EXPECT_EQ(m->token, 7u);
    EXPECT_TRUE(m->hasHeap);
    EXPECT_EQ(m->heap.heapSys, 4u << 20);
    const Tile* a = m->scene.tileAt(kA);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->sizeClass(), 10);
    EXPECT_EQ(a->allocCount, 32);
    EXPECT_EQ(a->state, uint8_t(session::SpanState::PartialSwept));
    EXPECT_EQ(m->scene.tileAt(kL)->kind, TileKind::Large);
    EXPECT_EQ(m->scene.tileAt(kA + 400 * 8192)->kind, TileKind::Released);
    EXPECT_EQ(m->classes[10].objects, 32u);
    EXPECT_EQ(m->classes[5].objects, 170u);
    ASSERT_TRUE(m->cycle);
    EXPECT_EQ(m->cycle->cycle, 1);

    // Earlier: only A, cached, no heap sample yet.
    tokens->seek = 8;
    w.seek(30, 8);
    ASSERT_EQ(moments.count(), 2);
    const auto early = moments.at(1).at(0).value<MomentPtr>();
    EXPECT_EQ(early->scene.tileAt(kA)->state, uint8_t(session::SpanState::Cached));
    EXPECT_EQ(early->scene.tileAt(kB), nullptr);
    EXPECT_FALSE(early->hasHeap);
    EXPECT_FALSE(early->cycle);

    // A request that is no longer the latest is dropped before any reading.
    w.seek(100, 5);
    EXPECT_EQ(moments.count(), 2);

    tokens->series = 3;
    w.loadSeries(0, 100, 3, 1000);
    ASSERT_EQ(series.count(), 1);
    const auto s = series.at(0).at(0).value<SeriesPtr>();
    EXPECT_EQ(s->heap.size(), 1u);
    EXPECT_EQ(s->cycles.size(), 1u);
    w.loadSeries(0, 100, 2, 1000);  // stale
    EXPECT_EQ(series.count(), 1);
}

TEST_F(SessionFiles, ClientRunsTheWorkerOnItsOwnThread) {
    SessionClient c;
    QSignalSpy opened(&c, &SessionClient::opened), moments(&c, &SessionClient::momentReady);
    c.open(m_known);
    ASSERT_TRUE(waitFor([&] { return opened.count() == 1; }));
    // Many seeks in a row (a dragged cursor): only the last one's answer arrives.
    for (int t = 0; t <= 100; t += 5) c.seek(t);
    ASSERT_TRUE(waitFor([&] { return moments.count() >= 1; }));
    waitFor([] { return false; }, 200);
    ASSERT_GE(moments.count(), 1);
    EXPECT_EQ(moments.last().at(0).value<MomentPtr>()->tNs, 100);
    for (const auto& args : moments) EXPECT_EQ(args.at(0).value<MomentPtr>()->tNs, 100);
}

TEST_F(SessionFiles, BadFilesAreRefusedWithAReason) {
    auto tokens = std::make_shared<RequestTokens>();
    SessionWorker w(tokens);
    QSignalSpy failed(&w, &SessionWorker::openFailed);
    auto reason = [&](const QString& file) {
        const int before = int(failed.count());
        tokens->open = tokens->open + 1;
        w.open(file, tokens->open, 0);
        return failed.count() > before ? failed.last().at(0).toString() : QString();
    };
    EXPECT_TRUE(reason(path("missing.spanscope")).contains(QLatin1String("No such file")));

    QFile text(path("notes.txt"));
    ASSERT_TRUE(text.open(QIODevice::WriteOnly));
    text.write("hello, this is not a database at all\n");
    text.close();
    EXPECT_TRUE(reason(text.fileName()).contains(QLatin1String("not a spanscope session")));

    const QString other = path("other.db");
    exec(other, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    EXPECT_TRUE(reason(other).contains(QLatin1String("another application")));

    const QString newer = path("newer.spanscope");
    ASSERT_TRUE(recordKnownSession(newer.toStdString()));
    exec(newer, "PRAGMA user_version = 99;");
    EXPECT_TRUE(reason(newer).contains(QLatin1String("newer")));

    // Corrupt: a real session with its pages overwritten past the header.
    const QString corrupt = path("corrupt.spanscope");
    ASSERT_TRUE(recordKnownSession(corrupt.toStdString()));
    {
        QFile f(corrupt);
        ASSERT_TRUE(f.open(QIODevice::ReadWrite));
        const qint64 size = f.size();
        f.seek(100);
        f.write(QByteArray(int(size - 100), '\xA5'));
    }
    EXPECT_FALSE(reason(corrupt).isEmpty());
}
