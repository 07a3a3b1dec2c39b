/* The feature modules the program knows, by name (one line each in modules.c). A module
 * is one file in src/feature/ (mod_NAME.c) defining a const struct nfm_module
 * (flow/module.h); profiles (sets of modules and columns) are built from this list. */
#ifndef NFM_FEATURE_MODULES_H
#define NFM_FEATURE_MODULES_H

#include <stddef.h>

#include "flow/module.h"

extern const struct nfm_module nfm_mod_tunnel;

/* By name, or NULL. */
const struct nfm_module *nfm_module_find(const char *name);
/* The i-th known module, or NULL past the last. */
const struct nfm_module *nfm_module_at(size_t i);

#endif
