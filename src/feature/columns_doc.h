/* The Markdown table of every column (engine and known modules) for docs/columns.md. */
#ifndef NFM_FEATURE_COLUMNS_DOC_H
#define NFM_FEATURE_COLUMNS_DOC_H

#include <stdio.h>

/* The table (header and one row per column), as between the columns:begin and
 * columns:end markers of docs/columns.md. */
int nfm_columns_doc(FILE *fp);

#endif
