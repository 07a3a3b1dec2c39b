#!/usr/bin/env bash
# Time slices and the NetFlow formats on captures the test writes: slices partition the
# packets (sums over slices equal the unsliced totals, every record inside its slot), empty
# slots inside the capture get empty slices, names follow nfcapd (seconds under a minute,
# -S subdirectories, --localtime), the records do not depend on the worker count, sorting
# keeps the records, and the option checks refuse what cannot work.
. "$(dirname "$0")/../lib/preamble.sh"

# Two bursts of traffic 1000 s apart: ~11 s, then ~1 s of packets.
"$BUILD/nfm-gencap" --packets 200000 --seed 3 "$work/a.pcap" >/dev/null 2>&1
"$BUILD/nfm-gencap" --packets 20000 --seed 4 --start 1700001000 "$work/b.pcap" >/dev/null 2>&1
{ cat "$work/a.pcap"; tail -c +25 "$work/b.pcap"; } > "$work/cap.pcap"
cap=$work/cap.pcap

run() { "$PROG" "$@" -q --no-report 2>"$work/err"; }

# 1. nfdump-dict with 2-second slices, one and two workers.
if run "$cap" "$work/d1.json" -of nfdump-dict --slice 2 --max-workers 1 &&
   run "$cap" "$work/d2.json" -of nfdump-dict --slice 2 --max-workers 2 &&
   run "$cap" "$work/all.json" -of nfdump --max-workers 2; then ok; else bad "runs"; show_err; fi
if cmp -s "$work/d1.json" "$work/d2.json"; then ok; else bad "dict differs between 1 and 2 workers"; fi

python3 - "$work" <<'PY' && ok || bad "slice checks (above)"
import calendar, collections, json, re, sys
w = sys.argv[1]
d = json.load(open(w + '/d1.json'))
whole = json.load(open(w + '/all.json'))
errors = []
def start(name):
    m = re.fullmatch(r'nfcapd\.(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)', name)
    if not m:
        errors.append('bad slice name ' + name)
        return 0
    return calendar.timegm(tuple(int(x) for x in m.groups()))
starts = [start(n) for n in d]
if any(b - a != 2 for a, b in zip(starts, starts[1:])):
    errors.append('slices not contiguous')
if starts[0] != 1700000000 or starts[-1] < 1700001000:
    errors.append(f'first/last slice {starts[0]} {starts[-1]}')
empty = sum(1 for v in d.values() if not v)
if empty < 490:
    errors.append(f'only {empty} empty slices across the 1000 s gap')
def ms(t):
    return calendar.timegm(tuple(int(x) for x in re.split(r'[-T:.]', t)[:6])) * 1000 + int(t[-3:])
for name, recs in d.items():
    s0 = start(name) * 1000
    for r in recs:
        if not (s0 <= ms(r['first']) <= ms(r['last']) < s0 + 2000):
            errors.append(f'record outside its slice {name}: {r["first"]} {r["last"]}')
            break
def sums(rs):
    m = collections.defaultdict(lambda: [0, 0])
    for r in rs:
        k = (r.get('src4_addr', r.get('src6_addr')), r.get('dst4_addr', r.get('dst6_addr')),
             r['proto'], r.get('src_port'), r.get('dst_port'), r.get('icmp_type'), r.get('icmp_code'))
        m[k][0] += r['in_packets']; m[k][1] += r['in_bytes']
    return dict(m)
sliced = sums([r for v in d.values() for r in v])
if sliced != sums(whole):
    errors.append('sums over slices differ from the unsliced output')
total = sum(v[0] for v in sliced.values())
if total != 220000:
    errors.append(f'{total} packets in NetFlow records, expected 220000')
for e in errors[:10]:
    print('   ', e)
sys.exit(1 if errors else 0)
PY

# The report counts what the NetFlow output wrote.
if "$PROG" "$cap" "$work/r.json" -of nfdump-dict --slice 2 -q &&
   python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
o = r["outputs"][0]
sys.exit(0 if o["format"] == "nfdump-dict" and o["records"] == sum(map(len, d.values()))
         and o["slices"] == len(d) else 1)' "$work/r.json" "$work/r_report.json"
then ok; else bad "report outputs section"; fi

# 2. One nfdump file per slice in a directory, the same arrays as the dict.
if run "$cap" "$work/sl" -of nfdump --slice 2 --max-workers 2; then ok; else bad "slice files"; show_err; fi
python3 - "$work" <<'PY' && ok || bad "slice files differ from the dict"
import json, os, sys
w = sys.argv[1]
d = json.load(open(w + '/d1.json'))
files = sorted(os.listdir(w + '/sl'))
want = sorted(n + '.json' for n in d)
if files != want:
    print('    files:', files[:3], 'want:', want[:3]); sys.exit(1)
for n in d:
    if json.load(open(f'{w}/sl/{n}.json')) != d[n]:
        print('    differs:', n); sys.exit(1)
PY
if [ "$(head -c 2 "$work/sl/nfcapd.19700101000000.json" 2>/dev/null)" = "" ] &&
   [ "$(cat "$work/sl/nfcapd.20231114222002.json")" = "$(printf '[\n]')" ]; then ok
else bad "an empty slice is not an empty array"; fi

# 3. Minutes in names for slices of a minute or more; -S layouts; --localtime.
if run "$cap" "$work/m" -of nfdump --slice 60 --slice-subdirs 2 &&
   [ -f "$work/m/2023/11/14/22/nfcapd.202311142213.json" ] &&
   [ -f "$work/m/2023/11/14/22/nfcapd.202311142230.json" ]; then ok
else bad "minute names / subdirectories"; ls -R "$work/m" | head; fi
if TZ=Asia/Kolkata "$PROG" "$cap" "$work/lt.json" -of nfdump-dict --localtime -q --no-report &&
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); k=list(d)[0]; r=next(r for v in d.values() for r in v)
sys.exit(0 if k=="nfcapd.202311150340" and r["first"].startswith("2023-11-15T03:43") else 1)' "$work/lt.json"
then ok; else bad "--localtime"; fi

# 4. --sort-by bytes: the same records, largest first.
if run "$cap" "$work/s.json" -of nfdump-dict --slice 2 --sort-by bytes &&
   python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
ok = list(a) == list(b)
for n in a:
    by = [r["in_bytes"] for r in b[n]]
    ok = ok and by == sorted(by, reverse=True)
    ok = ok and sorted(map(json.dumps, a[n])) == sorted(map(json.dumps, b[n]))
sys.exit(0 if ok else 1)' "$work/d1.json" "$work/s.json"; then ok; else bad "--sort-by bytes"; fi

# 5. Bytes for bytes what nfdump prints: framing of an empty and a one-record array.
"$PROG" "$work/b.pcap" "$work/one.json" -of nfdump --protocols arp -q --no-report
if [ "$(cat "$work/one.json")" = "$(printf '[\n]')" ]; then ok; else bad "empty array framing"; fi

# 6. Refused: slices where they cannot go, NetFlow options without their format.
expect_usage() {
	local what=$1; shift
	"$PROG" "$@" -q --no-report >/dev/null 2>"$work/err"
	local rc=$?
	if [ $rc -eq 2 ]; then ok; else bad "$what: exit $rc, expected 2"; show_err; fi
}
expect_usage "--slice with csv" "$cap" "$work/x.csv" --slice 60
expect_usage "--lz4 without nfcapd" "$cap" "$work/x.json" -of nfdump --lz4
expect_usage "--sort-by with csv" "$cap" "$work/x.csv" --sort-by bytes
expect_usage "bad --sort-by" "$cap" "$work/x.json" -of nfdump --sort-by size
expect_usage "slice files to stdout" "$cap" - -of nfdump --slice 60
expect_usage "--slice-subdirs without slice files" "$cap" "$work/x.json" -of nfdump --slice-subdirs 1
expect_usage "--merge with slices" -d "$work" --merge -of nfdump-dict
expect_usage "--export-rate without --export" "$cap" "$work/x.json" -of nfdump --export-rate 10
: > "$work/afile"
expect_usage "slice directory that is a file" "$cap" "$work/afile" -of nfdump --slice 60
[ -s "$work/afile" ] && bad "the file was touched" || ok

nfm_finish
