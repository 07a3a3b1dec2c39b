/* Messages on standard error: "nexusflowmeter: TEXT\n", one line whatever the text holds
 * (file names are escaped, util/text.h), written with one write(2) so the lines of
 * conversions running at once never mix or vanish. */
#ifndef NFM_CLI_MSG_H
#define NFM_CLI_MSG_H

#include <stdarg.h>

void nfm_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nfm_vmsg(const char *fmt, va_list ap);

#endif
