#!/usr/bin/env bash
# Runs run_scenarios on one file and checks BOTH its exit status and its
# whole output (stdout and stderr), so a runner that prints FAIL but exits 0,
# or exits 1 for the wrong reason, fails the test.
#   check_run.sh RUNNER DIR FILE WANT_CODE EXPECTED_OUTPUT
# FILE is run from DIR by its bare name, so messages ("bad_key.yaml:9: ...")
# do not depend on where the tree is checked out. EXPECTED_OUTPUT holds the
# exact text; every line (each FAIL line, the "# N passed, M failed" line)
# is pinned. After a deliberate change of a message, regenerate with:
#   (cd tests/scenario/selftest && ../../../build/tests/run_scenarios X.yaml \
#      > ../expected/X.out 2>&1)
set -u
if [ $# -ne 5 ]; then
    echo "usage: check_run.sh RUNNER DIR FILE WANT_CODE EXPECTED_OUTPUT" >&2
    exit 2
fi
runner=$(realpath -- "$1") dir=$2 file=$3 want=$4 expected=$5
[ -r "$expected" ] || { echo "check_run: cannot read $expected" >&2; exit 2; }

out=$(cd "$dir" && "$runner" "$file" 2>&1)
code=$?
status=0
if [ "$code" -ne "$want" ]; then
    echo "check_run: $file: exit status $code, expected $want"
    status=1
fi
if ! diff -u "$expected" <(printf '%s\n' "$out") > /dev/null; then
    echo "check_run: $file: output differs from $expected (- expected, + got):"
    diff -u "$expected" <(printf '%s\n' "$out")
    status=1
fi
[ $status -eq 0 ] && echo "check_run: $file: exit status $code and output as expected"
exit $status
