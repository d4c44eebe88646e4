// RangeBanner (see range_banner.h).
#include "range_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

#include "format.h"

namespace spanscope::ui {

QString rangeHeadline(int64_t t0, int64_t t1) {
    return RangeBanner::tr("Range %1 – %2 (%3)")
        .arg(formatSeconds(t0), formatSeconds(t1), formatSeconds(t1 - t0));
}

RangeBanner::RangeBanner(QWidget* parent)
    : QFrame(parent), m_text(new QLabel), m_back(new QToolButton) {
    setObjectName(QStringLiteral("rangeBanner"));
    // The timeline's selection band is blue: the same blue says "this shows the selected range".
    setAutoFillBackground(true);
    QPalette pal = palette();
    pal.setColor(QPalette::Window, QColor(0x2b, 0x6c, 0xc4));
    pal.setColor(QPalette::WindowText, Qt::white);
    setPalette(pal);
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::RichText);
    m_back->setText(tr("Back to the cursor (Esc)"));
    m_back->setToolTip(
        tr("Clear the range: every panel shows the moment at the timeline's cursor again"));
    m_back->setFocusPolicy(Qt::NoFocus);
    auto* lay = new QHBoxLayout(this);
    lay->setContentsMargins(6, 3, 4, 3);
    lay->addWidget(m_text, 1);
    lay->addWidget(m_back, 0, Qt::AlignVCenter);
    connect(m_back, &QToolButton::clicked, this, &RangeBanner::backRequested);
    hide();
}

void RangeBanner::showRange(int64_t t0, int64_t t1, const QString& what, const QString& brief) {
    m_t0 = t0, m_t1 = t1, m_what = what, m_brief = brief;
    m_plain = rangeHeadline(t0, t1) + QStringLiteral(": ") + what;
    updateText();
    show();
}

void RangeBanner::updateText() {
    const bool compact = width() < kCompactWidth;
    const QString head =
        compact ? RangeBanner::tr("Range %1 – %2").arg(formatSeconds(m_t0), formatSeconds(m_t1))
                : rangeHeadline(m_t0, m_t1);
    const QString what = compact ? m_brief : m_what;
    m_text->setText(
        what.isEmpty()
            ? QStringLiteral("<b>%1</b>").arg(head.toHtmlEscaped())
            : QStringLiteral("<b>%1</b>: %2").arg(head.toHtmlEscaped(), what.toHtmlEscaped()));
    m_text->setToolTip(compact ? m_plain : QString());
    m_back->setText(compact ? tr("Back (Esc)") : tr("Back to the cursor (Esc)"));
}

void RangeBanner::resizeEvent(QResizeEvent* e) {
    QFrame::resizeEvent(e);
    if (!m_plain.isEmpty()) updateText();
}

QString RangeBanner::text() const {
    return isHidden() ? QString() : m_plain;
}

}  // namespace spanscope::ui
