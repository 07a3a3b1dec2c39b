#!/usr/bin/env bash
# Runs the command line over every capture of the shared corpus (../shared/pcaps): no
# crash, no sanitizer report, a documented exit status, and every packet accounted for
# (packets read = flow packets + counted non-flow packets; packets read = the manifest's
# count for captures that read cleanly), and tunnel payloads we do not follow counted by
# kind where the corpus has them (checked against tshark's dissection of those files).
# Skips with a message when the corpus is absent.
. "$(dirname "$0")/../lib/preamble.sh"
if [ ! -f "$CORPUS/MANIFEST.tsv" ]; then
	echo "corpus: skipped, no shared capture corpus at ../shared/pcaps"
	echo "0 passed, 0 failed"
	exit 0
fi
python3 - "$PROG" "$CORPUS" "$work" <<'PY'
import csv, json, os, subprocess, sys
prog, corpus, work = sys.argv[1:4]
passed = failed = 0
def bad(msg):
    global failed
    failed += 1
    print("FAIL", msg)
rows = list(csv.DictReader(open(os.path.join(corpus, "MANIFEST.tsv")), delimiter="\t"))
# Tunnel payloads metered as the outer packet, by kind (every other capture: none). tshark
# shows the same: Cisco MetaData 0x8909, GRE keepalives (protocol 0) and CDP (0x2000) in
# various_gre; PPTP's LCP, PAP and IPCP; ARP and STP/LLC frames mirrored by ERSPAN; ARP
# in VXLAN.
TUNNEL_KINDS = {
    "encap_gre/various_gre.pcap": {"gre 0x0000": 8, "gre 0x2000": 2, "gre 0x8909": 20},
    "encap_gre/GrePackets.cap": {"gre ppp 0x8021": 6, "gre ppp 0xc021": 5, "gre ppp 0xc023": 2},
    "encap_gre/pptp.pcap": {"gre ppp 0xc021": 1},
    "encap_gre/erspan-type-ii-3.pcap": {"erspan 0x0806": 10, "erspan llc": 98},
    "encap_vxlan/vxlan_tcpdump.pcap": {"vxlan 0x0806": 2},
}
for row in rows:
    name = row["file"]
    path = os.path.join(corpus, name)
    if not os.path.exists(path):
        bad(f"{name}: listed in the manifest but missing")
        continue
    out = os.path.join(work, "flows.csv")
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    p = subprocess.run([prog, path, out, "--no-progress", "--report-dir", work],
                       capture_output=True, text=True, errors="replace")
    err = p.stderr
    if p.returncode not in (0, 1, 3):
        bad(f"{name}: exit status {p.returncode}: {err.strip()[:300]}")
        continue
    if "runtime error" in err or "AddressSanitizer" in err or "LeakSanitizer" in err:
        bad(f"{name}: sanitizer report: {err.strip()[:500]}")
        continue
    lines = [l for l in err.splitlines() if l.strip()]
    if p.returncode == 1:
        # not a capture / unsupported format: one line naming the file, no output
        if len(lines) != 1 or os.path.basename(name) not in lines[0] or os.path.exists(out):
            bad(f"{name}: exit 1 must give one line naming the file and no output: {err[:300]}")
        elif not name.startswith("corrupt/"):
            bad(f"{name}: a capture outside corrupt/ was refused: {lines[0]}")
        else:
            passed += 1
        continue
    rep_path = os.path.join(work, "flows_report.json")
    try:
        rep = json.load(open(rep_path))
    except Exception as e:
        bad(f"{name}: report missing or invalid JSON: {e}")
        continue
    acc = rep["packets"]
    if not acc["accounted"]:
        bad(f"{name}: packets not accounted for: read {acc['read']}, difference {acc['difference']}")
        continue
    want = row.get("capinfos_packets", "").strip()
    if p.returncode == 0 and want.isdigit() and int(want) != acc["read"]:
        bad(f"{name}: read {acc['read']} packets, manifest says {want}")
        continue
    if p.returncode == 3 and not any("warning" in l and os.path.basename(name) in l for l in lines):
        bad(f"{name}: exit 3 without a warning naming the file: {err[:300]}")
        continue
    with open(out, newline="") as fh:
        rd = csv.reader(fh)
        header = next(rd, None)
        total = sum(int(r[9]) for r in rd)
    if total != acc["in_flows"]:
        bad(f"{name}: flows hold {total} packets, report says {acc['in_flows']}")
        continue
    kinds = acc.get("tunnel_not_followed_by_kind")
    if kinds != TUNNEL_KINDS.get(name, {}) or acc.get("tunnel_not_followed") != sum(kinds.values()):
        bad(f"{name}: tunnel payloads not followed {acc.get('tunnel_not_followed')} {kinds}, "
            f"expected {TUNNEL_KINDS.get(name, {})}")
        continue
    passed += 1
print(f"corpus: {len(rows)} captures")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
