/* Profiles: named column sets for the users of other flow meters (--profile). A profile
 * is data: the feature modules it needs, its columns in order (each an engine or module
 * field, optionally written under another name: header variants such as cic2018 are
 * profiles over the same fields), and the flow timeouts of the peer it follows (the user
 * may override them). One file per profile family (profile_NAME.c) defines const struct
 * nfm_profile objects; profiles.c lists them, one line each. */
#ifndef NFM_FEATURE_PROFILE_H
#define NFM_FEATURE_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "feature/fields.h"
#include "flow/module.h"

struct nfm_profile_column {
	const char *field;   /* a field's name in the engine's table or a module's */
	const char *header;  /* the name written for it in this profile; NULL: field */
};

struct nfm_profile {
	const char *name;
	const char *desc;    /* one line for --list-profiles */
	const struct nfm_module *const *modules; /* the modules its columns need */
	size_t nmodules;
	/* The columns: either a list, or (columns NULL) every engine and module field whose
	 * set intersects set_mask (enum nfm_field_set), in table order. */
	const struct nfm_profile_column *columns;
	size_t ncolumns;
	unsigned set_mask;
	/* The peer's flow timeouts (0: off), used unless --flow-timeout / --active-timeout
	 * are given; timeouts_doc says where they come from. */
	uint64_t idle_timeout_ns, active_timeout_ns;
	const char *timeouts_doc;
};

#endif
