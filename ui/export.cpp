// exportWidget (see export.h): the widget renders itself through a scaled painter into a QImage
// (PNG) or a QSvgGenerator (SVG).
#include "export.h"

#include <QImage>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QWidget>

namespace spanscope::ui {

ImageFormat imageFormatOf(const QString& path) {
    return path.endsWith(QLatin1String(".svg"), Qt::CaseInsensitive) ? ImageFormat::Svg
                                                                     : ImageFormat::Png;
}

namespace {
void renderScaled(QWidget* w, QPainter& p, QSize size) {
    const QSize from = w->size().isEmpty() ? w->sizeHint() : w->size();
    if (w->size().isEmpty()) w->resize(from);
    p.scale(double(size.width()) / std::max(1, from.width()),
            double(size.height()) / std::max(1, from.height()));
    w->render(&p, QPoint(), QRegion(), QWidget::DrawWindowBackground | QWidget::DrawChildren);
}
}  // namespace

bool exportWidget(QWidget* w, const QString& path, QSize size, QString* err) {
    if (!w || size.width() < 1 || size.height() < 1 || size.width() > 16384 ||
        size.height() > 16384) {
        *err = QStringLiteral("bad image size");
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *err = path + QStringLiteral(": ") + file.errorString();
        return false;
    }
    if (imageFormatOf(path) == ImageFormat::Svg) {
        QSvgGenerator gen;
        gen.setOutputDevice(&file);
        gen.setSize(size);
        gen.setViewBox(QRect(QPoint(0, 0), size));
        gen.setTitle(w->windowTitle().isEmpty() ? QStringLiteral("spanscope") : w->windowTitle());
        gen.setDescription(QStringLiteral("exported by spanscope"));
        QPainter p(&gen);
        renderScaled(w, p, size);
        p.end();
    } else {
        QImage img(size, QImage::Format_ARGB32_Premultiplied);
        img.fill(Qt::white);
        QPainter p(&img);
        p.setRenderHint(QPainter::Antialiasing);
        renderScaled(w, p, size);
        p.end();
        if (!img.save(&file, "PNG")) {
            *err = path + QStringLiteral(": cannot encode PNG");
            file.cancelWriting();
            return false;
        }
    }
    if (!file.commit()) {
        *err = path + QStringLiteral(": ") + file.errorString();
        return false;
    }
    return true;
}

}  // namespace spanscope::ui
