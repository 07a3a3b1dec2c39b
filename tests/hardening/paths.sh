#!/usr/bin/env bash
# Nothing lost: every way a run could destroy a file it did not create, or leave one
# behind, or misreport what it wrote. Each case: the exit status, one error line, and
# that every file around is as it was (checksums of the whole directory).
# Environment: NFM_BUILD (default build), NFM_PROG (default ./nexusflowmeter).
# Last line: "N passed, N failed"; exits nonzero on failure.
. "$(dirname "$0")/../lib/preamble.sh"
mounts=()
nfm_at_exit 'for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done'
GENCAP=$BUILD/nfm-gencap
[ -x "$PROG" ] && [ -x "$GENCAP" ] || { echo "missing $PROG or $GENCAP"; echo "0 passed, 1 failed"; exit 1; }
"$GENCAP" --packets 3000 --seed 7 "$work/a.pcap" >/dev/null 2>&1
"$GENCAP" --packets 2000 --seed 8 "$work/b.pcap" >/dev/null 2>&1
PY=python3

# A fingerprint of everything in a directory (names, types, links, contents).
snap() { (cd "$1" && find . -printf '%p %y %l %n\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) 2>/dev/null; }

# refused NAME DIR EXPECTED_RC COMMAND...: runs COMMAND in DIR; the exit status must be
# EXPECTED_RC, stderr exactly one line, and DIR exactly as before.
refused() {
	local name=$1 dir=$2 want=$3; shift 3
	local before after rc why=""
	before=$(snap "$dir")
	(cd "$dir" && "$@" >/dev/null 2>"$work/err"); rc=$?
	after=$(snap "$dir")
	[ "$rc" -eq "$want" ] || why="$why; exit $rc, expected $want"
	[ "$(grep -c '' "$work/err")" -eq 1 ] || why="$why; $(grep -c '' "$work/err") lines on stderr"
	[ "$before" = "$after" ] || why="$why; the directory changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -n 3 | tr '\n' ' ')"
	if [ -z "$why" ]; then ok; else bad "$name:${why#;}"; show_err; fi
}

fresh() { rm -rf "$work/d"; mkdir -p "$work/d/sub"; cp "$work/a.pcap" "$work/b.pcap" "$work/d/"; }

# ---- 1. the output is an input, however it is spelled ----
fresh
refused "output = input" "$work/d" 2 "$PROG" a.pcap a.pcap
refused "output = ./input" "$work/d" 2 "$PROG" a.pcap ./a.pcap
refused "output = absolute input" "$work/d" 2 "$PROG" a.pcap "$work/d/a.pcap"
refused "output = ../dir/input" "$work/d/sub" 2 "$PROG" ../a.pcap ../../d/a.pcap
ln -s . "$work/d/self"
refused "output = input through a symlinked directory" "$work/d" 2 "$PROG" a.pcap self/a.pcap
rm -f "$work/d/self"
refused "standard input is the output" "$work/d" 2 sh -c "exec \"$PROG\" - a.pcap < a.pcap"
refused "standard output is the input" "$work/d" 2 sh -c "exec \"$PROG\" a.pcap - >> a.pcap"
ln -s a.pcap "$work/d/link.csv"
refused "output is a symbolic link" "$work/d" 2 "$PROG" b.pcap link.csv
rm -f "$work/d/link.csv"
ln "$work/d/a.pcap" "$work/d/hard.csv"
refused "output is a hard link (of the input)" "$work/d" 2 "$PROG" b.pcap hard.csv
rm -f "$work/d/hard.csv"
echo keep > "$work/d/c.csv"; ln "$work/d/c.csv" "$work/d/c2.csv"
refused "output is a file with another hard link" "$work/d" 2 "$PROG" b.pcap c.csv
rm -f "$work/d/c.csv" "$work/d/c2.csv"

# ---- 2. a report lands on an input ----
fresh
cp "$work/a.pcap" "$work/d/flows_report.txt"
refused "report = input" "$work/d" 2 "$PROG" flows_report.txt flows.csv
refused "report (--report-dir) = input" "$work/d/sub" 2 "$PROG" ../flows_report.txt x/flows.csv --report-dir ..

# ---- 3. a split output lands on an input ----
fresh
cp "$work/a.pcap" "$work/d/flows_udp.csv"
refused "split output = input" "$work/d" 2 "$PROG" flows_udp.csv flows --split-by-protocol
refused "split output (.csv given) = input" "$work/d" 2 "$PROG" flows_udp.csv flows.csv --split-by-protocol

# ---- 4. -d --merge onto a capture of the directory ----
fresh
refused "merged output = an input of -d" "$work/d" 2 "$PROG" -d . --merge b.pcap
refused "merged output = an input of -d (other spelling)" "$work/d/sub" 2 "$PROG" -d .. --merge ../../d/a.pcap

# ---- 5. two outputs of one -d run would share a name: each gets its own ----
flows_of() { "$PY" -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1]))) - 1)' "$1"; }
rm -rf "$work/d5"; mkdir "$work/d5"
cp "$work/a.pcap" "$work/d5/x.pcap"; cp "$work/b.pcap" "$work/d5/x_report.pcap"
"$PROG" -d "$work/d5" -of json >/dev/null 2>"$work/err"; rc=$?
n_x=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/d5/x.json" 2>/dev/null)
n_r=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/d5/x_report.pcap.json" 2>/dev/null)
"$PROG" -q "$work/a.pcap" "$work/ref_a.json" --no-report; "$PROG" -q "$work/b.pcap" "$work/ref_b.json" --no-report
w_a=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/ref_a.json")
w_b=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/ref_b.json")
rep=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["inputs"][0]["name"])' "$work/d5/x_report.json" 2>/dev/null)
if [ "$rc" -eq 0 ] && [ "$n_x" = "$w_a" ] && [ "$n_r" = "$w_b" ] && [ "$rep" = "$work/d5/x.pcap" ] &&
	grep -q "note: .*x_report.pcap -> " "$work/err"; then ok; else
	bad "-d x.pcap + x_report.pcap: exit $rc, flows $n_x/$w_a and $n_r/$w_b, x_report.json is the report of '$rep'"; show_err
fi
rm -rf "$work/d5"; mkdir "$work/d5"
cp "$work/a.pcap" "$work/d5/x.cap"; cp "$work/b.pcap" "$work/d5/x.pcap"; cp "$work/a.pcap" "$work/d5/x.pcap.pcap"
"$PROG" -d "$work/d5" >/dev/null 2>"$work/err"; rc=$?
"$PROG" -q "$work/a.pcap" "$work/ref_a.csv" --no-report; "$PROG" -q "$work/b.pcap" "$work/ref_b.csv" --no-report
outs=$(ls "$work/d5" | grep -c '\.csv$')
if [ "$rc" -eq 0 ] && [ "$outs" -eq 3 ] && cmp -s "$work/d5/x.csv" "$work/ref_a.csv" &&
	cmp -s "$work/d5/x.pcap.csv" "$work/ref_b.csv" && cmp -s "$work/d5/x.pcap.pcap.csv" "$work/ref_a.csv" &&
	grep -q "3 captures: 3 converted" "$work/err"; then ok; else
	bad "-d x.cap + x.pcap + x.pcap.pcap: exit $rc, $outs outputs: $(ls "$work/d5" | tr '\n' ' ')"; show_err
fi

# ---- 6. special files are written in place, never replaced ----
fresh
"$PROG" -q "$work/d/a.pcap" /dev/null --no-report 2>"$work/err"; rc=$?
if [ "$rc" -eq 0 ] && [ -c /dev/null ]; then ok; else bad "output /dev/null: exit $rc, /dev/null is $(stat -c %F /dev/null)"; fi
mkfifo "$work/d/fifo"
( cat "$work/d/fifo" > "$work/fifo.out" ) &
reader=$!
"$PROG" -q "$work/d/a.pcap" "$work/d/fifo" --no-report 2>"$work/err"; rc=$?
wait $reader
if [ "$rc" -eq 0 ] && [ -p "$work/d/fifo" ] && cmp -s "$work/fifo.out" "$work/ref_a.csv"; then ok; else
	bad "output FIFO: exit $rc, type $(stat -c %F "$work/d/fifo"), reader got $(wc -c < "$work/fifo.out") bytes"; show_err
fi
"$PROG" -q "$work/d/a.pcap" /dev/stdout --no-report 2>"$work/err" | cat > "$work/stdout.out"
if [ -L /dev/stdout ] && cmp -s "$work/stdout.out" "$work/ref_a.csv"; then ok; else bad "output /dev/stdout into a pipe"; show_err; fi
"$PROG" -q "$work/d/a.pcap" /dev/stdout --no-report > "$work/stdout2.out" 2>"$work/err"
if cmp -s "$work/stdout2.out" "$work/ref_a.csv"; then ok; else bad "output /dev/stdout into a file"; show_err; fi
# The report of an output written in place goes to the current directory, named after the input.
(cd "$work/d" && "$PROG" -q a.pcap fifo >/dev/null 2>"$work/err" & sleep 0.3; cat "$work/d/fifo" >/dev/null; wait)
if [ -f "$work/d/a_report.txt" ] && [ -p "$work/d/fifo" ]; then ok; else bad "report of a FIFO output: $(ls "$work/d" | tr '\n' ' ')"; show_err; fi

# ---- 7. a failed run commits nothing ----
fresh
echo precious > "$work/d/x.csv"
mkdir "$work/d/x_report.txt"
refused "report name is a directory" "$work/d" 2 "$PROG" a.pcap x.csv
rmdir "$work/d/x_report.txt"
refused "--report-dir is a file" "$work/d" 2 "$PROG" a.pcap x.csv --report-dir x.csv
refused "--report-dir is the output (#21)" "$work/d" 2 "$PROG" a.pcap o.csv --report-dir o.csv
if mkdir -p "$work/ro" && mount -t tmpfs -o ro,size=64k tmpfs "$work/ro" 2>/dev/null; then
	mounts+=("$work/ro")
	refused "read-only report directory" "$work/d" 1 "$PROG" a.pcap x.csv --report-dir "$work/ro"
	# The outputs fit, the report directory is full: nothing may be committed.
	mkdir -p "$work/full"
	if mount -t tmpfs -o size=64k tmpfs "$work/full" 2>/dev/null; then
		mounts+=("$work/full")
		head -c 60000 /dev/zero > "$work/full/filler"
		"$GENCAP" --packets 30000 --seed 9 "$work/d/big.pcap" >/dev/null 2>&1
		refused "the report does not fit: the flows file is not committed either" "$work/d" 1 "$PROG" big.pcap x.csv --report-dir "$work/full"
		[ "$(ls -A "$work/full")" = filler ] && ok || bad "full report directory: left $(ls -A "$work/full" | tr '\n' ' ')"
	else
		echo "skipped: cannot mount a tmpfs (full report directory)"
	fi
else
	echo "skipped: cannot mount a read-only tmpfs"
fi
[ "$(cat "$work/d/x.csv")" = precious ] && ok || bad "x.csv was replaced by a failed run"

# ---- 8 and 9. every terminating signal, at any moment, leaves nothing ----
"$GENCAP" --packets 800000 --seed 2 "$work/big.pcap" >/dev/null 2>&1
started() { # pid dir: the process has an output open in dir
	for _ in $(seq 400); do
		ls -l "/proc/$1/fd" 2>/dev/null | grep -qF "$2/" && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
for sig in HUP USR1 USR2 ALRM QUIT VTALRM; do
	out=$work/sig; rm -rf "$out"; mkdir -p "$out"
	"$PROG" --no-progress "$work/big.pcap" "$out/flows.csv" --max-workers 1 >/dev/null 2>"$work/err" &
	pid=$!
	if started "$pid" "$out"; then
		kill -s "$sig" "$pid"; wait "$pid"; rc=$?
		why=""
		[ "$rc" -eq 130 ] || why="$why; exit $rc"
		grep -q "interrupted by SIG$sig; no output was written" "$work/err" || why="$why; no message"
		[ -z "$(ls -A "$out")" ] || why="$why; left: $(ls -A "$out" | tr '\n' ' ')"
		if [ -z "$why" ]; then ok; else bad "SIG$sig mid-conversion:${why#;}"; show_err; fi
	else
		wait "$pid"; bad "SIG$sig: the conversion ended before the signal"
	fi
done
# After the end of input, while the last bytes are written (an output FIFO whose reader
# does not read): the signal still stops the run.
mkfifo "$work/slow"
sleep 30 < "$work/slow" &
holder=$!
"$PROG" --no-progress "$work/a.pcap" "$work/slow" --no-report >/dev/null 2>"$work/err" &
pid=$!
sleep 1.5
kill -s TERM "$pid"; wait "$pid"; rc=$?
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
if [ "$rc" -eq 130 ] && grep -q "interrupted by SIGTERM" "$work/err"; then ok; else
	bad "SIGTERM while the output is being flushed: exit $rc"; show_err
fi
# The summary's elapsed time includes the writing at the end (here a reader that waits 2 s).
mkfifo "$work/late"
( sleep 2; cat "$work/late" > /dev/null ) &
"$PROG" --no-progress "$work/a.pcap" "$work/late" --no-report >/dev/null 2>"$work/err"
wait
secs=$(sed -n 's/.* in \([0-9.]*\) s .*/\1/p' "$work/err")
if [ -n "$secs" ] && "$PY" -c "import sys; sys.exit(0 if float('$secs') >= 1.5 else 1)"; then ok; else
	bad "elapsed time in the summary ($secs s) misses the time spent writing"; show_err
fi

# ---- 10. -d interrupted: what was and was not written ----
rm -rf "$work/d10"; mkdir "$work/d10"
cp "$work/a.pcap" "$work/d10/1.pcap"; cp "$work/b.pcap" "$work/d10/2.pcap"; ln -s "$work/big.pcap" "$work/d10/3.pcap"
"$PROG" --no-progress -d "$work/d10" -c "$work/o10" --max-workers 1 >/dev/null 2>"$work/err" &
pid=$!
reading() { # pid file: the process has file open
	for _ in $(seq 400); do
		ls -l "/proc/$1/fd" 2>/dev/null | grep -qF "$2" && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}
if reading "$pid" "$work/big.pcap" && kill -s INT "$pid"; then
	wait "$pid"; rc=$?
	if [ "$rc" -eq 130 ] && grep -q "the outputs of 2 of 3 captures were written before it, nothing else; discarded: .*3.pcap" "$work/err" &&
		[ -f "$work/o10/1.csv" ] && [ -f "$work/o10/2.csv" ] && [ ! -e "$work/o10/3.csv" ] &&
		! grep -q "flows -> .*3.csv" "$work/err"; then ok; else
		bad "-d interrupted: exit $rc, outputs: $(ls -A "$work/o10" | tr '\n' ' ')"; show_err
	fi
else
	wait "$pid"; bad "-d interrupted: could not time the signal"
fi

# ---- 16. long names ----
fresh
long=$(printf 'n%.0s' $(seq 250)).csv
(cd "$work/d" && "$PROG" -q a.pcap "$long" 2>"$work/err"); rc=$?
if [ "$rc" -eq 0 ] && [ -f "$work/d/$long" ] && [ "$(ls "$work/d" | grep -c '_report\.')" -eq 2 ]; then ok; else
	bad "250-byte output name: exit $rc"; show_err
fi
refused "256-byte output name" "$work/d" 2 "$PROG" a.pcap "$(printf 'n%.0s' $(seq 252)).csv"

# ---- 17. a dangling symbolic link in -d is a failed input ----
rm -rf "$work/d17"; mkdir "$work/d17"
cp "$work/a.pcap" "$work/d17/good.pcap"; ln -s nowhere.pcap "$work/d17/dangling.pcap"
"$PROG" -d "$work/d17" >/dev/null 2>"$work/err"; rc=$?
if [ "$rc" -eq 3 ] && grep -q "dangling.pcap: cannot read: dangling symbolic link" "$work/err" &&
	grep -q "2 captures: 1 converted, 0 damaged, 1 failed" "$work/err" && [ -f "$work/d17/good.csv" ]; then ok; else
	bad "dangling symlink in -d: exit $rc"; show_err
fi

# ---- 19. file names that are not UTF-8, or hold a newline ----
rm -rf "$work/d19"; mkdir "$work/d19"
cp "$work/a.pcap" "$work/d19/$(printf 'caf\xe9.pcap')"
printf 'junk\n' > "$work/d19/$(printf 'bad\nname.pcap')"
"$PROG" -d "$work/d19" -c "$work/o19" --merge >/dev/null 2>"$work/err"; rc=$?
if "$PY" - "$work/o19/merged_flows.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", errors="strict", newline="")))
names = {r[-1] for r in rows[1:]}
sys.exit(0 if names == {"caf\u00e9.pcap"} else 1)
EOF
then ok; else bad "non-UTF-8 name in the source_file cell is not valid UTF-8"; fi
lines=$(grep -c '' "$work/err")
if [ "$rc" -eq 3 ] && [ "$lines" -eq 2 ] && grep -q 'bad\\nname.pcap' "$work/err"; then ok; else
	bad "a newline in a file name broke the messages: exit $rc, $lines lines"; show_err
fi

nfm_finish
