/* libFuzzer target for the decoder: the first byte chooses the link type, the second
 * the options (tunnels on/off, depth), the rest is the frame. The frame is copied into
 * an exactly sized heap buffer so AddressSanitizer catches a read one byte past it.
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int links[] = { 0, 1, 9, 12, 14, 50, 51, 101, 104, 108, 113, 228, 229, 239, 276 };
	if (size < 2)
		return 0;
	int link = links[data[0] % (sizeof links / sizeof links[0])];
	struct nfm_decode_options opt = { .tunnels = !(data[1] & 0x80),
					  .max_tunnel_depth = (uint8_t)(data[1] & 7) };
	size_t n = size - 2;
	uint8_t *frame = malloc(n ? n : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 2, n);
	struct nfm_packet p;
	memset(&p, 0, sizeof p);
	p.cap_len = (uint32_t)n;
	p.wire_len = (uint32_t)n + (data[1] & 0x40 ? 1000 : 0); /* sometimes snapped */
	enum nfm_decode_status st = nfm_decode(frame, link, &opt, &p);
	if ((unsigned)st >= NFM_DECODE_STATUS_COUNT)
		abort();
	if (st == NFM_DECODE_OK) {
		/* invariants the flow layer relies on */
		if (p.l3 != NFM_L3_ARP && p.l3 != NFM_L3_IPV4 && p.l3 != NFM_L3_IPV6)
			abort();
		if (p.l3 != NFM_L3_ARP && p.l4_payload_len > p.ip_len)
			abort();
		if (p.wire_len < p.cap_len || p.tunnel_depth > opt.max_tunnel_depth)
			abort();
	}
	free(frame);
	return 0;
}
