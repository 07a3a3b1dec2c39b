/* The program's own profiles: nexus (the 34 columns of the original tool, the default)
 * and extended (nexus, then ip_version, vlan_id, end_reason and the tunnel columns: what
 * --extended has always written). Both take their columns from the field sets of the
 * field table (feature/fields.h), so a column added to a set appears in its profile. */
#include "feature/modules.h"
#include "feature/profiles.h"

#define NS_PER_S 1000000000ull

static const char timeouts_doc[] =
	"the program's own defaults, see docs/flows.md";

const struct nfm_profile nfm_profile_nexus = {
	.name = "nexus",
	.desc = "the 34 columns of the original tool (the default)",
	.set_mask = NFM_SET_BASE,
	.idle_timeout_ns = 60 * NS_PER_S,
	.active_timeout_ns = 1800 * NS_PER_S,
	.timeouts_doc = timeouts_doc,
};

static const struct nfm_module *const extended_modules[] = { &nfm_mod_tunnel };

const struct nfm_profile nfm_profile_extended = {
	.name = "extended",
	.desc = "nexus, then IP version, VLAN, end reason and the outermost tunnel (--extended)",
	NFM_PROFILE_MODULES(extended_modules),
	.set_mask = NFM_SET_BASE | NFM_SET_EXT,
	.idle_timeout_ns = 60 * NS_PER_S,
	.active_timeout_ns = 1800 * NS_PER_S,
	.timeouts_doc = timeouts_doc,
};
