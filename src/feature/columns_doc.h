/* The Markdown of the generated parts of docs/columns.md (every column of the engine
 * and of the known modules) and docs/profiles.md (every profile). */
#ifndef NFM_FEATURE_COLUMNS_DOC_H
#define NFM_FEATURE_COLUMNS_DOC_H

#include <stdio.h>

/* The table (header and one row per column), as between the columns:begin and
 * columns:end markers of docs/columns.md. */
int nfm_columns_doc(FILE *fp);
/* The list of profiles, then for each its modules, default timeouts, bytes per active
 * flow and every column in order (name written, field read, type, unit, definition), as
 * between the profiles:begin and profiles:end markers of docs/profiles.md. */
int nfm_profiles_doc(FILE *fp);

#endif
