/* The profile registry: every profile the program knows (one line each in profiles.c),
 * found by name, and what a run builds from one: the feature modules its columns need
 * (the layout) and its columns in order, written under the profile's names.
 *
 * Adding a profile (docs/architecture.md): define a const struct nfm_profile named
 * nfm_profile_ID in a profile family's file (src/feature/profile_FAMILY.c) and add
 * X(ID) to NFM_PROFILE_LIST in profiles.c. */
#ifndef NFM_FEATURE_PROFILES_H
#define NFM_FEATURE_PROFILES_H

#include <stdbool.h>
#include <stddef.h>

#include "feature/fields.h"
#include "feature/profile.h"
#include "flow/module.h"
#include "util/err.h"

/* A column list of a profile: NFM_PROFILE_COLUMNS(array) fills .columns and .ncolumns;
 * NFM_PROFILE_MODULES(array) fills .modules and .nmodules. */
#define NFM_PROFILE_COLUMNS(a) .columns = (a), .ncolumns = sizeof(a) / sizeof((a)[0])
#define NFM_PROFILE_MODULES(a) .modules = (a), .nmodules = sizeof(a) / sizeof((a)[0])

/* By name (exact), or NULL. */
const struct nfm_profile *nfm_profile_find(const char *name);
/* The i-th profile, in registry order, or NULL past the last. */
const struct nfm_profile *nfm_profile_at(size_t i);
/* The profile of a run that names none: nexus. */
const struct nfm_profile *nfm_profile_default(void);

/* What a run writes. */
struct nfm_profile_spec {
	const struct nfm_profile *profile; /* NULL: the default */
	/* Any columns of any profile instead of the profile's own: names separated by
	 * commas, each a field's name (engine or module; written under that name) or a
	 * profile's column name (written under that name; the chosen profile's columns are
	 * searched first, then every profile's in registry order). NULL: the profile's
	 * columns. The string must outlive the columns built from it. */
	const char *columns;
	bool source_file;                  /* add source_file (--merge) */
	/* Modules the outputs need besides those of the columns (the NetFlow formats'). */
	const struct nfm_module *const *extra;
	size_t nextra;
	/* Modules whose every field is written after the columns above (--splt N). */
	const struct nfm_module *const *more;
	size_t nmore;
};

/* Builds the layout (the modules the columns need: the profile's own, or with a
 * column list those of the columns named, in order of first need; then extra) and the
 * columns. cols is replaced (start from { 0 }; free with nfm_columns_free). Returns 0,
 * NFM_ERR_INVALID (an unknown or empty column name, or a profile naming a field that is
 * not there: the message says which), or NFM_ERR_NOMEM. */
int nfm_profile_build(const struct nfm_profile_spec *spec, struct nfm_layout *layout,
		      struct nfm_columns *cols, struct nfm_error *err);

/* Bytes one flow of a run with layout holds (flow/meter.h: nfm_meter_flow_bytes), and
 * the number of columns, for a profile's own columns: what --list-profiles shows.
 * Returns 0 or an error of nfm_profile_build. */
int nfm_profile_size(const struct nfm_profile *p, size_t *ncolumns, size_t *flow_bytes,
		     struct nfm_error *err);

#endif
