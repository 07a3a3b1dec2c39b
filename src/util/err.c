#include "util/err.h"

#include <stdio.h>
#include <string.h>

const char *nfm_strerror(int code)
{
	switch (code) {
	case NFM_OK: return "success";
	case NFM_ERR_NOMEM: return "out of memory";
	case NFM_ERR_IO: return "input/output error";
	case NFM_ERR_FORMAT: return "not a pcap or pcapng capture";
	case NFM_ERR_TRUNCATED: return "capture is truncated";
	case NFM_ERR_UNSUPPORTED: return "unsupported";
	case NFM_ERR_INVALID: return "invalid argument";
	case NFM_ERR_CORRUPT: return "corrupt capture";
	case NFM_ERR_LIMIT: return "limit reached";
	case NFM_ERR_INTERRUPTED: return "interrupted";
	default: return "unknown error";
	}
}

static int set_v(struct nfm_error *err, int code, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	return code;
}

int nfm_error_set(struct nfm_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_v(err, code, fmt, ap);
	va_end(ap);
	if (err)
		err->has_offset = 0;
	return code;
}

int nfm_error_set_at(struct nfm_error *err, int code, uint64_t offset, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_v(err, code, fmt, ap);
	va_end(ap);
	if (err) {
		err->has_offset = 1;
		err->offset = offset;
	}
	return code;
}

void nfm_error_clear(struct nfm_error *err)
{
	if (err)
		memset(err, 0, sizeof *err);
}
