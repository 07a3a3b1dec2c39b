#!/usr/bin/env python3
"""Per-flow differential test against tshark on the whole shared corpus.

For every capture of ../shared/pcaps (or $NFM_SHARED/pcaps) except corrupt/ and files
tshark cannot read, tshark is run once (no reassembly, no defragmentation) to list the
layers and header fields of every packet. The script rebuilds flows from that with OUR
key (docs/flows.md): IP version, protocol, both addresses, ports (ICMP echo: identifier
in both; other ICMP: type and code), outermost VLAN id, innermost IP header of the
tunnels we follow. For each flow it compares, per direction, packets and on-wire bytes,
the first and last timestamp (to the microsecond) and the SYN/FIN/RST/ACK counts with
nexusflowmeter's output (timeouts disabled; our flows are summed per key, since a TCP
key can still be split by a new SYN after a close, reset or completed handshake).

Every place where the two tools differ on purpose is mapped below in code, with a
comment, and documented in docs/flows.md ("Deliberate differences from tshark
conversations"). Anything else that differs is a failure.

Output: "FILE: K/N flows match" per capture (then the first mismatching flows with both
sides' numbers), a per-theme summary (theme = first path component), and the final
line "N passed, N failed" (one test per capture). Exit status 1 on failures.

Environment: NFM_SHARED (corpus root holding pcaps/), NFM_PROG (binary, default
./nexusflowmeter), NFM_JOBS (parallel captures, default 2), NFM_ONLY (substring filter
on file names), NFM_SHOW (mismatching flows shown per capture, default 5)."""
import calendar
import concurrent.futures
import csv
import ipaddress
import json
import re
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import datetime

FIELDS = [
    "frame.number", "frame.time_epoch", "frame.len", "frame.protocols", "frame.section_number",
    "_ws.malformed", "_ws.short",
    "ip.src", "ip.dst", "ip.proto", "ip.id", "ip.flags.mf", "ip.frag_offset", "ip.len",
    "ip.hdr_len",
    "ipv6.src", "ipv6.dst", "ipv6.nxt",
    "ipv6.hopopts.nxt", "ipv6.routing.nxt", "ipv6.dstopts.nxt", "ah.next_header",
    "ipv6.fraghdr.nxt", "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "ipv6.fraghdr.ident",
    "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.hdr_len",
    "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
    "icmp.type", "icmp.code", "icmp.ident",
    "icmpv6.type", "icmpv6.code", "icmpv6.echo.identifier",
    "vlan.id", "data.data",
]
IDX = {name: i for i, name in enumerate(FIELDS)}

# IPv6 extension headers our decoder walks (hop-by-hop, routing, fragment, destination
# options, AH), as tshark names the layers, with the field that holds their next header.
V6_EXT = {"ipv6.hopopts": "ipv6.hopopts.nxt", "ipv6.routing": "ipv6.routing.nxt",
          "ipv6.dstopts": "ipv6.dstopts.nxt", "ipv6.fraghdr": "ipv6.fraghdr.nxt",
          "ah": "ah.next_header"}
# Layers that may sit between an outer IP header and the inner one of a tunnel we
# follow (GRE incl. PPTP/TEB/ERSPAN, VXLAN, Geneve, GTP-U, Teredo, L2TPv2, MPLS in UDP,
# IP in IP). A tunnel that needs any other layer (e.g. GRE carrying Cisco MetaData,
# tshark "cmd") is not followed by us: the packet is keyed on the outer header.
TUNNEL_GLUE = {"gre", "udp", "vxlan", "geneve", "gtp", "teredo", "l2tp", "ppp", "eth",
               "ethertype", "vlan", "mpls", "erspan", "pwethcw", "pwethnocw",
               "pwethheuristic", "pweth", "ipv6.hopopts", "ipv6.routing", "ipv6.dstopts"}
TUNNEL_LAYER = {"gre", "vxlan", "geneve", "gtp", "teredo", "l2tp", "mpls", "erspan"}
MAX_TUNNELS = 4
# First layer of a frame (tshark's name) for each link type our decoder supports:
# Ethernet, BSD NULL/LOOP, Linux SLL/SLL2, raw IP (101, 12, 14, 228, 229), PPP,
# Cisco HDLC, NFLOG, PPPoE. "data" is what tshark shows for pcapng blocks that are no
# packets (it numbers them as frames); they carry no IP.
LINK_TOKENS = {"eth", "null", "sll", "raw", "ip", "ipv6", "ppp", "chdlc", "nflog", "pppoes",
               "data"}
ECHO_V4 = {0, 8, 42, 43}
ECHO_V6 = {128, 129, 160, 161}
PROTO_NUM = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMPv6": 58, "SCTP": 132}
PORT_LAYER = {6: "tcp", 17: "udp", 132: "sctp"}
FRAG_PENDING_MAX = 16
FRAG_TTL_NS = 30 * 10**9
SHOW = int(os.environ.get("NFM_SHOW", "5"))


def num(s):
    return int(s, 0) if s else 0


def abytes(text):
    a = ipaddress.ip_address(text)
    return a.packed.ljust(16, b"\0")


def atext(b, v):
    return str(ipaddress.ip_address(b[:4] if v == 4 else b))


class Flow:
    __slots__ = ("pk", "by", "first", "last", "syn", "fin", "rst", "ack", "frames", "bad", "dir0")

    def __init__(self):
        self.pk = [0, 0]          # [A->B, B->A]
        self.by = [0, 0]
        self.first = self.last = None   # microseconds
        self.syn = self.fin = self.rst = self.ack = 0
        self.frames = []
        self.bad = 0              # packets tshark found broken in the headers we read
        self.dir0 = None          # direction of the first packet

    def add(self, d, length, us, flags, frame=None, bad=False):
        self.bad += bad
        if self.dir0 is None:
            self.dir0 = d
        self.pk[d] += 1
        self.by[d] += length
        self.first = us if self.first is None else min(self.first, us)
        self.last = us if self.last is None else max(self.last, us)
        if flags is not None:
            self.syn += (flags & 0x02) != 0
            self.fin += (flags & 0x01) != 0
            self.rst += (flags & 0x04) != 0
            self.ack += (flags & 0x10) != 0
        if frame is not None and len(self.frames) < 8:
            self.frames.append(frame)

    def merge(self, o):
        for d in (0, 1):
            self.pk[d] += o.pk[d]
            self.by[d] += o.by[d]
        for t in (o.first, o.last):
            if t is not None:
                self.first = t if self.first is None else min(self.first, t)
                self.last = t if self.last is None else max(self.last, t)
        self.syn += o.syn
        self.fin += o.fin
        self.rst += o.rst
        self.ack += o.ack

    def sig(self):
        return (tuple(self.pk), tuple(self.by), self.first, self.last,
                self.syn, self.fin, self.rst, self.ack)


def flow_key(v, proto, vlan, src, sport, dst, dport):
    """Our bidirectional key: lower (address, port) endpoint first, as src/flow/meter.c
    does (address bytes, then port on equal addresses). Returns (key, direction)."""
    e1, e2 = (src, sport), (dst, dport)
    if e1 <= e2:
        return (v, proto, vlan, e1, e2), 0
    return (v, proto, vlan, e2, e1), 1


# ---------------------------------------------------------------- tshark side

def run_tshark(path, fields=None):
    """tshark's packets of path, one line of fields (FIELDS unless given) per frame."""
    cmd = ["tshark", "-n", "-r", path,
           "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-o", "tcp.desegment_tcp_streams:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE",
           "-T", "fields", "-E", "separator=/t", "-E", "aggregator=|", "-E", "occurrence=a"]
    for f in fields or FIELDS:
        cmd += ["-e", f]
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                          env=dict(os.environ, LC_ALL="C"))


def classify(f):
    """Returns (flow-key parts, note) for one tshark packet, or (None, reason)."""
    vals = {name: (f[i].split("|") if i < len(f) and f[i] else []) for name, i in IDX.items()}
    toks = f[IDX["frame.protocols"]].split(":") if len(f) > IDX["frame.protocols"] else []

    def occ(tok, upto):            # occurrence number of layer `tok` at position `upto`
        return sum(1 for t in toks[:upto] if t == tok)

    def val(name, k):
        v = vals[name]
        return v[k] if k < len(v) else ""

    # Walk the IP layers from the outside in. ICMP errors: tshark dissects the quoted
    # header (extra ip/tcp/udp/icmp values after the ICMP layer); the packet belongs to
    # the ICMP message itself, so nothing after the first ICMP layer is looked at.
    key = None                     # position of the IP header we key on
    kept = None                    # why an inner IP header was not followed
    tunnels = 0
    frag = None
    for pos, t in enumerate(toks):
        if t in ("icmp", "icmpv6"):
            break
        if t not in ("ip", "ipv6"):
            continue
        if key is not None:
            glue = toks[key + 1:pos]
            # Tunnels are followed only through the layers our decoder knows, never
            # inside a fragment (a fragmented outer packet is metered as the outer
            # protocol) and at most MAX_TUNNELS deep.
            if frag is not None:
                kept = "tunnel inside a fragment"
                break
            if tunnels >= MAX_TUNNELS:
                kept = "tunnel deeper than 4"
                break
            core = [g for g in glue if g not in V6_EXT]   # IP in IP: nothing but ext headers
            if not set(glue) <= TUNNEL_GLUE or (core and not set(core) & TUNNEL_LAYER):
                kept = "tunnel kind we do not follow (" + ":".join(glue) + ")"
                break
            tunnels += 1
        key = pos
        # fragment state of this layer
        frag = None
        if t == "ip":
            k = occ("ip", pos)
            mf, off = val("ip.flags.mf", k), val("ip.frag_offset", k)
            if mf in ("1", "True") or num(off):
                frag = (num(val("ip.id", k)), num(off))
        else:
            p = pos + 1
            while p < len(toks) and toks[p] in V6_EXT:
                if toks[p] == "ipv6.fraghdr":
                    k = occ("ipv6.fraghdr", p)
                    off, more = num(val("ipv6.fraghdr.offset", k)), val("ipv6.fraghdr.more", k)
                    if off or more in ("1", "True"):
                        frag = (num(val("ipv6.fraghdr.ident", k)), off)
                        if off:
                            break
                p += 1
    if key is None:
        return None, "non-IP"      # ARP and other non-IP frames: not compared

    # Addresses of the chosen layer: the k-th value of ip.* / ipv6.* (tshark lists one
    # value per IP header, outermost first).
    t = toks[key]
    v = 4 if t == "ip" else 6
    k = occ(t, key)
    pre = "ip" if v == 4 else "ipv6"
    src, dst = val(pre + ".src", k), val(pre + ".dst", k)
    if not src or not dst:
        return None, "no-addr"
    # Protocol: IPv4 ip.proto; IPv6 the last next-header of the extension chain.
    p = key + 1
    if v == 4:
        proto = num(val("ip.proto", k))
    else:
        proto = num(val("ipv6.nxt", k))
        while p < len(toks) and toks[p] in V6_EXT:
            fld = V6_EXT[toks[p]]
            proto = num(val(fld, occ(toks[p], p)))
            if toks[p] == "ipv6.fraghdr" and frag is not None and frag[1]:
                p += 1
                break
            p += 1
    # (IPv4 AH is not walked: it is keyed as protocol 51, like ESP.)
    nxt = toks[p] if p < len(toks) else ""
    nonfirst = frag is not None and frag[1] != 0
    sport = dport = 0
    flags = hlen = None
    if not nonfirst:
        if proto in PORT_LAYER and nxt == PORT_LAYER[proto]:
            k2 = occ(nxt, p)
            sport, dport = num(val(nxt + ".srcport", k2)), num(val(nxt + ".dstport", k2))
            if proto == 6:
                flags = num(val("tcp.flags", k2))
                hlen = num(val("tcp.hdr_len", k2)) if val("tcp.hdr_len", k2) else None
        elif proto == 1 and nxt == "icmp":
            ty, code = num(val("icmp.type", 0)), num(val("icmp.code", 0))
            if ty in ECHO_V4:
                sport = dport = num(val("icmp.ident", 0))
            else:
                sport, dport = ty, code
        elif proto == 58 and nxt == "icmpv6":
            ty, code = num(val("icmpv6.type", 0)), num(val("icmpv6.code", 0))
            if ty in ECHO_V6:
                sport = dport = num(val("icmpv6.echo.identifier", 0))
            else:
                sport, dport = ty, code
        elif proto in (1, 6, 17, 58, 132):
            return None, "no-l4"   # tshark did not dissect the transport header
    elif proto == 6 and frag[1] == 1 and nxt == "data":
        # A TCP fragment at byte offset 8 holds the rest of the header split after 8
        # bytes: we take the flags (header byte 13) from it; tshark, which dissects no
        # TCP in a non-first fragment, shows its bytes as data.
        raw = val("data.data", occ("data", p)).replace(":", "")
        if len(raw) >= 12:
            flags = int(raw[10:12], 16)
    # Outermost VLAN: the first tag of the frame, if it comes before the keyed IP
    # header (a tag inside a tunnel we follow counts when the outside had none).
    vlan = None
    if "vlan" in toks[:key]:
        vlan = num(val("vlan.id", 0))
    ip_payload = None
    if v == 4 and num(val("ip.len", k)):
        ip_payload = num(val("ip.len", k)) - num(val("ip.hdr_len", k))
    return dict(v=v, proto=proto, vlan=vlan, src=abytes(src), dst=abytes(dst), ip_payload=ip_payload,
                sport=sport, dport=dport, flags=flags, frag=frag, l4pos=p, tcp_hlen=hlen,
                kept=kept), None


# tshark's names of the layers our decoder reads (an exception raised inside one of
# them means the headers we need are broken or cut short).
HEADER_LAYERS = {"Ethernet", "802.1Q Virtual LAN", "MPLS", "PPP", "PPPoE", "IPv4", "IPv6",
                 "TCP", "UDP", "SCTP", "ICMP", "ICMPv6", "GRE", "VXLAN", "Geneve", "GTP",
                 "Teredo", "L2TP", "ERSPAN", "SLL", "Null/Loopback", "Cisco HDLC", "NFLOG"}
EXC = re.compile(r"\[(?:Malformed Packet|Packet size limited during capture): ([^\]]+?)"
                 r"(?: truncated)?\]")


def header_bad(f, pk):
    """True when tshark found the packet broken inside the headers we read: an exception
    (malformed, or cut short by the snaplen) raised in one of HEADER_LAYERS, or a TCP
    data offset below 20 bytes, or beyond the IP payload of a packet that is not a
    fragment (tshark only flags those as an expert error; our decoder rejects them as
    malformed; a first fragment may end inside the header)."""
    for name in ("_ws.malformed", "_ws.short"):
        for layer in EXC.findall(f[IDX[name]] if IDX[name] < len(f) else ""):
            if layer in HEADER_LAYERS:
                return True
    if pk is not None and pk["tcp_hlen"] is not None:
        if pk["tcp_hlen"] < 20 or (pk["frag"] is None and pk["ip_payload"] is not None
                                   and pk["tcp_hlen"] > pk["ip_payload"]):
            return True
    return False


class Variant:
    """Flows built from tshark's packets with our fragment table."""

    def __init__(self):
        self.flows = defaultdict(Flow)
        self.frags = {}
        self.unmatched = 0

    def add(self, pk, ns, now, length, frame, bad=False):
        sport, dport = pk["sport"], pk["dport"]
        if pk["frag"] is not None:
            # Fragments: the first one carries the ports; later ones take them from a
            # table keyed by (source, destination, id, protocol) for 30 s. Later
            # fragments that come before their first wait (up to 16 per datagram,
            # 30 s) and join its flow when it arrives; the rest belong to no flow
            # (counted by us as unmatched fragments). tshark has no ports on
            # non-first fragments.
            fk = (pk["v"], pk["src"], pk["dst"], pk["frag"][0], pk["proto"])
            e = self.frags.get(fk)
            if e is not None and now - e["since"] > FRAG_TTL_NS:
                if not e["first"]:
                    self.unmatched += len(e["pending"])
                e = None
                del self.frags[fk]
            if pk["frag"][1] == 0:
                waiting = e["pending"] if e is not None and not e["first"] else []
                self.frags[fk] = {"first": True, "ports": (sport, dport), "since": now,
                                  "pending": []}
                self._count(pk, sport, dport, ns, length, frame, bad)
                for w in waiting:
                    self._count(w[0], sport, dport, *w[1:])
                return
            if e is not None and e["first"]:
                sport, dport = e["ports"]
            else:
                if e is None:
                    e = self.frags[fk] = {"first": False, "since": now, "pending": []}
                if len(e["pending"]) < FRAG_PENDING_MAX:
                    e["pending"].append((pk, ns, length, frame, bad))
                else:
                    self.unmatched += 1
                return
        self._count(pk, sport, dport, ns, length, frame, bad)

    def _count(self, pk, sport, dport, ns, length, frame, bad):
        key, d = flow_key(pk["v"], pk["proto"], pk["vlan"], pk["src"], sport, pk["dst"], dport)
        self.flows[key].add(d, length, ns // 1000, pk["flags"], frame, bad)

    def finish(self):
        """End of input: fragments still waiting for their first are unmatched."""
        for e in self.frags.values():
            if not e["first"]:
                self.unmatched += len(e["pending"])
        self.frags = {}


def parse_epoch(text, last_ns):
    """frame.time_epoch -> ns since the epoch, as our readers compute it."""
    if not text:
        # pcapng Simple Packet Block: no timestamp (tshark prints none); our reader
        # gives it the timestamp of the last packet that had one (0 before any).
        return last_ns
    sec, _, frac = text.lstrip("-").partition(".")
    if text.startswith("-") and len(frac) <= 9:
        return 0                   # before 1970 (pcapng if_tsoffset): ours saturate at 0
    if len(frac) > 9:
        # tshark prints an out-of-range sub-second field unnormalised (10+ digits, and a
        # "-" when it went negative); we carry it into the seconds (report: ts_fixed).
        ns = int(sec) * 10**9 + int(frac)
    else:
        ns = int(sec) * 10**9 + int((frac + "000000000")[:9])
    # Beyond 2^64-1 ns (year 2554) our times saturate (report: ts_fixed).
    return min(ns, 2**64 - 1)


def pcap_fixed_times(path):
    """Classic pcap only: {frame number: ns} for records whose sub-second field is out
    of range. We carry the excess into the seconds; tshark 4.0 overflows the
    microsecond-to-nanosecond conversion for them, so its value cannot be used."""
    import struct
    out = {}
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 24:
        return out
    magic = data[:4]
    kinds = {b"\xd4\xc3\xb2\xa1": ("<", 10**6), b"\xa1\xb2\xc3\xd4": (">", 10**6),
             b"\x4d\x3c\xb2\xa1": ("<", 10**9), b"\xa1\xb2\x3c\x4d": (">", 10**9)}
    if magic not in kinds:
        return out
    end, unit = kinds[magic]
    off, n = 24, 0
    while off + 16 <= len(data):
        sec, frac, cap, _ = struct.unpack(end + "IIII", data[off:off + 16])
        n += 1
        if frac >= unit:
            out[n] = (sec + frac // unit) * 10**9 + (frac % unit) * (10**9 // unit)
        off += 16 + cap
    return out


def tshark_flows(stdout, fixed_times):
    """Two variants of tshark's flows: `every` counts every keyable packet, `clean`
    leaves out the packets tshark found broken inside the headers we read (we count
    those as malformed or truncated, outside any flow; they also never enter our
    fragment table)."""
    every, clean = Variant(), Variant()
    now = None
    last_ns = 0
    section = None
    stats = defaultdict(int)
    for line in stdout.splitlines():
        f = line.split("\t")
        if len(f) < 4:
            continue
        frame = int(f[IDX["frame.number"]])
        if f[IDX["frame.section_number"]] != section:
            section = f[IDX["frame.section_number"]]
            last_ns = 0            # a new pcapng section: no timestamp seen yet
        if frame in fixed_times:
            ns = fixed_times[frame]
        else:
            ns = parse_epoch(f[IDX["frame.time_epoch"]], last_ns)
        if f[IDX["frame.time_epoch"]]:
            last_ns = ns
            text = f[IDX["frame.time_epoch"]]
            if frame not in fixed_times and (ns == 2**64 - 1 or (ns == 0 and text.startswith("-"))):
                stats["timestamp out of our range (saturated)"] += 1
        now = ns if now is None else max(now, ns)
        toks = f[IDX["frame.protocols"]].split(":")
        if toks[0] not in LINK_TOKENS:
            # A link type our decoder does not support (e.g. Solaris IPNET): counted
            # by us as "unsupported link type", never in a flow.
            if "ip" in toks or "ipv6" in toks:
                stats["unsupported_link"] += 1
            continue
        pk, why = classify(f)
        if pk is None:
            stats[why] += 1
            continue
        if pk["kept"]:
            stats["outer: " + pk["kept"]] += 1
        if not f[IDX["frame.time_epoch"]]:
            stats["no timestamp (pcapng simple packet block)"] += 1
        if frame in fixed_times:
            stats["timestamp fraction out of range"] += 1
        length = int(f[IDX["frame.len"]])
        bad = header_bad(f, pk)
        every.add(pk, ns, now, length, frame, bad)
        if bad:
            stats["bad"] += 1
        else:
            clean.add(pk, ns, now, length, frame)
    every.finish()
    clean.finish()
    return every, clean, stats


# ---------------------------------------------------------------- our side

def iso_us(s):
    date, _, frac = s.rstrip("Z").partition(".")
    t = calendar.timegm(datetime.strptime(date, "%Y-%m-%dT%H:%M:%S").timetuple())
    return t * 10**6 + int((frac + "000000")[:6])


def our_flows(prog, path, work):
    out = os.path.join(work, "flows.csv")
    rep = os.path.join(work, "rep")
    res = subprocess.run([prog, path, out, "--extended", "--no-progress", "-q",
                          "--flow-timeout", "0", "--active-timeout", "0", "--report-dir", rep],
                         capture_output=True, text=True)
    flows = defaultdict(Flow)
    orient = {}
    report = {}
    for name in os.listdir(rep) if os.path.isdir(rep) else []:
        if name.endswith("_report.json"):
            with open(os.path.join(rep, name)) as fh:
                data = json.load(fh)
                report = dict(data.get("packets", {}))
                report["ts_fixed"] = data.get("source_anomalies", {}).get("ts_fixed", 0)
    if not os.path.exists(out):
        return res.returncode, flows, orient, report
    with open(out, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["protocol"] == "ARP":
                continue           # ARP: out of scope of the comparison
            v = int(row["ip_version"])
            proto = PROTO_NUM.get(row["protocol"]) or int(row["protocol"])
            vlan = int(row["vlan_id"]) if row["vlan_id"] else None
            src, dst = abytes(row["src_ip"]), abytes(row["dst_ip"])
            key, d = flow_key(v, proto, vlan, src, int(row["src_port"]), dst, int(row["dst_port"]))
            fl = Flow()
            fl.pk[d], fl.pk[1 - d] = int(row["forward_packets"]), int(row["backward_packets"])
            fl.by[d], fl.by[1 - d] = int(row["forward_bytes"]), int(row["backward_bytes"])
            fl.first, fl.last = iso_us(row["start_time"]), iso_us(row["end_time"])
            fl.syn, fl.fin = int(row["syn_count"]), int(row["fin_count"])
            fl.rst, fl.ack = int(row["rst_count"]), int(row["ack_count"])
            flows[key].merge(fl)
            orient.setdefault(key, d)   # direction of our first flow's forward
    return res.returncode, flows, orient, report


# ---------------------------------------------------------------- comparison

def describe(key, d):
    v, proto, vlan, a, b = key
    (s, sp), (t, tp) = (a, b) if d == 0 else (b, a)
    name = {6: "TCP", 17: "UDP", 1: "ICMP", 58: "ICMPv6", 132: "SCTP"}.get(proto, str(proto))
    vl = f" vlan={vlan}" if vlan is not None else ""
    return f"{atext(s, v)}:{sp} -> {atext(t, v)}:{tp} {name}{vl}"


def side(fl, d):
    if fl is None:
        return "absent"
    f, b = d, 1 - d
    return (f"fwd {fl.pk[f]}p/{fl.by[f]}B bwd {fl.pk[b]}p/{fl.by[b]}B "
            f"first {fl.first} last {fl.last} S/F/R/A {fl.syn}/{fl.fin}/{fl.rst}/{fl.ack}")


def check(args):
    name, pcaps, prog = args
    path = os.path.join(pcaps, name)
    lines = []
    res = run_tshark(path)
    if res.returncode != 0 and not res.stdout.strip():
        err = (res.stderr.strip().splitlines() or ["?"])[-1]
        return name, "skip", [f"{name}: skipped: tshark cannot read it ({err})"], 0, 0
    with tempfile.TemporaryDirectory() as work:
        rc, ours, orient, report = our_flows(prog, path, work)
    fixed = pcap_fixed_times(path) if report.get("ts_fixed") else {}
    every, clean, st = tshark_flows(res.stdout, fixed)
    theirs = every.flows
    keys = sorted(set(theirs) | set(ours), key=lambda k: (k[0], k[1], str(k[2]), k[3], k[4]))
    bad, explained, dropped = [], 0, 0
    for k in keys:
        o = ours.get(k)
        t = theirs.get(k)
        if o is not None and t is not None and o.sig() == t.sig():
            continue
        # Packets tshark finds broken inside the headers we read: we count them as
        # malformed or truncated (report), never in a flow.
        c = clean.flows.get(k)
        if (o is None and c is None) or (o is not None and c is not None and o.sig() == c.sig()):
            explained += 1
            dropped += t.bad if t else 0
            continue
        bad.append(k)
    problems = []
    if rc not in (0, 3):
        problems.append(f"exit status {rc}")
    # Packets tshark shows without the transport header our key needs: we cannot have
    # metered them either, so they must be among our malformed/truncated ones.
    dropped += st["no-l4"] + st["no-addr"]
    rejected = report.get("truncated", 0) + report.get("malformed", 0)
    if dropped > rejected:
        problems.append(f"{dropped} packets left out as malformed/truncated, "
                        f"but our report counts only {rejected}")
    # Our unmatched fragments are the ones the script finds too (with or without the
    # broken packets, which never enter our fragment table).
    if report and report.get("fragments_unmatched", 0) not in (every.unmatched, clean.unmatched):
        problems.append(f"unmatched fragments: tshark-derived {clean.unmatched}, "
                        f"our report {report.get('fragments_unmatched')}")
    if st["unsupported_link"] > report.get("unsupported_link", 0):
        problems.append(f"{st['unsupported_link']} IP frames on a link type we do not "
                        f"decode, but our report counts {report.get('unsupported_link', 0)}")
    notes = [f"{explained} via malformed/truncated packets"] if explained else []
    for what in sorted(st):
        if what.startswith(("outer: ", "no timestamp", "timestamp ")):
            notes.append(f"{st[what]} packets {what}")
    if st["unsupported_link"]:
        notes.append(f"{st['unsupported_link']} IP packets on an unsupported link type")
    if clean.unmatched:
        notes.append(f"{clean.unmatched} unmatched fragments")
    note = f" ({'; '.join(notes)})" if notes else ""
    lines.append(f"{name}: {len(keys) - len(bad)}/{len(keys)} flows match{note}")
    for p in problems:
        lines.append(f"  FAIL {name}: {p}")
    for k in bad[:SHOW]:
        t = theirs.get(k)
        d = orient.get(k, t.dir0 if t else 0)
        frames = f" frames {t.frames}" if t else ""
        lines.append(f"  mismatch {describe(k, d)}{frames}")
        lines.append(f"    tshark {side(t, d)}")
        lines.append(f"    ours   {side(ours.get(k), d)}")
    if len(bad) > SHOW:
        lines.append(f"  ... {len(bad) - SHOW} more mismatching flows")
    ok = not bad and not problems
    return name, "pass" if ok else "fail", lines, len(keys) - len(bad), len(keys)


def corpus_names(manifest):
    """The captures of the corpus to check: all of MANIFEST.tsv but corrupt/ (said so),
    narrowed to names containing NFM_ONLY when it is set."""
    with open(manifest, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    only = os.environ.get("NFM_ONLY", "")
    names = []
    for row in rows:
        name = row["file"]
        if only and only not in name:
            continue
        if name.startswith("corrupt/"):
            print(f"{name}: skipped: damaged on purpose (corrupt/)")
            continue
        names.append(name)
    return names


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.environ.get("NFM_SHARED") or os.path.join(here, "..", "..", "..", "shared")
    pcaps = os.path.join(root, "pcaps")
    manifest = os.path.join(pcaps, "MANIFEST.tsv")
    prog = os.path.abspath(os.environ.get("NFM_PROG", "nexusflowmeter"))
    if not os.path.exists(manifest):
        print(f"skipped: no shared corpus at {pcaps}")
        print("0 passed, 0 failed")
        return 0
    if not shutil.which("tshark"):
        print("skipped: tshark is not installed")
        print("0 passed, 0 failed")
        return 0
    names = corpus_names(manifest)
    if not os.access(prog, os.X_OK):
        print(f"FAIL: {prog} is not built")
        print("0 passed, 1 failed")
        return 1
    jobs = int(os.environ.get("NFM_JOBS", "2"))
    passed = failed = 0
    themes = defaultdict(lambda: [0, 0])
    # Work on a snapshot of the binary, so a rebuild during the run cannot disturb it.
    snap = tempfile.TemporaryDirectory()
    prog = shutil.copy2(prog, os.path.join(snap.name, "nexusflowmeter"))
    with snap, concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        for name, status, lines, good, total in pool.map(check, [(n, pcaps, prog) for n in names]):
            print("\n".join(lines), flush=True)
            if status == "skip":
                continue
            th = themes[name.split("/")[0]]
            th[0] += good
            th[1] += total
            if status == "pass":
                passed += 1
            else:
                failed += 1
    print("per theme (flows matched / total):")
    for th in sorted(themes):
        print(f"  {th}: {themes[th][0]}/{themes[th][1]}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
