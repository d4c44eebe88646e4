// Presenter mode's scripted scenes: a small JSON file of steps a speaker advances through
// (Return) or auto-plays. Pure parsing here; presenter.h plays them. Format (docs in README):
//   {"title": "...", "steps": [{"scenario": "binary-trees", "seconds": 60}, {"seek": 1.5},
//    {"step": "next-gc-phase", "repeat": 2}, {"caption": "..."}, {"wait": 2}, {"open": "FILE"}]}
// A step may combine keys; they apply in the order open/scenario, seek, step, caption, wait.
#pragma once
#include <QString>
#include <QStringList>
#include <QVector>

namespace spanscope::ui {

struct SceneStep {
    QString scenario;  // start a built-in scenario live ('spanscope-cli demo NAME')
    double scenarioSeconds = 120;
    QString open;             // open a session file (relative to the scene file)
    double seekSeconds = -1;  // move the cursor to this time (s); a live session is waited for
    QString step;             // one of stepNames()
    int repeat = 1;           // how many times `step` is taken
    QString caption;          // shown in the caption line under the narration
    bool hasCaption = false;  // "" clears the caption
    double waitSeconds = 0;   // auto-play: pause this long after the step
    bool onlyWaits() const {
        return scenario.isEmpty() && open.isEmpty() && seekSeconds < 0 && step.isEmpty() &&
               !hasCaption;
    }
};

struct Scene {
    QString title;
    QString path;  // where it was read from (":/..." for the built-in one)
    QVector<SceneStep> steps;
};

// next-event, previous-event, next-gc-phase, previous-gc-phase, first-event, last-event
const QStringList& sceneStepNames();

// Parses a scene. False with a one-line reason ("line 3: ...", "step 2: unknown key 'sek'") on
// malformed JSON, a wrong type, an unknown key or step name, or no steps.
bool parseScene(const QByteArray& json, Scene* out, QString* error);
// Reads and parses a file; the error starts with the path.
bool loadScene(const QString& path, Scene* out, QString* error);
// The built-in scene (resources/scenes/default.json): the binary-trees GC demo.
Scene defaultScene();

}  // namespace spanscope::ui
