// SPDX-License-Identifier: MIT
/* elfdeps.c - ELF dependency reading and closure in a sysroot; see elfdeps.h */
#include "elfdeps.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SYMLINKS 40

/* ---- reading one ELF file ---- */

struct elf {
	const char *path;
	const unsigned char *map;
	size_t size;
	bool is64;
	bool msb;	/* big-endian */
};

/* Read an unsigned field of @width bytes at @off (bounds checked before). */
static uint64_t get_uint(const struct elf *f, uint64_t off, size_t width)
{
	const unsigned char *p = f->map + off;
	uint64_t v = 0;

	for (size_t i = 0; i < width; i++)
		v |= (uint64_t)p[f->msb ? width - 1 - i : i] << (8 * i);
	return v;
}

/* A field of the ELF structure T (Ehdr, Phdr, Dyn...) at file offset base. */
#define FIELD(f, T, fld, base)						\
	get_uint((f), (base) + ((f)->is64 ? offsetof(Elf64_##T, fld) :	\
				offsetof(Elf32_##T, fld)),		\
		 (f)->is64 ? sizeof(((Elf64_##T *)0)->fld) :		\
		 sizeof(((Elf32_##T *)0)->fld))
#define SIZEOF(f, T) ((f)->is64 ? sizeof(Elf64_##T) : sizeof(Elf32_##T))

static bool in_file(const struct elf *f, uint64_t off, uint64_t len)
{
	return off <= f->size && len <= f->size - off;
}

static int corrupt(const struct elf *f, const char *what)
{
	error("'%s' is a corrupt ELF file: %s", f->path, what);
	return -EINVAL;
}

struct load {
	uint64_t vaddr;
	uint64_t offset;
	uint64_t filesz;
};

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

/* The string @idx of the table at file offset @tab, bounds checked. */
static int get_string(const struct elf *f, uint64_t tab, uint64_t tabsz,
		      uint64_t idx, const char **out)
{
	uint64_t max = 0;

	if (tabsz && idx >= tabsz)
		return corrupt(f, "string index out of its table");
	if (!in_file(f, tab, 0) || idx >= f->size - tab)
		return corrupt(f, "string out of the file");
	max = f->size - tab - idx;
	if (tabsz && tabsz - idx < max)
		max = tabsz - idx;
	if (!memchr(f->map + tab + idx, '\0', max))
		return corrupt(f, "unterminated string");
	*out = (const char *)f->map + tab + idx;
	return 0;
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

static int parse_dynamic(const struct elf *f, uint64_t off, uint64_t len,
			 const struct load *loads, size_t nr_loads,
			 struct elf_deps *d)
{
	uint64_t *needed = NULL;
	size_t nr_needed = 0;
	uint64_t strtab = 0, strsz = 0, runpath = 0, rpath = 0, tab = 0;
	bool have_strtab = false, have_runpath = false, have_rpath = false;
	bool mapped = false;
	size_t dsz = SIZEOF(f, Dyn);
	const char *s = NULL;
	int ret = 0;

	if (!in_file(f, off, len)) {
		ret = corrupt(f, "dynamic section out of the file");
		goto out;
	}
	for (uint64_t p = off; p + dsz <= off + len; p += dsz) {
		uint64_t tag = FIELD(f, Dyn, d_tag, p);
		uint64_t val = FIELD(f, Dyn, d_un.d_val, p);

		if (tag == DT_NULL)
			break;
		switch (tag) {
		case DT_NEEDED:
			needed = xrealloc(needed, (nr_needed + 1) *
						  sizeof(*needed));
			needed[nr_needed++] = val;
			break;
		case DT_STRTAB:
			strtab = val;
			have_strtab = true;
			break;
		case DT_STRSZ:
			strsz = val;
			break;
		case DT_RUNPATH:
			runpath = val;
			have_runpath = true;
			break;
		case DT_RPATH:
			rpath = val;
			have_rpath = true;
			break;
		default:
			break;
		}
	}
	if (!nr_needed && !have_runpath && !have_rpath)
		goto out;
	if (!have_strtab) {
		ret = corrupt(f, "dynamic section without DT_STRTAB");
		goto out;
	}
	/* DT_STRTAB is an address: find the segment that loads it */
	for (size_t i = 0; i < nr_loads; i++) {
		if (strtab >= loads[i].vaddr &&
		    strtab - loads[i].vaddr < loads[i].filesz) {
			tab = loads[i].offset + (strtab - loads[i].vaddr);
			mapped = true;
			break;
		}
	}
	if (!mapped) {
		ret = corrupt(f, "DT_STRTAB outside of every PT_LOAD");
		goto out;
	}
	for (size_t i = 0; i < nr_needed; i++) {
		ret = get_string(f, tab, strsz, needed[i], &s);
		if (ret)
			goto out;
		strvec_push(&d->needed, s);
	}
	if (have_runpath || have_rpath) {
		ret = get_string(f, tab, strsz, have_runpath ? runpath : rpath,
				 &s);
		if (ret)
			goto out;
		split_path_list(s, &d->runpath);
	}
out:
	free(needed);
	return ret;
}

static int parse_elf(const struct elf *f, struct elf_deps *d)
{
	struct load *loads = NULL;
	size_t nr_loads = 0;
	uint64_t phoff = 0, phentsize = 0, phnum = 0;
	uint64_t dyn_off = 0, dyn_len = 0;
	bool have_dyn = false;
	int ret = 0;

	if (!in_file(f, 0, SIZEOF(f, Ehdr))) {
		ret = corrupt(f, "truncated header");
		goto out;
	}
	d->machine = (uint16_t)FIELD(f, Ehdr, e_machine, 0);
	phoff = FIELD(f, Ehdr, e_phoff, 0);
	phentsize = FIELD(f, Ehdr, e_phentsize, 0);
	phnum = FIELD(f, Ehdr, e_phnum, 0);
	if (phnum == PN_XNUM) {
		/* the real count is in section header 0's sh_info */
		uint64_t shoff = FIELD(f, Ehdr, e_shoff, 0);

		if (!shoff || !in_file(f, shoff, SIZEOF(f, Shdr))) {
			ret = corrupt(f, "bad extended program header count");
			goto out;
		}
		phnum = FIELD(f, Shdr, sh_info, shoff);
	}
	if (!phnum)
		goto out;	/* relocatable object: no dependencies */
	if (phentsize < SIZEOF(f, Phdr) ||
	    !in_file(f, phoff, phnum * phentsize)) {
		ret = corrupt(f, "program headers out of the file");
		goto out;
	}
	loads = xcalloc(phnum, sizeof(*loads));
	for (uint64_t i = 0; i < phnum; i++) {
		uint64_t ph = phoff + i * phentsize;
		uint64_t type = FIELD(f, Phdr, p_type, ph);
		uint64_t off = FIELD(f, Phdr, p_offset, ph);
		uint64_t filesz = FIELD(f, Phdr, p_filesz, ph);

		if (type == PT_LOAD) {
			loads[nr_loads].vaddr = FIELD(f, Phdr, p_vaddr, ph);
			loads[nr_loads].offset = off;
			loads[nr_loads].filesz = filesz;
			nr_loads++;
		} else if (type == PT_DYNAMIC) {
			dyn_off = off;
			dyn_len = filesz;
			have_dyn = true;
		} else if (type == PT_INTERP && !d->interp) {
			if (!in_file(f, off, filesz) || !filesz) {
				ret = corrupt(f, "PT_INTERP out of the file");
				goto out;
			}
			d->interp = xstrndup((const char *)f->map + off,
					     strnlen((const char *)f->map + off,
						     filesz));
		}
	}
	if (have_dyn)
		ret = parse_dynamic(f, dyn_off, dyn_len, loads, nr_loads, d);
out:
	free(loads);
	return ret;
}

/* Read @path into @d. -ENOEXEC (not reported) if not ELF, other -errno. */
static int load_elf(const char *path, struct elf_deps *d)
{
	struct elf f = { .path = path };
	void *map = MAP_FAILED;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0) {
		ret = -errno;
		error_errno("cannot open '%s'", path);
		goto out;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		error_errno("cannot stat '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		error("'%s' is not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size < EI_NIDENT) {
		ret = -ENOEXEC;
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		error_errno("cannot map '%s'", path);
		goto out;
	}
	f.map = map;
	f.size = (size_t)st.st_size;
	if (memcmp(f.map, ELFMAG, SELFMAG) ||
	    (f.map[EI_CLASS] != ELFCLASS32 && f.map[EI_CLASS] != ELFCLASS64) ||
	    (f.map[EI_DATA] != ELFDATA2LSB && f.map[EI_DATA] != ELFDATA2MSB)) {
		ret = -ENOEXEC;
		goto out;
	}
	f.is64 = f.map[EI_CLASS] == ELFCLASS64;
	f.msb = f.map[EI_DATA] == ELFDATA2MSB;
	d->cls = f.map[EI_CLASS];
	d->data = f.map[EI_DATA];
	ret = parse_elf(&f, d);
out:
	if (ret)
		elf_deps_release(d);
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	return ret;
}

int elf_read_deps(const char *path, char **interp, struct strvec *needed,
		  struct strvec *runpath)
{
	struct elf_deps d = { 0 };
	int ret = load_elf(path, &d);

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

/* ---- paths inside the sysroot ---- */

/*
 * Resolve the sysroot-relative @path inside @sysroot the way the guest
 * kernel will: every symlink (also a directory component) is followed, an
 * absolute target re-rooted at @sysroot, ".." never climbs above it. Each
 * symlink met is appended to @links as a sysroot-relative path whose
 * directories are all real, and @final gets the resolved path (same form).
 * 0 or -errno (not reported).
 */
static int sysroot_resolve(const char *sysroot, const char *path,
			   struct strvec *links, struct strbuf *final)
{
	struct strbuf canon = STRBUF_INIT;	/* "" or "/a/b" */
	struct strbuf todo = STRBUF_INIT;
	struct strbuf next = STRBUF_INIT;
	struct strbuf host = STRBUF_INIT;
	char target[PATH_MAX];
	const char *p = NULL;
	int nr_links = 0;
	int ret = 0;

	strbuf_addstr(&todo, path);
	p = todo.buf;
	while (*p) {
		const char *e = NULL;
		size_t n = 0;
		bool last = false;
		struct stat st;
		ssize_t len = 0;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		last = !e[strspn(e, "/")];
		if (n == 1 && *p == '.') {
			p = e;
			continue;
		}
		if (n == 2 && !memcmp(p, "..", 2)) {
			char *slash = strrchr(strbuf_str(&canon), '/');

			if (slash) {
				canon.len = (size_t)(slash - canon.buf);
				canon.buf[canon.len] = '\0';
			}
			p = e;
			continue;
		}
		strbuf_reset(&host);
		strbuf_addf(&host, "%s%s/%.*s", sysroot, strbuf_str(&canon),
			    (int)n, p);
		if (lstat(host.buf, &st)) {
			ret = -errno;
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++nr_links > MAX_SYMLINKS) {
				ret = -ELOOP;
				goto out;
			}
			len = readlink(host.buf, target, sizeof(target));
			if (len < 0 || (size_t)len >= sizeof(target)) {
				ret = len < 0 ? -errno : -ENAMETOOLONG;
				goto out;
			}
			strvec_pushf(links, "%s/%.*s", strbuf_str(&canon),
				     (int)n, p);
			strbuf_reset(&next);
			strbuf_add(&next, target, (size_t)len);
			strbuf_addch(&next, '/');
			strbuf_addstr(&next, e);
			if (target[0] == '/')
				strbuf_reset(&canon);
			strbuf_reset(&todo);
			strbuf_addstr(&todo, next.buf);
			p = todo.buf;
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			ret = -ENOTDIR;
			goto out;
		}
		strbuf_addch(&canon, '/');
		strbuf_add(&canon, p, n);
		p = e;
	}
	strbuf_reset(final);
	strbuf_addstr(final, canon.len ? canon.buf : "/");
out:
	strbuf_release(&canon);
	strbuf_release(&todo);
	strbuf_release(&next);
	strbuf_release(&host);
	return ret;
}

static char *host_path(const char *sysroot, const char *rel)
{
	return xasprintf("%s%s", sysroot, rel);
}

/* Whether @host is a regular ELF file of the same kind as @who. */
static bool compatible(const char *host, const struct elf_deps *who)
{
	unsigned char hdr[EI_NIDENT + 4];
	struct stat st;
	int fd = -1;
	bool ok = false;
	uint16_t machine = 0;

	if (stat(host, &st) || !S_ISREG(st.st_mode))
		return false;
	fd = open(host, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, ELFMAG, SELFMAG) || hdr[EI_CLASS] != who->cls ||
	    hdr[EI_DATA] != who->data)
		goto out;
	/* e_machine is at 18 in both classes: after e_ident[16], e_type */
	if (hdr[EI_DATA] == ELFDATA2MSB)
		machine = (uint16_t)(hdr[18] << 8 | hdr[19]);
	else
		machine = (uint16_t)(hdr[19] << 8 | hdr[18]);
	ok = machine == who->machine;
out:
	close(fd);
	return ok;
}

/* ---- the closure ---- */

struct closure {
	const char *sysroot;	/* without trailing '/': "" for "/" */
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
	char *host = NULL;
	int ret = sysroot_resolve(c->sysroot, cand, links, final);

	if (!ret) {
		host = host_path(c->sysroot, final->buf);
		if (!compatible(host, who))
			ret = -ENOENT;
	}
	free(host);
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

/* Add the interpreter and libraries of object @idx to the closure. */
static int process(struct closure *c, size_t idx)
{
	struct strvec links = STRVEC_INIT;
	struct strbuf final = STRBUF_INIT;
	struct elf_deps d = { 0 };
	char *obj = xstrdup(c->objs.v[idx]);	/* objs may grow */
	char *owner = xstrdup(c->owner.v[idx]);
	char *host = host_path(c->sysroot, obj);
	int ret = load_elf(host, &d);

	if (ret == -ENOEXEC && idx < c->nr_progs) {
		ret = 0;	/* a script: nothing to add */
		goto out;
	}
	if (ret == -ENOEXEC) {
		error("'%s' is not an ELF file", host);
		goto out;
	}
	if (ret)
		goto out;
	if (d.interp) {
		ret = sysroot_resolve(c->sysroot, d.interp, &links, &final);
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
	free(host);
	free(owner);
	free(obj);
	return ret;
}

int elf_resolve_closure(const char *sysroot, const char *const *progs,
			size_t nr_progs, const char *const *libdirs,
			struct strvec *out)
{
	struct closure c = {
		.sysroot_arg = sysroot,
		.libdirs = libdirs,
		.out = out,
	};
	struct strvec links = STRVEC_INIT;
	struct strbuf final = STRBUF_INIT;
	char *root = xstrdup(sysroot);
	size_t len = strlen(root);
	int ret = 0;

	while (len && root[len - 1] == '/')
		root[--len] = '\0';
	c.sysroot = root;
	if (!is_dir(sysroot)) {
		ret = -ENOENT;
		error("sysroot '%s' is not a directory", sysroot);
		goto out;
	}
	for (size_t i = 0; i < nr_progs; i++) {
		char *rel = *progs[i] == '/' ? xstrdup(progs[i]) :
			    xasprintf("/%s", progs[i]);

		strvec_release(&links);
		ret = sysroot_resolve(c.sysroot, rel, &links, &final);
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
	free(root);
	return ret;
}
