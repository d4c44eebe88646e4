#!/usr/bin/env bash
# The sqlite3 shell under the preload: a few hundred thousand rows inserted by a recursive CTE,
# indexes (built by sorter worker threads: PRAGMA threads), joins, GROUP BY, ORDER BY, window
# functions, updates and deletes, an integrity check and VACUUM, on an on-disk database.
source "$(dirname "$0")/common.sh"
need sqlite3
ROWS=${ROWS:-300000}

cat >"$WORK/script.sql" <<SQL
PRAGMA threads = 2;
PRAGMA cache_size = -32000;
PRAGMA journal_mode = WAL;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL, blob BLOB);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $ROWS)
INSERT INTO t SELECT i, (i * 7919) % 1000, printf('name-%08d-%s', (i * 104729) % 1000003, substr(hex(i * i), 1, (i % 17) + 1)),
                     ((i * 31337) % 100000) / 100.0, zeroblob(i % 300)
FROM c;
CREATE INDEX t_grp ON t(grp, val);
CREATE INDEX t_name ON t(name);
CREATE TABLE g(grp INTEGER PRIMARY KEY, label TEXT);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 999)
INSERT INTO g SELECT i, 'group ' || i FROM c;
.mode list
.headers on
SELECT count(*), sum(grp), round(sum(val), 2), sum(length(name)), sum(length(blob)) FROM t;
SELECT grp, count(*) AS n, round(avg(val), 4) AS avg_val, min(name), max(name) FROM t GROUP BY grp ORDER BY n DESC, grp LIMIT 15;
SELECT g.label, count(*), round(sum(t.val), 2) FROM t JOIN g USING (grp) WHERE t.val > 500 GROUP BY g.label ORDER BY 3 DESC LIMIT 10;
SELECT name, val FROM t ORDER BY name DESC LIMIT 10;
SELECT id, val FROM t ORDER BY val DESC, id LIMIT 5 OFFSET 1000;
SELECT grp, val, rnk FROM (SELECT grp, val, rank() OVER (PARTITION BY grp ORDER BY val DESC, id) AS rnk FROM t) WHERE rnk <= 2 ORDER BY grp LIMIT 12;
SELECT count(DISTINCT substr(name, 6, 4)), group_concat(DISTINCT length(name)) FROM t;
UPDATE t SET name = name || '-' || grp WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*), sum(length(name)), max(length(name)) FROM t;
SELECT grp / 100 AS bucket, count(*), round(sum(val), 2) FROM t GROUP BY bucket ORDER BY bucket;
PRAGMA integrity_check;
PRAGMA wal_checkpoint(TRUNCATE);
VACUUM;
SELECT count(*) FROM t INDEXED BY t_name WHERE name LIKE 'name-0001%';
SQL

workload() {
    P sqlite3 -bail test.db <"$WORK/script.sql"
    # A second process reopens the database.
    P sqlite3 test.db 'PRAGMA quick_check; SELECT count(*), sum(id) FROM t;'
}
compare_runs sqlite workload
finish
