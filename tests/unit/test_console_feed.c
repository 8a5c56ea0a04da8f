// SPDX-License-Identifier: MIT
/*
 * Unit tests for console_feed.c on socket pairs, written the way QEMU's
 * PL011 writes its chardev: one byte per write(), blocking.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "console_feed.h"
#include "util.h"

struct collected {
	struct strbuf text[2];	/* lines joined with '\n' */
	struct strbuf raw[2];
	size_t lines[2];
	double last_stamp[2];
	bool stamps_ordered;
};

static void on_line(void *ctx, size_t idx, char *line, size_t len, double stamp)
{
	struct collected *c = ctx;

	assert_int_equal(strlen(line), len);
	strbuf_add(&c->text[idx], line, len);
	strbuf_addch(&c->text[idx], '\n');
	if (stamp < c->last_stamp[idx])
		c->stamps_ordered = false;
	c->last_stamp[idx] = stamp;
	c->lines[idx]++;
}

static void on_raw(void *ctx, size_t idx, const char *data, size_t len)
{
	struct collected *c = ctx;

	strbuf_add(&c->raw[idx], data, len);
}

static const struct console_feed_ops ops = { .line = on_line, .raw = on_raw };

static void collected_init(struct collected *c)
{
	memset(c, 0, sizeof(*c));
	c->stamps_ordered = true;
}

static void collected_release(struct collected *c)
{
	for (int i = 0; i < 2; i++) {
		strbuf_release(&c->text[i]);
		strbuf_release(&c->raw[i]);
	}
}

/* Take until console mask @want is at EOF (poll on the feed's fd). */
static unsigned take_until_eof(struct console_feed *f, struct collected *c, unsigned want)
{
	unsigned eof = 0;

	while ((eof & want) != want) {
		struct pollfd pfd = { console_feed_fd(f), POLLIN, 0 };

		assert_true(poll(&pfd, 1, 60000) > 0);	/* a guard against a hang, not a speed target */
		eof = console_feed_take(f, &ops, c);
	}
	return eof;
}

struct writer {
	int fd;
	size_t lines;
	const char *tail;	/* written last, without a newline */
	bool done;
};

static void *write_bytewise(void *arg)
{
	struct writer *w = arg;

	for (size_t i = 0; i < w->lines; i++) {
		char line[96];
		int n = snprintf(line, sizeof(line),
				 "I/TC: teelab-scmi: clock 0 emmc-clk on (count %zu)\r\n", i);

		for (int k = 0; k < n; k++)
			assert_int_equal(write(w->fd, line + k, 1), 1);
	}
	if (w->tail)
		assert_int_equal(write(w->fd, w->tail, strlen(w->tail)), (ssize_t)strlen(w->tail));
	w->done = true;
	return NULL;
}

/*
 * The engine takes nothing while a chatty console writes 20000 lines one
 * byte at a time (about 1 MiB): the writer must still finish, because the
 * feed, not the engine, reads the socket. Then every line arrives, in
 * order, stamped in order, and the unterminated tail arrives at EOF.
 */
static void test_writer_never_blocks(void **state)
{
	int sv[2];
	struct writer w = { .lines = 20000, .tail = "/ # " };
	struct console_feed *f;
	struct collected c;
	pthread_t t;
	int fds[2];

	(void)state;
	collected_init(&c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fds[0] = sv[0];
	fds[1] = -1;		/* a console that is not there counts as at EOF */
	f = console_feed_start(fds, 2, 0);
	assert_non_null(f);
	w.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, write_bytewise, &w), 0);
	/* nothing taken while it writes: without the feed the writer blocks here */
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(w.done);
	close(sv[1]);
	assert_int_equal(take_until_eof(f, &c, 3u), 3u);
	assert_int_equal(c.lines[0], 20001);
	assert_true(c.stamps_ordered);
	assert_true(starts_with(c.text[0].buf, "I/TC: teelab-scmi: clock 0 emmc-clk on (count 0)\r\n"));
	assert_non_null(strstr(c.text[0].buf, "(count 12345)\r\nI/TC: teelab-scmi: clock 0 emmc-clk on "
					      "(count 12346)\r\n"));
	assert_true(ends_with(c.text[0].buf, "(count 19999)\r\n/ # \n"));
	assert_int_equal(c.raw[0].len, 0);	/* raw bytes only when asked */
	console_feed_stop(f);
	close(sv[0]);
	collected_release(&c);
}

/* Raw bytes for the interactive echo, per console; two consoles apart. */
static void test_raw_and_two_consoles(void **state)
{
	int a[2], b[2], fds[2];
	struct console_feed *f;
	struct collected c;

	(void)state;
	collected_init(&c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	fcntl(a[0], F_SETFL, O_NONBLOCK);
	fcntl(b[0], F_SETFL, O_NONBLOCK);
	fds[0] = a[0];
	fds[1] = b[0];
	f = console_feed_start(fds, 2, 1u << 0);
	assert_non_null(f);
	assert_int_equal(write(a[1], "login: ", 7), 7);
	assert_int_equal(write(b[1], "D/TC:0 first\nD/TC:0 sec", 23), 23);
	assert_int_equal(write(b[1], "ond\n", 4), 4);
	close(a[1]);
	close(b[1]);
	assert_int_equal(take_until_eof(f, &c, 3u), 3u);
	assert_string_equal(c.raw[0].buf, "login: ");
	assert_int_equal(c.raw[1].len, 0);
	assert_string_equal(c.text[0].buf, "login: \n");
	assert_string_equal(c.text[1].buf, "D/TC:0 first\nD/TC:0 second\n");
	/* after EOF, a take hands nothing more and still says EOF */
	assert_int_equal(console_feed_take(f, &ops, &c), 3u);
	assert_int_equal(c.lines[1], 2);
	console_feed_stop(f);
	console_feed_stop(NULL);
	close(a[0]);
	close(b[0]);
	collected_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_never_blocks),
		cmocka_unit_test(test_raw_and_two_consoles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
