// SPDX-License-Identifier: MIT
/* version.c - teelab's version, from build/version.h (see the Makefile) */
#include "util.h"
#include "version.h"

const char *teelab_version(void)
{
	return TEELAB_VERSION;
}
