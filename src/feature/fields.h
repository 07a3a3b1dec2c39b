/* The field table: one list of output columns (name, type, description, accessor) that
 * drives the CSV header, JSON keys, XLSX columns, the preview, --help and the column
 * reference. The engine's columns are in fields.c; a feature module (flow/module.h)
 * brings its own, whose accessors also receive the module's per-flow state. Values are
 * typed (addresses, protocol numbers, ports, flags, counters, times), so binary
 * exporters read the same table as the text ones; only a text exporter turns them into
 * characters (nfm_value_format). */
#ifndef NFM_FEATURE_FIELDS_H
#define NFM_FEATURE_FIELDS_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/record.h"
#include "util/err.h"

enum nfm_value_type {
	NFM_V_NULL = 0, /* no value (e.g. a ratio with no backward packets): empty / null */
	NFM_V_STR,      /* text in .s (may come from the wire: exporters must escape) */
	NFM_V_U64,
	NFM_V_F64,      /* finite; printed with the field's precision */
	NFM_V_BOOL,
	NFM_V_TIME,     /* .u = nanoseconds since the epoch, printed as ISO 8601 UTC */
	NFM_V_ADDR,     /* .addr, .l3: an IPv4 (also ARP) or IPv6 address, printed RFC 5952 */
	NFM_V_PROTO,    /* .u = IP protocol number, .l3: printed TCP, UDP, ..., ARP, or the number */
	NFM_V_TCPFLAGS, /* .u = TCP flag bits (FIN 0x01 ... CWR 0x80), printed FIN|SYN|... */
	NFM_V_I64,      /* .i: a signed integer */
	NFM_V_LIST,     /* .list: integers, printed [a, b, c] (the same text is a JSON array) */
};

/* A list of integers read through an accessor (e.g. from a module's state, valid while
 * the record is encoded), so a list needs no storage of its own. */
#define NFM_LIST_MAX 255u
struct nfm_value_list {
	const void *base;
	size_t n;                                   /* elements, at most NFM_LIST_MAX */
	int64_t (*at)(const void *base, size_t i);  /* element i < n */
};

/* Room for the text of any list: brackets, n elements of at most 20 characters, and a
 * ", " between two. */
#define NFM_LIST_TEXT_MAX (2u + NFM_LIST_MAX * 22u)

struct nfm_value {
	enum nfm_value_type type;
	uint8_t l3;       /* NFM_V_ADDR, NFM_V_PROTO */
	uint8_t addr[16]; /* NFM_V_ADDR */
	uint64_t u;
	int64_t i;        /* NFM_V_I64 */
	struct nfm_value_list list; /* NFM_V_LIST */
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
	/* state: the module's per-flow state for a module's field; NULL for the engine's. */
	void (*get)(const struct nfm_flow_record *r, const void *state, struct nfm_value *out);
};

/* Typed values for the field tables' getters; a decimal that is not finite is written
 * as 0 (no NaN or Infinity in any output). */
static inline void nfm_value_u64(struct nfm_value *v, uint64_t u)
{
	v->type = NFM_V_U64;
	v->u = u;
}

static inline void nfm_value_f64(struct nfm_value *v, double f)
{
	v->type = NFM_V_F64;
	v->f = isfinite(f) ? f : 0.0;
}

/* Whether the flow's key has ports (TCP, UDP, SCTP). */
bool nfm_record_has_ports(const struct nfm_flow_record *r);

/* Getters of the identity as the peers' profiles write it (cic, nfstream): ports 0 for
 * a protocol without ports, protocol 0 for ARP. */
void nfm_get_peer_src_port(const struct nfm_flow_record *r, const void *state, struct nfm_value *v);
void nfm_get_peer_dst_port(const struct nfm_flow_record *r, const void *state, struct nfm_value *v);
void nfm_get_peer_protocol(const struct nfm_flow_record *r, const void *state, struct nfm_value *v);

struct nfm_layout;

/* The engine's table, in output order. Read-only. */
const struct nfm_field *nfm_fields(size_t *count);
/* An engine field by name, or NULL. */
const struct nfm_field *nfm_field_find(const char *name);

/* An ordered selection of columns, of any length. off[i] is where field i's module state
 * lies in a record's module area (SIZE_MAX for the engine's fields). Start from
 * { 0 }; selecting again replaces the columns; nfm_columns_free releases them. */
struct nfm_columns {
	const struct nfm_field **f;
	size_t *off;
	const char **name;        /* the column's name in the output when a profile renames
				   * the field (header variants), else NULL */
	size_t n, cap;
};

/* The name column i is written under (CSV header, JSON key, XLSX header). */
static inline const char *nfm_column_name(const struct nfm_columns *c, size_t i)
{
	return c->name[i] ? c->name[i] : c->f[i]->name;
}

/* Every engine field whose set intersects mask, in table order, then the fields of each
 * module of layout (may be NULL) whose set intersects mask, in module order. Returns 0,
 * or NFM_ERR_NOMEM. */
int nfm_columns_select(struct nfm_columns *cols, unsigned mask, const struct nfm_layout *layout);
/* The columns named in list ("a,b,c"), engine or module (layout) fields; an unknown
 * name is an error (NFM_ERR_INVALID, naming it). */
int nfm_columns_parse(struct nfm_columns *cols, const char *list, const struct nfm_layout *layout,
		      struct nfm_error *err);
/* Appends one field (off: its module state's offset, or SIZE_MAX). */
int nfm_columns_add(struct nfm_columns *cols, const struct nfm_field *f, size_t off);
/* The same, written under name (not copied: a static string; NULL: the field's name). */
int nfm_columns_add_named(struct nfm_columns *cols, const struct nfm_field *f, size_t off,
			  const char *name);
/* The field named name of the engine or of a module of layout (may be NULL), with its
 * module state's offset in *off (SIZE_MAX for the engine's); NULL when none. */
const struct nfm_field *nfm_field_lookup(const char *name, size_t n, const struct nfm_layout *layout,
					 size_t *off);
void nfm_columns_free(struct nfm_columns *cols);

/* The value of column i for r. A module's field reads nothing when r carries no module
 * state (NULL value). */
static inline void nfm_column_get(const struct nfm_columns *c, size_t i,
				  const struct nfm_flow_record *r, struct nfm_value *v)
{
	const void *state = NULL;
	if (c->off[i] != SIZE_MAX) {
		if (!r->modules) {
			v->type = NFM_V_NULL;
			v->s = NULL;
			return;
		}
		state = r->modules + c->off[i];
	}
	c->f[i]->get(r, state, v);
}

/* Formats a value as text (CSV cell / preview / JSON number): integers in decimal,
 * lists as [1, -1] (at most NFM_LIST_TEXT_MAX bytes), doubles with `precision` decimals, booleans as True/False (as the original Python
 * tool writes them; JSON writes true/false), times as 2024-01-31T23:59:59.123456Z,
 * NULL as "". Returns the length written (truncated to
 * cap - 1 like snprintf). */
size_t nfm_value_format(const struct nfm_value *v, int precision, char *buf, size_t cap);

/* Room the text of a value that nfm_value_is_plain may need (a double beyond the exact
 * path prints through printf: at most 327 characters). */
#define NFM_VALUE_ROOM 512
/* The same text for a plain value, written at d (room for NFM_VALUE_ROOM bytes, no
 * terminator); returns its length. The fast path of the text exporters. */
size_t nfm_value_put(const struct nfm_value *v, int precision, char *d);
/* The text of a double as nfm_value_put writes an NFM_V_F64 (not finite: 0). */
size_t nfm_f64_put(char *d, double f, int precision);

/* Short names used across outputs. */
const char *nfm_proto_name(uint8_t l3, uint8_t ip_proto, char *buf, size_t cap);
const char *nfm_conn_state_name(unsigned state);     /* "" for NONE */
const char *nfm_end_reason_name(unsigned reason);
/* Address to text (IPv4 dotted, IPv6 RFC 5952). nfm_addr_put writes it at d (room for
 * 48 bytes, no terminator) and returns its length (0 for an l3 without addresses). */
size_t nfm_addr_put(char *d, uint8_t l3, const uint8_t addr[16]);
/* The flow_id text of r at d (room for 144 bytes: at most 2 * (1 + 45 + 1 + 6) + 5 + 1 + 6
 * + 11, no terminator); returns its length. addr_at / addr_len (may be NULL) receive
 * where each address's text lies in it (source, destination). */
size_t nfm_flow_id_put(const struct nfm_flow_record *r, char *d, size_t addr_at[2],
		       size_t addr_len[2]);
/* TCP flag names in FIN|SYN|RST|PSH|ACK|URG|ECE|CWR order at d (room for 32 bytes, no
 * terminator); returns the length. */
size_t nfm_tcp_flags_put(char *d, unsigned flags);
const char *nfm_addr_format(uint8_t l3, const uint8_t addr[16], char *buf, size_t cap);
/* True for values whose text never needs quoting or escaping in CSV or JSON (numbers,
 * times, addresses, protocol names, flag names; a list needs quotes in CSV). */
static inline bool nfm_value_is_plain(enum nfm_value_type t)
{
	return t != NFM_V_STR && t != NFM_V_NULL && t != NFM_V_LIST;
}

#endif
