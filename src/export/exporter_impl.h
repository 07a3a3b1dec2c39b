/* Internal: what one output format provides. Each format lives in its own file and is
 * listed in the table in exporter.c. */
#ifndef NFM_EXPORT_EXPORTER_IMPL_H
#define NFM_EXPORT_EXPORTER_IMPL_H

#include "export/exporter.h"

struct nfm_exporter_ops {
	enum nfm_format fmt;
	const char *name;
	const char *ext;
	bool allows_stdout;
	/* state: format-private, allocated by open and freed by close/abort. */
	int (*open)(void **state, const char *final_path, const struct nfm_columns *cols,
		    struct nfm_error *err);
	int (*write)(void *state, const struct nfm_flow_record *rec, struct nfm_error *err);
	int (*close)(void *state, struct nfm_error *err);
	void (*abort)(void *state);
};

extern const struct nfm_exporter_ops nfm_exporter_csv;
extern const struct nfm_exporter_ops nfm_exporter_json;
extern const struct nfm_exporter_ops nfm_exporter_jsonl;
extern const struct nfm_exporter_ops nfm_exporter_xlsx;

/* Shared helpers (exporter.c). */
/* Length (1-4) of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0 when the byte at p does not start one. */
size_t nfm_utf8_seq_len(const unsigned char *p, size_t avail);
/* True when a text cell starting with s could be read as a formula by a spreadsheet
 * (= + - @ TAB CR): CSV and XLSX prefix such cells with an apostrophe. */
bool nfm_formula_risky(const char *s);

#endif
