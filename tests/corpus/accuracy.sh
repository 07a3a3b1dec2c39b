#!/usr/bin/env bash
# Accuracy claims on real captures of the shared corpus: tunnelled TCP yields the inner
# flows with their ports and the tunnel columns; fragment captures yield no flow without
# ports and count their fragments in flows. Skips when the corpus is absent.
. "$(dirname "$0")/../lib/preamble.sh"
if [ ! -f "$CORPUS/MANIFEST.tsv" ]; then
	echo "accuracy: skipped, no shared capture corpus at ../shared/pcaps"
	echo "0 passed, 0 failed"
	exit 0
fi
python3 - "$PROG" "$CORPUS" <<'PY'
import csv, json, os, subprocess, sys, tempfile
prog, corpus = sys.argv[1:3]
passed = failed = 0
work = tempfile.mkdtemp()

def convert(name, *extra):
    out = os.path.join(work, "f.csv")
    subprocess.run([prog, os.path.join(corpus, name), out, "--extended", "--no-progress",
                    "--report-dir", work, *extra], check=True, capture_output=True)
    rows = list(csv.DictReader(open(out)))
    rep = json.load(open(os.path.join(work, "f_report.json")))
    return rows, rep

def check(cond, msg):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL", msg)

# Tunnelled TCP: inner flows with real ports, outer endpoints and kind in the tunnel
# columns (and, with --no-tunnels, nothing inner).
for name, kind in [("encap_vxlan/vxlan.pcap", "vxlan"), ("encap_vxlan/geneve.pcap", "geneve"),
                   ("encap_ipip/6in4tunnel.pcap", "ipip"), ("encap_ipip/4in6tunnel.pcap", "ipip")]:
    rows, _ = convert(name)
    tcp = [r for r in rows if r["protocol"] == "TCP" and r["tunnel_type"] == kind]
    check(tcp and all(int(r["src_port"]) > 0 and int(r["dst_port"]) > 0 and r["tunnel_src"]
                      and r["tunnel_dst"] and r["tunnel_src"] != r["src_ip"] for r in tcp),
          f"{name}: inner TCP flows with ports and {kind} tunnel columns: {len(tcp)} found")
    rows, _ = convert(name, "--no-tunnels")
    check(not any(r["tunnel_type"] for r in rows), f"{name}: --no-tunnels still fills tunnel columns")
rows, _ = convert("encap_gre/GrePackets.cap")
gre = [r for r in rows if r["tunnel_type"] == "gre"]
check(gre and all(r["tunnel_src"] and r["tunnel_dst"] for r in gre), "GrePackets.cap: inner flow of the GRE tunnel")
rows, _ = convert("encap_vxlan/vxlan.pcap")
check(all(r["tunnel_id"] for r in rows if r["tunnel_type"] == "vxlan"), "vxlan.pcap: VNI in tunnel_id")

# Fragments: no flow with protocol 0 or TCP/UDP without ports; fragments in flows.
for name, unmatched in [("ipv4_frag/ip4_fragments.pcap", 0), ("ipv4_frag/frag_http_req.pcap", 0),
                        ("ipv4_frag/frag_with_padding.pcap", 0), ("ipv4_frag/dns_fragmented.pcap", 0),
                        ("ipv6/ip6_fragments.pcap", 0), ("ipv6/ipv6-frag.pcap", 0),
                        # frame 2969 is a last fragment whose first was never captured
                        ("large/ip-frag.pcap", 1)]:
    rows, rep = convert(name)
    bad = [r["flow_id"] for r in rows if r["protocol"] in ("0", "") or
           (r["protocol"] in ("TCP", "UDP", "SCTP") and (r["src_port"] == "" or r["dst_port"] == ""))]
    check(not bad, f"{name}: flows without protocol or ports: {bad[:3]}")
    p = rep["packets"]
    check(p["fragments"] > 0 and p["fragments_unmatched"] == unmatched and p["accounted"],
          f"{name}: fragments {p['fragments']}, unmatched {p['fragments_unmatched']} (want {unmatched})")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
