#!/bin/bash
# The example queries of docs/session-format.md section 3 run on a recorded session, through the
# sqlite3 shell with the loadable extension (.load libspanscope_sqlite) and through
# `spanscope-cli sql`; both must succeed and print the same rows, and the queries on `events`
# must return rows. Usage: sql_docs_test.sh CLI EXTENSION DOC
set -euo pipefail
CLI=$1 EXT=${2%.so} DOC=$3
command -v sqlite3 >/dev/null || { echo "sqlite3 shell not installed (apt-get install sqlite3)"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# A teaching session has object-level records (kind 22) and several GC cycles.
"$CLI" demo teaching --seconds 1.5 -o "$WORK/s.db" >/dev/null 2>"$WORK/rec.err" || { cat "$WORK/rec.err"; exit 1; }
# The queries: the ```sql block of section 3, split at the lines that end with ';'.
awk '/^## 3\./{on=1} on && /^```sql/{inb=1; next} inb && /^```/{exit} inb' "$DOC" | grep -v '^--' >"$WORK/all.sql"
n=0 events=0
query=""
while IFS= read -r line; do
    query+="$line"$'\n'
    [[ $line == *";" ]] || continue
    n=$((n + 1))
    shell=$(sqlite3 -bail "$WORK/s.db" ".load $EXT" "$query" 2>&1) || { echo "sqlite3 failed on: $query$shell"; exit 1; }
    cli=$("$CLI" sql "$WORK/s.db" "$query" 2>&1) || { echo "spanscope-cli sql failed on: $query$cli"; exit 1; }
    [[ "$shell" == "$cli" ]] || { echo "different rows for: $query--- sqlite3:"; echo "$shell"; echo "--- cli:"; echo "$cli"; exit 1; }
    if [[ $query == *"FROM events"* ]]; then
        events=$((events + 1))
        # (The one naming GC cycle 3 may find none on a loaded machine: fewer cycles in 1.5 s.)
        [[ -n $shell || $query == *"cycle = 3"* ]] || { echo "no rows from: $query"; exit 1; }
    fi
    query=""
done <"$WORK/all.sql"
[[ $n -ge 10 && $events -ge 3 ]] || { echo "found only $n queries ($events on events) in $DOC"; exit 1; }
# Without the extension the shell names the missing table (what a user sees before .load).
if sqlite3 "$WORK/s.db" "SELECT count(*) FROM events" >/dev/null 2>&1; then
    echo "events answered without the extension?"; exit 1
fi
echo "ok: $n documented queries ($events on events) run through the extension and the CLI"
