/* Baseline for the read benchmark: the bare libpcap loop over a capture file,
 * pcap_open_offline + pcap_next_ex, touching nothing but the record headers libpcap fills
 * in anyway. Prints "PACKETS SECONDS" (wall clock, open to close). This is what "merely
 * reading the file" costs with libpcap; bench/ourread.c is the same loop over nfm_source.
 * Usage: nfm-readloop FILE */
#include <stdio.h>
#include <time.h>

#include <pcap/pcap.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	char errbuf[PCAP_ERRBUF_SIZE];
	double t0 = now();
	pcap_t *p = pcap_open_offline(argv[1], errbuf);
	if (!p) {
		fprintf(stderr, "%s: %s\n", argv[1], errbuf);
		return 1;
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long long n = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1)
		n++;
	int status = 0;
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "%s: %s\n", argv[1], pcap_geterr(p));
		status = 1;
	}
	pcap_close(p);
	printf("%llu %.3f\n", n, now() - t0);
	return status;
}
