#!/usr/bin/env bash
# Mutation testing by hand: does the test suite catch one small deliberate
# bug at a time? Not part of ctest (it takes a while: one rebuild and one
# full ctest per mutation).
#
#   scripts/mutate.sh                 every mutation below
#   scripts/mutate.sh 1 3             only mutations 1 and 3
#   scripts/mutate.sh --list          print the mutations and exit
#
# Never touches this tree: the tracked files of the working tree are copied
# into a scratch directory (mktemp -d; removed at exit, KEEP=1 keeps it),
# built there once (BUILD_TYPE, default RelWithDebInfo; JOBS, default 2) and
# checked green. Then each mutation is applied (one sed expression on one
# file), the scratch tree is rebuilt incrementally, ctest runs in full, and
# the file is put back. A mutation is
#   caught     ctest failed (the failing tests are listed)
#   MISSED     ctest passed with the bug in
#   no-build   the mutant did not compile (a bad mutation, not a catch)
#   NOT-APPLIED the sed expression changed nothing (the code moved: fix it)
# The exit status is 0 when every mutation was caught, 1 otherwise, 2 on a
# usage or set-up error.
set -uo pipefail

# file | sed expression | what the bug is. One line each; the separator is
# " | " so a sed expression may hold '|' only inside its own delimiters.
MUTATIONS=(
  "src/store/store.c | s/mdb_env_open(st->env, opts->dir, MDB_NOTLS,/mdb_env_open(st->env, opts->dir, MDB_NOTLS \\| MDB_NOSYNC,/ | MDB_NOSYNC added to the store's environment flags"
  "tests/scenario/run_scenarios.c | s/^\\(  *\\)return 2;\$/\\1return 0;/; s/^    return rc;\$/    return rc * 0;/ | the scenario runner always exits 0"
  "src/core/order.c | s/if (\\*stage \\&\\& \\*stage <= ev->occurred_ms) return false;/if (*stage \\&\\& *stage >= ev->occurred_ms) return false;/ | the inquiry timeline keeps the latest event"
  "src/core/order.c | s/if (t != cur) return t < cur;/if (t != cur) return t > cur;/ | the order timeline keeps the latest event"
  "src/core/expr_eval.c | s/case EXPR_N_LT: \\*v = grading_expr_bool(order(\\&l, \\&r) < 0);/case EXPR_N_LT: *v = grading_expr_bool(order(\\&l, \\&r) <= 0);/ | '<' read as '<=' in a threshold"
  "src/core/calendar.c | s/for (int32_t d = from + 1; d <= to; d++)/for (int32_t d = from; d <= to; d++)/ | business days between: off by one (counts the first day)"
  "src/ingest/ingest.c | s/if (seen) {/if (seen \\&\\& 0) {/ | dedup ignores event ids (a repeated id is applied again)"
)

usage() {
    echo "usage: scripts/mutate.sh [--list] [N...]" >&2
    exit 2
}

field() {   # field <entry> <1|2|3>
    awk -v n="$2" 'BEGIN { FS = " \\| " } { print $n }' <<<"$1"
}

# the sed expression is everything between the first and the last " | "
sed_of() {
    local rest=${1#* | }
    printf '%s\n' "${rest% | *}"
}

if [ "${1:-}" = "--list" ]; then
    for i in "${!MUTATIONS[@]}"; do
        printf '%2d  %-32s %s\n' $((i + 1)) "$(field "${MUTATIONS[$i]}" 1)" "${MUTATIONS[$i]##* | }"
    done
    exit 0
fi
selected=()
for a in "$@"; do
    [[ "$a" =~ ^[0-9]+$ ]] && [ "$a" -ge 1 ] && [ "$a" -le ${#MUTATIONS[@]} ] || usage
    selected+=($((a - 1)))
done
[ ${#selected[@]} -eq 0 ] && selected=("${!MUTATIONS[@]}")

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/grading-mutate-XXXXXX") || exit 2
cleanup() {
    if [ "${KEEP:-0}" = 1 ]; then echo "mutate: scratch tree kept in $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT

echo "mutate: copying the tracked files of $root into $scratch"
(cd "$root" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$scratch/" || exit 2
src=$scratch
build=$scratch/build
log=$scratch/mutate.log

echo "mutate: building the unmutated tree (log: $log)"
if ! cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >>"$log" 2>&1 ||
   ! cmake --build "$build" -j "$jobs" >>"$log" 2>&1; then
    echo "mutate: the unmutated tree does not build; see $log" >&2
    KEEP=1
    exit 2
fi
echo "mutate: running ctest on the unmutated tree"
if ! ctest --test-dir "$build" -j "$jobs" >>"$log" 2>&1; then
    echo "mutate: ctest fails without any mutation; fix that first (log: $log)" >&2
    KEEP=1
    exit 2
fi

results=()
missed=0
for i in "${selected[@]}"; do
    entry=${MUTATIONS[$i]}
    file=$(field "$entry" 1)
    expr=$(sed_of "$entry")
    desc=${entry##* | }
    n=$((i + 1))
    echo "mutate: #$n $desc"
    cp -p "$src/$file" "$scratch/.orig" || exit 2
    sed -i -e "$expr" "$src/$file"
    if cmp -s "$src/$file" "$scratch/.orig"; then
        results+=("$n|NOT-APPLIED|$desc|$file: the expression matched nothing")
        missed=$((missed + 1))
        continue
    fi
    echo "=== mutation #$n: $desc" >>"$log"
    diff -u "$scratch/.orig" "$src/$file" >>"$log"
    if ! cmake --build "$build" -j "$jobs" >>"$log" 2>&1; then
        verdict=no-build
        detail="$file does not compile mutated"
        missed=$((missed + 1))
    else
        out=$(ctest --test-dir "$build" -j "$jobs" 2>&1)
        echo "$out" >>"$log"
        failed=$(sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (.*/\1/p' <<<"$out" | tr '\n' ' ')
        if [ -n "$failed" ]; then
            verdict=caught
            count=$(wc -w <<<"$failed")
            detail="$count failed: $(cut -d' ' -f1-4 <<<"$failed")$([ "$count" -gt 4 ] && echo ' ...')"
        elif grep -q "100% tests passed" <<<"$out"; then
            verdict=MISSED
            detail="every test passed"
            missed=$((missed + 1))
        else
            verdict=error
            detail="ctest did not report (see $log)"
            missed=$((missed + 1))
        fi
    fi
    # put the file back (a new mtime, so the next build recompiles it)
    cp "$scratch/.orig" "$src/$file"
    touch "$src/$file"
    results+=("$n|$verdict|$desc|$detail")
done
# leave the scratch build unmutated (only matters with KEEP=1)
cmake --build "$build" -j "$jobs" >>"$log" 2>&1

echo
printf '%-3s %-11s %-58s %s\n' "#" "result" "mutation" "tests"
printf '%-3s %-11s %-58s %s\n' "--" "------" "--------" "-----"
for r in "${results[@]}"; do
    IFS='|' read -r n verdict desc detail <<<"$r"
    printf '%-3s %-11s %-58s %s\n' "$n" "$verdict" "$desc" "$detail"
done
echo
echo "mutate: $(( ${#results[@]} - missed )) of ${#results[@]} caught"
[ "$missed" -eq 0 ]
