/* The CSV row of the default columns in one pass (csv_base.c). */
#ifndef NFM_EXPORT_CSV_BASE_H
#define NFM_EXPORT_CSV_BASE_H

#include <stdbool.h>
#include <stddef.h>

#include "feature/fields.h"

/* Whether cols are the default columns as nfm_csv_base_row writes them. */
bool nfm_csv_base_matches(const struct nfm_columns *cols);
/* The row of r (line end included) at d, which has room for NFM_VALUE_ROOM bytes per
 * column; returns its length. The same bytes as the generic CSV encoder. */
size_t nfm_csv_base_row(const struct nfm_flow_record *r, char *d);

#endif
