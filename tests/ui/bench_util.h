// Helpers shared by the ui bench programs (seek_bench, stall_bench).
#pragma once
#include <QByteArray>
#include <QFile>

namespace spanscope::uibench {

// A "VmRSS:" / "VmHWM:" figure of this process, in KiB, from /proc/self/status (-1 if unreadable).
inline long statusKb(const char* key) {
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly)) return -1;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith(key))
            return line.mid(int(qstrlen(key))).trimmed().split(' ').first().toLong();
    return -1;
}

}  // namespace spanscope::uibench
