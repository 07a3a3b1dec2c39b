/* Module layout: each module's state at a fixed, aligned offset of the module area. */
#include "flow/module.h"

#include <string.h>

int nfm_layout_build(struct nfm_layout *l, const struct nfm_module *const *mods, size_t n,
		     struct nfm_error *err)
{
	memset(l, 0, sizeof *l);
	if (n > NFM_MAX_MODULES)
		return nfm_error_set(err, NFM_ERR_INVALID, "more than %d feature modules",
				     NFM_MAX_MODULES);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		const struct nfm_module *m = mods[i];
		size_t align = m->state_align ? m->state_align : 8;
		if (align > 8 || (align & (align - 1)))
			return nfm_error_set(err, NFM_ERR_INVALID,
					     "module %s: state alignment %zu is not a power of two up to 8",
					     m->name, align);
		if (nfm_layout_offset(l, m) != SIZE_MAX)
			return nfm_error_set(err, NFM_ERR_INVALID, "module %s listed twice", m->name);
		off = (off + align - 1) & ~(align - 1);
		l->mod[l->n] = m;
		l->off[l->n++] = off;
		off += m->state_size;
		if (m->payload_bytes > l->payload_bytes)
			l->payload_bytes = m->payload_bytes;
	}
	l->size = (off + 7) & ~(size_t)7;
	return 0;
}

size_t nfm_layout_offset(const struct nfm_layout *l, const struct nfm_module *m)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->mod[i] == m)
			return l->off[i];
	return SIZE_MAX;
}
