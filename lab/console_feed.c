// SPDX-License-Identifier: MIT
/* console_feed.c - a thread that drains the serial consoles; see console_feed.h */
#include "console_feed.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

struct feed_console {
	int fd;
	bool raw;		/* keep raw bytes for console_feed_ops.raw */
	bool eof;		/* the thread saw EOF (shared, under lock) */
	struct strbuf partial;	/* thread only: bytes after the last newline */
	struct strbuf lines;	/* shared: records, see put_line() */
	struct strbuf rawq;	/* shared: raw bytes */
};

struct console_feed {
	size_t n;
	struct feed_console con[CONSOLE_FEED_MAX];
	pthread_t thread;
	pthread_mutex_t lock;
	bool signalled;		/* a wake byte is in wake[1] (under lock) */
	int wake[2];		/* the thread -> the engine: something to take */
	int stop[2];		/* the engine -> the thread: stop */
};

/* A record: double stamp, size_t len, len bytes, NUL. Under the lock. */
static void put_line(struct feed_console *c, const char *line, size_t len, double stamp)
{
	strbuf_add(&c->lines, &stamp, sizeof(stamp));
	strbuf_add(&c->lines, &len, sizeof(len));
	strbuf_add(&c->lines, line, len);
	strbuf_addch(&c->lines, '\0');
}

/* The engine has something to take (under the lock). */
static void signal_engine(struct console_feed *f)
{
	if (!f->signalled && write(f->wake[1], "x", 1) == 1)
		f->signalled = true;
}

/* Read what console @c has; false at EOF or error. */
static bool drain(struct console_feed *f, struct feed_console *c)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		double stamp = now_mono();
		const char *start, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		pthread_mutex_lock(&f->lock);
		if (n <= 0) {
			/* EOF (or a dead socket): the last partial line, then the EOF */
			if (c->partial.len)
				put_line(c, c->partial.buf, c->partial.len, stamp);
			strbuf_reset(&c->partial);
			c->eof = true;
			signal_engine(f);
			pthread_mutex_unlock(&f->lock);
			return false;
		}
		if (c->raw)
			strbuf_add(&c->rawq, buf, (size_t)n);
		start = buf;
		while ((nl = memchr(start, '\n', (size_t)(buf + n - start)))) {
			if (c->partial.len) {
				strbuf_add(&c->partial, start, (size_t)(nl - start));
				put_line(c, c->partial.buf, c->partial.len, stamp);
				strbuf_reset(&c->partial);
			} else {
				put_line(c, start, (size_t)(nl - start), stamp);
			}
			start = nl + 1;
		}
		strbuf_add(&c->partial, start, (size_t)(buf + n - start));
		/*
		 * the engine takes whole lines (and a raw console's bytes): a
		 * line's first bytes alone are no reason to wake it (under a
		 * paravirtualized host every wakeup costs; make bench: teelab's CPU)
		 */
		if (start != buf || c->raw)
			signal_engine(f);
		pthread_mutex_unlock(&f->lock);
		if ((size_t)n < sizeof(buf))
			return true;
	}
}

static void *feed_thread(void *arg)
{
	struct console_feed *f = arg;
	double now, last = 0;
	long gather_ns;

	for (;;) {
		struct pollfd pfd[CONSOLE_FEED_MAX + 1];
		size_t idx[CONSOLE_FEED_MAX], nfd = 0;

		for (size_t i = 0; i < f->n; i++)
			if (!f->con[i].eof) {
				pfd[nfd] = (struct pollfd){ f->con[i].fd, POLLIN, 0 };
				idx[nfd++] = i;
			}
		pfd[nfd] = (struct pollfd){ f->stop[0], POLLIN, 0 };
		if (poll(pfd, (nfds_t)nfd + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[nfd].revents)
			break;
		/*
		 * QEMU's UARTs write one byte at a time: let a millisecond of
		 * them gather, so a line costs one wakeup, not one per byte, and
		 * 4 ms within a burst (the last wakeup less than 4 ms ago: a
		 * kernel's boot log, xtest's output), so a burst costs a few. The
		 * lines' times move by at most that (make bench: teelab's CPU).
		 */
		now = now_mono();
		gather_ns = now - last < 0.004 ? 4000000 : 1000000;
		nanosleep(&(struct timespec){ 0, gather_ns }, NULL);
		last = now_mono();
		for (size_t i = 0; i < nfd; i++)
			if (pfd[i].revents)
				drain(f, &f->con[idx[i]]);
	}
	return NULL;
}

struct console_feed *console_feed_start(const int *fds, size_t n, unsigned raw_mask)
{
	struct console_feed *f = NULL;
	int err;

	if (n > CONSOLE_FEED_MAX) {
		error("a console feed takes at most %d consoles", CONSOLE_FEED_MAX);
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	f->n = n;
	f->wake[0] = f->wake[1] = f->stop[0] = f->stop[1] = -1;
	for (size_t i = 0; i < n; i++) {
		f->con[i].fd = fds[i];
		f->con[i].eof = fds[i] < 0;
		f->con[i].raw = raw_mask & (1u << i);
		f->con[i].partial = (struct strbuf)STRBUF_INIT;
		f->con[i].lines = (struct strbuf)STRBUF_INIT;
		f->con[i].rawq = (struct strbuf)STRBUF_INIT;
	}
	pthread_mutex_init(&f->lock, NULL);
	if (pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) || pipe2(f->stop, O_CLOEXEC | O_NONBLOCK)) {
		error_errno("cannot create the console feed's pipes");
		goto fail;
	}
	err = pthread_create(&f->thread, NULL, feed_thread, f);
	if (err) {
		errno = err;
		error_errno("cannot start the console feed thread");
		goto fail;
	}
	return f;
fail:
	for (int i = 0; i < 2; i++) {
		if (f->wake[i] >= 0)
			close(f->wake[i]);
		if (f->stop[i] >= 0)
			close(f->stop[i]);
	}
	for (size_t i = 0; i < n; i++) {
		strbuf_release(&f->con[i].partial);
		strbuf_release(&f->con[i].lines);
		strbuf_release(&f->con[i].rawq);
	}
	pthread_mutex_destroy(&f->lock);
	free(f);
	return NULL;
}

int console_feed_fd(const struct console_feed *f)
{
	return f->wake[0];
}

unsigned console_feed_take(struct console_feed *f, const struct console_feed_ops *ops,
			   void *ctx)
{
	struct strbuf lines[CONSOLE_FEED_MAX], raw[CONSOLE_FEED_MAX];
	unsigned eof = 0;
	char drop[64];

	pthread_mutex_lock(&f->lock);
	while (read(f->wake[0], drop, sizeof(drop)) > 0)
		;
	f->signalled = false;
	for (size_t i = 0; i < f->n; i++) {
		/* take the queues whole; the thread starts new ones */
		lines[i] = f->con[i].lines;
		raw[i] = f->con[i].rawq;
		f->con[i].lines = (struct strbuf)STRBUF_INIT;
		f->con[i].rawq = (struct strbuf)STRBUF_INIT;
		if (f->con[i].eof)
			eof |= 1u << i;
	}
	pthread_mutex_unlock(&f->lock);

	for (size_t i = 0; i < f->n; i++) {
		size_t off = 0;

		if (raw[i].len && ops->raw)
			ops->raw(ctx, i, raw[i].buf, raw[i].len);
		while (off + sizeof(double) + sizeof(size_t) <= lines[i].len) {
			double stamp;
			size_t len;

			memcpy(&stamp, lines[i].buf + off, sizeof(stamp));
			memcpy(&len, lines[i].buf + off + sizeof(stamp), sizeof(len));
			off += sizeof(stamp) + sizeof(len);
			if (ops->line)
				ops->line(ctx, i, lines[i].buf + off, len, stamp);
			off += len + 1;
		}
		strbuf_release(&lines[i]);
		strbuf_release(&raw[i]);
	}
	return eof;
}

void console_feed_stop(struct console_feed *f)
{
	if (!f)
		return;
	if (write(f->stop[1], "x", 1) != 1) {
		/* a full stop pipe already says stop */
	}
	pthread_join(f->thread, NULL);
	for (int i = 0; i < 2; i++) {
		close(f->wake[i]);
		close(f->stop[i]);
	}
	for (size_t i = 0; i < f->n; i++) {
		strbuf_release(&f->con[i].partial);
		strbuf_release(&f->con[i].lines);
		strbuf_release(&f->con[i].rawq);
	}
	pthread_mutex_destroy(&f->lock);
	free(f);
}
