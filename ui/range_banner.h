// The strip a panel shows above itself while it shows a time range instead of the moment: the
// range's bounds, a line of what the panel shows for it, and a "Back to the cursor" button (Esc
// does the same: the timeline's selection is cleared and every panel returns to the cursor's
// moment). One look for the size-class table, the fragmentation panel and the heap map
// (range_features.h).
#pragma once
#include <QFrame>

class QLabel;
class QToolButton;

namespace spanscope::ui {

class RangeBanner : public QFrame {
    Q_OBJECT
public:
    explicit RangeBanner(QWidget* parent = nullptr);
    // "Range 1.000 s – 2.000 s (1.000 s): " followed by what; shows the banner. Narrower than
    // kCompactWidth it says only the bounds and brief (the whole text goes to its tooltip), so that
    // it never takes the room of the panel it sits on.
    void showRange(int64_t t0, int64_t t1, const QString& what, const QString& brief = QString());
    static constexpr int kCompactWidth = 560;
    QString text() const;  // the plain text shown; empty while hidden
    QToolButton* backButton() const { return m_back; }

signals:
    void backRequested();

protected:
    void resizeEvent(QResizeEvent* e) override;  // the button: back to the cursor's moment

private:
    QLabel* m_text;
    QString m_plain;
    int64_t m_t0 = 0, m_t1 = 0;
    QString m_what, m_brief;
    void updateText();
    QToolButton* m_back;
};

// The headline every range view starts with: "Range 1.000 s – 2.000 s (1.000 s)".
QString rangeHeadline(int64_t t0, int64_t t1);

}  // namespace spanscope::ui
