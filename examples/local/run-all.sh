#!/usr/bin/env bash
# Runs the tutorial's steps in order, as Vitess's CI replays its local example, and checks each
# step's output against expected/<step>.txt beside the scripts: one extended regular expression per
# line that must match some line of the output (`!` first: must match none; `#`: a comment). Prints
# the seconds each step took; stops at the first difference and shows it with the step's output.
# At the end, when 305 ran, it prints the seconds from the start to the end of 305 (a sharded
# customer serving from -80 and 80-) next to the seconds 101 alone took in the same run, and says
# when the data root was not empty at the start (then the figure is not one from an empty machine).
#
#   examples/local/run-all.sh                 # 101 → 205 → 301 → 307 → partial 501 → 505, then 401
#   examples/local/run-all.sh 305             # up to and including 305, cluster left running
#   TESSERA_MODE=distributed examples/local/run-all.sh
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
last="${1:-}"
steps=(101_initial_cluster 201_customer_tablets 202_move_tables 203_switch_reads 204_switch_writes 205_clean_commerce
  301_customer_sharded 302_new_shards 303_reshard 304_switch_reads 305_switch_writes 306_down_shard_0 307_delete_shard_0
  partial/501_customer2_keyspace partial/502_move_tables_partial partial/503_vdiff partial/504_switch_traffic partial/505_shard_routing_demo
  401_teardown)
if [ -n "$last" ] && ! printf '%s\n' "${steps[@]}" | grep -q "^\(partial/\)\?$last"; then
  echo "run-all.sh: no step $last; steps: ${steps[*]}" >&2
  exit 2
fi
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
dataroot="${TESSERA_DATAROOT:-$(cd "$here/../.." && pwd)/tessera-data}"
empty_at_start=yes
[ -d "$dataroot" ] && [ -n "$(ls -A "$dataroot" 2>/dev/null)" ] && empty_at_start=no
start=$(date +%s.%N)
secs_101='' secs_to_305=''
for step in "${steps[@]}"; do
  t0=$(date +%s.%N)
  if ! bash "$here/$step.sh" > "$out" 2>&1; then
    echo "FAIL $step: exited $?; its output:" >&2
    cat "$out" >&2
    exit 1
  fi
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  expected="$here/expected/$step.txt"
  if [ -f "$expected" ]; then
    while IFS= read -r pattern || [ -n "$pattern" ]; do
      case "$pattern" in '' | '#'*) continue ;; esac
      if [ "${pattern:0:1}" = '!' ]; then
        if grep -Eq -- "${pattern:1}" "$out"; then
          echo "FAIL $step: the output has what it must not: ${pattern:1}" >&2; cat "$out" >&2; exit 1
        fi
      elif ! grep -Eq -- "$pattern" "$out"; then
        echo "FAIL $step: the output lacks: $pattern" >&2; cat "$out" >&2; exit 1
      fi
    done < "$expected"
  fi
  printf 'ok   %-36s %6.1f s\n' "$step" "$secs"
  case "$step" in
    101_initial_cluster) secs_101=$secs ;;
    305_switch_writes) secs_to_305=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }') ;;
  esac
  case "$step" in "$last" | */"$last" | "$last"_* | */"$last"_*) break ;; esac
done
printf 'all steps passed in %.1f s\n' "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
if [ -n "$secs_to_305" ]; then
  printf 'to the end of 305 (customer serving from -80 and 80-): %.1f s, of which 101_initial_cluster: %.1f s (%s mode)\n' \
    "$secs_to_305" "$secs_101" "${TESSERA_MODE:-combined}"
  if [ "$empty_at_start" = no ]; then
    echo "note: the data root $dataroot was not empty at the start, so this is not the time from an empty data root"
  else
    echo "from an empty data root ($dataroot)"
  fi
fi
