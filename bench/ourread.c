/* The read benchmark's loop over our capture reader: nfm_source_open + nfm_source_next,
 * touching nothing. Prints "PACKETS SECONDS" (wall clock, open to close), like
 * bench/readloop.c does for libpcap. --stream forces the read(2) path instead of the
 * memory-mapped one, to compare the two.
 * Usage: nfm-ourread [--stream] FILE */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capture/source.h"
#include "capture/source_int.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned flags = 0;
	int i = 1;
	if (i < argc && strcmp(argv[i], "--stream") == 0) {
		flags |= NFM_SOURCE_NO_MMAP;
		i++;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: %s [--stream] FILE\n", argv[0]);
		return 2;
	}
	struct nfm_error err;
	nfm_error_clear(&err);
	double t0 = now();
	struct nfm_source *s;
	if (nfm_source_open_flags(&s, argv[i], flags, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	struct nfm_raw_packet pkt;
	unsigned long long n = 0;
	int rc;
	while ((rc = nfm_source_next(s, &pkt, &err)) > 0)
		n++;
	if (rc < 0)
		fprintf(stderr, "%s\n", err.msg);
	nfm_source_close(s);
	printf("%llu %.3f\n", n, now() - t0);
	return rc < 0;
}
