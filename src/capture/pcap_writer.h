/* A small classic-pcap writer: used by tests and the sample/benchmark generator to make
 * deterministic captures. The file appears, complete, only when close succeeds
 * (util/outset.h); "-" writes to standard output. */
#ifndef NFM_CAPTURE_PCAP_WRITER_H
#define NFM_CAPTURE_PCAP_WRITER_H

#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

struct nfm_pcap_writer;

/* nanosecond selects the a1b23c4d magic; otherwise microsecond timestamps. */
int nfm_pcap_writer_open(struct nfm_pcap_writer **out, const char *path, int linktype,
			 uint32_t snaplen, int nanosecond, struct nfm_error *err);
/* Writes one record; cap_len bytes of data, wire_len is the original length. */
int nfm_pcap_writer_write(struct nfm_pcap_writer *w, uint64_t ts_ns, const uint8_t *data,
			  uint32_t cap_len, uint32_t wire_len, struct nfm_error *err);
/* Flushes and closes; reports a write error that happened at any point. NULL is fine. */
int nfm_pcap_writer_close(struct nfm_pcap_writer *w, struct nfm_error *err);

#endif
