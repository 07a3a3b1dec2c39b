#include "export/slice.h"

#include <time.h>

static const char *const layouts[NFM_SLICE_SUBDIR_MAX + 1] = {
	"", "%Y/%m/%d", "%Y/%m/%d/%H", "%Y/%W/%u", "%Y/%W/%u/%H", "%Y/%j", "%Y/%j/%H",
	"%Y-%m-%d", "%Y-%m-%d/%H",
};

const char *nfm_slice_layout(unsigned subdirs)
{
	return subdirs <= NFM_SLICE_SUBDIR_MAX ? layouts[subdirs] : NULL;
}

static bool broken_down(const struct nfm_slice_spec *s, uint64_t start_ns, struct tm *tm)
{
	time_t t = (time_t)(start_ns / 1000000000u);
	return s->localtime ? localtime_r(&t, tm) != NULL : gmtime_r(&t, tm) != NULL;
}

size_t nfm_slice_name(const struct nfm_slice_spec *s, uint64_t start_ns, char *buf, size_t cap)
{
	struct tm tm;
	if (!broken_down(s, start_ns, &tm))
		return 0;
	const char *fmt = s->slice_ns < 60000000000ull ? "nfcapd.%Y%m%d%H%M%S" : "nfcapd.%Y%m%d%H%M";
	return strftime(buf, cap, fmt, &tm);
}

size_t nfm_slice_subdir(const struct nfm_slice_spec *s, uint64_t start_ns, char *buf, size_t cap)
{
	if (s->subdirs > NFM_SLICE_SUBDIR_MAX)
		return SIZE_MAX;
	if (s->subdirs == 0) {
		if (cap)
			buf[0] = '\0';
		return cap ? 0 : SIZE_MAX;
	}
	struct tm tm;
	if (!broken_down(s, start_ns, &tm))
		return SIZE_MAX;
	size_t n = strftime(buf, cap, layouts[s->subdirs], &tm);
	return n ? n : SIZE_MAX;
}
