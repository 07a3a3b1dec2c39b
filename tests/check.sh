#!/usr/bin/env bash
# `make check`: the whole suite twice, with the normal build and with the
# AddressSanitizer + UndefinedBehaviorSanitizer build, then the fuzz targets, then one
# closing line. Both builds are made first; the two suites then run at the same time
# (they share nothing: every test works in its own temporary directory), which keeps CI
# within its time on a 2-core machine.
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
pass=0; fail=0
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

built=()
for san in 0 1; do
	label=$([ $san = 1 ] && echo "sanitizer build" || echo "normal build")
	if ! make -s -j"$jobs" SAN=$san all unit tools >/dev/null; then
		make SAN=$san all unit tools 2>&1 | tail -n 30
		echo "$label: build failed"
		fail=$((fail + 1))
		continue
	fi
	built+=("$san")
done

pids=()
for san in "${built[@]}"; do
	build=$([ "$san" = 1 ] && echo build-san || echo build)
	prog=$([ "$san" = 1 ] && echo build-san/nexusflowmeter || echo nexusflowmeter)
	( NFM_BUILD=$build NFM_PROG=$prog tests/run.sh > "$logs/$san.out" 2>&1; echo $? > "$logs/$san.rc" ) &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

for san in "${built[@]}"; do
	label=$([ "$san" = 1 ] && echo "sanitizer build" || echo "normal build")
	echo "== $label"
	out=$(cat "$logs/$san.out"); rc=$(cat "$logs/$san.rc" 2>/dev/null || echo 1)
	printf '%s\n' "$out" | grep -v '^total:'
	line=$(printf '%s\n' "$out" | grep -E '^total: [0-9]+ passed, [0-9]+ failed' | tail -n 1)
	p=$(printf '%s' "$line" | sed -E 's/^total: ([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$p" ] || { p=0; f=1; }
	[ "$rc" -eq 0 ] || [ "$f" -ne 0 ] || f=1
	echo "$label: $p passed, $f failed"
	pass=$((pass + p)); fail=$((fail + f))
done

# Each fuzz target for a fixed number of inputs (libFuzzer, clang), seeded from the
# captures the tests write; one test per target.
echo "== fuzz targets"
if command -v clang >/dev/null; then
	for t in fuzz/fuzz_*.c; do
		name=$(basename "$t" .c)
		if make -s build-fuzz/$name >/dev/null 2>&1 && build-fuzz/$name -runs=${FUZZ_RUNS:-20000} -seed=1 -max_len=65536 >/dev/null 2>build-fuzz/$name.log; then
			pass=$((pass + 1))
		else
			tail -n 20 build-fuzz/$name.log 2>/dev/null
			echo "FAIL fuzz: $name"
			fail=$((fail + 1))
		fi
	done
else
	echo "fuzz targets skipped: clang not installed"
fi
echo "all: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
