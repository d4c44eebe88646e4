// GoogleTest main for the ui tests: one QApplication (offscreen unless a platform is set), and
// settings (the recent-files list, window state) in a directory of this process's own, so that
// they never touch the user's settings, and tests that ctest runs in parallel processes never
// rewrite each other's (QSettings rewrites the whole file: one process's recent file was lost
// when another saved its list at the same moment).
#include <gtest/gtest.h>

#include <QApplication>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>

#include "cpu_state.h"

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QStandardPaths::setTestModeEnabled(true);
    spanscope::ui::Application app(argc, argv);  // a QApplication, as the GUI's (cpu_state.h)
    QApplication::setOrganizationName(QStringLiteral("spanscope-tests"));
    QApplication::setApplicationName(QStringLiteral("ui_tests"));
    QTemporaryDir settingsDir;
    if (!settingsDir.isValid()) return 2;
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir.path());
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir.path());
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
