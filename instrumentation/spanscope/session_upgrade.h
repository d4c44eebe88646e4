// Converting an older session file (schema version 1 or 2: one `events` row per record; 3: one
// `prof_samples` row per heap-profile sample) to the current schema (version 4: records and
// samples in blocks). `spanscope-cli upgrade FILE` runs it.
#pragma once
#include <string>

namespace spanscope::session {

enum class UpgradeResult { Upgraded, AlreadyCurrent, Failed };
// Converts path in place: writes the new file beside it and renames it over the old one, so the
// old file stays whole if anything fails. *message: what was done, or why not (one line).
UpgradeResult upgradeSession(const std::string& path, std::string* message);

}  // namespace spanscope::session
