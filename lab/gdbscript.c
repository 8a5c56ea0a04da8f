// SPDX-License-Identifier: MIT
/* gdbscript.c - the --gdb script of a run; see gdbscript.h */
#include "gdbscript.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>

#include "util.h"

/* The path recorded for symbol file @what ("tee", "bl31"...), or NULL. */
static const char *symbol_path(const struct lab_images *im, const char *what)
{
	size_t n = strlen(what);

	for (size_t i = 0; i < im->symbols.nr; i++)
		if (!strncmp(im->symbols.v[i], what, n) && im->symbols.v[i][n] == '\t')
			return im->symbols.v[i] + n + 1;
	return NULL;
}

/* Value and size of function symbol @name in @elf; false if absent. */
static bool find_func(Elf *elf, const char *name, uint64_t *value, uint64_t *size)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *nm;

			if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC)
				continue;
			nm = elf_strptr(elf, sh.sh_link, s.st_name);
			if (nm && !strcmp(nm, name)) {
				*value = s.st_value;
				*size = s.st_size;
				return true;
			}
		}
	}
	return false;
}

/*
 * The address right after @caller's `bl @callee` in the AArch64 ELF
 * @path (BL: 0b100101 imm26, target = pc + imm26 * 4; Arm ARM C6.2.34),
 * or 0 when there is none (another OP-TEE, inlined, not found).
 */
static uint64_t return_site(const char *path, const char *caller, const char *callee)
{
	uint64_t cv = 0, cs = 0, tv = 0, ts = 0, found = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf_Scn *scn = NULL;
	Elf *elf;

	if (fd < 0)
		return 0;
	if (elf_version(EV_CURRENT) == EV_NONE || !(elf = elf_begin(fd, ELF_C_READ, NULL))) {
		close(fd);
		return 0;
	}
	if (!find_func(elf, caller, &cv, &cs) || !find_func(elf, callee, &tv, &ts))
		goto out;
	while (!found && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    cv < sh.sh_addr || cv + cs > sh.sh_addr + sh.sh_size ||
		    !(d = elf_getdata(scn, NULL)) || !d->d_buf)
			continue;
		for (uint64_t pc = cv; pc + 4 <= cv + cs; pc += 4) {
			const unsigned char *p = (const unsigned char *)d->d_buf + (pc - sh.sh_addr);
			uint32_t insn = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
					(uint32_t)p[3] << 24;
			int64_t off;

			if ((insn & 0xfc000000u) != 0x94000000u)
				continue;
			off = (int64_t)(insn & 0x03ffffffu);
			if (off & 0x02000000)
				off -= 0x04000000;
			if (pc + (uint64_t)(off * 4) == tv) {
				found = pc + 4;
				break;
			}
		}
	}
out:
	elf_end(elf);
	close(fd);
	return found;
}

static void add_file(struct strbuf *sb, const struct lab_images *im, const char *what,
		     const char *comment)
{
	const char *p = symbol_path(im, what);

	if (p)
		strbuf_addf(sb, "# %s\nadd-symbol-file %s\n", comment, p);
	else
		strbuf_addf(sb, "# %s: no symbol file (not built by teelab for this lab)\n", comment);
}

/* The Python half: lab TAs loaded at OP-TEE's ldelf return, `teelab-ta`, `teelab-modules`. */
static void add_ta_loader(struct strbuf *sb, const struct lab_images *im, const char *dir,
			  uint64_t ret_site)
{
	strbuf_addstr(sb, "python\nimport gdb\n\n# the lab TAs: UUID -> (name, ELF with symbols)\n"
		      "TEELAB_TAS = {\n");
	for (size_t i = 0; i < im->tas.nr; i++) {
		const char *tab = strchr(im->tas.v[i], '\t');
		char *what = tab ? xasprintf("ta:%s", tab + 1) : NULL;
		const char *p = what ? symbol_path(im, what) : NULL;

		if (p)
			strbuf_addf(sb, "    \"%.*s\": (\"%s\", \"%s\"),\n", (int)(tab - im->tas.v[i]),
				    im->tas.v[i], tab + 1, p);
		free(what);
	}
	strbuf_addf(sb,
		"}\n"
		"teelab_ta_at = {}\n"
		"\n"
		"def teelab_ta_add(key, addr):\n"
		"    \"\"\"Add a lab TA's symbols at load address addr (OP-TEE's user_mode_ctx.load_addr).\n"
		"    One instance at a time: every TA context has its own address space, and two\n"
		"    copies of one ELF at two offsets overlap in gdb's single one (one's .text in\n"
		"    the other's .bss), so the latest instance loaded wins.\"\"\"\n"
		"    for uuid, (name, path) in TEELAB_TAS.items():\n"
		"        if key in (uuid, name):\n"
		"            old = teelab_ta_at.get(uuid)\n"
		"            if old == addr:\n"
		"                return\n"
		"            if old is not None:\n"
		"                gdb.execute(\"remove-symbol-file %%s\" %% path, to_string=True)\n"
		"            gdb.execute(\"add-symbol-file %%s -o 0x%%x\" %% (path, addr), to_string=True)\n"
		"            teelab_ta_at[uuid] = addr\n"
		"            print(\"teelab: TA %%s (%%s) symbols at 0x%%x\" %% (name, uuid, addr))\n"
		"            return\n"
		"    print(\"teelab: %%s is not one of this lab's TAs\" %% key)\n"
		"\n"
		"class TeelabTaCommand(gdb.Command):\n"
		"    \"\"\"teelab-ta NAME|UUID ADDRESS: add a lab TA's symbols at its load address.\"\"\"\n"
		"    def __init__(self):\n"
		"        super().__init__(\"teelab-ta\", gdb.COMMAND_FILES)\n"
		"    def invoke(self, arg, from_tty):\n"
		"        a = gdb.string_to_argv(arg)\n"
		"        if len(a) != 2:\n"
		"            raise gdb.GdbError(\"usage: teelab-ta NAME|UUID ADDRESS\")\n"
		"        teelab_ta_add(a[0], int(gdb.parse_and_eval(a[1])))\n"
		"TeelabTaCommand()\n"
		"\n"
		"class TeelabModulesCommand(gdb.Command):\n"
		"    \"\"\"teelab-modules: add the lab kernel modules' symbols (written after each boot).\"\"\"\n"
		"    def __init__(self):\n"
		"        super().__init__(\"teelab-modules\", gdb.COMMAND_FILES)\n"
		"    def invoke(self, arg, from_tty):\n"
		"        gdb.execute(\"source %s/modules.gdb\")\n"
		"TeelabModulesCommand()\n", dir);
	if (!ret_site) {
		strbuf_addf(sb, "print(\"teelab: no TA load hook (%s): teelab-ta NAME ADDRESS adds a "
			    "TA's symbols\")\nend\n", symbol_path(im, "tee") ?
			    "ldelf_init_with_ldelf's call is not in this tee.elf" :
			    "no OP-TEE symbols: not an OP-TEE teelab built");
		return;
	}
	strbuf_addf(sb,
		"\n"
		"# OP-TEE loads a TA with ldelf and then records where it put it:\n"
		"# tee_ta_complete_user_ta_session() calls ldelf_init_with_ldelf(sess,\n"
		"# uctx), which sets uctx->load_addr (core/kernel/ldelf_loader.c). The\n"
		"# entry breakpoint keeps uctx (x1) by the OP-TEE thread's stack pointer\n"
		"# (two CPUs may load TAs at once; sp is the same after the call), the\n"
		"# one after the call (0x%llx, found by teelab in tee.elf) reads the TA's\n"
		"# UUID and load address. Neither stops.\n"
		"teelab_uctx = {}\n"
		"class TeelabLdelfEntry(gdb.Breakpoint):\n"
		"    def stop(self):\n"
		"        teelab_uctx[int(gdb.parse_and_eval(\"$sp\"))] = int(gdb.parse_and_eval(\"$x1\"))\n"
		"        return False\n"
		"class TeelabLdelfDone(gdb.Breakpoint):\n"
		"    def stop(self):\n"
		"        uctx = teelab_uctx.pop(int(gdb.parse_and_eval(\"$sp\")), None)\n"
		"        if uctx is None or int(gdb.parse_and_eval(\"$x0\")) != 0:\n"
		"            return False\n"
		"        try:\n"
		"            u = gdb.parse_and_eval(\"*(struct user_mode_ctx *)0x%%x\" %% uctx)\n"
		"            id = u[\"ts_ctx\"].dereference()[\"uuid\"]\n"
		"            n = [int(id[\"clockSeqAndNode\"][i]) for i in range(8)]\n"
		"            uuid = \"%%08x-%%04x-%%04x-%%02x%%02x-%%s\" %% (int(id[\"timeLow\"]), int(id[\"timeMid\"]),\n"
		"                int(id[\"timeHiAndVersion\"]), n[0], n[1], \"\".join(\"%%02x\" %% b for b in n[2:]))\n"
		"            if uuid in TEELAB_TAS and int(u[\"load_addr\"]):\n"
		"                teelab_ta_add(uuid, int(u[\"load_addr\"]))\n"
		"        except gdb.error as e:\n"
		"            print(\"teelab: reading the loaded TA failed: %%s\" %% e)\n"
		"        return False\n"
		"TeelabLdelfEntry(\"ldelf_init_with_ldelf\", internal=True)\n"
		"TeelabLdelfDone(\"*0x%llx\", internal=True)\n"
		"end\n", (unsigned long long)ret_site, (unsigned long long)ret_site);
}

char *gdbscript_write(const char *run_dir, int port, const struct lab_images *im)
{
	char *dir = path_join(run_dir, "gdb"), *path = path_join(dir, "teelab.gdb");
	const char *tee = symbol_path(im, "tee");
	struct strbuf sb = STRBUF_INIT;
	uint64_t site = tee ? return_site(tee, "tee_ta_complete_user_ta_session",
					  "ldelf_init_with_ldelf") : 0;

	strbuf_addf(&sb,
		"# teelab.gdb - written by teelab for the run in %s.\n"
		"#   gdb-multiarch -x %s\n"
		"# QEMU's gdbstub on 127.0.0.1:%d: one gdb thread per vCPU; each stops\n"
		"# in whichever world and exception level it was running. Symbols of\n"
		"# every world are loaded at once (their addresses do not overlap, but for\n"
		"# user space: a TA's and a Linux process's). See README \"Debugging both\n"
		"# worlds\".\n"
		"set pagination off\n"
		"set confirm off\n"
		"set breakpoint pending on\n"
		"set architecture aarch64\n", run_dir, path, port);
	add_file(&sb, im, "bl1", "TF-A BL1 (boot ROM at 0x0)");
	add_file(&sb, im, "bl2", "TF-A BL2 (secure SRAM)");
	add_file(&sb, im, "bl31", "TF-A BL31, EL3 runtime: SMC dispatch, the OP-TEE dispatcher (opteed)");
	add_file(&sb, im, "tee", "OP-TEE OS core at its link address (no kaslr-seed: no relocation)");
	add_file(&sb, im, "vmlinux", "Linux (nokaslr on this run's command line)");
	for (size_t i = 0; i < im->symbols.nr; i++)
		if (starts_with(im->symbols.v[i], "src\t"))
			strbuf_addf(&sb, "# sources (DWARF paths are relative to these trees)\ndirectory %s\n",
				    im->symbols.v[i] + 4);
	add_ta_loader(&sb, im, dir, site);
	strbuf_addf(&sb, "target remote 127.0.0.1:%d\n", port);
	if (mkdir_p(dir, 0755) || write_file_str(path, strbuf_str(&sb))) {
		error("cannot write the gdb script '%s'", path);
		free(path);
		path = NULL;
	}
	strbuf_release(&sb);
	free(dir);
	return path;
}

char *gdbscript_modules_command(const struct lab_images *im)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < im->symbols.nr; i++) {
		const char *s = im->symbols.v[i];

		if (!starts_with(s, "kmod:"))
			continue;
		strbuf_addf(&sb, "%s%.*s", sb.len ? " " : "for m in ",
			    (int)(strcspn(s + 5, "\t")), s + 5);
	}
	if (!sb.len)
		return NULL;
	strbuf_addstr(&sb, "; do for f in /sys/module/$m/sections/.*; do "
		      "[ -r \"$f\" ] && echo \"$m ${f##*/} $(cat \"$f\")\"; done; done; true");
	return strbuf_detach(&sb);
}

int gdbscript_write_modules(const char *run_dir, const struct lab_images *im,
			    const char *sections)
{
	char *path = xasprintf("%s/gdb/modules.gdb", run_dir);
	struct strbuf sb = STRBUF_INIT;
	int ret;

	strbuf_addstr(&sb, "# modules.gdb - the lab kernel modules at the addresses of this boot\n"
		      "# (/sys/module/<module>/sections), written by teelab after the boot\n");
	for (size_t i = 0; i < im->symbols.nr; i++) {
		const char *s = im->symbols.v[i], *tab;
		char *mod, *copy, *save = NULL, *text = NULL;
		struct strbuf extra = STRBUF_INIT;

		if (!starts_with(s, "kmod:") || !(tab = strchr(s, '\t')))
			continue;
		mod = xstrndup(s + 5, (size_t)(tab - s - 5));
		copy = xstrdup(sections ? sections : "");
		for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char m[64], sec[64], addr[32];

			if (sscanf(l, "%63s %63s %31s", m, sec, addr) != 3 || strcmp(m, mod))
				continue;
			if (!strcmp(sec, ".text"))
				text = xstrdup(addr);
			else if (!strcmp(sec, ".data") || !strcmp(sec, ".bss") ||
				 !strcmp(sec, ".rodata") || starts_with(sec, ".rodata.str"))
				strbuf_addf(&extra, " -s %s %s", sec, addr);
		}
		if (text)
			strbuf_addf(&sb, "add-symbol-file %s %s%s\n", tab + 1, text, strbuf_str(&extra));
		else
			strbuf_addf(&sb, "# %s: not loaded in this boot\n", mod);
		free(text);
		free(copy);
		free(mod);
		strbuf_release(&extra);
	}
	ret = write_file_str(path, strbuf_str(&sb));
	if (ret)
		error("cannot write '%s'", path);
	free(path);
	strbuf_release(&sb);
	return ret;
}
