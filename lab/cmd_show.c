// SPDX-License-Identifier: MIT
/* cmd_show.c - `teelab show <scenario>`: the scenario with its configuration resolved */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "scenario.h"
#include "step.h"

static const char *chan(enum channel c)
{
	return c == CHAN_SSH ? "ssh" : c == CHAN_SERIAL ? "serial" : "auto";
}

static void show_pkg(const char *what, const struct pkg_ref *r)
{
	printf("  %-9s %s (%s%s%s, %s)\n", what, r->name, r->suite, r->version ? " " : "",
	       r->version ? r->version : "", r->arch);
}

static struct scenario_choice show_choice;

static const struct popt show_options[] = {
	OPT_GROUP("Show options:"),
	OPT_SCENARIO_CHOICE(&show_choice),
	OPT_INCLUDE(lab_options),
	OPT_END(),
};

const struct command command_show = {
	.name = "show", .fn = cmd_show, .summary = "a scenario with its configuration resolved",
	.usage = "[--cell NAME] [--param K=V] [lab options] <scenario>",
	.description = "Prints the scenario with the configuration it will run with: machine,\n"
		"kernel, secure world, rootfs, timeouts and each step's channel.",
	.options = show_options, .min_args = 1, .max_args = 1, .complete_args = "scenarios",
};

int cmd_show(int argc, char **argv)
{
	struct config_overrides ov;
	struct scenario sc = SCENARIO_INIT;
	struct lab_config cfg;
	struct scenario_choice choice = { 0 };
	const char *arg = NULL;

	parse_command(argc, argv, &command_show);
	arg = argv[0];
	ov = global_overrides;
	choice = show_choice;
	open_scenario(arg, &choice, &ov, &sc);
	if (config_load(&cfg, &ov))
		die(TL_EXIT_USAGE, "configuration is not valid");

	printf("scenario  %s (%s)\n", sc.name, sc.path);
	if (sc.description)
		printf("          %s\n", sc.description);
	for (size_t i = 0; i < sc.nr_cells; i++)
		printf("%s %-12s expect %-9s %s\n", i ? "         " : "cells    ", sc.cells[i].name,
		       sc.cells[i].expect ? sc.cells[i].expect : scenario_expected(&sc),
		       sc.cells[i].description ? sc.cells[i].description : "");
	if (sc.cell)
		printf("cell      %s\n", sc.cell->name);
	printf("expect    %s\n", scenario_expected(&sc));
	printf("profile   %s\n", cfg.profile);
	printf("machine   %s: %s -cpu %s -smp %d -m %d, gic-version=%d, tcg thread=%s\n",
	       cfg.machine.name, cfg.machine.qemu, cfg.machine.cpu, cfg.machine.smp,
	       cfg.machine.memory_mb, cfg.machine.gic_version, cfg.machine.tcg_thread);
	printf("kernel    %s (FF-A transport: %s, IP: %s)\n", cfg.kernel.name,
	       cfg.kernel.ffa_transport ? "yes" : "no", cfg.kernel.no_ip ? "no" : "yes");
	if (cfg.kernel.build) {
		show_pkg("source", &cfg.kernel.src_deb);
		printf("  config    %s", cfg.kernel.base_config);
		for (size_t i = 0; i < cfg.kernel.fragments.nr; i++)
			printf(" + %s", cfg.kernel.fragments.v[i]);
		printf("\n");
		if (cfg.kernel.kasan_only.nr) {
			printf("  KASAN     in");
			for (size_t i = 0; i < cfg.kernel.kasan_only.nr; i++)
				printf(" %s", cfg.kernel.kasan_only.v[i]);
			printf(" only\n");
		}
	} else if (cfg.kernel.kind == SRC_DEBIAN)
		show_pkg("deb", &cfg.kernel.deb);
	else
		printf("  image     %s\n", cfg.kernel.image);
	for (size_t i = 0; i < cfg.kernel.modules.nr; i++)
		printf("  module    %s\n", cfg.kernel.modules.v[i]);
	for (size_t i = 0; i < cfg.kmods.nr; i++)
		printf("  kmod      %s\n", cfg.kmods.v[i]);
	printf("secure    %s (%s)\n", cfg.secure.name,
	       cfg.secure.ffa ? "FF-A ABI: SPMD at EL3, OP-TEE the SPMC at S-EL1" : "SMC ABI");
	if (cfg.secure.tfa_kind == SRC_DEBIAN)
		show_pkg("tf-a", &cfg.secure.tfa_src);
	else
		printf("  tf-a      %s\n", cfg.secure.tfa_kind == SRC_TREE ? cfg.secure.tfa_tree
		       : cfg.secure.tfa_bios);
	for (size_t i = 0; i < cfg.secure.tfa_flags.nr; i++)
		printf("    %s\n", cfg.secure.tfa_flags.v[i]);
	if (cfg.secure.optee_build && cfg.secure.optee_kind == SRC_TREE) {
		printf("  bl32      built from your tree %s\n", cfg.secure.optee_tree);
	} else if (cfg.secure.optee_build) {
		show_pkg("bl32 src", &cfg.secure.optee_src);
	} else if (cfg.secure.optee_kind == SRC_DEBIAN) {
		show_pkg("bl32", &cfg.secure.optee_deb);
	} else {
		printf("  bl32      %s\n", cfg.secure.optee_dir);
	}
	if (cfg.secure.optee_build)
		for (size_t i = 0; i < cfg.secure.optee_flags.nr; i++)
			printf("    %s\n", cfg.secure.optee_flags.v[i]);
	if (cfg.secure.has_rpmb_key)
		printf("  rpmb-key  provisioned into the lab eMMC by /init\n");
	if (cfg.secure.bl33_kind == SRC_DEBIAN)
		show_pkg("bl33", &cfg.secure.bl33_deb);
	printf("rootfs    %s (%zu packages)\n", cfg.rootfs.name, cfg.rootfs.nr_pkgs);
	for (size_t i = 0; i < cfg.tas.nr; i++)
		printf("  ta        %s\n", cfg.tas.v[i]);
	for (size_t i = 0; i < cfg.guest.nr; i++)
		printf("  guest     %s\n", cfg.guest.v[i]);
	printf("network   %s\n", sc.network ? "user networking + SSH" : "none (serial only)");
	printf("timeouts  boot %.0f s, step %.0f s, run %.0f s, hang window %.0f s\n",
	       sc.boot_timeout, sc.step_timeout, sc.run_timeout, sc.hang_window);
	if (sc.cmdline_extra)
		printf("cmdline   + %s\n", sc.cmdline_extra);
	printf("steps:\n");
	for (size_t i = 0; i < sc.nr_steps; i++) {
		const struct scenario_step *st = &sc.steps[i];
		double to = st->timeout > 0 ? st->timeout
			    : st->ops->flags & STEP_F_BOOTS ? sc.boot_timeout : sc.step_timeout;

		printf("  %2zu %-10s %-52.52s timeout %4.0f s", i + 1, st->ops->name, st->name, to);
		if (st->command)	/* a guest command: run, background, parallel, measure */
			printf("  channel %s", chan(st->channel));
		if (st->xfail)
			printf("  xfail: %s", st->xfail);
		printf("   (%s:%u)\n", sc.path, st->line);
	}
	config_release(&cfg);
	scenario_release(&sc);
	return 0;
}
