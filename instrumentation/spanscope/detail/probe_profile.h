// The probe's heap-profile records (instrumentation/probe_profile.cpp): loaded objects for the
// recorder's symbolizer, and the profile so far at an attach's rundown. Libc and the allocator
// only.
#pragma once
#include "spanscope/stream.h"

namespace spanscope::probe::profile {

// kModule/kModuleName records for every loaded object, when anything was loaded or unloaded since
// the last call (or always, with all). Each record is base with its kind and fields filled in.
void emitModules(const Event& base, void (*out)(const Event&), bool all);
// ProfStack records for every bucket, then a ProfAlloc for every live sampled object.
// Returns the time its objects are stamped with (the walk of the sampled objects).
uint64_t rundownProfile(const Event& base, void (*out)(const Event&));

}  // namespace spanscope::probe::profile
