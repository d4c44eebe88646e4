// Exports of what the viewer shows, for slides and reports: any view (a widget: the heap map, the
// timeline, the fragmentation chart, the range panel, the flow diagram, ...) to PNG or SVG at a
// chosen size. SVG goes through Qt SVG's QSvgGenerator, so charts stay vector graphics (the heap
// map, itself an image, is embedded as one). Files are written through QSaveFile (a temporary
// file renamed into place).
#pragma once
#include <QSize>
#include <QString>

class QWidget;

namespace spanscope::ui {

enum class ImageFormat { Png, Svg };

// From the file name: ".svg" is SVG, anything else PNG.
ImageFormat imageFormatOf(const QString& path);

// Draws w, scaled to size, into path. False with *err on a write error or a bad size.
bool exportWidget(QWidget* w, const QString& path, QSize size, QString* err);

}  // namespace spanscope::ui
