#!/usr/bin/env python3
"""Independent oracle for the `cic` profile: every column of every flow, from tshark.

For every capture of the shared corpus (NFM_SHARED/pcaps, MANIFEST.tsv; corrupt/ and files
tshark cannot read are skipped), tshark dissects each packet once (no reassembly, no
defragmentation). The packets are keyed as tests/corpus/tshark_diff.py keys them (its
code is imported: our key, tunnels, ICMP identifiers, fragments and the packets tshark
finds broken), then cut into flows with the rules of docs/flows.md under the profile's
timeouts (active 120 s from the first packet, strict; no idle timeout; TCP close when
both FINs are acknowledged, reset on RST, 2 s linger, a SYN without ACK after a close or
after a completed handshake starts a new flow; forward = the initiator, the receiver of
a first SYN+ACK, or the initiator of the flow the active timeout cut when the next one
continues it). pandas then computes every `cic` column from the per-packet table
(payload, transport header, flags, window, µs time), and a loop per flow the sequential
features (active/idle periods, bulks). Each flow is compared, column by column, with
the `--profile cic` CSV of nexusflowmeter.

Our rows are matched to the oracle's by key and order: a second run of the same profile
with `--columns` adds the key fields (ports, IP version, VLAN) that the cic columns do
not carry (ICMP flows print ports 0), in the same row order; its Timestamp column must
equal the first run's, row for row.

Tolerance: integer columns and text columns must be equal. A column printed with d
decimals matches when |ours - oracle| <= 0.5 * 10^-d + 1e-9 * |oracle| (the last printed
digit; our value is rounded from exact integer moments, the oracle's is float64).

Where tshark's view differs from ours on purpose, the oracle maps it in code (and
docs/profiles.md lists it): packets tshark dissects although a header we read is broken
(we meter them as malformed or truncated; tshark_diff.py's two variants, a flow matches
either), TCP header bytes in later fragments (tshark shows them as data; they are header
for us, docs/flows.md), IPv6 jumbograms (tshark's payload length field is 0; the length
is the Jumbo Payload option's), fragments attributed through the fragment table. Any
other difference fails.

Output: "FILE: K/N flows match" per capture (then the first mismatching flows, column by
column), and the final line "N passed, N failed" (one test per capture). Exit status 1
on failures. Environment: NFM_SHARED, NFM_PROG, NFM_JOBS (parallel captures, default 2),
NFM_ONLY (substring filter on file names), NFM_SHOW (mismatches shown per capture)."""
import csv
import datetime
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

try:
    import pandas as pd
except ImportError:  # the shell wrapper picks an interpreter that has pandas
    pd = None

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "corpus"))
import tshark_diff as td  # noqa: E402  (our key, tunnels, fragments, broken packets)
import oracle_run  # noqa: E402  (the corpus, the checks run two at a time)

EXTRA = ["ipv6.plen", "ipv6.hopopts.len_oct", "ipv6.routing.len_oct", "ipv6.dstopts.len_oct",
         "ipv6.opt.jumbo", "ah.length", "tcp.window_size_value", "tcp.seq_raw", "tcp.ack_raw"]
FIELDS = td.FIELDS + EXTRA
X = {name: i for i, name in enumerate(FIELDS)}

ACTIVE_NS = 120 * 10**9
LINGER_NS = 2 * 10**9
ACTIVITY_US = 5_000_000
SUBFLOW_US = 1_000_000
BULK_GAP_US = 1_000_000
SHOW = int(os.environ.get("NFM_SHOW", "5"))

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 1, 2, 4, 8, 16, 32, 64, 128
P_SYN, P_SYNACK, P_HS, P_FIN = 1, 2, 4, (8, 16)
P_FINACK = (32, 64)

# Columns printed with decimals, and how many.
DEC3 = ["Fwd Packet Length Mean", "Fwd Packet Length Std", "Bwd Packet Length Mean",
        "Bwd Packet Length Std", "Flow Bytes/s", "Flow Packets/s", "Flow IAT Mean", "Flow IAT Std",
        "Fwd IAT Mean", "Fwd IAT Std", "Bwd IAT Mean", "Bwd IAT Std", "Fwd Packets/s",
        "Bwd Packets/s", "Packet Length Mean", "Packet Length Std", "Packet Length Variance",
        "Average Packet Size", "Avg Fwd Segment Size", "Avg Bwd Segment Size",
        "Fwd Avg Bytes/Bulk", "Fwd Avg Packets/Bulk", "Fwd Avg Bulk Rate", "Bwd Avg Bytes/Bulk",
        "Bwd Avg Packets/Bulk", "Bwd Avg Bulk Rate", "Subflow Fwd Packets", "Subflow Fwd Bytes",
        "Subflow Bwd Packets", "Subflow Bwd Bytes", "Active Mean", "Active Std", "Idle Mean",
        "Idle Std"]
DECIMALS = dict({c: 3 for c in DEC3}, **{"Down/Up Ratio": 4})
TEXT = {"Flow ID", "Source IP", "Destination IP", "Timestamp", "Label"}


# ---------------------------------------------------------------- packets from tshark

def run_tshark(path):
    return td.run_tshark(path, FIELDS)


num = td.num


def values(f, name):
    i = X[name]
    return f[i].split("|") if i < len(f) and f[i] else []


def nth(f, name, k):
    v = values(f, name)
    return v[k] if k < len(v) else ""


def packet_fields(f, pk):
    """What the cic columns need of one keyed packet: transport payload from the IP
    lengths (pl), the transport header it carries (hl), TCP flags, window, sequence and
    acknowledgement numbers."""
    toks = f[X["frame.protocols"]].split(":")
    l4 = pk["l4pos"]
    ip = max(i for i in range(min(l4, len(toks))) if toks[i] in ("ip", "ipv6")) \
        if any(t in ("ip", "ipv6") for t in toks[:l4]) else None
    occ = toks[:ip].count(toks[ip]) if ip is not None else 0
    frag = pk["frag"]
    nonfirst = frag is not None and frag[1] != 0
    # IP payload of the keyed header: IPv4 total length - header length; IPv6 payload
    # length - the extension headers before the transport (or fragment data).
    if pk["v"] == 4:
        ip_payload = num(nth(f, "ip.len", occ)) - num(nth(f, "ip.hdr_len", occ))
    else:
        # A jumbogram (payload length 0) takes its length from the Jumbo Payload option.
        ip_payload = num(nth(f, "ipv6.plen", occ)) or num(nth(f, "ipv6.opt.jumbo", occ))
        for p in range(ip + 1, l4):
            t = toks[p]
            k = toks[:p].count(t)
            if t == "ipv6.fraghdr":
                ip_payload -= 8
            elif t == "ah":
                ip_payload -= (num(nth(f, "ah.length", k)) + 2) * 4
            elif t in ("ipv6.hopopts", "ipv6.routing", "ipv6.dstopts"):
                ip_payload -= num(nth(f, t + ".len_oct", k))
    proto = pk["proto"]
    nxt = toks[l4] if l4 < len(toks) else ""
    hl, win, seq, ack = 0, None, 0, 0
    if nonfirst:
        hl = 0
    elif proto == 6 and nxt == "tcp":
        k = toks[:l4].count("tcp")
        hl = num(nth(f, "tcp.hdr_len", k))
        win = num(nth(f, "tcp.window_size_value", k))
        seq, ack = num(nth(f, "tcp.seq_raw", k)), num(nth(f, "tcp.ack_raw", k))
    elif proto in (17, 1, 58):
        hl = 8
    elif proto == 132:
        hl = 12
    pl = max(ip_payload - hl, 0)
    hlen8 = None
    if nonfirst and proto == 6:
        # TCP header bytes in a later fragment are not payload (docs/flows.md, "TCP
        # header split over fragments"); tshark shows them as data. The fragment at
        # byte offset 8 holds the data-offset byte; any other assumes 20 bytes.
        off, hlen = frag[1] * 8, 20
        if off == 8:
            raw = nth(f, "data.data", toks[:l4].count("data")).replace(":", "")
            if len(raw) >= 10:
                hlen = hlen8 = (int(raw[8:10], 16) >> 4) * 4
        if hlen > off:
            pl -= min(hlen - off, pl)
    return dict(pl=pl, hl=hl, win=win, seq=seq, ack=ack, hlen8=hlen8,
                flags=pk["flags"] if proto == 6 and pk["flags"] is not None else 0,
                tcp=proto == 6)


class Packets(td.Variant):
    """tshark_diff's fragment table (ports for later fragments, fragments waiting for
    their first), recording every packet as it is metered, with the input's clock."""

    def __init__(self):
        super().__init__()
        self.seq = []
        self.hlen = {}
        self._now = 0

    def add(self, pk, ns, now, length, frame, bad=False):
        self._now = now
        super().add(pk, ns, now, length, frame, bad)

    def _count(self, pk, sport, dport, ns, length, frame, bad):
        key, d = td.flow_key(pk["v"], pk["proto"], pk["vlan"], pk["src"], sport, pk["dst"], dport)
        cic = dict(pk["cic"])
        if pk["frag"] is not None and pk["proto"] == 6:
            # TCP options in later fragments (offset 16 to 56) are not payload either,
            # given the header length another fragment of the datagram reported (the
            # first, else the one at offset 8), as src/flow/frag.c corrects it.
            dg = (pk["v"], pk["src"], pk["dst"], pk["frag"][0], pk["proto"])
            off = pk["frag"][1] * 8
            if off == 0:
                self.hlen[dg] = pk["tcp_hlen"] or 0
            elif off == 8 and cic["hlen8"] and not self.hlen.get(dg):
                self.hlen[dg] = cic["hlen8"]
            elif 16 <= off <= 56:
                hlen, frm = self.hlen.get(dg, 0), max(off, 20)
                if hlen > frm:
                    cic["pl"] -= min(hlen - frm, cic["pl"])
        self.seq.append(dict(key=key, d=d, ns=ns, now=self._now, frame=frame, **cic))


def packets(stdout, fixed_times):
    """The keyed packets in metering order: (every, clean) as tshark_diff builds its
    two variants (clean leaves out the packets tshark finds broken in our headers)."""
    every, clean = Packets(), Packets()
    now, last_ns, section = None, 0, None
    for line in stdout.splitlines():
        f = line.split("\t")
        if len(f) < 4:
            continue
        frame = int(f[X["frame.number"]])
        if f[X["frame.section_number"]] != section:
            section = f[X["frame.section_number"]]
            last_ns = 0
        ns = fixed_times[frame] if frame in fixed_times else td.parse_epoch(f[X["frame.time_epoch"]], last_ns)
        if f[X["frame.time_epoch"]]:
            last_ns = ns
        now = ns if now is None else max(now, ns)
        toks = f[X["frame.protocols"]].split(":")
        if toks[0] not in td.LINK_TOKENS:
            continue
        pk, _why = td.classify(f)
        if pk is None:
            continue
        pk["cic"] = packet_fields(f, pk)
        bad = td.header_bad(f, pk)
        length = int(f[X["frame.len"]])
        every.add(pk, ns, now, length, frame, bad)
        if not bad:
            clean.add(pk, ns, now, length, frame)
    every.finish()
    clean.finish()
    return every.seq, clean.seq


# ---------------------------------------------------------------- flows (docs/flows.md)

def split_flows(seq):
    """Cuts the keyed packets into flows; returns {key: [flow, ...]} in creation order,
    a flow being {"a_fwd": forward is endpoint a, "pkts": [(packet, dir)]}."""
    cur = {}
    out = defaultdict(list)
    for p in seq:
        k, now = p["key"], p["now"]
        fl = cur.get(k)
        syn = p["tcp"] and (p["flags"] & (SYN | ACK)) == SYN
        cont = None     # the initiator a flow cut by the active timeout hands on
        if fl is not None:
            cut = now - fl["born"] > ACTIVE_NS and not fl["done"]
            over = now - fl["born"] > ACTIVE_NS or (fl["done"] and now - fl["closed"] > LINGER_NS)
            if over or (syn and (fl["done"] or fl["prog"] & P_HS)):
                # flows.md, Direction: the next flow keeps the initiator unless it starts
                # with a SYN without ACK or comes more than an active timeout after the
                # flow's last packet (the profile has no idle timeout)
                if cut and not syn and now - fl["lru"] <= ACTIVE_NS:
                    cont = fl["a_fwd"]
                fl = None
        if fl is None:
            synack = p["tcp"] and (p["flags"] & (SYN | ACK)) == (SYN | ACK)
            a_fwd = cont if cont is not None else (p["d"] == 0) != synack
            fl = cur[k] = dict(born=now, lru=now, a_fwd=a_fwd, done=False, closed=0,
                               prog=0, fin_seq=[0, 0], pkts=[])
            out[k].append(fl)
        d = 0 if (p["d"] == 0) == fl["a_fwd"] else 1
        fl["lru"] = now
        fl["pkts"].append((p, d))
        if p["tcp"]:
            tcp_update(fl, p, d, now)
    return out


def tcp_update(fl, p, d, now):
    fl_ = p["flags"]
    prog = fl["prog"]
    if fl_ & (SYN | ACK) == SYN:
        prog |= P_SYN
    elif fl_ & (SYN | ACK) == SYN | ACK:
        prog |= P_SYNACK
    elif fl_ & ACK and d == 0 and prog & P_SYNACK:
        prog |= P_HS
    if fl_ & FIN:
        prog |= P_FIN[d]
        fl["fin_seq"][d] = (p["seq"] + p["pl"] + (2 if fl_ & SYN else 1)) & 0xffffffff
    if fl_ & ACK:
        o = 1 - d
        if prog & P_FIN[o] and ((p["ack"] - fl["fin_seq"][o]) & 0xffffffff) < 0x80000000:
            prog |= P_FINACK[o]
    fl["prog"] = prog
    if fl["done"]:
        return
    if fl_ & RST or prog & (P_FIN[0] | P_FIN[1] | P_FINACK[0] | P_FINACK[1]) == \
            P_FIN[0] | P_FIN[1] | P_FINACK[0] | P_FINACK[1]:
        fl["done"], fl["closed"] = True, now


# ---------------------------------------------------------------- the columns

def iso(us):
    t = datetime.datetime.fromtimestamp(us // 10**6, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (us % 10**6)


def sequential(c, d, pl):
    """Active/idle periods and bulks over one flow's clamped clock c (µs), directions d
    and payloads pl (docs/profiles.md)."""
    active, idle = [], []
    start = end = c[0]
    for t in c[1:]:
        if t - end > ACTIVITY_US:
            if end - start > 0:
                active.append(end - start)
            idle.append(t - end)
            start = end = t
        else:
            end = t
    bulk = [dict(open=False, start=0, last=None, cnt=0, size=0, n=0, pkts=0, bytes=0, dur=0)
            for _ in (0, 1)]
    for t, di, s in zip(c, d, pl):
        b, o = bulk[di], bulk[1 - di]
        if b["open"] and o["last"] is not None and o["last"] > b["start"]:
            b["open"] = False
        if s <= 0:
            continue
        if not b["open"] or t - b["last"] > BULK_GAP_US:
            b.update(open=True, start=t, last=t, cnt=1, size=s)
            continue
        b["cnt"] += 1
        b["size"] += s
        if b["cnt"] == 4:
            b["n"] += 1
            b["pkts"] += 4
            b["bytes"] += b["size"]
            b["dur"] += t - b["start"]
        elif b["cnt"] > 4:
            b["pkts"] += 1
            b["bytes"] += s
            b["dur"] += t - b["last"]
        b["last"] = t
    return active, idle, bulk


def stats(xs):
    """(mean, sample std, max, min) of a list, 0 where undefined."""
    if not xs:
        return 0.0, 0.0, 0, 0
    s = pd.Series(xs, dtype="int64")
    return float(s.mean()), float(s.std(ddof=1)) if len(xs) > 1 else 0.0, int(s.max()), int(s.min())


def div(a, b):
    return a / b if b else 0.0


def expected_rows(flows):
    """{(key, i): {column: value}} for the i-th flow of each key."""
    rows = []
    for key, fls in flows.items():
        for i, fl in enumerate(fls):
            for j, (p, d) in enumerate(fl["pkts"]):
                rows.append(dict(key=key, idx=i, order=j, dir=d,
                                 t=p["ns"] // 1000, pl=p["pl"], hl=p["hl"], flags=p["flags"],
                                 win=-1 if p["win"] is None else p["win"], tcp=p["tcp"]))
    if not rows:
        return {}
    df = pd.DataFrame(rows)
    df["flow"] = df.groupby(["key", "idx"], sort=False).ngroup()
    df = df.sort_values(["flow", "order"], kind="stable").reset_index(drop=True)
    # The gap rule: T is the running maximum of the earlier packets' times; the gap of a
    # packet is max(0, t - T). Shifts of a nullable Int64 column stay integers.
    df["t"] = df["t"].astype("Int64")
    df["T"] = df.groupby("flow")["t"].cummax()
    df["gap"] = (df["t"] - df.groupby("flow")["T"].shift()).clip(lower=0)
    df["Td"] = df.groupby(["flow", "dir"])["t"].cummax()
    df["gapd"] = (df["t"] - df.groupby(["flow", "dir"])["Td"].shift()).clip(lower=0)
    g = df.groupby("flow")
    gd = df.groupby(["flow", "dir"])
    plstat = gd["pl"].agg(["count", "sum", "max", "min", "mean", "std"]).fillna(0)
    allpl = g["pl"].agg(["count", "sum", "max", "min", "mean", "std", "var"]).fillna(0)
    hdr = gd["hl"].agg(["sum", "min"])
    first_t = g["t"].first()
    last_T = g["T"].last()
    gap = df.dropna(subset=["gap"]).groupby("flow")["gap"]
    iat = gap.agg(["mean", "std", "max", "min"]).astype("float64").fillna(0)
    sub = df[df["gap"].fillna(0) > SUBFLOW_US].groupby("flow").size()
    gapd = df.dropna(subset=["gapd"]).groupby(["flow", "dir"])["gapd"]
    iatd = gapd.agg(["sum", "mean", "std", "max", "min"]).astype("float64").fillna(0)
    flagc = {}
    for name, bit in (("FIN", FIN), ("SYN", SYN), ("RST", RST), ("PSH", PSH), ("ACK", ACK),
                      ("URG", URG), ("CWE", CWR), ("ECE", ECE)):
        df["f_" + name] = ((df["flags"] & bit) != 0).astype("int64")
        flagc[name] = (g["f_" + name].sum(), gd["f_" + name].sum())
    win = df[df["win"] >= 0].groupby(["flow", "dir"])["win"].first()
    data = (df["pl"] > 0).groupby([df["flow"], df["dir"]]).sum()
    ident = g[["key", "idx"]].first()

    def dget(series, f, d, default=0):
        return series.get((f, d), default)

    out = {}
    per_flow = {f: (list(fd["T"]), list(fd["dir"]), list(fd["pl"])) for f, fd in g}
    for f in ident.index:
        key, idx = ident.loc[f, "key"], int(ident.loc[f, "idx"])
        fl = flows[key][idx]
        c, dirs, pls_ = per_flow[f]
        active, idle, bulk = sequential([int(x) for x in c], dirs, pls_)
        n = [int(dget(plstat["count"], f, d)) for d in (0, 1)]
        pls = [int(dget(plstat["sum"], f, d)) for d in (0, 1)]
        dur = int(last_T[f] - first_t[f])
        v, proto, vlan, a, b = key
        src, dst = (a, b) if fl["a_fwd"] else (b, a)
        ports = proto in (6, 17, 132)
        sp, dp = (src[1], dst[1]) if ports else (0, 0)
        S = 1 + int(sub.get(f, 0))
        r = {
            "Flow ID": f"{td.atext(src[0], v)}-{td.atext(dst[0], v)}-{sp}-{dp}-{proto}",
            "Source IP": td.atext(src[0], v), "Source Port": sp,
            "Destination IP": td.atext(dst[0], v), "Destination Port": dp, "Protocol": proto,
            "Timestamp": iso(int(first_t[f])), "Flow Duration": dur,
            "Total Fwd Packets": n[0], "Total Backward Packets": n[1],
            "Total Length of Fwd Packets": pls[0], "Total Length of Bwd Packets": pls[1],
            "Flow Bytes/s": div(sum(pls) * 1e6, dur), "Flow Packets/s": div(sum(n) * 1e6, dur),
            "Flow IAT Mean": iat["mean"].get(f, 0.0), "Flow IAT Std": iat["std"].get(f, 0.0),
            "Flow IAT Max": int(iat["max"].get(f, 0)), "Flow IAT Min": int(iat["min"].get(f, 0)),
            "Fwd Header Length": int(dget(hdr["sum"], f, 0)),
            "Bwd Header Length": int(dget(hdr["sum"], f, 1)),
            "Fwd Packets/s": div(n[0] * 1e6, dur), "Bwd Packets/s": div(n[1] * 1e6, dur),
            "Min Packet Length": int(allpl["min"][f]), "Max Packet Length": int(allpl["max"][f]),
            "Packet Length Mean": allpl["mean"][f], "Packet Length Std": allpl["std"][f],
            "Packet Length Variance": allpl["var"][f],
            "Down/Up Ratio": div(n[1], n[0]), "Average Packet Size": allpl["mean"][f],
            "Subflow Fwd Packets": n[0] / S, "Subflow Fwd Bytes": pls[0] / S,
            "Subflow Bwd Packets": n[1] / S, "Subflow Bwd Bytes": pls[1] / S,
            "Init_Win_bytes_forward": int(dget(win, f, 0)),
            "Init_Win_bytes_backward": int(dget(win, f, 1)),
            "act_data_pkt_fwd": int(dget(data, f, 0)),
            "min_seg_size_forward": int(dget(hdr["min"], f, 0)), "Label": "NeedManualLabel",
        }
        for d, name in ((0, "Fwd"), (1, "Bwd")):
            r[f"{name} Packet Length Max"] = int(dget(plstat["max"], f, d))
            r[f"{name} Packet Length Min"] = int(dget(plstat["min"], f, d))
            r[f"{name} Packet Length Mean"] = float(dget(plstat["mean"], f, d, 0.0))
            r[f"{name} Packet Length Std"] = float(dget(plstat["std"], f, d, 0.0))
            r[f"Avg {name} Segment Size"] = float(dget(plstat["mean"], f, d, 0.0))
            r[f"{name} IAT Total"] = int(dget(iatd["sum"], f, d))
            r[f"{name} IAT Mean"] = float(dget(iatd["mean"], f, d, 0.0))
            r[f"{name} IAT Std"] = float(dget(iatd["std"], f, d, 0.0))
            r[f"{name} IAT Max"] = int(dget(iatd["max"], f, d))
            r[f"{name} IAT Min"] = int(dget(iatd["min"], f, d))
            r[f"{name} PSH Flags"] = int(dget(flagc["PSH"][1], f, d))
            r[f"{name} URG Flags"] = int(dget(flagc["URG"][1], f, d))
            b = bulk[d]
            r[f"{name} Avg Bytes/Bulk"] = div(b["bytes"], b["n"])
            r[f"{name} Avg Packets/Bulk"] = div(b["pkts"], b["n"])
            r[f"{name} Avg Bulk Rate"] = div(b["bytes"] * 1e6, b["dur"])
        for name in ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "CWE", "ECE"):
            r[f"{name} Flag Count"] = int(flagc[name][0][f])
        for name, xs in (("Active", active), ("Idle", idle)):
            mean, sd, mx, mn = stats(xs)
            r.update({f"{name} Mean": mean, f"{name} Std": sd, f"{name} Max": mx, f"{name} Min": mn})
        out[(key, idx)] = r
    return out


# ---------------------------------------------------------------- our side

def ours(prog, path, work):
    """Our cic rows by (key, i), and the header; or an error text."""
    cic = os.path.join(work, "cic.csv")
    keys = os.path.join(work, "keys.csv")
    common = ["--profile", "cic", "--no-progress", "-q", "--no-report"]
    r1 = subprocess.run([prog, path, cic] + common, capture_output=True, text=True)
    r2 = subprocess.run([prog, path, keys] + common + [
        "--columns", "protocol,ip_version,vlan_id,src_port,dst_port,Timestamp"],
        capture_output=True, text=True)
    if r1.returncode not in (0, 3) or r2.returncode not in (0, 3):
        return None, None, f"exit status {r1.returncode}/{r2.returncode}: {r1.stderr.strip()[:200]}"
    if not os.path.exists(cic):
        return {}, [], None
    with open(cic, newline="") as fh:
        rd = csv.reader(fh)
        header = next(rd)
        rows = list(rd)
    with open(keys, newline="") as fh:
        krows = list(csv.DictReader(fh))
    if len(krows) != len(rows):
        return None, None, f"{len(rows)} cic rows but {len(krows)} key rows"
    ti = header.index("Timestamp")
    out, count = {}, defaultdict(int)
    for row, k in zip(rows, krows):
        if row[ti] != k["Timestamp"]:
            return None, None, "the key run's rows are not in the cic run's order"
        if k["protocol"] == "ARP":
            continue  # ARP: not compared (tshark has no ARP flows to key)
        v = int(k["ip_version"])
        proto = td.PROTO_NUM.get(k["protocol"]) or int(k["protocol"])
        vlan = int(k["vlan_id"]) if k["vlan_id"] else None
        src_ip = row[header.index("Source IP")]
        dst_ip = row[header.index("Destination IP")]
        key, _ = td.flow_key(v, proto, vlan, td.abytes(src_ip), int(k["src_port"]),
                             td.abytes(dst_ip), int(k["dst_port"]))
        out[(key, count[key])] = row
        count[key] += 1
    return out, header, None


# ---------------------------------------------------------------- comparison

def same(col, mine, want):
    if col in TEXT:
        return mine == str(want)
    if col in DECIMALS:
        try:
            a = float(mine)
        except ValueError:
            return False
        return abs(a - float(want)) <= 0.5 * 10 ** -DECIMALS[col] + 1e-9 * abs(float(want))
    return mine == str(int(want))


def diff(header, mine, want):
    bad = []
    for i, col in enumerate(header):
        if not same(col, mine[i], want[col]):
            bad.append(f"{col}: ours {mine[i]} oracle {want[col]}")
    return bad


def check(args):
    name, pcaps, prog = args
    path = os.path.join(pcaps, name)
    res = run_tshark(path)
    if res.returncode != 0 and not res.stdout.strip():
        err = (res.stderr.strip().splitlines() or ["?"])[-1]
        return name, "skip", [f"{name}: skipped: tshark cannot read it ({err})"], 0, 0
    with tempfile.TemporaryDirectory() as work:
        got, header, err = ours(prog, path, work)
    if err:
        return name, "fail", [f"  FAIL {name}: {err}"], 0, 1
    fixed = td.pcap_fixed_times(path)
    every_seq, clean_seq = packets(res.stdout, fixed)
    want_clean = expected_rows(split_flows(clean_seq))
    want_every = None
    keys = sorted(set(want_clean) | set(got), key=lambda k: (str(k[0]), k[1]))
    bad = []
    for k in keys:
        mine, want = got.get(k), want_clean.get(k)
        if mine is not None and want is not None and not diff(header, mine, want):
            continue
        # Packets tshark finds broken in the headers we read are not metered by us
        # (malformed/truncated): the flow may match with them (tshark_diff's variants).
        if want_every is None:
            want_every = expected_rows(split_flows(every_seq))
        alt = want_every.get(k)
        if mine is not None and alt is not None and not diff(header, mine, alt):
            continue
        bad.append(k)
    # What the capture exercises beyond plain counts (shown, so that a run says which
    # paths of the algorithms the corpus reached).
    seen = defaultdict(int)
    for (key, i), r in want_clean.items():
        seen["cut"] += i == 1
        seen["bulk"] += r["Fwd Avg Bulk Rate"] > 0 or r["Bwd Avg Bulk Rate"] > 0
        seen["idle"] += r["Idle Max"] > 0
        seen["subflows"] += r["Subflow Fwd Packets"] + r["Subflow Bwd Packets"] < \
            r["Total Fwd Packets"] + r["Total Backward Packets"]
    note = ", ".join(f"{seen[w]} with {w}" for w in ("bulk", "idle", "subflows") if seen[w])
    if seen["cut"]:
        note += (", " if note else "") + f"{seen['cut']} keys cut into several flows"
    lines = [f"{name}: {len(keys) - len(bad)}/{len(keys)} flows match" + (f" ({note})" if note else "")]
    for k in bad[:SHOW]:
        mine, want = got.get(k), want_clean.get(k)
        lines.append(f"  mismatch {k[0][0]} {td.atext(k[0][3][0], k[0][0])}:{k[0][3][1]} "
                     f"<-> {td.atext(k[0][4][0], k[0][0])}:{k[0][4][1]} proto {k[0][1]} "
                     f"flow #{k[1]}")
        if mine is None or want is None:
            lines.append(f"    {'ours' if mine is None else 'oracle'}: no such flow")
            continue
        for d in diff(header, mine, want)[:12]:
            lines.append(f"    {d}")
    if len(bad) > SHOW:
        lines.append(f"  ... {len(bad) - SHOW} more mismatching flows")
    return name, "fail" if bad else "pass", lines, len(keys) - len(bad), len(keys)


def main():
    ready = oracle_run.setup(HERE, pd is not None)
    if not isinstance(ready, tuple):
        return ready
    passed = failed = 0
    good_total = flows_total = 0
    for name, status, lines, good, total in oracle_run.results(*ready, check):
        if status == "skip":
            continue
        good_total += good
        flows_total += total
        if status == "pass":
            passed += 1
        else:
            failed += 1
    print(f"all captures: {good_total}/{flows_total} flows match in every column")
    if passed + failed == 0:
        print("FAIL: no capture was checked")
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
