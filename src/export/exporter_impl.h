/* Internal: what one output format provides (exporter.h says how the halves are used).
 * Each format lives in its own file and is listed in the table in exporter.c. */
#ifndef NFM_EXPORT_EXPORTER_IMPL_H
#define NFM_EXPORT_EXPORTER_IMPL_H

#include "export/exporter.h"
#include "util/outset.h"
#include "util/text.h"

struct nfm_exporter_ops {
	const char *name;
	const char *const *aliases;  /* other names, NULL-terminated; NULL when none */
	const char *ext;             /* file extension, without the dot */
	bool allows_stdout;
	bool listed;                 /* a format for files of flows (-of); false: the preview */
	bool netflow;                /* writes NetFlow records (feature/netflow.h): the run
				      * adds the netflow module to its layout */
	bool sliced;                 /* a format of time slices (--slice defaults to 300) */
	const char *scheme;          /* a network exporter: the URL scheme it serves
				      * ("ipfix", "netflow9"; --export), else NULL */
	/* open: allocates the state, creates the file in dest->set (nfm_outset_create). */
	int (*open)(void **state, const struct nfm_export_dest *dest,
		    const struct nfm_columns *cols, struct nfm_error *err);
	/* encode: appends rec's row to row; reads only what open set up in state. */
	int (*encode)(const void *state, const struct nfm_flow_record *rec, struct nfm_buf *row);
	/* write: one row, in order. */
	int (*write)(void *state, const uint8_t *row, size_t len, struct nfm_error *err);
	int (*tick)(void *state, uint64_t now_ns, struct nfm_error *err); /* NULL: none */
	/* A format that holds every time slice in one output (nfdump-dict): a slice
	 * begins; name is the slice's file name (export/slice.h). Rows written after it
	 * belong to it. NULL for the others, which get one output per slice. */
	int (*slice)(void *state, const char *name, struct nfm_error *err);
	/* flush: writes or sends what is pending, so that counts are final before close
	 * (a network exporter's last message). Optional. */
	int (*flush)(void *state, struct nfm_error *err);
	/* close: completes the content and frees the state; abort only frees. */
	int (*close)(void *state, struct nfm_error *err);
	void (*abort)(void *state);
	/* What was sent or written so far (records, messages, bytes): for the report.
	 * Optional; writer side. */
	void (*counts)(const void *state, struct nfm_export_counts *c);
};

extern const struct nfm_exporter_ops nfm_exporter_csv;
extern const struct nfm_exporter_ops nfm_exporter_json;
extern const struct nfm_exporter_ops nfm_exporter_jsonl;
extern const struct nfm_exporter_ops nfm_exporter_xlsx;
extern const struct nfm_exporter_ops nfm_exporter_preview;
extern const struct nfm_exporter_ops nfm_exporter_nfdump;
extern const struct nfm_exporter_ops nfm_exporter_nfdump_dict;
extern const struct nfm_exporter_ops nfm_exporter_ipfix;
extern const struct nfm_exporter_ops nfm_exporter_netflow9;
extern const struct nfm_exporter_ops nfm_exporter_nfcapd;

/* True when a text cell starting with s could be read as a formula by a spreadsheet
 * (= + - @ TAB CR): CSV and XLSX prefix such cells with an apostrophe. */
bool nfm_formula_risky(const char *s);

#endif
