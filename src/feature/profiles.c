/* The profile registry, and the layout and columns a run builds from a profile or from a
 * list of columns (feature/profiles.h). */
#include "feature/profiles.h"

#include <stdlib.h>
#include <string.h>

#include "feature/modules.h"
#include "flow/meter.h"

/* One line per profile: X(ID) names the const struct nfm_profile nfm_profile_ID that a
 * profile_*.c file defines. The first is the default; --list-profiles, docs/profiles.md
 * and the search of --columns follow this order. */
#define NFM_PROFILE_LIST(X) \
	X(nexus)            \
	X(extended)         \
	X(cic) X(cic2018) X(cic_v4) X(cic_fixed) \
	X(nfstream)

#define NFM_PROFILE_DECLARE(id) extern const struct nfm_profile nfm_profile_##id;
NFM_PROFILE_LIST(NFM_PROFILE_DECLARE)
#define NFM_PROFILE_ENTRY(id) &nfm_profile_##id,
static const struct nfm_profile *const profiles[] = { NFM_PROFILE_LIST(NFM_PROFILE_ENTRY) };

#define NPROFILES (sizeof profiles / sizeof profiles[0])

const struct nfm_profile *nfm_profile_find(const char *name)
{
	for (size_t i = 0; name && i < NPROFILES; i++)
		if (strcmp(profiles[i]->name, name) == 0)
			return profiles[i];
	return NULL;
}

const struct nfm_profile *nfm_profile_at(size_t i)
{
	return i < NPROFILES ? profiles[i] : NULL;
}

const struct nfm_profile *nfm_profile_default(void)
{
	return profiles[0];
}

/* ---- columns resolved by name, before the layout exists ---- */

struct pick {
	const struct nfm_field *f;
	const struct nfm_module *mod; /* whose field it is; NULL: the engine's */
	const char *name;             /* written under; NULL: the field's name */
};

struct picks {
	struct pick *v;
	size_t n, cap;
};

static int picks_add(struct picks *p, const struct nfm_field *f, const struct nfm_module *mod,
		     const char *name)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct pick *v = realloc(p->v, cap * sizeof *v);
		if (!v)
			return NFM_ERR_NOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct pick){ f, mod, name };
	return 0;
}

/* s is exactly the len bytes at name. */
static bool same(const char *s, const char *name, size_t len)
{
	return s && strlen(s) == len && memcmp(s, name, len) == 0;
}

static const struct nfm_field *module_field(const struct nfm_module *m, const char *name, size_t len)
{
	for (size_t i = 0; i < m->nfields; i++)
		if (same(m->fields[i].name, name, len))
			return &m->fields[i];
	return NULL;
}

/* The field called name among the engine's and those of the n modules of mods. */
static bool find_field(const char *name, size_t len, const struct nfm_module *const *mods, size_t n,
		       struct pick *out)
{
	size_t nf;
	const struct nfm_field *f = nfm_fields(&nf);
	for (size_t i = 0; i < nf; i++)
		if (same(f[i].name, name, len)) {
			*out = (struct pick){ &f[i], NULL, NULL };
			return true;
		}
	for (size_t m = 0; m < n; m++)
		if ((f = module_field(mods[m], name, len))) {
			*out = (struct pick){ f, mods[m], NULL };
			return true;
		}
	return false;
}

/* A field's name in the engine's table or of any known module. */
static bool find_any_field(const char *name, size_t len, struct pick *out)
{
	if (find_field(name, len, NULL, 0, out))
		return true;
	const struct nfm_module *m;
	for (size_t i = 0; (m = nfm_module_at(i)); i++) {
		const struct nfm_field *f = module_field(m, name, len);
		if (f) {
			*out = (struct pick){ f, m, NULL };
			return true;
		}
	}
	return false;
}

/* Column c of profile p, resolved; NFM_ERR_INVALID when p names a field it lacks. */
static int profile_column(const struct nfm_profile *p, const struct nfm_profile_column *c,
			  struct pick *out, struct nfm_error *err)
{
	if (!find_field(c->field, strlen(c->field), p->modules, p->nmodules, out))
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "profile %s: column '%s' is no field of the engine or of the profile's modules",
				     p->name, c->field);
	out->name = c->header;
	return 0;
}

/* The column a profile writes under name, searched in p. */
static int find_header(const struct nfm_profile *p, const char *name, size_t len, struct pick *out,
		       struct nfm_error *err)
{
	for (size_t i = 0; i < p->ncolumns; i++)
		if (same(p->columns[i].header, name, len)) {
			int rc = profile_column(p, &p->columns[i], out, err);
			return rc ? rc : 1;
		}
	return 0;
}

/* One name of a --columns list: a field, a header of the chosen profile, or a header of
 * any profile. */
static int resolve_name(const struct nfm_profile *chosen, const char *name, size_t len,
			struct pick *out, struct nfm_error *err)
{
	if (find_any_field(name, len, out))
		return 0;
	int rc = find_header(chosen, name, len, out, err);
	for (size_t i = 0; rc == 0 && i < NPROFILES; i++)
		if (profiles[i] != chosen)
			rc = find_header(profiles[i], name, len, out, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return nfm_error_set(err, NFM_ERR_INVALID, "unknown column '%.*s'",
				     (int)(len > 64 ? 64 : len), name);
	return 0;
}

static int picks_from_list(const struct nfm_profile *p, const char *list, struct picks *pk,
			   struct nfm_error *err)
{
	for (const char *s = list;; s++) {
		size_t n = strcspn(s, ",");
		if (n == 0)
			return nfm_error_set(err, NFM_ERR_INVALID, "empty column name%s",
					     s == list ? (*s ? " before the first comma" : "") :
					     *s ? " between commas" : " after the last comma");
		struct pick one;
		int rc = resolve_name(p, s, n, &one, err);
		if (rc)
			return rc;
		/* Written under the name given: a field's own, or the profile's. */
		if (picks_add(pk, one.f, one.mod, one.name))
			return NFM_ERR_NOMEM;
		s += n;
		if (!*s)
			break;
	}
	return 0;
}

static int picks_from_profile(const struct nfm_profile *p, unsigned extra_sets, struct picks *pk,
			      struct nfm_error *err)
{
	if (p->columns) {
		for (size_t i = 0; i < p->ncolumns; i++) {
			struct pick one;
			int rc = profile_column(p, &p->columns[i], &one, err);
			if (rc)
				return rc;
			if (picks_add(pk, one.f, one.mod, one.name))
				return NFM_ERR_NOMEM;
		}
		return 0;
	}
	unsigned mask = p->set_mask | extra_sets;
	size_t nf;
	const struct nfm_field *f = nfm_fields(&nf);
	for (size_t i = 0; i < nf; i++)
		if ((f[i].set & mask) && picks_add(pk, &f[i], NULL, NULL))
			return NFM_ERR_NOMEM;
	for (size_t m = 0; m < p->nmodules; m++) {
		const struct nfm_module *mod = p->modules[m];
		for (size_t i = 0; i < mod->nfields; i++)
			if ((mod->fields[i].set & mask) && picks_add(pk, &mod->fields[i], mod, NULL))
				return NFM_ERR_NOMEM;
	}
	return 0;
}

/* Appends m to mods unless it is there. */
static int add_module(const struct nfm_module **mods, size_t *n, const struct nfm_module *m,
		      struct nfm_error *err)
{
	for (size_t i = 0; i < *n; i++)
		if (mods[i] == m)
			return 0;
	if (*n == NFM_MAX_MODULES)
		return nfm_error_set(err, NFM_ERR_INVALID, "more than %d feature modules",
				     NFM_MAX_MODULES);
	mods[(*n)++] = m;
	return 0;
}

int nfm_profile_build(const struct nfm_profile_spec *spec, struct nfm_layout *layout,
		      struct nfm_columns *cols, struct nfm_error *err)
{
	const struct nfm_profile *p = spec->profile ? spec->profile : nfm_profile_default();
	struct picks pk = { 0 };
	const struct nfm_module *mods[NFM_MAX_MODULES];
	size_t nmods = 0;
	/* source_file goes where its set puts it in a profile of field sets (after the 34
	 * columns, as it always has), else last. */
	bool by_sets = !spec->columns && !p->columns;
	int rc = spec->columns ? picks_from_list(p, spec->columns, &pk, err)
			       : picks_from_profile(p, spec->source_file ? NFM_SET_MERGE : 0, &pk, err);
	if (rc == 0 && spec->source_file && !by_sets) {
		const struct nfm_field *sf = nfm_field_find("source_file");
		bool have = false;
		for (size_t i = 0; i < pk.n; i++)
			have |= pk.v[i].f == sf;
		if (!have && picks_add(&pk, sf, NULL, NULL))
			rc = NFM_ERR_NOMEM;
	}
	if (rc == 0 && !spec->columns)
		for (size_t i = 0; i < p->nmodules && rc == 0; i++)
			rc = add_module(mods, &nmods, p->modules[i], err);
	for (size_t i = 0; i < pk.n && rc == 0; i++)
		if (pk.v[i].mod)
			rc = add_module(mods, &nmods, pk.v[i].mod, err);
	for (size_t i = 0; i < spec->nextra && rc == 0; i++)
		rc = add_module(mods, &nmods, spec->extra[i], err);
	for (size_t i = 0; i < spec->nmore && rc == 0; i++) {
		const struct nfm_module *m = spec->more[i];
		rc = add_module(mods, &nmods, m, err);
		for (size_t k = 0; k < m->nfields && rc == 0; k++)
			if (picks_add(&pk, &m->fields[k], m, NULL))
				rc = NFM_ERR_NOMEM;
	}
	if (rc == 0)
		rc = nfm_layout_build(layout, mods, nmods, err);
	cols->n = 0;
	for (size_t i = 0; i < pk.n && rc == 0; i++) {
		size_t off = pk.v[i].mod ? nfm_layout_offset(layout, pk.v[i].mod) : SIZE_MAX;
		if (nfm_columns_add_named(cols, pk.v[i].f, off, pk.v[i].name))
			rc = NFM_ERR_NOMEM;
	}
	free(pk.v);
	if (rc == NFM_ERR_NOMEM)
		nfm_error_set(err, rc, "out of memory");
	if (rc)
		nfm_columns_free(cols);
	return rc;
}

int nfm_profile_size(const struct nfm_profile *p, size_t *ncolumns, size_t *flow_bytes,
		     struct nfm_error *err)
{
	struct nfm_profile_spec spec = { .profile = p };
	struct nfm_layout layout;
	struct nfm_columns cols = { 0 };
	int rc = nfm_profile_build(&spec, &layout, &cols, err);
	if (rc == 0) {
		*ncolumns = cols.n;
		*flow_bytes = nfm_meter_flow_bytes(&layout);
	}
	nfm_columns_free(&cols);
	return rc;
}
