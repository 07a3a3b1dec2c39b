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

#endif
