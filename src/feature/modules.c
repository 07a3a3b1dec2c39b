#include "feature/modules.h"
#include "feature/cic.h"
#include "feature/netflow.h"
#include "feature/nfstream.h"

#include <string.h>

/* One line per module. */
static const struct nfm_module *const modules[] = {
	&nfm_mod_tunnel,
	&nfm_mod_netflow,
	&nfm_mod_cic,
	&nfm_mod_nfstream,
};

const struct nfm_module *nfm_module_find(const char *name)
{
	for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
		if (strcmp(modules[i]->name, name) == 0)
			return modules[i];
	return NULL;
}

const struct nfm_module *nfm_module_at(size_t i)
{
	return i < sizeof modules / sizeof modules[0] ? modules[i] : NULL;
}
