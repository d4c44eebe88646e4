// Scene files (see scene_script.h): JSON in, a list of SceneStep out, every mistake named.
#include "scene_script.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>

namespace spanscope::ui {

const QStringList& sceneStepNames() {
    static const QStringList names{
        QStringLiteral("next-event"),    QStringLiteral("previous-event"),
        QStringLiteral("next-gc-phase"), QStringLiteral("previous-gc-phase"),
        QStringLiteral("first-event"),   QStringLiteral("last-event")};
    return names;
}

namespace {

bool parseStep(const QJsonValue& v, int index, SceneStep* out, QString* error) {
    auto fail = [&](const QString& why) {
        *error = QStringLiteral("step %1: %2").arg(index + 1).arg(why);
        return false;
    };
    if (!v.isObject()) return fail(QStringLiteral("a step is an object such as {\"seek\": 1.5}"));
    const QJsonObject o = v.toObject();
    SceneStep s;
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString key = it.key();
        const QJsonValue val = it.value();
        auto number = [&](double* dst, double min) {
            if (!val.isDouble() || val.toDouble() < min)
                return fail(QStringLiteral("'%1' needs a number of at least %2").arg(key).arg(min));
            *dst = val.toDouble();
            return true;
        };
        auto text = [&](QString* dst, bool allowEmpty) {
            if (!val.isString() || (!allowEmpty && val.toString().isEmpty()))
                return fail(QStringLiteral("'%1' needs a string").arg(key));
            *dst = val.toString();
            return true;
        };
        if (key == QLatin1String("scenario")) {
            if (!text(&s.scenario, false)) return false;
        } else if (key == QLatin1String("seconds")) {
            if (!number(&s.scenarioSeconds, 0.1)) return false;
        } else if (key == QLatin1String("open")) {
            if (!text(&s.open, false)) return false;
        } else if (key == QLatin1String("seek")) {
            if (!number(&s.seekSeconds, 0)) return false;
        } else if (key == QLatin1String("step")) {
            if (!text(&s.step, false)) return false;
            if (!sceneStepNames().contains(s.step))
                return fail(QStringLiteral("unknown step '%1' (one of: %2)")
                                .arg(s.step, sceneStepNames().join(QStringLiteral(", "))));
        } else if (key == QLatin1String("repeat")) {
            double r = 1;
            if (!number(&r, 1)) return false;
            s.repeat = static_cast<int>(std::min(r, 10000.0));
        } else if (key == QLatin1String("caption")) {
            if (!text(&s.caption, true)) return false;
            s.hasCaption = true;
        } else if (key == QLatin1String("wait")) {
            if (!number(&s.waitSeconds, 0)) return false;
        } else {
            return fail(QStringLiteral("unknown key '%1'").arg(key));
        }
    }
    if (!s.scenario.isEmpty() && !s.open.isEmpty())
        return fail(QStringLiteral("'scenario' and 'open' exclude each other"));
    if (o.contains(QLatin1String("seconds")) && s.scenario.isEmpty())
        return fail(QStringLiteral("'seconds' goes with 'scenario'"));
    if (o.contains(QLatin1String("repeat")) && s.step.isEmpty())
        return fail(QStringLiteral("'repeat' goes with 'step'"));
    if (s.onlyWaits() && !o.contains(QLatin1String("wait")))
        return fail(QStringLiteral("the step does nothing"));
    *out = s;
    return true;
}

}  // namespace

bool parseScene(const QByteArray& json, Scene* out, QString* error) {
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (pe.error != QJsonParseError::NoError) {
        const int offset = std::clamp(pe.offset, 0, static_cast<int>(json.size()));
        const int line = static_cast<int>(json.left(offset).count('\n')) + 1;
        *error = QStringLiteral("line %1: %2").arg(line).arg(pe.errorString());
        return false;
    }
    Scene scene;
    QJsonArray steps;
    if (doc.isArray()) {
        steps = doc.array();
    } else {
        const QJsonObject o = doc.object();
        for (auto it = o.begin(); it != o.end(); ++it)
            if (it.key() != QLatin1String("title") && it.key() != QLatin1String("steps")) {
                *error = QStringLiteral("unknown key '%1' (a scene has \"title\" and \"steps\")")
                             .arg(it.key());
                return false;
            }
        if (o.contains(QLatin1String("title")) && !o.value(QLatin1String("title")).isString()) {
            *error = QStringLiteral("'title' needs a string");
            return false;
        }
        if (!o.value(QLatin1String("steps")).isArray()) {
            *error = QStringLiteral("a scene needs \"steps\": [ ... ]");
            return false;
        }
        scene.title = o.value(QLatin1String("title")).toString();
        steps = o.value(QLatin1String("steps")).toArray();
    }
    if (steps.isEmpty()) {
        *error = QStringLiteral("the scene has no steps");
        return false;
    }
    for (int i = 0; i < steps.size(); i++) {
        SceneStep s;
        if (!parseStep(steps.at(i), i, &s, error)) return false;
        scene.steps.push_back(s);
    }
    *out = std::move(scene);
    return true;
}

bool loadScene(const QString& path, Scene* out, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: %2").arg(path, f.errorString());
        return false;
    }
    QString why;
    if (!parseScene(f.readAll(), out, &why)) {
        *error = QStringLiteral("%1: %2").arg(path, why);
        return false;
    }
    out->path = path;
    // A relative "open" is relative to the scene file.
    if (!path.startsWith(QLatin1Char(':')))
        for (SceneStep& s : out->steps)
            if (!s.open.isEmpty() && QFileInfo(s.open).isRelative())
                s.open = QFileInfo(path).absoluteDir().filePath(s.open);
    return true;
}

Scene defaultScene() {
    Scene s;
    QString error;
    if (!loadScene(QStringLiteral(":/spanscope/scenes/default.json"), &s, &error))
        qWarning("%s", qPrintable(error));
    return s;
}

}  // namespace spanscope::ui
