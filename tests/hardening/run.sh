#!/usr/bin/env bash
# End-to-end integrity tests: a full disk, signals mid-conversion, an unwritable standard
# output, hostile file names in the source_file column, and the flow-table memory cap.
# Every failure path must leave no output under its final name and no temporary file.
# Needs root (or CAP_SYS_ADMIN) for the tmpfs of the disk-full tests; without it they are
# skipped. Environment: NFM_BUILD (default build), NFM_PROG (default ./nexusflowmeter).
# Last line: "N passed, N failed"; exits nonzero on failure.
. "$(dirname "$0")/../lib/preamble.sh"
mnt=$work/full
nfm_at_exit 'if mountpoint -q "$mnt" 2>/dev/null; then umount "$mnt" 2>/dev/null || umount -l "$mnt"; fi'
# Temporary files of the tool or its libraries must not land anywhere else either.
mkdir -p "$work/tmp"
export TMPDIR=$work/tmp
note() { echo "  $*"; }
SAN_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:'
sanitized=0
if ldd "$PROG" 2>/dev/null | grep -q 'lib[at]san'; then sanitized=1; fi

# Everything in dir (hidden files included), one per line.
contents() { ls -A "$1" 2>/dev/null; }

GENCAP=$BUILD/nfm-gencap
if [ ! -x "$GENCAP" ] || [ ! -x "$BUILD/tools/mkhostile" ] || [ ! -x "$PROG" ]; then
	echo "missing $PROG, $GENCAP or $BUILD/tools/mkhostile (make all tools)"
	echo "0 passed, 1 failed"
	exit 1
fi
"$GENCAP" --packets 50000 --seed 1 "$work/cap.pcap" >/dev/null 2>&1 ||
	{ echo "cannot generate capture"; echo "0 passed, 1 failed"; exit 1; }

# ---- 1. disk full ----
# The CSV of cap.pcap is about 1 MB, the JSON 3 MB, the XLSX 0.7 MB: none fits in 256 KiB.
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=256k tmpfs "$mnt" 2>/dev/null; then
	echo "skipped: cannot mount tmpfs"
else
	for fmt in csv json xlsx; do
		out=$mnt/flows.$fmt
		"$PROG" --no-progress "$work/cap.pcap" "$out" -of "$fmt" >/dev/null 2>"$work/err"
		rc=$?
		why=""
		[ "$rc" -eq 1 ] || why="$why; exit $rc, expected 1"
		[ "$(grep -c . "$work/err")" -eq 1 ] || why="$why; $(grep -c . "$work/err") lines on stderr, expected 1"
		grep -qF "$out" "$work/err" || why="$why; the error does not name $out"
		if grep -Eq "$SAN_RE" "$work/err"; then why="$why; sanitizer report"; fi
		left=$(contents "$mnt")
		[ -z "$left" ] || why="$why; left in the directory: $(echo $left)"
		[ -z "$(contents "$TMPDIR")" ] || why="$why; left in TMPDIR: $(contents "$TMPDIR" | head -n 3)"
		if [ -z "$why" ]; then ok; else bad "disk full, $fmt:${why#;}"; show_err; fi
		rm -rf "${mnt:?}"/* "${mnt:?}"/.[!.]* "${TMPDIR:?}"/* 2>/dev/null
	done
	# The output fits but the report does not: still all or nothing.
	head -c $((200 * 1024)) /dev/zero > "$mnt/filler"
	"$GENCAP" --packets 300 --seed 3 "$work/small.pcap" >/dev/null 2>&1
	"$PROG" --no-progress "$work/small.pcap" "$mnt/small.csv" >/dev/null 2>"$work/err"
	rc=$?
	rm -f "$mnt/filler"
	if [ "$rc" -eq 0 ]; then
		# It all fitted after all (tiny output): then everything must be there.
		[ -f "$mnt/small.csv" ] && [ -f "$mnt/small_report.json" ] && ok ||
			bad "disk nearly full: exit 0 but an output is missing"
	elif [ "$rc" -eq 1 ] && [ -z "$(contents "$mnt")" ]; then ok; else
		bad "disk nearly full: exit $rc, left: $(contents "$mnt" | tr '\n' ' ')"; show_err
	fi
	rm -rf "${mnt:?}"/* "${mnt:?}"/.[!.]* 2>/dev/null
	umount "$mnt" 2>/dev/null || umount -l "$mnt"
fi

# ---- 2. SIGINT / SIGTERM mid-conversion ----
# docs/nexusflowmeter.1: 130 = interrupted by SIGINT or SIGTERM; no output is left.
if "$GENCAP" --packets 3000000 --seed 2 "$work/big.pcap" >/dev/null 2>&1; then
	for case in INT:csv TERM:csv INT:xlsx TERM:json; do
		sig=${case%%:*}; fmt=${case#*:}
		out=$work/sig; rm -rf "$out"; mkdir -p "$out"
		"$PROG" --no-progress "$work/big.pcap" "$out/flows.$fmt" >/dev/null 2>"$work/err" &
		pid=$!
		# Wait until the output is open (the conversion has started), then signal. It
		# has no name yet: look for a descriptor of the process into the directory.
		for _ in $(seq 400); do
			ls -l "/proc/$pid/fd" 2>/dev/null | grep -qF "$out/" && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		sleep 0.3
		if kill -0 "$pid" 2>/dev/null; then
			kill -s "$sig" "$pid"
			wait "$pid"; rc=$?
			why=""
			[ "$rc" -eq 130 ] || why="$why; exit $rc, expected 130"
			grep -qi "interrupted" "$work/err" || why="$why; no 'interrupted' message"
			[ -z "$(contents "$out")" ] || why="$why; left: $(contents "$out" | tr '\n' ' ')"
			if [ -z "$why" ]; then ok; else bad "SIG$sig during $fmt conversion:${why#;}"; show_err; fi
		else
			wait "$pid"
			bad "SIG$sig during $fmt conversion: the conversion finished before the signal"
		fi
	done
	rm -f "$work/big.pcap"
else
	bad "cannot generate the 3,000,000-packet capture"
fi

# Polls until the process has exited (at most 10 s). `wait` alone would also wait for the
# rest of its pipeline (the stalled writer), which is not what is measured.
gone_after() {
	for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
}

# A signal while the input is a pipe that has stalled (nothing to read): the tool must
# still stop promptly with 130, not wait for the writer.
for sig in INT TERM; do
	out=$work/sig; rm -rf "$out"; mkdir -p "$out"
	{ head -c 100000 "$work/cap.pcap"; sleep 8; } | "$PROG" --no-progress - "$out/flows.csv" \
		>/dev/null 2>"$work/err" &
	pid=$!
	sleep 1.5
	start=$(date +%s%N)
	kill -s "$sig" "$pid" 2>/dev/null
	gone_after "$pid"
	ms=$((($(date +%s%N) - start) / 1000000))
	wait "$pid"; rc=$?
	why=""
	[ "$rc" -eq 130 ] || why="$why; exit $rc, expected 130"
	[ "$ms" -lt 3000 ] || why="$why; took $ms ms to stop (waited for the pipe writer)"
	[ -z "$(contents "$out")" ] || why="$why; left: $(contents "$out" | tr '\n' ' ')"
	if [ -z "$why" ]; then ok; else bad "SIG$sig while reading a stalled pipe:${why#;}"; show_err; fi
done
# Same before the first byte arrives (the tool is still opening its input).
out=$work/sig; rm -rf "$out"; mkdir -p "$out"
sleep 8 | "$PROG" --no-progress - "$out/flows.csv" >/dev/null 2>"$work/err" &
pid=$!
sleep 1.5
start=$(date +%s%N)
kill -s INT "$pid" 2>/dev/null
gone_after "$pid"
ms=$((($(date +%s%N) - start) / 1000000))
wait "$pid"; rc=$?
why=""
[ "$rc" -eq 130 ] || why="$why; exit $rc, expected 130"
[ "$ms" -lt 3000 ] || why="$why; took $ms ms to stop"
[ -z "$(contents "$out")" ] || why="$why; left: $(contents "$out" | tr '\n' ' ')"
if [ -z "$why" ]; then ok; else bad "SIGINT before any input arrived on a pipe:${why#;}"; show_err; fi
wait 2>/dev/null

# ---- 3. standard output is /dev/full ----
if [ -w /dev/full ]; then
	mkdir -p "$work/devfull"
	for fmt in csv json jsonl; do
		(cd "$work/devfull" && "$PROG" --no-progress "$work/cap.pcap" - -of "$fmt" > /dev/full 2>"$work/err")
		rc=$?
		why=""
		[ "$rc" -eq 1 ] || why="$why; exit $rc, expected 1"
		grep -q . "$work/err" || why="$why; no message"
		if grep -Eq "$SAN_RE" "$work/err"; then why="$why; sanitizer report"; fi
		[ -z "$(contents "$work/devfull")" ] || why="$why; left: $(contents "$work/devfull" | tr '\n' ' ')"
		if [ -z "$why" ]; then ok; else bad "stdout /dev/full, $fmt:${why#;}"; show_err; fi
		rm -rf "${work:?}/devfull/"* "$work/devfull/".[!.]* 2>/dev/null
	done
else
	echo "skipped: no /dev/full"
fi

# ---- 4. hostile file names in the source_file column (-d --merge) ----
hs=$work/hostile_names
mkdir -p "$hs"
"$GENCAP" --packets 200 --seed 5 "$work/tiny.pcap" >/dev/null 2>&1
# (A file name cannot hold "/": the classic payload "=cmd|' /C calc'!A0" is used with "\C".)
names=("=cmd|' \\C calc'!A0.pcap" 'a,b"c'"'"'d.pcap' $'new\nline.pcap' '+1+2.pcap' '@SUM(A1).pcap' '-2-3.pcap' 'plain.pcap')
for n in "${names[@]}"; do cp "$work/tiny.pcap" "$hs/$n"; done
printf '%s\0' "${names[@]}" > "$work/names"
for fmt in csv json xlsx; do
	out=$work/merged_$fmt
	"$PROG" --no-progress -d "$hs" -c "$out" --merge -of "$fmt" >/dev/null 2>"$work/err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ ! -f "$out/merged_flows.$fmt" ]; then
		bad "hostile names, $fmt: exit $rc, output missing"; show_err; continue
	fi
	if msg=$(python3 - "$fmt" "$out/merged_flows.$fmt" "$work/names" 2>&1 <<'EOF'
import csv, json, re, sys, zipfile
import xml.etree.ElementTree as ET
fmt, path, names_file = sys.argv[1], sys.argv[2], sys.argv[3]
names = [n for n in open(names_file, "rb").read().decode().split("\0") if n]
risky = lambda s: s[:1] in ("=", "+", "-", "@", "\t", "\r")
errs = []
if fmt == "csv":
    with open(path, newline="") as fp:
        rows = list(csv.reader(fp))
    head = rows[0]
    if head[-1] != "source_file":
        errs.append("last column is %r" % head[-1])
    bad_rows = [i for i, r in enumerate(rows) if len(r) != len(head)]
    if bad_rows:
        errs.append("%d rows without %d cells (first: line %d)" % (len(bad_rows), len(head), bad_rows[0] + 1))
    cells = [r[-1] for r in rows[1:] if len(r) == len(head)]
elif fmt == "json":
    data = json.load(open(path))
    cells = [o["source_file"] for o in data]
else:
    z = zipfile.ZipFile(path)
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns):
            shared.append("".join(t.text or "" for t in si.iter("{%s}t" % ns["m"])))
    cells, col = [], None
    for sheet in sorted(n for n in z.namelist() if re.match(r"xl/worksheets/sheet\d+\.xml$", n)):
        xml = z.read(sheet)
        if b"<f>" in xml or b"<f " in xml:
            errs.append("%s has a formula element" % sheet)
        root = ET.fromstring(xml)
        def colnum(ref):
            n = 0
            for ch in re.match(r"[A-Z]+", ref).group(0):
                n = n * 26 + ord(ch) - 64
            return n - 1
        for r_i, row in enumerate(root.iter("{%s}row" % ns["m"])):
            vals = {}
            for c in row.findall("m:c", ns):
                k = colnum(c.get("r"))
                if c.find("m:f", ns) is not None:
                    errs.append("formula in cell %s" % c.get("r"))
                t = c.get("t")
                if t == "s":
                    vals[k] = ("str", shared[int(c.find("m:v", ns).text)])
                elif t == "inlineStr":
                    vals[k] = ("str", "".join(x.text or "" for x in c.iter("{%s}t" % ns["m"])))
                elif t == "str":
                    vals[k] = ("formula-result", (c.find("m:v", ns).text or ""))
                else:
                    v = c.find("m:v", ns)
                    vals[k] = ("num", v.text if v is not None else "")
            if col is None:
                col = [k for k, (_, v) in vals.items() if v == "source_file"][0]
                continue
            kind, v = vals.get(col, ("missing", ""))
            if kind != "str":
                errs.append("source_file cell of row %d is %s, not a string" % (r_i + 1, kind))
            cells.append(v)
want = {("'" + n if risky(n) else n) for n in names}
got = set(cells)
if fmt == "json":
    # JSON is data, not a spreadsheet: the name may be written as it is or with the prefix.
    got = {c[1:] if c[:1] == "'" and risky(c[1:]) else c for c in got}
    want = set(names)
for n in sorted(want - got):
    errs.append("no rows with source_file %r" % n)
for c in sorted(got - want):
    errs.append("unexpected source_file %r" % c)
for c in (got if fmt != "json" else ()):
    if risky(c):
        errs.append("source_file %r would be read as a formula" % c)
for e in errs[:10]:
    print(e)
sys.exit(1 if errs else 0)
EOF
	); then ok; else bad "hostile names, $fmt: $(printf '%s' "$msg" | tr '\n' ';')"; fi
done

# ---- 4b. -d: many captures written to XLSX at once ----
# Eight threads convert 30 captures and reject 20 files that are not captures. Every
# message of every thread reaches standard error (nothing may silence the process's
# standard error while a workbook is written): one error per rejected file, one line per
# converted capture, the summary, and nothing else; every workbook opens with all its rows.
PYX=""
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import openpyxl' >/dev/null 2>&1; then PYX=$py; break; fi
done
bd=$work/batch
mkdir -p "$bd/in"
for i in $(seq 1 30); do
	"$GENCAP" --packets 400 --seed $((100 + i)) "$bd/in/good_$i.pcap" >/dev/null 2>&1
done
for i in $(seq 1 20); do echo "not a capture ($i)" > "$bd/in/junk_$i.pcap"; done
"$PROG" --no-progress -d "$bd/in" -c "$bd/out" -of xlsx --max-workers 8 --no-report \
	>/dev/null 2>"$work/err"
rc=$?
why=""
[ "$rc" -eq 3 ] || why="$why; exit $rc, expected 3"
if grep -Eq "$SAN_RE" "$work/err"; then why="$why; sanitizer report"; fi
for i in $(seq 1 20); do
	n=$(grep -c "/junk_$i\.pcap: not a pcap or pcapng capture\$" "$work/err")
	[ "$n" -eq 1 ] || why="$why; junk_$i.pcap named $n times"
done
: > "$work/flows"
for i in $(seq 1 30); do
	line=$(grep -E " flows -> $bd/out/good_$i\.xlsx in " "$work/err")
	if [ "$(printf '%s' "$line" | grep -c .)" -ne 1 ]; then
		why="$why; no single line for good_$i.xlsx"
	else
		echo "good_$i.xlsx $(printf '%s' "$line" | sed -E 's/.* ([0-9]+) flows -> .*/\1/')" >> "$work/flows"
	fi
done
grep -qx "nexusflowmeter: 50 captures: 30 converted, 0 damaged, 20 failed" "$work/err" ||
	why="$why; no summary line"
[ "$(grep -c . "$work/err")" -eq 51 ] || why="$why; $(grep -c . "$work/err") lines on stderr, expected 51"
[ "$(ls "$bd/out" | grep -c '\.xlsx$')" -eq 30 ] || why="$why; $(ls "$bd/out" | grep -c '\.xlsx$') workbooks, expected 30"
[ "$(ls -A "$bd/out" | grep -vc '\.xlsx$')" -eq 0 ] || why="$why; other files in the output directory"
if [ -z "$why" ]; then ok; else bad "-d xlsx, 8 workers:${why#;}"; show_err; fi
if [ -z "$PYX" ]; then
	echo "skipped: no python3 with openpyxl (python3-openpyxl): workbooks not opened"
elif msg=$("$PYX" - "$bd/out" "$work/flows" 2>&1 <<'EOF'
import sys, openpyxl
out, flows = sys.argv[1], sys.argv[2]
errs = []
if len(open(flows).readlines()) != 30:
    errs.append("%d workbooks to open, expected 30" % len(open(flows).readlines()))
for line in open(flows):
    name, n = line.split()
    try:
        wb = openpyxl.load_workbook("%s/%s" % (out, name), read_only=True)
        rows = list(wb["flows"].iter_rows(values_only=True))
        if wb.sheetnames != ["flows"] or len(rows) != int(n) + 1 or rows[0][0] != "flow_id":
            errs.append("%s: sheets %r, %d rows for %s flows" % (name, wb.sheetnames, len(rows), n))
        wb.close()
    except Exception as e:
        errs.append("%s: %s" % (name, e))
print("; ".join(errs[:5]))
sys.exit(1 if errs else 0)
EOF
); then ok; else bad "-d xlsx, 8 workers: $msg"; fi
rm -rf "$bd"

# ---- 5. flow-table cap: memory stays bounded ----
# 1,000,000 one-packet TCP flows (distinct sources, 1 us apart, so none times out).
# Bound for --max-active-flows 10000: 64 MiB for the process itself (code and libraries,
# 4 MiB input window, the 1 MiB output buffer, the fragment table, the report's fixed
# tables, and up to 16 MiB of an mmap-read input resident while it slides: MAP_DROP 8 MiB
# behind + MAP_STEP 8 MiB ahead, src/capture/stream.c) plus 1 KiB per allowed flow (a flow
# record with its table slot, list links and hash entry is a few hundred bytes; 1 KiB
# leaves room for the table's growth steps). Not asserted under the sanitizers, whose
# shadow memory and quarantine dwarf it.
"$BUILD/tools/mkhostile" --syns 1000000 "$work/syns.pcap" 2>"$work/err" ||
	{ bad "mkhostile --syns failed"; show_err; }
if [ -f "$work/syns.pcap" ] && [ -x /usr/bin/time ]; then
	bound_kb=$((64 * 1024 + 10000))
	out=$work/cap; mkdir -p "$out"
	/usr/bin/time -o "$work/rss" -f %M "$PROG" --no-progress -q "$work/syns.pcap" "$out/flows.csv" \
		--max-active-flows 10000 2>"$work/err"
	rc=$?
	rss_cap=$(tail -n 1 "$work/rss")
	/usr/bin/time -o "$work/rss" -f %M "$PROG" --no-progress -q "$work/syns.pcap" "$out/nocap.csv" \
		--no-report 2>/dev/null
	rss_nocap=$(tail -n 1 "$work/rss")
	note "peak RSS, 1,000,000 flows: --max-active-flows 10000: $rss_cap KiB (bound $bound_kb KiB); no cap: $rss_nocap KiB"
	[ "$rc" -eq 0 ] && ok || { bad "capped conversion: exit $rc"; show_err; }
	if [ "$sanitized" = 1 ]; then
		note "sanitizer build: RSS bound not asserted"
	elif [ "$rss_cap" -le "$bound_kb" ]; then ok; else
		bad "peak RSS $rss_cap KiB with --max-active-flows 10000 exceeds $bound_kb KiB"
	fi
	if msg=$(python3 - "$out/flows_report.json" "$out/flows.csv" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["flows"]
errs = []
if f["by_end_reason"].get("evicted") != 990000:
    errs.append("evicted flows %r, expected 990000" % f["by_end_reason"].get("evicted"))
if f["by_end_reason"].get("eof") != 10000:
    errs.append("eof flows %r, expected 10000" % f["by_end_reason"].get("eof"))
if f["written"] != 1000000 or f["created"] != 1000000:
    errs.append("flows created %s / written %s, expected 1000000" % (f["created"], f["written"]))
if f["peak_active"] > 10000:
    errs.append("peak active flows %d above the cap" % f["peak_active"])
if not d["packets"]["accounted"]:
    errs.append("packets not accounted")
rows = sum(1 for _ in open(sys.argv[2])) - 1
if rows != 1000000:
    errs.append("%d rows, expected 1000000" % rows)
print("; ".join(errs))
sys.exit(1 if errs else 0)
EOF
	); then ok; else bad "capped conversion report: $msg"; fi
	rm -rf "$out" "$work/syns.pcap"
else
	echo "skipped: no /usr/bin/time (RSS test)"
fi

nfm_finish
