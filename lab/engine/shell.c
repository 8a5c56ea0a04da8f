// SPDX-License-Identifier: MIT
/* shell.c - `teelab shell`: the booted lab's serial console on the terminal; see run.h */
#include "engine.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>


int run_shell(const struct lab_config *cfg, const struct lab_images *im,
	      const struct run_options *opt)
{
	static const struct scenario shell_sc = {
		.name = "shell", .network = true, .boot_timeout = 120, .step_timeout = 300,
		.run_timeout = 1e9, .hang_window = 0,
	};
	struct run_result res = RUN_RESULT_INIT;
	struct engine e = { .cfg = cfg, .sc = &shell_sc, .opt = opt, .dir = opt->run_dir,
			    .res = &res, .echo_fd = -1 };
	struct machine_spec spec = { 0 };
	struct strbuf append = STRBUF_INIT;
	struct termios saved, raw;
	bool is_tty = isatty(0);
	char *msg = NULL;
	enum outcome p;
	int ret = TL_EXIT_PASS;

	engine_setup(&e, im, &spec, &append);
	e.hang_window = 0;	/* a person at the keyboard is not a hang */
	e.echo_fd = 1;
	fprintf(stderr, "teelab: booting; the secure world's console goes to %s/sw-console.log\n",
		opt->run_dir);
	e.tty = false;	/* the console itself is on the terminal: no progress line */
	engine_stage_begin(&e, "boot");
	p = engine_boot(&e, opt->boot_timeout > 0 ? opt->boot_timeout : shell_sc.boot_timeout, &msg);
	if (p != O_DONE) {
		char *why = msg ? msg : outcome_reason(&e, p, shell_sc.boot_timeout);

		fprintf(stderr, "\nteelab: the lab did not boot: %s\n", why);
		free(why);
		engine_teardown(&e);
		strbuf_release(&append);
		run_result_release(&res);
		return p == O_TIMEOUT ? TL_EXIT_TIMEOUT : TL_EXIT_INFRA;
	}
	fprintf(stderr, "\nteelab: normal-world shell on the serial console; Ctrl-] leaves.\n");
	if (e.ssh)
		fprintf(stderr, "teelab: over SSH from another terminal: ssh -i %s -p %d "
			"-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@%s\n",
			e.ssh_key, e.ssh_port, e.m.ssh_host);
	engine_console_send(&e, "\n");
	if (is_tty && !tcgetattr(0, &saved)) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
	}
	e.wait = W_EXIT;
	for (;;) {
		struct pollfd pfd = { 0, POLLIN, 0 };
		char buf[256];
		ssize_t n;
		char *esc;

		p = engine_pump(&e, now_mono() + 0.05);
		if (p != O_TIMEOUT && p != O_KERNEL_PANIC && p != O_TEE_PANIC)
			break;
		if (poll(&pfd, 1, 0) <= 0)
			continue;
		n = read(0, buf, sizeof(buf) - 1);
		if (n <= 0)
			break;
		buf[n] = '\0';
		esc = memchr(buf, 0x1d, (size_t)n);	/* Ctrl-] */
		if (esc)
			*esc = '\0';
		if (*buf && engine_console_send(&e, buf))
			break;
		if (esc)
			break;
	}
	if (is_tty)
		tcsetattr(0, TCSANOW, &saved);
	if (p == O_EXITED)
		fprintf(stderr, "\nteelab: the machine stopped (QEMU status %d)\n", e.qemu_status);
	else if (p == O_INTERRUPTED)
		ret = TL_EXIT_INTERRUPTED;
	fprintf(stderr, "\nteelab: logs in %s\n", opt->run_dir);
	e.echo_fd = -1;
	engine_teardown(&e);
	strbuf_release(&append);
	run_result_release(&res);
	return ret;
}
