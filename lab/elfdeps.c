// SPDX-License-Identifier: MIT
/* elfdeps.c - ELF dependency reading and closure in a sysroot; see elfdeps.h */
#include "elfdeps.h"
#include "inroot.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

/* ---- reading one ELF file (libelf's gelf: every class and byte order) ---- */

struct elf_deps {
	char *interp;
	struct strvec needed;
	struct strvec runpath;
	unsigned char cls;
	unsigned char data;
	uint16_t machine;
};

static void elf_deps_release(struct elf_deps *d)
{
	free(d->interp);
	d->interp = NULL;
	strvec_release(&d->needed);
	strvec_release(&d->runpath);
}

/* Report @path as a corrupt ELF file: @what. -EINVAL. */
static int corrupt(const char *path, const char *what)
{
	return error_code(-EINVAL, "'%s' is a corrupt ELF file: %s", path, what);
}

/* corrupt() after a failed libelf call, with libelf's reason. -EINVAL. */
static int corrupt_elf(const char *path, const char *what)
{
	return error_code(-EINVAL, "'%s' is a corrupt ELF file: %s (%s)", path, what, elf_errmsg(-1));
}

static void split_path_list(const char *s, struct strvec *out)
{
	while (*s) {
		const char *e = strchrnul(s, ':');

		if (e > s) {
			char *dir = xstrndup(s, (size_t)(e - s));

			strvec_push(out, dir);
			free(dir);
		}
		s = *e ? e + 1 : e;
	}
}

/* The file bytes [@off, @off + @len) of @e, NULL (libelf's error set) if outside. */
static const char *raw_chunk(Elf *e, uint64_t off, uint64_t len, Elf_Type type)
{
	Elf_Data *data = elf_getdata_rawchunk(e, (int64_t)off, (size_t)len, type);

	return data && data->d_buf ? data->d_buf : NULL;
}

/* String @idx of the string table at file offset @tab (@tabsz bytes, 0: to the end). */
static int get_string(Elf *e, const char *path, uint64_t tab, uint64_t tabsz,
		      uint64_t idx, const char **out)
{
	size_t size = 0;
	const char *image = elf_rawfile(e, &size);
	uint64_t max = 0;

	if (tabsz && idx >= tabsz)
		return corrupt(path, "string index out of its table");
	if (!image || tab > size || idx >= size - tab)
		return corrupt(path, "string out of the file");
	max = size - tab - idx;
	if (tabsz && tabsz - idx < max)
		max = tabsz - idx;
	if (!memchr(image + tab + idx, '\0', max))
		return corrupt(path, "unterminated string");
	*out = image + tab + idx;
	return 0;
}

/* The PT_DYNAMIC segment @dyn: DT_NEEDED and DT_RUNPATH (else DT_RPATH) into @d. */
static int parse_dynamic(Elf *e, const char *path, const GElf_Phdr *dyn,
			 struct elf_deps *d)
{
	Elf_Data *data = elf_getdata_rawchunk(e, (int64_t)dyn->p_offset,
					      (size_t)dyn->p_filesz, ELF_T_DYN);
	uint64_t *needed = NULL;
	size_t nr_needed = 0, nr_phdr = 0;
	uint64_t strtab = 0, strsz = 0, runpath = 0, tab = 0;
	bool have_strtab = false, have_runpath = false, have_rpath = false;
	bool mapped = false;
	const char *s = NULL;
	GElf_Dyn dn;
	int ret = 0;

	if (!data) {
		ret = corrupt(path, "dynamic section out of the file");
		goto out;
	}
	for (int i = 0; gelf_getdyn(data, i, &dn) && dn.d_tag != DT_NULL; i++) {
		switch (dn.d_tag) {
		case DT_NEEDED:
			needed = xrealloc(needed, (nr_needed + 1) * sizeof(*needed));
			needed[nr_needed++] = dn.d_un.d_val;
			break;
		case DT_STRTAB:
			strtab = dn.d_un.d_ptr;
			have_strtab = true;
			break;
		case DT_STRSZ:
			strsz = dn.d_un.d_val;
			break;
		case DT_RUNPATH:
			runpath = dn.d_un.d_val;
			have_runpath = true;
			break;
		case DT_RPATH:
			/* DT_RUNPATH wins when both are there */
			if (!have_runpath)
				runpath = dn.d_un.d_val;
			have_rpath = true;
			break;
		default:
			break;
		}
	}
	if (!nr_needed && !have_runpath && !have_rpath)
		goto out;
	if (!have_strtab) {
		ret = corrupt(path, "dynamic section without DT_STRTAB");
		goto out;
	}
	/* DT_STRTAB is an address: find the segment that loads it */
	elf_getphdrnum(e, &nr_phdr);
	for (size_t i = 0; i < nr_phdr && !mapped; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    strtab >= ph.p_vaddr && strtab - ph.p_vaddr < ph.p_filesz) {
			tab = ph.p_offset + (strtab - ph.p_vaddr);
			mapped = true;
		}
	}
	if (!mapped) {
		ret = corrupt(path, "DT_STRTAB outside of every PT_LOAD");
		goto out;
	}
	for (size_t i = 0; i < nr_needed; i++) {
		ret = get_string(e, path, tab, strsz, needed[i], &s);
		if (ret)
			goto out;
		strvec_push(&d->needed, s);
	}
	if (have_runpath || have_rpath) {
		ret = get_string(e, path, tab, strsz, runpath, &s);
		if (ret)
			goto out;
		split_path_list(s, &d->runpath);
	}
out:
	free(needed);
	return ret;
}

static int parse_elf(Elf *e, const char *path, struct elf_deps *d)
{
	GElf_Ehdr eh;
	GElf_Phdr dyn = { 0 };
	size_t nr_phdr = 0, size = 0;
	bool have_dyn = false;

	if (!gelf_getehdr(e, &eh))
		return corrupt_elf(path, "truncated header");
	d->cls = eh.e_ident[EI_CLASS];
	d->data = eh.e_ident[EI_DATA];
	d->machine = eh.e_machine;
	if (elf_getphdrnum(e, &nr_phdr))
		return corrupt_elf(path, "bad program header count");
	/* libelf clamps its count to what the file holds: a cut table is corrupt */
	if (eh.e_phnum != PN_XNUM)
		nr_phdr = eh.e_phnum;
	if (nr_phdr && (eh.e_phentsize < gelf_fsize(e, ELF_T_PHDR, 1, EV_CURRENT) ||
			!elf_rawfile(e, &size) || eh.e_phoff > size ||
			nr_phdr > (size - eh.e_phoff) / eh.e_phentsize))
		return corrupt(path, "program headers out of the file");
	for (size_t i = 0; i < nr_phdr; i++) {
		GElf_Phdr ph;
		const char *s = NULL;

		if (!gelf_getphdr(e, (int)i, &ph))
			return corrupt_elf(path, "unreadable program header");
		if (ph.p_type == PT_DYNAMIC && !have_dyn) {
			dyn = ph;
			have_dyn = true;
		} else if (ph.p_type == PT_INTERP && !d->interp) {
			s = ph.p_filesz ? raw_chunk(e, ph.p_offset, ph.p_filesz, ELF_T_BYTE) : NULL;
			if (!s)
				return corrupt(path, "PT_INTERP out of the file");
			d->interp = xstrndup(s, strnlen(s, (size_t)ph.p_filesz));
		}
	}
	return have_dyn ? parse_dynamic(e, path, &dyn, d) : 0;
}

/*
 * Open @path as ELF into *@e (elf_end() it, close *@fd): inside the root
 * @rootfd (inroot.h) unless it is -1. -ENOEXEC (not reported) if it is not
 * ELF, other -errno (reported).
 */
static int elf_open(int rootfd, const char *path, int *fd, Elf **e)
{
	unsigned char ident[EI_NIDENT];
	struct stat st;

	*e = NULL;
	*fd = rootfd < 0 ? open(path, O_RDONLY | O_CLOEXEC) : inroot_open(rootfd, path, O_RDONLY, 0);
	if (*fd < 0 && rootfd >= 0)
		errno = -*fd;
	if (*fd < 0 || fstat(*fd, &st)) {
		int err = errno;

		error_errno("cannot %s '%s'", *fd < 0 ? "open" : "stat", path);
		return -err;
	}
	if (!S_ISREG(st.st_mode))
		return error_code(S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
				  "'%s' is not a regular file", path);
	if (pread(*fd, ident, sizeof(ident), 0) != (ssize_t)sizeof(ident) ||
	    memcmp(ident, ELFMAG, SELFMAG) ||
	    (ident[EI_CLASS] != ELFCLASS32 && ident[EI_CLASS] != ELFCLASS64) ||
	    (ident[EI_DATA] != ELFDATA2LSB && ident[EI_DATA] != ELFDATA2MSB))
		return -ENOEXEC;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return error_code(-EINVAL, "libelf: %s", elf_errmsg(-1));
	*e = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!*e || elf_kind(*e) != ELF_K_ELF)
		return corrupt_elf(path, "not readable as ELF");
	return 0;
}

static void elf_close(int fd, Elf *e)
{
	elf_end(e);
	if (fd >= 0)
		close(fd);
}

/* Read @path (in @rootfd, see elf_open()) into @d. -ENOEXEC (not reported) if not ELF, other -errno. */
static int load_elf(int rootfd, const char *path, struct elf_deps *d)
{
	Elf *e = NULL;
	int fd = -1;
	int ret = elf_open(rootfd, path, &fd, &e);

	if (!ret)
		ret = parse_elf(e, path, d);
	if (ret)
		elf_deps_release(d);
	elf_close(fd, e);
	return ret;
}

int elf_read_deps(const char *path, char **interp, struct strvec *needed,
		  struct strvec *runpath)
{
	struct elf_deps d = { 0 };
	int ret = load_elf(-1, path, &d);

	*interp = NULL;
	if (ret)
		return ret;
	*interp = d.interp;
	d.interp = NULL;
	for (size_t i = 0; i < d.needed.nr; i++)
		strvec_push(needed, d.needed.v[i]);
	for (size_t i = 0; i < d.runpath.nr; i++)
		strvec_push(runpath, d.runpath.v[i]);
	elf_deps_release(&d);
	return 0;
}

int elf_read_modinfo(const char *path, struct strvec *out)
{
	size_t shstrndx, size = 0;
	Elf_Scn *scn = NULL;
	Elf *e = NULL;
	int fd = -1;
	int ret = elf_open(-1, path, &fd, &e);

	if (ret == -ENOEXEC)
		ret = error_code(-ENOEXEC, "'%s' is not an ELF file (a kernel module is)", path);
	if (ret)
		goto out;
	if (elf_getshdrstrndx(e, &shstrndx) || !elf_rawfile(e, &size)) {
		ret = corrupt_elf(path, "no section names");
		goto out;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name, *s;

		if (!gelf_getshdr(scn, &sh)) {
			ret = corrupt_elf(path, "unreadable section header");
			goto out;
		}
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".modinfo") || sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset) {
			ret = corrupt(path, ".modinfo out of the file");
			goto out;
		}
		s = raw_chunk(e, sh.sh_offset, sh.sh_size, ELF_T_BYTE);
		/* "key=value" strings, each NUL-terminated, some NUL padding between */
		for (size_t off = 0; s && off < sh.sh_size;) {
			size_t n = strnlen(s + off, (size_t)sh.sh_size - off);

			if (n)
				strvec_pushf(out, "%.*s", (int)n, s + off);
			off += n + 1;
		}
		break;
	}
out:
	elf_close(fd, e);
	return ret;
}

/* Whether @rel in @rootfd is a regular ELF file of the same class, byte order and machine as @who. */
static bool compatible(int rootfd, const char *rel, const struct elf_deps *who)
{
	struct stat st;
	GElf_Ehdr eh;
	Elf *e = NULL;
	int fd = -1;
	bool ok = false;

	fd = inroot_open(rootfd, rel, O_PATH, 0);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	close(fd);
	if (!elf_open(rootfd, rel, &fd, &e) && gelf_getehdr(e, &eh))
		ok = eh.e_ident[EI_CLASS] == who->cls && eh.e_ident[EI_DATA] == who->data &&
		     eh.e_machine == who->machine;
	elf_close(fd, e);
	return ok;
}

/* ---- the closure ---- */

struct closure {
	int rootfd;	/* the sysroot (inroot.h) */
	const char *sysroot_arg;	/* as given, for messages */
	const char *const *libdirs;
	struct strvec *out;
	struct strvec objs;	/* canonical objects to read, in order */
	struct strvec owner;	/* the program each object is there for */
	size_t nr_progs;	/* objs[0..nr_progs) are the programs */
};

static void add_out(struct closure *c, const struct strvec *links,
		    const char *final)
{
	for (size_t i = 0; i < links->nr; i++)
		if (!strvec_contains(c->out, links->v[i]))
			strvec_push(c->out, links->v[i]);
	if (!strvec_contains(c->out, final))
		strvec_push(c->out, final);
}

static void enqueue(struct closure *c, const char *obj, const char *owner)
{
	if (strvec_contains(&c->objs, obj))
		return;
	strvec_push(&c->objs, obj);
	strvec_push(&c->owner, owner);
}

/* Report that @what, needed by object @idx, is not in the sysroot; returns -ENOENT. */
static int not_found(const struct closure *c, size_t idx, const char *what)
{
	if (idx >= c->nr_progs)
		error("'%s' (used by '%s') needs '%s', not found in '%s'",
		      c->objs.v[idx], c->owner.v[idx], what, c->sysroot_arg);
	else
		error("'%s' needs '%s', not found in '%s'", c->owner.v[idx],
		      what, c->sysroot_arg);
	return -ENOENT;
}

/* Replace $ORIGIN / ${ORIGIN} in a runpath entry; NULL if unsupported. */
static char *expand_origin(const char *entry, const char *origin)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = entry;

	while (*p) {
		if (starts_with(p, "$ORIGIN")) {
			strbuf_addstr(&sb, origin);
			p += strlen("$ORIGIN");
		} else if (starts_with(p, "${ORIGIN}")) {
			strbuf_addstr(&sb, origin);
			p += strlen("${ORIGIN}");
		} else if (*p == '$') {
			/* $LIB, $PLATFORM: not known outside the guest */
			strbuf_release(&sb);
			return NULL;
		} else {
			strbuf_addch(&sb, *p++);
		}
	}
	return strbuf_detach(&sb);
}

/* Try @dir/@soname; 0 and @links/@final set when usable. */
static int try_dir(const struct closure *c, const struct elf_deps *who,
		   const char *dir, const char *soname, struct strvec *links,
		   struct strbuf *final)
{
	char *path = *dir == '/' ? xstrdup(dir) : xasprintf("/%s", dir);
	char *cand = path_join(path, soname);
	int ret = inroot_resolve(c->rootfd, cand, 0, links, final);

	if (!ret && !compatible(c->rootfd, final->buf, who))
		ret = -ENOENT;
	free(cand);
	free(path);
	return ret;
}

static int find_lib(struct closure *c, const char *obj,
		    const struct elf_deps *who, const char *soname,
		    struct strvec *links, struct strbuf *final)
{
	char *origin = xstrdup(obj);
	char *slash = strrchr(origin, '/');
	int ret = -ENOENT;

	if (slash)
		*slash = '\0';
	if (strchr(soname, '/')) {
		ret = try_dir(c, who, "/", soname, links, final);
		goto out;
	}
	for (size_t i = 0; ret && i < who->runpath.nr; i++) {
		char *dir = expand_origin(who->runpath.v[i], origin);

		if (dir) {
			strvec_release(links);
			ret = try_dir(c, who, dir, soname, links, final);
		}
		free(dir);
	}
	for (size_t i = 0; ret && c->libdirs && c->libdirs[i]; i++) {
		strvec_release(links);
		ret = try_dir(c, who, c->libdirs[i], soname, links, final);
	}
out:
	free(origin);
	return ret;
}

/* Add the interpreter and libraries of object @idx to the closure. 0 or -errno (reported). */
static int process(struct closure *c, size_t idx)
{
	struct strvec links = STRVEC_INIT;
	struct strbuf final = STRBUF_INIT;
	struct elf_deps d = { 0 };
	char *obj = xstrdup(c->objs.v[idx]);	/* objs may grow */
	char *owner = xstrdup(c->owner.v[idx]);
	int ret = load_elf(c->rootfd, obj, &d);

	if (ret == -ENOEXEC && idx < c->nr_progs) {
		ret = 0;	/* a script: nothing to add */
		goto out;
	}
	if (ret == -ENOEXEC) {
		error("'%s' in '%s' is not an ELF file", obj, c->sysroot_arg);
		goto out;
	}
	if (ret)
		goto out;
	if (d.interp) {
		ret = inroot_resolve(c->rootfd, d.interp, 0, &links, &final);
		if (ret) {
			ret = not_found(c, idx, d.interp);
			goto out;
		}
		add_out(c, &links, final.buf);
		enqueue(c, final.buf, owner);
	}
	for (size_t i = 0; i < d.needed.nr; i++) {
		strvec_release(&links);
		ret = find_lib(c, obj, &d, d.needed.v[i], &links, &final);
		if (ret) {
			ret = not_found(c, idx, d.needed.v[i]);
			goto out;
		}
		add_out(c, &links, final.buf);
		enqueue(c, final.buf, owner);
	}
out:
	elf_deps_release(&d);
	strvec_release(&links);
	strbuf_release(&final);
	free(owner);
	free(obj);
	return ret;
}

int elf_resolve_closure(const char *sysroot, const char *const *progs,
			size_t nr_progs, const char *const *libdirs,
			struct strvec *out)
{
	struct closure c = {
		.rootfd = open(sysroot, O_PATH | O_DIRECTORY | O_CLOEXEC),
		.sysroot_arg = sysroot,
		.libdirs = libdirs,
		.out = out,
	};
	struct strvec links = STRVEC_INIT;
	struct strbuf final = STRBUF_INIT;
	int ret = 0;

	if (c.rootfd < 0) {
		ret = error_errno("sysroot '%s' is not a directory", sysroot);
		goto out;
	}
	for (size_t i = 0; i < nr_progs; i++) {
		char *rel = *progs[i] == '/' ? xstrdup(progs[i]) :
			    xasprintf("/%s", progs[i]);

		strvec_release(&links);
		ret = inroot_resolve(c.rootfd, rel, 0, &links, &final);
		free(rel);
		if (ret) {
			error("cannot find '%s' in '%s': %s", progs[i], sysroot,
			      strerror(-ret));
			goto out;
		}
		enqueue(&c, final.buf, progs[i]);
	}
	c.nr_progs = c.objs.nr;
	/* objs grows while it is walked: breadth first, stable order */
	for (size_t i = 0; i < c.objs.nr; i++) {
		ret = process(&c, i);
		if (ret)
			goto out;
	}
out:
	strvec_release(&c.objs);
	strvec_release(&c.owner);
	strvec_release(&links);
	strbuf_release(&final);
	if (c.rootfd >= 0)
		close(c.rootfd);
	return ret;
}
