/* Time slices of packet time, named as nfcapd names its files: nfcapd.YYYYMMDDhhmm (with
 * seconds, nfcapd.YYYYMMDDhhmmss, when a slice is shorter than a minute) after the
 * slice's start, optionally under a subdirectory layout of nfcapd's -S (1-8). UTC unless
 * localtime is asked for (nfcapd and nfpcapd use the local time zone). */
#ifndef NFM_EXPORT_SLICE_H
#define NFM_EXPORT_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NFM_SLICE_SUBDIR_MAX 8

struct nfm_slice_spec {
	uint64_t slice_ns;   /* length of a slice (a whole number of seconds) */
	unsigned subdirs;    /* 0: none; 1-8: nfcapd -S layouts */
	bool localtime;      /* names in local time (TZ) instead of UTC */
};

/* "nfcapd.YYYYMMDDhhmm[ss]" of the slice starting at start_ns. Returns the length, or 0
 * when cap is too small or the time cannot be represented. */
size_t nfm_slice_name(const struct nfm_slice_spec *s, uint64_t start_ns, char *buf, size_t cap);
/* The subdirectory of the slice ("2021/01/05" for layout 1), "" for layout 0. Returns
 * the length, or SIZE_MAX on error. */
size_t nfm_slice_subdir(const struct nfm_slice_spec *s, uint64_t start_ns, char *buf, size_t cap);
/* The strftime pattern of a layout (for help and docs), "" for 0, NULL past 8. */
const char *nfm_slice_layout(unsigned subdirs);

#endif
