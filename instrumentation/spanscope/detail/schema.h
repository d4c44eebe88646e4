// The session file's schema (version kSchemaVersion), as SQL. docs/session-format.md documents
// every table and column; change both together and bump kSchemaVersion.
#pragma once
#include <string>

#include "spanscope/kinds.h"

namespace spanscope::session::detail {

inline constexpr const char* kSchemaSql = R"sql(
CREATE TABLE session(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  format_version INTEGER NOT NULL,
  program TEXT NOT NULL,
  pid INTEGER NOT NULL,
  start_unix_ns INTEGER NOT NULL,
  start_mono_ns INTEGER NOT NULL,
  page_size INTEGER NOT NULL,
  arena_bytes INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  end_ns INTEGER NOT NULL DEFAULT 0,
  end_reason TEXT NOT NULL DEFAULT 'recording',
  exit_code INTEGER,
  signal INTEGER,
  stream_status TEXT,
  stream_error TEXT,
  events INTEGER NOT NULL DEFAULT 0,
  dropped INTEGER NOT NULL DEFAULT 0,
  recorder_pid INTEGER NOT NULL
);
CREATE TABLE argv(idx INTEGER PRIMARY KEY, arg TEXT NOT NULL);
CREATE TABLE size_classes(class INTEGER PRIMARY KEY, size INTEGER NOT NULL, npages INTEGER NOT NULL,
                          nelems INTEGER NOT NULL);
CREATE TABLE event_kinds(kind INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE span_states(state INTEGER PRIMARY KEY, name TEXT NOT NULL);
-- The records, in blocks of up to 8192 (event_block.h): the directory here, the compressed
-- columns in event_block_data (apart, so that scanning the directory reads a few bytes a block).
-- The virtual table `events` (events_vtab.cpp) shows them one row each.
CREATE TABLE event_blocks(
  id INTEGER PRIMARY KEY,   -- the id of the block's first record; the others follow
  count INTEGER NOT NULL,
  t_min INTEGER NOT NULL,
  t_max INTEGER NOT NULL,
  kinds INTEGER NOT NULL    -- a mask of the kinds it holds (event_block.h, kindBit)
);
CREATE TABLE event_block_data(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE class_counters(
  class INTEGER NOT NULL,
  t_ns INTEGER NOT NULL,
  mallocs INTEGER NOT NULL,
  frees INTEGER NOT NULL,
  requested_bytes INTEGER NOT NULL,
  slot_bytes INTEGER NOT NULL,
  spans INTEGER NOT NULL,
  PRIMARY KEY (class, t_ns)
) WITHOUT ROWID;
CREATE TABLE heap_totals(
  t_ns INTEGER PRIMARY KEY,
  heap_alloc INTEGER NOT NULL, heap_inuse INTEGER NOT NULL, heap_idle INTEGER NOT NULL,
  heap_released INTEGER NOT NULL, heap_sys INTEGER NOT NULL, sys INTEGER NOT NULL,
  heap_objects INTEGER NOT NULL, total_alloc INTEGER NOT NULL, next_sweep INTEGER NOT NULL,
  num_sweep_cycles INTEGER NOT NULL, mallocs INTEGER NOT NULL, frees INTEGER NOT NULL,
  heap_live INTEGER NOT NULL, largest_free_run INTEGER NOT NULL
);
CREATE TABLE gc_cycles(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  cycle INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER,
  heap_live INTEGER NOT NULL DEFAULT 0,
  heap_goal INTEGER NOT NULL DEFAULT 0,
  trigger_bytes INTEGER NOT NULL DEFAULT 0,
  sweepgen INTEGER NOT NULL DEFAULT 0,
  stw_ns INTEGER NOT NULL DEFAULT 0,
  memory_limit INTEGER NOT NULL DEFAULT 0,
  UNIQUE (kind, cycle)
);
CREATE TABLE gc_phases(
  id INTEGER PRIMARY KEY,
  cycle INTEGER NOT NULL,
  phase TEXT NOT NULL,
  t_ns INTEGER NOT NULL,
  heap_live INTEGER NOT NULL,
  heap_goal INTEGER NOT NULL,
  trigger_bytes INTEGER NOT NULL,
  stw_ns INTEGER NOT NULL
);
CREATE TABLE keyframes(
  id INTEGER PRIMARY KEY,
  t_ns INTEGER NOT NULL,
  last_event_id INTEGER NOT NULL,
  spans INTEGER NOT NULL,
  data BLOB NOT NULL
);
-- Where the replay is incomplete: records were dropped (a ring was full) from from_ns until the
-- resync rundown at to_ns rebuilt the span table (resynced = 0: not before the session ended).
CREATE TABLE gaps(
  from_ns INTEGER NOT NULL,
  to_ns INTEGER NOT NULL,
  dropped INTEGER NOT NULL,
  resynced INTEGER NOT NULL
);
CREATE INDEX keyframes_t ON keyframes(t_ns);
CREATE INDEX gc_phases_t ON gc_phases(t_ns);
)sql";

// The span_events view: the span lifecycle records (the kinds flagged kKindSpanView in the kinds
// table, spanscope/kinds.h), with their kind's name and the size class split out.
inline std::string spanEventsViewSql() {
    return "CREATE VIEW span_events AS\n"
           "  SELECT e.id, e.t_ns, e.tid, k.name AS kind, e.span_class >> 1 AS size_class,\n"
           "         e.span_class & 1 AS noscan, e.npages, printf('0x%x', e.addr) AS addr,\n"
           "         e.a, e.b, e.c, e.d, e.flags\n"
           "  FROM events e JOIN event_kinds k USING (kind)\n"
           "  WHERE e.kind IN (" +
           kinds::sqlList(kKindSpanView) + ");\n";
}

}  // namespace spanscope::session::detail
