// spanscope::instrumentation: the recorder side. Decodes the probe's stream (StreamDecoder,
// decoder.h), records it into a SQLite session file (Recorder, recorder.h), and answers questions
// about a session (SessionReader, session_reader.h); the values they exchange are in
// session_types.h, the attach client in live_processes.h. This header includes them all.
// See docs/session-format.md.
#pragma once
#include "spanscope/decoder.h"
#include "spanscope/events_table.h"
#include "spanscope/live_processes.h"
#include "spanscope/recorder.h"
#include "spanscope/session_reader.h"
#include "spanscope/session_types.h"
#include "spanscope/session_upgrade.h"
