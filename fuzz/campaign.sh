#!/usr/bin/env bash
# One fuzz campaign: each named target (all of them by default) runs until it has executed
# RUNS inputs (10 million by default), one libFuzzer process at a time at the lowest priority,
# without a sanitizer (ksec's parsers are safe Rust: a panic or a failed check is what is
# looked for, and libFuzzer catches both). New inputs go to fuzz/corpus/<target>; a crash to
# fuzz/artifacts/<target>. Prints one line per target: runs, seconds, executions per second,
# corpus size, and whether it found a failure. Run from the repository root:
#   fuzz/campaign.sh [TARGET…]          RUNS=1000000 fuzz/campaign.sh yaml
set -uo pipefail
cd "$(dirname "$0")"
runs="${RUNS:-10000000}"
logs="${LOGS:-corpus/logs}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(yaml json dotenv_ini decrypt ciphertext metadata sops_config edit_view merge)
mkdir -p "$logs"
cargo +nightly fuzz build -s none >/dev/null || exit 1
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    extra=()
    [ "$target" = yaml ] && extra=(-dict=yaml.dict)
    start=$(date +%s)
    nice -n 19 cargo +nightly fuzz run -s none "$target" "corpus/$target" "seeds/$target" -- \
        -runs="$runs" -print_final_stats=1 "${extra[@]}" >"$logs/$target.log" 2>&1
    status=$?
    took=$(( $(date +%s) - start ))
    done_line=$(grep -E '^#[0-9]+' "$logs/$target.log" | tail -1)
    executed=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$logs/$target.log" | grep -oE '[0-9]+$')
    corpus=$(find "corpus/$target" -type f | wc -l)
    if [ "$status" -eq 0 ]; then outcome="no failure"; else outcome="FAILED (exit $status, see $logs/$target.log)"; fi
    echo "$target: ${executed:-?} runs in ${took} s ($(( ${executed:-0} / (took > 0 ? took : 1) ))/s), corpus $corpus; $outcome; ${done_line}"
done
