/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - helpers shared by the cmocka unit tests. Include after
 * <cmocka.h>: the helpers assert through cmocka.
 */
#ifndef TEELAB_TESTUTIL_H
#define TEELAB_TESTUTIL_H

/* Redirect fd 2 into a temporary file until capture_end(). */
struct capture {
	int saved_fd;
	int tmp_fd;
};

void capture_begin(struct capture *c);
/* Restore stderr and return what was written meanwhile (caller frees). */
char *capture_end(struct capture *c);

#endif
