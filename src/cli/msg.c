#include "cli/msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/text.h"

#define MSG_PREFIX "nexusflowmeter: "

void nfm_vmsg(const char *fmt, va_list ap)
{
	char text[2048], line[4 * sizeof text + 32];
	vsnprintf(text, sizeof text, fmt, ap);
	size_t n = sizeof MSG_PREFIX - 1;
	memcpy(line, MSG_PREFIX, n);
	n += nfm_escape_line(text, line + n, sizeof line - n - 1);
	line[n++] = '\n';
	fflush(stderr); /* anything stdio still holds goes first */
	for (size_t off = 0; off < n;) {
		ssize_t w = write(STDERR_FILENO, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

void nfm_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	nfm_vmsg(fmt, ap);
	va_end(ap);
}
