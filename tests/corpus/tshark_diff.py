#!/usr/bin/env python3
"""Differential test against tshark on the shared corpus.

For every plain capture (no tunnels, no fragments, not damaged) the packets and on-wire
bytes of each TCP and UDP 5-tuple must equal what tshark counts. Our flows are summed per
5-tuple first (one 5-tuple may yield several flows; the VLAN id is not part of tshark's
key). Prints "FILE: K/N flows match" per capture and ends with "N passed, N failed"
(one test per capture)."""
import csv
import ipaddress
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

# Features (MANIFEST column tshark_pkt_features) that make a capture not "plain":
# tunnelled or fragmented traffic is keyed differently on purpose (see docs/flows.md).
NOT_PLAIN = {"gre", "vxlan", "geneve", "ipip4", "ip6in4", "tun_in6", "teredo",
             "l2tp_gtp", "erspan", "v4frag", "v6frag"}


def norm(addr):
    return str(ipaddress.ip_address(addr))


def key(proto, a, ap, b, bp):
    e1, e2 = (norm(a), int(ap)), (norm(b), int(bp))
    return (proto,) + (e1 + e2 if e1 <= e2 else e2 + e1)


def tshark_counts(path):
    cmd = ["tshark", "-n", "-r", path,
           "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-o", "tcp.desegment_tcp_streams:FALSE",
           "-Y", "(tcp or udp) and not icmp and not icmpv6",
           "-T", "fields", "-E", "separator=/t", "-E", "aggregator=|",
           "-e", "frame.len", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
           "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
    counts = defaultdict(lambda: [0, 0])
    for line in out.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 9:
            continue
        first = [x.split("|")[0] for x in f]
        src, dst = (first[1], first[2]) if first[1] else (first[3], first[4])
        if first[5]:
            k = key("TCP", src, first[5], dst, first[6])
        elif first[7]:
            k = key("UDP", src, first[7], dst, first[8])
        else:
            continue
        counts[k][0] += 1
        counts[k][1] += int(first[0])
    return counts


def our_counts(prog, path, work):
    out = os.path.join(work, "flows.csv")
    rc = subprocess.run([prog, path, out, "--flow-timeout", "0", "--active-timeout", "0",
                         "--no-report", "--no-progress", "-q"],
                        capture_output=True, text=True).returncode
    counts = defaultdict(lambda: [0, 0])
    if rc not in (0, 3) or not os.path.exists(out):
        return rc, counts
    with open(out, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["protocol"] not in ("TCP", "UDP"):
                continue
            k = key(row["protocol"], row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"])
            counts[k][0] += int(row["total_packets"])
            counts[k][1] += int(row["total_bytes"])
    return rc, counts


def main():
    root = os.environ.get("NFM_SHARED") or os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared")
    pcaps = os.path.join(root, "pcaps")
    manifest = os.path.join(pcaps, "MANIFEST.tsv")
    prog = os.path.abspath(os.environ.get("NFM_PROG", "nexusflowmeter"))
    if not os.path.exists(manifest):
        print(f"skipped: no shared corpus at {pcaps}")
        print("0 passed, 0 failed")
        return 0
    if subprocess.run(["which", "tshark"], capture_output=True).returncode != 0:
        print("skipped: tshark is not installed")
        print("0 passed, 0 failed")
        return 0
    passed = failed = 0
    with open(manifest, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    with tempfile.TemporaryDirectory() as work:
        for row in rows:
            name = row["file"]
            feats = {kv.split("=")[0] for kv in row["tshark_pkt_features"].split()}
            if name.startswith("corrupt/") or feats & NOT_PLAIN:
                continue
            path = os.path.join(pcaps, name)
            theirs = tshark_counts(path)
            rc, ours = our_counts(prog, path, work)
            keys = set(theirs) | set(ours)
            bad = [k for k in sorted(keys) if theirs.get(k) != ours.get(k)]
            print(f"{name}: {len(keys) - len(bad)}/{len(keys)} flows match")
            if rc not in (0, 3):
                print(f"  FAIL {name}: exit status {rc}")
            for k in bad[:10]:
                print(f"  mismatch {k}: tshark {theirs.get(k)} ours {ours.get(k)}")
            if bad or rc not in (0, 3):
                failed += 1
            else:
                passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
