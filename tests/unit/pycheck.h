/* Running tests/unit/xlsx_check.py from a unit test (run from the project root, as
 * tests/run.sh does). Python is `python3`, or /usr/bin/python3 where Debian's
 * python3-openpyxl lives when another python3 comes first on PATH. */
#ifndef NFM_PYCHECK_H
#define NFM_PYCHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NFM_PYCHECK_SCRIPT "tests/unit/xlsx_check.py"

/* The first of python3, /usr/bin/python3 that runs and, when openpyxl is true, can
 * import openpyxl; NULL when none can. */
static inline const char *nfm_python(bool openpyxl)
{
	static const char *const cands[] = { "python3", "/usr/bin/python3" };
	for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
		char cmd[256];
		snprintf(cmd, sizeof cmd, "%s -c 'import %s' >/dev/null 2>&1", cands[i],
			 openpyxl ? "openpyxl" : "zipfile, xml.etree.ElementTree");
		if (system(cmd) == 0)
			return cands[i];
	}
	return NULL;
}

/* Runs `python xlsx_check.py MODE 'PATH' EXTRA` and returns true when it passes. Its
 * findings go to standard output, one "xlsx_check error: ..." line each. */
static inline bool nfm_pycheck(const char *python, const char *mode, const char *path,
			       const char *extra)
{
	if (!python || access(NFM_PYCHECK_SCRIPT, R_OK) != 0 || strchr(path, '\'')) {
		printf("xlsx_check error: cannot run %s (python %s; run from the project root)\n",
		       NFM_PYCHECK_SCRIPT, python ? python : "not found");
		return false;
	}
	size_t cap = strlen(path) + (extra ? strlen(extra) : 0) + 256;
	char *cmd = malloc(cap);
	if (!cmd)
		return false;
	snprintf(cmd, cap, "%s %s %s '%s' %s", python, NFM_PYCHECK_SCRIPT, mode, path,
		 extra ? extra : "");
	fflush(stdout);
	int st = system(cmd);
	free(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

#endif
