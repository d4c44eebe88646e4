// Presenter mode (DESIGN.md, "The GUI"): for a speaker demoing the allocator in a talk. Full
// screen, type scaled up across the window, a narration bar saying in plain words what the current
// record is (narration.h), single steps by keyboard (next/previous record, next/previous GC phase
// or sweep generation, first/last) that seek the whole window to the record's time, and scripted
// scenes (scene_script.h) advanced with Return or auto-played. Reads only through
// SessionClient::findEvent.
#pragma once
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <QWidget>
#include <algorithm>
#include <functional>
#include <optional>

#include "scene_script.h"
#include "session_client.h"

class QMenu;
class QAction;
class QToolBar;

namespace spanscope::ui {

class MainWindow;

// The one-line narration above the heap map: time and sentence, and a caption line for scenes.
// Painted with elided text so a long sentence never widens the window.
class NarrationBar : public QWidget {
    Q_OBJECT
public:
    explicit NarrationBar(QWidget* parent = nullptr);
    void setNarration(const QString& time, const QString& text);
    void setCaption(const QString& caption, const QString& progress);
    QString narration() const { return m_text; }
    QString caption() const { return m_caption; }
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override { return {100, sizeHint().height()}; }
    // The narration as drawn in width pixels of the bold font: one line, or two broken at a space
    // (the second elided if even two do not hold it).
    static QStringList narrationLines(const QString& text, const QFont& big, int width);

protected:
    void paintEvent(QPaintEvent*) override;

private:
    QString m_time, m_text, m_caption, m_progress;
};

class Presenter : public QObject {
    Q_OBJECT
public:
    Presenter(MainWindow* window, SessionClient* client);

    bool active() const { return m_active; }
    // Full screen (except on the offscreen platform, where the window keeps its size), large type,
    // the narration bar.
    void setActive(bool on);
    NarrationBar* bar() const { return m_bar; }
    QString narration() const { return m_bar->narration(); }
    QString caption() const { return m_bar->caption(); }
    // The record the narration describes (the last one at or before the cursor, or the last step).
    const std::optional<session::EventRow>& current() const { return m_current; }
    const NarrationContext& currentContext() const {
        return m_currentContext;
    }  // what its narration used
    // Type is scaled by up to kFontScale in presenter mode, on a stage (the screen; offscreen, the
    // window) 1,000 px tall or more; on a smaller one by less, down to kMinFontScale at 640 px,
    // so that every panel and the status bar still fit. The charts' by less (their plots are
    // small): kChartFontScale at full scale, in proportion below, never under 1.
    static constexpr double kFontScale = 1.6;
    static constexpr double kMinFontScale = 1.2;
    static constexpr double kChartFontScale = 1.35;
    static double fontScaleFor(int stageHeight);
    double fontScale() const { return m_fontScale; }  // as applied (1 outside presenter mode)
    double chartFontScale() const {
        return std::max(1.0, m_fontScale / kFontScale * kChartFontScale);
    }

    // Steps: each asks the worker for the record and seeks the window to its time. False when no
    // session is open. The answer comes as stepped(found).
    bool nextEvent() { return step(+1, eventKinds()); }
    bool previousEvent() { return step(-1, eventKinds()); }
    bool nextPhase() { return step(+1, phaseKinds()); }
    bool previousPhase() { return step(-1, phaseKinds()); }
    bool firstEvent();
    bool lastEvent();
    bool step(const QString& name);  // a sceneStepNames() entry
    // The kinds next/previous event step through: every narrated record but the rundown's spans.
    static const std::vector<uint16_t>& eventKinds();
    static const std::vector<uint16_t>& phaseKinds();  // GCPhase, and SweepCycle (malloc mode)

    // Scenes: set one, then advanceScene() runs its next step (Return), or auto-play runs them all.
    void setScene(const Scene& scene);
    const Scene& scene() const { return m_scene; }
    int sceneIndex() const { return m_sceneIndex; }  // the step run last, -1 before the first
    bool sceneBusy() const { return m_phase != Phase::Idle; }
    void advanceScene();
    void setAutoPlay(bool on);
    bool autoPlay() const { return m_autoPlay; }

    // The presenter's actions (mode, steps, scenes) with their shortcuts, for the View menu.
    void addActions(QMenu* menu);
    QAction* toggleAction() const { return m_toggle; }

signals:
    void activeChanged(bool on);
    void stepped(bool found);  // a step's answer arrived (and, if found, the seek was asked for)
    void narrationChanged(const QString& text);
    void sceneStepDone(int index);
    void sceneError(const QString& message);

private:
    enum class Purpose { Step, Describe };
    // A scene step runs through these in order; each may wait for the session (waitUntil).
    enum class Phase { Idle, Source, Seek, SeekShown, Step, Stepping, Caption, Wait, Done };
    void request(int64_t t, int64_t id, int direction, const std::vector<uint16_t>& kinds,
                 Purpose purpose);
    bool step(int direction, const std::vector<uint16_t>& kinds);
    void onEventFound(const EventPtr& e);
    void onMomentShown();
    void describeCursor();
    void showNarration(const QString& text);
    void applyLargeType(bool on);
    void runSceneStep(int index);
    void continueScene();
    void waitUntil(std::function<bool()> done, int timeoutMs, bool pause = false);
    void updateSceneActions();

    MainWindow* m_window;
    SessionClient* m_client;
    NarrationBar* m_bar;
    QToolBar* m_barHolder;      // the bar spans the whole window, above the map and the docks
    QByteArray m_layoutBefore;  // the docks' sizes before presenter mode (saveState)
    QAction* m_toggle = nullptr;
    QAction* m_sceneNext = nullptr;
    QAction* m_sceneAuto = nullptr;
    bool m_active = false;
    Qt::WindowStates m_stateBefore;
    QFont m_fontBefore;
    double m_fontScale = 1;
    std::vector<std::function<void()>> m_restoreFonts;  // undo the chart parts' large type

    std::optional<session::EventRow> m_current;
    NarrationContext m_currentContext;
    int64_t m_currentAt = -1;  // the cursor time m_current was found for
    Purpose m_purpose = Purpose::Describe;
    bool m_inFlight = false;

    // Scene playback.
    Scene m_scene;
    int m_sceneIndex = -1;
    Phase m_phase = Phase::Idle;
    int m_repeatLeft = 0;
    bool m_autoPlay = false;
    bool m_sourceOpened = false;
    int m_momentsSinceOpen = 0;
    int64_t m_seekTarget = -1;
    QTimer m_sceneTimer;  // polls the condition a phase waits for
    std::function<bool()> m_waitDone;
    int m_waitTimeoutMs = 0;
    bool m_waitIsPause = false;  // an auto-play pause: its end is no timeout
    QElapsedTimer m_waitClock;
};

}  // namespace spanscope::ui
