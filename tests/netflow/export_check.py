#!/usr/bin/env python3
"""Compares what nfcapd 1.7.1 collected from --export with our own -of nfdump output of
the same run (export.sh runs both).

  export_check.py uni    OURS.json COLLECTED.json
      The multiset of records is the same: first, last, in_packets, in_bytes, proto,
      tcp_flags or icmp_type/icmp_code, src_port, dst_port, src_tos and the addresses.
  export_check.py biflow OURS.json COLLECTED.json
      One biflow per flow: each record's forward part (the keys above) is one of our
      records (as a multiset), and per direction and 5-tuple the packets and bytes of
      the forward parts plus the reverse counters (out_packets, out_bytes, credited to
      the reversed 5-tuple; for ICMP to the reversed addresses, the reply's type not
      being in the biflow) equal the sums of our records.

Not compared, because nfcapd sets them itself: received (its clock when the datagram
arrived), export_sysid (its number for the exporter, 1 and up), ip4_router /
ip6_router (the address the datagrams came from), and in biflow mode the EXflowMisc
keys (input_snmp ... dst_tos: the biflowDirection element brings that extension, all
its other values 0) and aggr_flows (1). Our tunnel keys ("tun proto", *_tun_ip) are not
exported. Any other key on either side fails the check, so a new difference shows.

Prints one line and exits 0 when equal, 1 otherwise."""
import collections, json, sys

import nfpcapd_compare

CORE = ['first', 'last', 'in_packets', 'in_bytes', 'proto', 'tcp_flags', 'icmp_type',
        'icmp_code', 'src_port', 'dst_port', 'src_tos', 'src4_addr', 'dst4_addr',
        'src6_addr', 'dst6_addr']
OURS_EXTRA = {'type', 'sampled', 'export_sysid', 'received', 'label', 'tun proto',
              'src4_tun_ip', 'dst4_tun_ip', 'src6_tun_ip', 'dst6_tun_ip'}
COLLECTED_EXTRA = {'type', 'sampled', 'export_sysid', 'received', 'label', 'ip4_router',
                   'ip6_router'}
BIFLOW_EXTRA = {'out_packets', 'out_bytes', 'aggr_flows', 'input_snmp', 'output_snmp',
                'src_mask', 'dst_mask', 'src_net', 'dst_net', 'fwd_status', 'direction',
                'dst_tos'}


def load(path):
    with open(path) as f:
        text = f.read()
    # nfdump 1.7.1 prints "No matching flows" inside the brackets of an empty result.
    text = text.replace('No matching flows\n', '')
    return json.loads(text) if text.strip() else []


def core(r):
    return tuple(r.get(k) for k in CORE)


endpoints = nfpcapd_compare.key  # (src, dst, proto, sport, dport) of an nfdump record


def reverse(k):
    src, dst, proto, sp, dp = k
    return (dst, src, proto, dp, sp)


def direction(r):
    # ICMP: the reply's type is not the request's, and a biflow carries only the
    # forward one; the reverse counters are credited to the reversed addresses.
    k = endpoints(r)
    return k[:3] + (None, None) if k[2] in (1, 58) else k


def unexpected_keys(records, allowed):
    extra = collections.Counter()
    for r in records:
        extra.update(k for k in r if k not in allowed)
    return dict(extra)


def show(counter, n=3):
    return '; '.join(f'{c} x {k}' for k, c in list(counter.items())[:n])


def main():
    mode, ours_path, got_path = sys.argv[1:4]
    ours, got = load(ours_path), load(got_path)
    allowed = set(CORE) | COLLECTED_EXTRA | (BIFLOW_EXTRA if mode == 'biflow' else set())
    bad_keys = unexpected_keys(got, allowed)
    bad_keys.update(unexpected_keys(ours, set(CORE) | OURS_EXTRA))
    if bad_keys:
        print(f'FAIL {mode}: keys not compared and not known to differ: {bad_keys}')
        return 1
    if mode == 'uni':
        a, b = collections.Counter(map(core, ours)), collections.Counter(map(core, got))
        if a != b:
            print(f'FAIL uni: {len(ours)} records sent, {len(got)} collected; '
                  f'only ours: {show(a - b)}; only collected: {show(b - a)}')
            return 1
        print(f'uni: {len(got)} records collected, equal to ours')
        return 0
    # biflow
    fwd_ours = collections.Counter(map(core, ours))
    fwd_got = collections.Counter(map(core, got))
    if fwd_got - fwd_ours:
        print(f'FAIL biflow: forward parts that are none of our records: '
              f'{show(fwd_got - fwd_ours)}')
        return 1
    want = collections.Counter()
    have = collections.Counter()
    for r in ours:
        k = direction(r)
        want[(k, 'p')] += r['in_packets']
        want[(k, 'b')] += r['in_bytes']
    reverse_packets = 0
    for r in got:
        k = direction(r)
        have[(k, 'p')] += r['in_packets']
        have[(k, 'b')] += r['in_bytes']
        have[(reverse(k), 'p')] += r.get('out_packets', 0)
        have[(reverse(k), 'b')] += r.get('out_bytes', 0)
        reverse_packets += r.get('out_packets', 0)
    if +want != +have:
        print(f'FAIL biflow: per-direction sums differ: ours {show(want - have)}; '
              f'collected {show(have - want)}')
        return 1
    if reverse_packets == 0:
        print('FAIL biflow: no reverse counters arrived')
        return 1
    print(f'biflow: {len(got)} biflows collected, {reverse_packets} reverse packets, '
          f'sums equal to our {len(ours)} records')
    return 0


if __name__ == '__main__':
    sys.exit(main())
