/* SPDX-License-Identifier: MIT */
/*
 * console_feed.h - drain the machine's serial consoles on a thread of their own.
 *
 * QEMU writes a serial console (PL011) to its chardev socket one byte per
 * write, with the big QEMU lock held: when nobody reads the socket, its
 * buffer fills within a few hundred bytes and every vCPU of the machine
 * stops until someone does. The engine's loop blocks at times (an SSH
 * handshake, an SFTP transfer, a command on the main connection), and a
 * chatty secure world (one line per SCMI call) then froze the whole
 * machine - the guest could not even answer the SSH handshake teelab was
 * waiting in. A feed reads every console as soon as QEMU writes it,
 * stamps each line with the time its newline arrived, and queues the lines
 * for the engine, which takes them whenever it polls.
 */
#ifndef TEELAB_CONSOLE_FEED_H
#define TEELAB_CONSOLE_FEED_H

#include <stdbool.h>
#include <stddef.h>

#define CONSOLE_FEED_MAX 4	/* consoles per feed */

struct console_feed;

/* What console_feed_take() hands over, per console. */
struct console_feed_ops {
	/*
	 * A complete line of console @idx: no newline, '\r' not stripped,
	 * NUL-terminated and writable (the callee may modify it, not keep it).
	 * @stamp is now_mono() when its newline (or EOF) was read.
	 */
	void (*line)(void *ctx, size_t idx, char *line, size_t len, double stamp);
	/* Raw bytes of console @idx as read, for an interactive echo; may be NULL. */
	void (*raw)(void *ctx, size_t idx, const char *data, size_t len);
};

/*
 * Start a thread reading @fds[0..@n) (n <= CONSOLE_FEED_MAX; the fds stay
 * owned by the caller, who may also write to them, and should be
 * non-blocking). Raw bytes are kept for console_feed_ops.raw only for the
 * consoles whose bit is set in @raw_mask. Returns NULL (reported) when
 * the thread cannot start.
 */
struct console_feed *console_feed_start(const int *fds, size_t n, unsigned raw_mask);

/*
 * A descriptor that polls readable (POLLIN) while lines, raw bytes or an
 * EOF wait to be taken. Owned by the feed.
 */
int console_feed_fd(const struct console_feed *f);

/*
 * Hand everything queued so far to @ops (on the calling thread, in order
 * per console). Returns a bit mask of the consoles that reached EOF (read
 * returned 0 or failed); their last partial line has been handed over.
 */
unsigned console_feed_take(struct console_feed *f, const struct console_feed_ops *ops,
			   void *ctx);

/*
 * Stop the thread and free the feed (NULL is fine). What was read but not
 * taken is lost: take first. The fds are not closed.
 */
void console_feed_stop(struct console_feed *f);

#endif
