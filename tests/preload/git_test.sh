#!/usr/bin/env bash
# git under the preload: init, add and commit a generated repository of a few hundred files over
# several commits (edits, additions, deletions, renames, a branch and a merge), then log --stat,
# diff, blame, grep, a multi-threaded repack, fsck, count-objects and archive. Author, committer
# and dates are fixed, so every object id is the same from run to run.
source "$(dirname "$0")/common.sh"
need git sha256sum

export HOME=$WORK/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Ada Lovelace" GIT_AUTHOR_EMAIL=ada@example.org
export GIT_COMMITTER_NAME="Charles Babbage" GIT_COMMITTER_EMAIL=charles@example.org
export GIT_PAGER=cat PAGER=cat
mkdir -p "$HOME"

# gen DIR N SEED: N deterministic text files (C-like and prose) in nested directories.
gen() {
    awk -v dir="$1" -v n="$2" -v seed="$3" 'BEGIN {
        s = seed
        split("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau", w, " ")
        for (f = 0; f < n; f++) {
            path = sprintf("%s/mod%02d/sub%d/file%04d.%s", dir, f % 23, f % 4, f, (f % 3 ? "c" : "txt"))
            sub_dir = path; sub(/\/[^\/]*$/, "", sub_dir)
            system("mkdir -p " sub_dir)
            s = (s * 1103515245 + 12345) % 2147483648
            lines = 20 + s % 200
            for (l = 0; l < lines; l++) {
                s = (s * 1103515245 + 12345) % 2147483648
                if (f % 3) printf("int %s_%d_%d(int x) { return x * %d + %d; }\n", w[1 + s % 19], f, l, s % 97, s % 1009) > path
                else printf("%s %s %s line %d of %d: %d\n", w[1 + s % 19], w[1 + (s / 19) % 19], w[1 + (s / 361) % 19], l, f, s) > path
            }
            close(path)
        }
    }'
}
gen "$WORK/src1" 300 1
gen "$WORK/src2" 360 2

commit() {  # commit DAY MESSAGE
    GIT_AUTHOR_DATE="2024-01-$1T10:00:00+0000" GIT_COMMITTER_DATE="2024-01-$1T12:00:00+0000" \
        P git commit -q -m "$2"
}

workload() {
    P git init -q -b main repo
    cd repo
    P git config core.autocrlf false
    P git config gc.auto 0
    cp -r "$WORK/src1/." .
    P git add -A
    commit 01 "initial import: 300 files"
    # Edit every 4th file, add the next 60, delete a few.
    local f n
    for f in $(cd "$WORK/src2" && find . -type f | sort); do
        n=${f##*/file}; n=$((10#${n%%.*}))
        if ((n % 4 == 0 || n >= 300)); then mkdir -p "$(dirname "$f")"; cp "$WORK/src2/$f" "$f"; fi
    done
    P git rm -q -f mod01/sub1/file0001.c mod02/sub2/file0002.c mod05/sub1/file0097.c
    P git add -A
    commit 02 "rewrite, 60 more files, 3 removed"
    P git mv mod03 renamed03
    P git mv mod04/sub0/file0004.c mod04/sub0/moved0004.c
    commit 03 "renames"
    P git checkout -q -b feature
    for i in $(seq 1 40); do printf 'feature line %d\n' "$i" >>"mod10/sub2/file0010.c"; done
    P git add -A
    commit 04 "feature work"
    P git checkout -q main
    sed -i 's/alpha/ALPHA/' mod06/sub2/file0006.txt mod07/sub3/file0007.c
    GIT_AUTHOR_DATE="2024-01-05T10:00:00+0000" GIT_COMMITTER_DATE="2024-01-05T12:00:00+0000" \
        P git commit -q -a -m "upper-case alpha"
    GIT_AUTHOR_DATE="2024-01-06T10:00:00+0000" GIT_COMMITTER_DATE="2024-01-06T12:00:00+0000" \
        P git merge -q --no-ff -m "merge feature" feature
    GIT_COMMITTER_DATE="2024-01-07T12:00:00+0000" P git tag -a v1.0 -m "version 1.0" </dev/null
    echo "== log --stat"
    P git log --stat --format='%H %an <%ae> %ad %cn %cd%n%s' --date=iso
    echo "== log --graph"
    P git log --graph --oneline --all --decorate
    echo "== diff --stat HEAD~3"
    P git diff --stat -M HEAD~3 HEAD
    echo "== diff"
    P git diff HEAD~2 HEAD -- mod06 mod07 | sed -n 1,40p
    echo "== blame"
    P git blame -s mod10/sub2/file0010.c | tail -n 5
    echo "== grep"
    P git grep -c ALPHA | sed -n 1,5p
    P git grep -n 'kappa_1[0-9]*_1' -- '*.c' | sed -n 1,5p
    echo "== ls-tree / rev-list"
    P git ls-tree -r HEAD | sha256sum
    P git rev-list --objects --all | sort | sha256sum
    P git log -p -M --all | sha256sum
    echo "== repack (2 threads)"
    P git -c pack.threads=2 repack -a -d -q
    P git prune-packed
    echo "== count-objects"
    # size-pack depends on how the delta search splits between threads: compare counts only.
    P git count-objects -v | grep -E '^(count|in-pack|packs|prune-packable|garbage):'
    echo "== fsck"
    P git fsck --full --strict --no-progress 2>&1
    echo "== verify-pack"
    # (Which objects become deltas can depend on thread scheduling: check, do not print.)
    P git verify-pack .git/objects/pack/*.idx >/dev/null
    echo "verify-pack ok"
    echo "== archive"
    P git archive --format=tar v1.0 | sha256sum
    echo "== status"
    P git status --porcelain=v1
    P git show --stat v1.0 | sed -n 1,12p
}
compare_runs git workload
finish
