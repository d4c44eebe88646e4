// The range panel: what happened between two moments (the timeline's Shift+drag selection, or the
// whole session when nothing is selected): objects and bytes allocated and freed, spans taken and
// returned, GC cycles and their stop-the-world pauses, min / mean / max of each heap series
// (fragmentation among them), and per size class the same. Its "Jump to" menu moves the cursor to
// the peak heap, the peak fragmentation, the longest pause or a GC cycle's start.
#pragma once
#include <QLabel>
#include <QMenu>
#include <QTabWidget>
#include <QTableWidget>
#include <QWidget>

#include "range_client.h"

namespace spanscope::ui {

class RangePanel : public QWidget {
    Q_OBJECT
public:
    explicit RangePanel(QWidget* parent = nullptr);
    void setRange(const RangePtr& range);  // nullptr: empty
    const RangePtr& range() const { return m_range; }
    QMenu* jumpMenu() const { return m_jump; }
    QTableWidget* summaryTable() const { return m_summary; }
    QTableWidget* classTable() const { return m_classes; }
    QTableWidget* gcTable() const { return m_gc; }
    QString headline() const { return m_title->text(); }

signals:
    void jumpRequested(qint64 tNs);

private:
    void fillSummary(const session::RangeStats& s);
    void fillClasses(const session::RangeStats& s);
    void fillGc(const session::RangeStats& s);
    void fillJumps(const session::JumpTargets& j);
    QLabel* m_title;
    QTabWidget* m_tabs;
    QTableWidget* m_summary;
    QTableWidget* m_classes;
    QTableWidget* m_gc;
    QMenu* m_jump;
    RangePtr m_range;
};

}  // namespace spanscope::ui
