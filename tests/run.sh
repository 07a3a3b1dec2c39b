#!/usr/bin/env bash
# Runs the whole test suite and ends with one line "total: N passed, N failed".
# Each part prints its own "N passed, N failed" as its last such line; this sums them.
# Environment: NFM_BUILD (build dir), NFM_PROG (binary), NFM_SHARED (corpus root,
# default ../shared next to the project).
set -u
cd "$(dirname "$0")/.."
export NFM_BUILD=${NFM_BUILD:-build}
export NFM_PROG=${NFM_PROG:-nexusflowmeter}
export NFM_SHARED=${NFM_SHARED:-$(cd .. && pwd)/shared}
export TZ=UTC LC_ALL=C

total_pass=0
total_fail=0
failed_parts=()

run_part() { # name, command...
	local name=$1; shift
	local out rc line p f
	out=$("$@" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$line" ]; then
		p=0; f=1
		printf '%s\n' "$out" | tail -n 20
		echo "$name: no result line (exit $rc)"
	else
		p=$(printf '%s' "$line" | sed -E 's/^([A-Za-z_-]+: )?([0-9]+) passed.*/\2/')
		f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		if [ "$f" -ne 0 ]; then printf '%s\n' "$out" | grep -E 'FAIL|fail|mismatch|error' | head -n 40; fi
		echo "$name: $p passed, $f failed"
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ "$f" -eq 0 ] || failed_parts+=("$name")
}

for t in "$NFM_BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_part "unit/$(basename "$t")" "$t"
done
for s in tests/golden/run.sh tests/corpus/run.sh tests/corpus/tshark_diff.sh tests/corpus/accuracy.sh tests/corpus/workers.sh tests/cli/run.sh tests/cli/profiles.sh tests/cli/cic_example.sh tests/regress/run.sh tests/hardening/run.sh tests/hardening/paths.sh; do
	[ -x "$s" ] || continue
	run_part "$s" "$s"
done

# The NetFlow side: one script per part (nfdump JSON, slices, nfcapd files, export).
for s in tests/netflow/*.sh; do
	[ -x "$s" ] || continue
	run_part "$s" "$s"
done

# The independent oracles of the profiles (tshark + pandas on the shared corpus).
for s in tests/oracle/*.sh; do
	[ -x "$s" ] || continue
	run_part "$s" "$s"
done

[ ${#failed_parts[@]} -eq 0 ] || echo "failed parts: ${failed_parts[*]}"
echo "total: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
