// The vector registers' state that Qt leaves behind (x86-64). Debian's Qt 6.4 runs 256-bit AVX
// code that does not end with vzeroupper in its start-up (constructing a QGuiApplication, with any
// platform plugin: offscreen, minimal, xcb) and in everyday calls (QHash, QImage::fill, a label's
// size hint, antialiased lines), so the thread's AVX upper state stays "in use" (XINUSE bit 2).
// Until something clears it, each switch between the program's own legacy-SSE code (built for
// baseline x86-64) and VEX code (glibc's libm picks FMA versions of exp, log, pow at run time)
// pays a penalty: on this project's machine glibc's exp() took 120 ns instead of 4, on the thread
// and on every thread started from it, which inherit the state.
// Application (a QApplication) therefore clears the state after its start-up and before it
// delivers each event, on every thread (QCoreApplication::notify sees every thread's events), and
// hot loops that call libm clear it first themselves (a Qt call inside an event can dirty it
// again).
#pragma once
#include <QApplication>

namespace spanscope::ui {

// True if this thread's AVX upper state is in use (XGETBV with ECX=1, where the CPU has it);
// false where it cannot be told (no AVX, no XGETBV(1), not x86-64).
bool avxUpperStateInUse();

// Clears this thread's AVX upper state (vzeroupper) where the CPU has AVX; does nothing elsewhere.
// Threads started afterwards inherit the clean state.
void clearAvxUpperState();

// The QApplication of the GUI, the CLI's frames command and the ui tests and benches.
class Application : public QApplication {
public:
    Application(int& argc, char** argv);
    bool notify(QObject* receiver, QEvent* e) override;
};

}  // namespace spanscope::ui
