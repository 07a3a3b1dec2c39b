/* What --list-profiles and --list-columns print. */
#ifndef NFM_CLI_LISTING_H
#define NFM_CLI_LISTING_H

#include <stdio.h>

#include "cli/options.h"

/* One line per profile: name, columns, bytes per active flow, default timeouts,
 * description. Returns 0, or 1 after printing an error. */
int nfm_cli_list_profiles(FILE *fp);
/* The columns of cli's profile or --columns, in order, one per line: name, unit, meaning
 * (each followed by two spaces at least), and the field read when the name differs. Returns 0, or 1 after printing an error. */
int nfm_cli_list_columns(const struct nfm_cli *cli, FILE *fp);

#endif
