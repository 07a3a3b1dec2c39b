/* Internal: what one output format provides. Each format lives in its own file and is
 * listed in the table in exporter.c. */
#ifndef NFM_EXPORT_EXPORTER_IMPL_H
#define NFM_EXPORT_EXPORTER_IMPL_H

#include "export/exporter.h"
#include "util/outset.h"
#include "util/text.h"

struct nfm_exporter_ops {
	enum nfm_format fmt;
	const char *name;
	const char *ext;
	bool allows_stdout;
	bool by_name;        /* a library opens the file itself, by out->write_path */
	/* state: format-private, allocated by open and freed by close/abort. open writes
	 * into out (out->fp, or by name); close completes the content (the output set puts
	 * the file in place); abort only frees (the set discards the file). */
	int (*open)(void **state, struct nfm_outfile *out, const struct nfm_columns *cols,
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
/* True when a text cell starting with s could be read as a formula by a spreadsheet
 * (= + - @ TAB CR): CSV and XLSX prefix such cells with an apostrophe. */
bool nfm_formula_risky(const char *s);

#endif
