// The span inspector (a dock opened by clicking a span in the heap map): the span at the timeline's
// moment (address, class, object size, pages, state, objects used) and a grid of its object slots
// coloured by state, free / allocated, or white / grey / black while a GC cycle marks, with a
// legend. The grid's pixels come from renderSlotGrid (pure); the data from
// SessionReader::spanObjectsAt on the worker thread (SessionClient::requestSpanObjects), re-read at
// every moment the window shows.
#pragma once
#include <QImage>
#include <QLabel>
#include <QWidget>
#include <optional>

class QTreeWidget;
#include <vector>

#include "snapshots.h"

namespace spanscope::ui {

// The colour of a slot in the grid: free slots are dark cells, allocated ones take allocatedColor
// (the span's size-class colour, as in the heap map), marking states are white, grey and black.
QRgb slotColor(session::SlotState s, QRgb allocatedColor);
namespace slotcolors {
inline constexpr QRgb kGridBackground = 0xff1c1e24;  // between cells (the heap map's background)
inline constexpr QRgb kFree = 0xff3a3f4b;            // a free slot: a dim cell without an outline
inline constexpr QRgb kOutline = 0xff8c93a3;         // outline of every object (not free) cell
inline constexpr QRgb kWhite = 0xfff6f6f6;
inline constexpr QRgb kGrey = 0xff9b9b9b;
inline constexpr QRgb kBlack = 0xff000000;
}  // namespace slotcolors

// Cell size in pixels for a grid of n slots (bigger cells for fewer slots).
int slotCellSize(size_t n);
// The grid: `columns` cells a row, each cell pixels square (1 px of it is the gap), row-major from
// the top left. Cell i's centre pixel has slotColor(states[i]).
QImage renderSlotGrid(const std::vector<session::SlotState>& states, QRgb allocatedColor,
                      int columns, int cell);
// Index of the slot under pixel p of such an image, or nullopt.
std::optional<size_t> slotAt(QPoint p, size_t n, int columns, int cell);

// The slot grid widget: columns follow its width; hover names the object (index, address, state).
class SlotGrid : public QWidget {
    Q_OBJECT
public:
    explicit SlotGrid(QWidget* parent = nullptr);
    void setSlots(std::vector<session::SlotState> states, QRgb allocatedColor, uint64_t base,
                  uint32_t elemSize);
    const QImage& image() const { return m_image; }
    int columns() const { return m_columns; }
    int cellSize() const { return m_cell; }
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int w) const override;
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent*) override;
    void resizeEvent(QResizeEvent*) override;
    bool event(QEvent*) override;

private:
    int columnsFor(int width) const;
    void rerender();
    std::vector<session::SlotState> m_slots;
    QRgb m_allocated = 0;
    uint64_t m_base = 0;
    uint32_t m_elemSize = 0;
    int m_columns = 1, m_cell = 12;
    QImage m_image;
};

// The legend under the grid: free and allocated, or (while marking) free, white, grey and black.
class SlotLegend : public QWidget {
    Q_OBJECT
public:
    explicit SlotLegend(QWidget* parent = nullptr);
    void setState(bool marking, QRgb allocatedColor);
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent*) override;

private:
    std::vector<std::pair<QRgb, QString>> items() const;
    bool m_marking = false;
    QRgb m_allocated = 0;
};

class SpanInspector : public QWidget {
    Q_OBJECT
public:
    explicit SpanInspector(QWidget* parent = nullptr);
    // The address to inspect (any address inside the span); clears what was shown.
    void setTarget(uint64_t addr);
    // The GC phase at the moment shown (MomentSnapshot::gcPhase), named as the status bar names it.
    void setGcPhase(const std::string& phase) { m_phase = phase; }
    std::optional<uint64_t> target() const { return m_target; }
    void setSession(const std::vector<stream::ClassEntry>& classes, uint64_t pageSize) {
        m_classes = classes;
        m_pageSize = pageSize;
    }
    // The answer to a request for the target (others are ignored).
    void setObjects(const SpanObjectsPtr& s);
    // The heap profile at the moment shown: the sampled allocations live in the span are listed
    // below its slots, each with its stack.
    void setProfile(const ProfilePtr& p);
    // The sampled allocations listed (ascending by address).
    const std::vector<session::ProfileSample>& samples() const { return m_sampleRows; }
    const QTreeWidget* samplesView() const { return m_samples; }
    QString samplesTitle() const;
    const SpanObjectsPtr& objects() const { return m_objects; }

    // What is shown, for tests and screenshots.
    QString titleText() const { return m_title->text(); }
    QString fieldText(
        const QString& name) const;  // "address", "class", "pages", "state", "objects", "gc"
    QString noteText() const { return m_note->isHidden() ? QString() : m_note->text(); }
    const SlotGrid* grid() const { return m_grid; }

private:
    std::optional<uint64_t> m_target;
    SpanObjectsPtr m_objects;
    std::vector<stream::ClassEntry> m_classes;
    uint64_t m_pageSize = 8192;
    QLabel* m_title;
    QLabel* m_address;
    QLabel* m_class;
    QLabel* m_pages;
    QLabel* m_state;
    QLabel* m_used;
    QLabel* m_gc;
    QLabel* m_note;
    SlotGrid* m_grid;
    SlotLegend* m_legend;
    std::string m_phase;  // the GC phase at the moment shown
    void updateSamples();
    ProfilePtr m_profile;
    std::vector<session::ProfileSample> m_sampleRows;
    QLabel* m_samplesTitle;
    QTreeWidget* m_samples;
};

}  // namespace spanscope::ui
