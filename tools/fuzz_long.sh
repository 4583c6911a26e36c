#!/usr/bin/env bash
# Long libFuzzer runs by hand (docs/fuzzing.md): an -O2 ASan+UBSan build of the fuzz targets in
# build/fuzz-O2, then each named target in turn, ONE process at a time (no -jobs: the machine
# is shared), stopping at RUNS executions or SECONDS seconds, whichever comes first.
#
#   tools/fuzz_long.sh [SECONDS] [RUNS] [TARGET...]       default: 3600 10000000 csv one_report v2x
#
# Per target: log in build/fuzz-O2/long-<t>.log (libFuzzer's final "stat::" lines and the last
# "#N ... cov: ft: corp:" line are the numbers), wall/CPU time in build/fuzz-O2/long-<t>.time,
# the grown corpus in build/fuzz-O2/corpus-<t>, findings in build/fuzz-O2/crash-<t>-*.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3600}
runs=${2:-10000000}
shift 2 2>/dev/null || shift $#
targets=${*:-csv one_report v2x}
b=build/fuzz-O2
cmake -S . -B "$b" -DCMAKE_C_COMPILER=clang -DBLOCKOPS_FUZZ=ON -DBLOCKOPS_FUZZ_OPT=-O2 \
      -DBLOCKOPS_PYTHON=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null || exit 1
nice -n 19 cmake --build "$b" -j 1 --target fuzz_csv fuzz_one_report fuzz_v2x >/dev/null || exit 1
status=0
for t in $targets; do
  mkdir -p "$b/corpus-$t"
  ASAN_OPTIONS=halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    /usr/bin/time -f "wall %e s, user %U s, sys %S s" -o "$b/long-$t.time" \
    nice -n 19 "$b/fuzz_$t" -runs="$runs" -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix="$b/crash-$t-" "$b/corpus-$t" "csrc/fuzz/corpus/$t" >"$b/long-$t.log" 2>&1 \
    || status=1
  echo "$t: $(tail -n 1 "$b/long-$t.time"), $(ls "$b/corpus-$t" | wc -l) corpus files"
done
exit $status
