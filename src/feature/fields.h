/* The field table: one list of output columns (name, type, description, accessor) that
 * drives the CSV header, JSON keys, XLSX columns, the preview, --help and the column
 * reference. Adding a column is one line in fields.c plus what it reads. */
#ifndef NFM_FEATURE_FIELDS_H
#define NFM_FEATURE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/record.h"

enum nfm_value_type {
	NFM_V_NULL = 0, /* no value (e.g. a ratio with no backward packets): empty / null */
	NFM_V_STR,      /* text in .s (may come from the wire: exporters must escape) */
	NFM_V_U64,
	NFM_V_F64,      /* finite; printed with the field's precision */
	NFM_V_BOOL,
	NFM_V_TIME,     /* .u = nanoseconds since the epoch, printed as ISO 8601 UTC */
};

struct nfm_value {
	enum nfm_value_type type;
	uint64_t u;
	double f;
	bool b;
	const char *s;    /* points into buf or to a static string */
	char buf[192];
};

/* Which column set a field belongs to. */
enum nfm_field_set {
	NFM_SET_BASE = 1u << 0,   /* the 34 original columns, in the original order */
	NFM_SET_MERGE = 1u << 1,  /* source_file, added by --merge */
	NFM_SET_EXT = 1u << 2,    /* extended columns (--extended) */
};

struct nfm_field {
	const char *name;
	enum nfm_value_type type; /* declared type; a value may also be NFM_V_NULL */
	int precision;            /* decimals for NFM_V_F64 */
	unsigned set;             /* enum nfm_field_set */
	const char *unit;
	const char *desc;
	void (*get)(const struct nfm_flow_record *r, struct nfm_value *out);
};

/* The whole table, in output order. Read-only. */
const struct nfm_field *nfm_fields(size_t *count);
const struct nfm_field *nfm_field_find(const char *name);

/* An ordered selection of columns. */
#define NFM_MAX_COLUMNS 96
struct nfm_columns {
	const struct nfm_field *f[NFM_MAX_COLUMNS];
	size_t n;
};

/* Selects every field whose set intersects mask, in table order. */
void nfm_columns_select(struct nfm_columns *cols, unsigned mask);

/* Formats a value as text (CSV cell / preview / JSON number): integers in decimal,
 * doubles with `precision` decimals, booleans as True/False (as the original Python
 * tool writes them; JSON writes true/false), times as 2024-01-31T23:59:59.123456Z,
 * NULL as "". Returns the length written (truncated to
 * cap - 1 like snprintf). */
size_t nfm_value_format(const struct nfm_value *v, int precision, char *buf, size_t cap);

/* Short names used across outputs. */
const char *nfm_proto_name(uint8_t l3, uint8_t ip_proto, char *buf, size_t cap);
const char *nfm_conn_state_name(unsigned state);     /* "" for NONE */
const char *nfm_end_reason_name(unsigned reason);
/* Address to text (IPv4 dotted, IPv6 RFC 5952). */
const char *nfm_addr_format(uint8_t l3, const uint8_t addr[16], char *buf, size_t cap);

#endif
