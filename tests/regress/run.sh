#!/usr/bin/env bash
# Hostile-input regression tests.
#  1. The hand-crafted hostile captures of tests/tools/mkhostile.c, generated into a temp
#     directory at run time (build/tools/mkhostile OUTDIR; see its MANIFEST): each must
#     convert with its documented exit status (0 clean, 1 not a capture / unreadable,
#     3 damaged part-way), print no sanitizer report, and
#       - exit 1: one error line naming the file; no output under the final name and no
#         temporary file left beside it;
#       - exit 0/3: a CSV with the header row, a report whose accounting adds up, and the
#         report values listed in the MANIFEST (anomaly counters, packets, rows);
#       - exit 3: a warning naming the file and, where the MANIFEST gives one, the byte
#         offset of the damage.
#  2. Every committed file tests/regress/*.pcap* (inputs found by fuzzing; small): must
#     not crash: exit status 0, 1 or 3, no sanitizer output, no temporary file left.
# Environment: NFM_BUILD (build dir, default build), NFM_PROG (default ./nexusflowmeter).
# Last line: "N passed, N failed".
. "$(dirname "$0")/../lib/preamble.sh"
SAN_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|MemorySanitizer|runtime error:|Segmentation fault|core dumped'
TIMEOUT=${NFM_REGRESS_TIMEOUT:-120}

# run_one INPUT OUTPUT: converts, sets rc; stderr in $work/err.
run_one() {
	timeout -k 5 "$TIMEOUT" "$PROG" --no-progress "$1" "$2" >"$work/stdout" 2>"$work/err"
	rc=$?
}

# Temporary files the exporters may leave (".NAME.XXXXXX", also for the reports).
leftovers() { # dir
	find "$1" -maxdepth 1 -name '.*' ! -name '.' ! -name '..' 2>/dev/null
}

# check_report JSON CSV CHECKS: accounting adds up and every KEY=VALUE holds.
check_report() {
	python3 - "$@" <<'EOF'
import csv, json, sys
rep, out, checks = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.load(open(rep))
inp = d["inputs"][0]
errs = []
acc = inp.get("accounting", {})
if acc.get("accounted") is not True:
    errs.append("report: accounted is %r" % acc.get("accounted"))
with open(out, newline="") as fp:
    rows = list(csv.reader(fp))
if not rows:
    errs.append("csv has no header row")
for kv in ([] if checks == "-" else checks.split()):
    k, v = kv.split("=", 1)
    if k == "rows":
        got = len(rows) - 1
    else:
        got = inp
        for part in k.split("."):
            got = got.get(part) if isinstance(got, dict) else None
    if str(got) != v:
        errs.append("%s is %s, expected %s" % (k, got, v))
for e in errs:
    print(e)
sys.exit(1 if errs else 0)
EOF
}

# ---- 1. generated hostile captures ----
if [ ! -x "$BUILD/tools/mkhostile" ]; then
	bad "$BUILD/tools/mkhostile is not built (make tools)"
else
	mkdir -p "$work/in"
	if ! "$BUILD/tools/mkhostile" "$work/in" 2>"$work/err"; then
		bad "mkhostile failed: $(head -n 3 "$work/err")"
	fi
	while IFS=$'\t' read -r name want off checks what; do
		[ -n "$name" ] || continue
		out=$work/out_$name
		mkdir -p "$out"
		run_one "$work/in/$name" "$out/flows.csv"
		why=""
		[ "$rc" -eq "$want" ] || why="$why; exit $rc, expected $want"
		if grep -Eq "$SAN_RE" "$work/err"; then why="$why; sanitizer report"; fi
		[ -z "$(leftovers "$out")" ] || why="$why; temporary file left: $(leftovers "$out" | head -n 1)"
		case $want in
		1)
			[ ! -e "$out/flows.csv" ] || why="$why; output left under its final name"
			[ "$(grep -c . "$work/err")" -eq 1 ] || why="$why; expected one error line"
			grep -qF "$work/in/$name" "$work/err" || why="$why; error does not name the file"
			;;
		0|3)
			if [ ! -f "$out/flows.csv" ] || [ ! -f "$out/flows_report.json" ]; then
				why="$why; output or report missing"
			elif ! msg=$(check_report "$out/flows_report.json" "$out/flows.csv" "$checks" 2>&1); then
				why="$why; $(printf '%s' "$msg" | tr '\n' ';')"
			fi
			if [ "$want" = 3 ]; then
				grep -q "warning: .*$work/in/$name" "$work/err" ||
					why="$why; no warning naming the file"
				if [ "$off" != "-" ] && ! grep -q "byte $off\\b" "$work/err"; then
					why="$why; warning does not name byte $off"
				fi
			elif grep -q "warning" "$work/err"; then
				why="$why; unexpected warning"
			fi
			;;
		esac
		if [ -z "$why" ]; then ok; else
			bad "$name ($what):${why#;}"
			sed 's/^/    /' "$work/err" | head -n 5
		fi
		rm -rf "$out"
	done < "$work/in/MANIFEST"

	# The same inputs through standard input: same exit status (no seeking needed).
	for name in pcap_caplen_ffffffff.pcap ng_trailing_len_mismatch.pcapng gz_cut.pcap.gz \
		    pcap_cut_in_first_record_header.pcap text.pcap; do
		want=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$work/in/MANIFEST")
		mkdir -p "$work/stdin"
		timeout -k 5 "$TIMEOUT" "$PROG" --no-progress - "$work/stdin/flows.csv" \
			<"$work/in/$name" >/dev/null 2>"$work/err"
		rc=$?
		if [ "$rc" -eq "$want" ] && ! grep -Eq "$SAN_RE" "$work/err" &&
		   [ -z "$(leftovers "$work/stdin")" ]; then ok; else
			bad "stdin $name: exit $rc, expected $want"
			sed 's/^/    /' "$work/err" | head -n 5
		fi
		rm -rf "$work/stdin"
	done
fi

# ---- 2. committed reproducers ----
shopt -s nullglob
for f in "$ROOT"/tests/regress/*.pcap*; do
	name=$(basename "$f")
	for fmt in csv json xlsx; do
		out=$work/rep
		mkdir -p "$out"
		run_one "$f" "$out/flows.$fmt"
		why=""
		case $rc in 0|1|3) ;; *) why="$why; exit $rc (crash or hang?)" ;; esac
		if grep -Eq "$SAN_RE" "$work/err"; then why="$why; sanitizer report"; fi
		[ -z "$(leftovers "$out")" ] || why="$why; temporary file left"
		if [ "$rc" = 1 ] && [ -e "$out/flows.$fmt" ]; then why="$why; output left after failure"; fi
		if [ -z "$why" ]; then ok; else
			bad "regress/$name -> $fmt:${why#;}"
			sed 's/^/    /' "$work/err" | head -n 8
		fi
		rm -rf "$out"
	done
done

nfm_finish
