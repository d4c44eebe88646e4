// The attach client's side of live processes (live_processes.cpp): the processes of this user that
// listen for attach, and a connection to one of them (docs/session-format.md 1.6).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace spanscope::session {

struct LiveProcess {  // a process listening for attach (docs/session-format.md 1.6)
    long pid = 0;
    std::string program;  // /proc/PID/exe, "?" if unreadable
    uint64_t heapSys = 0, heapAlloc = 0, heapInuse = 0;
    bool attached = false;  // a client is attached
    bool answered = false;  // it answered STAT (else the figures are 0)
};
// Connects to a process's attach socket (peer uid checked); -1 with a one-line reason.
int connectToProcess(long pid, std::string* err);
// The attachable processes of this user (sockets in probe::socketDir answering STAT), by pid.
// Removes the sockets of processes that are gone. Blocks up to a second per silent process.
std::vector<LiveProcess> listLiveProcesses();

}  // namespace spanscope::session
