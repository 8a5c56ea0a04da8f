// SPDX-License-Identifier: MIT
/* config.c - load and validate profiles and their parts; see config.h */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "yamltree.h"

#ifndef TEELAB_DATADIR
#define TEELAB_DATADIR "/usr/local/share/teelab"
#endif

char *config_find_datadir(void)
{
	const char *env = getenv("TEELAB_DATADIR");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env)
		return xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash, *probe;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			/* ./teelab in a checkout, or <prefix>/bin/teelab of `make install` */
			static const char *const beside[] = { "", "../share/teelab" };

			for (size_t i = 0; i < ARRAY_SIZE(beside); i++) {
				char *dir = path_join(exe, beside[i]);

				probe = path_join(dir, "configs/profiles");
				if (is_dir(probe)) {
					char *real = realpath(dir, NULL);

					free(probe);
					if (real) {
						free(dir);
						return real;
					}
					return dir;
				}
				free(probe);
				free(dir);
			}
		}
	}
	if (is_dir(TEELAB_DATADIR "/configs"))
		return xstrdup(TEELAB_DATADIR);
	error("cannot find teelab's data (configs/, scenarios/, images/); set TEELAB_DATADIR");
	return NULL;
}

char *config_file(const struct lab_config *cfg, const char *sub, const char *name)
{
	return xasprintf("%s/%s/%s.yaml", cfg->datadir, sub, name);
}

static char *where(const struct ydoc *doc, const struct ynode *n)
{
	return xasprintf("%s:%u:%u", doc->path, n ? n->line : 1, n ? n->column : 1);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* An absolute path, or one relative to the directory of the YAML file. */
static char *user_path(const struct ydoc *doc, const char *p)
{
	char *dir, *slash, *ret;

	if (p[0] == '/')
		return xstrdup(p);
	if (p[0] == '~' && p[1] == '/' && getenv("HOME"))
		return xasprintf("%s%s", getenv("HOME"), p + 1);
	dir = xstrdup(doc->path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	ret = slash ? path_join(dir, p) : xstrdup(p);
	free(dir);
	return ret;
}

/*
 * A package reference: either "name" (scalar; suite from @def_suite) or a
 * map { package, suite, version, arch }.
 */
static int parse_pkg(const struct ydoc *doc, const struct ynode *n,
		     const char *def_suite, struct pkg_ref *r)
{
	static const char *const keys[] = { "package", "suite", "version", "arch", NULL };
	const char *name = NULL, *suite = def_suite, *version = NULL, *arch = "arm64";
	int ret;

	if (n->type == YNODE_SCALAR) {
		name = n->scalar;
	} else {
		ret = ynode_check_keys(doc, n, "a package", keys);
		if (!ret)
			ret = ynode_get_str(doc, n, "package", &name);
		if (!ret)
			ret = ynode_get_str(doc, n, "suite", &suite);
		if (!ret)
			ret = ynode_get_str(doc, n, "version", &version);
		if (!ret)
			ret = ynode_get_str(doc, n, "arch", &arch);
		if (ret)
			return ret;
	}
	if (!name || !*name)
		return ynode_error(doc, n, "a package needs a name");
	if (!suite)
		return ynode_error(doc, n, "package '%s' needs a suite", name);
	r->name = xstrdup(name);
	r->suite = xstrdup(suite);
	r->version = dup_or_null(version);
	r->arch = xstrdup(arch);
	r->where = where(doc, n);
	return 0;
}

static int get_pkg(const struct ydoc *doc, const struct ynode *map,
		   const char *key, const char *def_suite, struct pkg_ref *r)
{
	const struct ynode *n = ynode_get(map, key);

	if (!n)
		return ynode_error(doc, map, "missing '%s'", key);
	return parse_pkg(doc, n, def_suite, r);
}

static int get_strvec(const struct ydoc *doc, const struct ynode *map,
		      const char *key, struct strvec *out)
{
	const char **list = NULL;
	size_t nr = 0;
	int ret = ynode_get_strlist(doc, map, key, &list, &nr);

	for (size_t i = 0; !ret && i < nr; i++)
		strvec_push(out, list[i]);
	free(list);
	return ret;
}

/*
 * Load <datadir>/@sub/@name.yaml, the @what of a profile: 0, -ENOENT if
 * there is no such file, -EINVAL if it is not a YAML mapping (reported).
 */
static int load_doc(const struct lab_config *cfg, const char *sub,
		    const char *name, const char *what, struct ydoc *doc)
{
	char *path = config_file(cfg, sub, name);
	int ret;

	if (!file_exists(path)) {
		ret = error_code(-ENOENT, "%s '%s' not found (no file '%s')", what, name, path);
		free(path);
		return ret;
	}
	ret = ydoc_load(path, doc);
	free(path);
	if (!ret && (!doc->root || doc->root->type != YNODE_MAP))
		ret = ynode_error(doc, doc->root, "expected a mapping at the top of the %s", what);
	return ret;
}

/*
 * configs/known-failures/<secure profile>.yaml, if there is one: a list of
 * { case: <xtest case id>, reason: <why>, link: <url> } (link optional).
 * 0, or -EINVAL (reported with file:line).
 */
static int load_known_failures(struct lab_config *cfg)
{
	static const char *const keys[] = { "case", "reason", "link", NULL };
	struct secure_cfg *s = &cfg->secure;
	char *path = config_file(cfg, "configs/known-failures", s->name);
	struct ydoc doc = YDOC_INIT;
	int ret = 0;

	if (!file_exists(path))
		goto out;
	ret = ydoc_load(path, &doc);
	if (!ret && doc.root && doc.root->type != YNODE_SEQ)
		ret = ynode_error(&doc, doc.root, "expected a list of known failures");
	for (size_t i = 0; !ret && doc.root && i < doc.root->nr; i++) {
		const struct ynode *n = doc.root->items[i];
		const char *id = NULL, *reason = NULL, *link = NULL;

		if (n->type != YNODE_MAP) {
			ret = ynode_error(&doc, n, "expected { case:, reason:, link: }");
			break;
		}
		ret = ynode_check_keys(&doc, n, "a known failure", keys);
		if (!ret)
			ret = ynode_get_str(&doc, n, "case", &id);
		if (!ret)
			ret = ynode_get_str(&doc, n, "reason", &reason);
		if (!ret)
			ret = ynode_get_str(&doc, n, "link", &link);
		if (!ret && (!id || !reason))
			ret = ynode_error(&doc, n, "a known failure needs 'case' and 'reason'");
		if (ret)
			break;
		s->known = xrealloc(s->known, (s->nr_known + 1) * sizeof(*s->known));
		s->known[s->nr_known++] = (struct known_failure){ xstrdup(id), xstrdup(reason),
								  dup_or_null(link) };
	}
out:
	ydoc_release(&doc);
	free(path);
	return ret;
}

/* The machine part @name, with the command line's backend. 0, -ENOENT or -EINVAL (reported). */
static int load_machine(struct lab_config *cfg, const char *name,
			const struct config_overrides *ov)
{
	static const char *const keys[] = { "description", "qemu", "cpu", "smp",
		"memory", "gic-version", "tcg-thread", "extra-args", "backend", "connect", "boot", NULL };
	struct machine_cfg *m = &cfg->machine;
	struct ydoc doc = YDOC_INIT;
	const char *qemu = "qemu-system-aarch64", *cpu = "cortex-a57";
	const char *backend = "qemu", *connect = NULL, *boot = "direct", *tcg = "single";
	int ret = load_doc(cfg, "configs/machines", name, "machine", &doc);

	if (ret)
		goto out;
	m->smp = 2;
	m->memory_mb = 1024;
	m->gic_version = 3;
	ret = ynode_check_keys(&doc, doc.root, "a machine", keys);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "qemu", &qemu);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "cpu", &cpu);
	if (!ret)
		ret = ynode_get_int(&doc, doc.root, "smp", &m->smp);
	if (!ret)
		ret = ynode_get_int(&doc, doc.root, "memory", &m->memory_mb);
	if (!ret)
		ret = ynode_get_int(&doc, doc.root, "gic-version", &m->gic_version);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "tcg-thread", &tcg);
	if (!ret)
		ret = get_strvec(&doc, doc.root, "extra-args", &m->extra_args);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "backend", &backend);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "connect", &connect);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "boot", &boot);
	if (ret)
		goto out;
	if (ov && ov->boot)
		boot = ov->boot;
	if (!strcmp(boot, "direct")) {
		m->boot = BOOT_DIRECT;
	} else if (!strcmp(boot, "u-boot")) {
		m->boot = BOOT_UBOOT;
	} else {
		ret = ov && ov->boot
			? error_code(-EINVAL, "--boot must be direct or u-boot, not '%s'", boot)
			: ynode_error(&doc, ynode_get(doc.root, "boot"),
				      "boot must be direct (TF-A enters Linux) or u-boot (BL33 = U-Boot), not '%s'",
				      boot);
		goto out;
	}
	if (ov && ov->backend)
		backend = ov->backend;
	if (ov && ov->connect) {
		connect = ov->connect;
		if (!ov->backend)
			backend = "libvirt";	/* --connect alone means libvirt */
	}
	if (strcmp(backend, "qemu") && strcmp(backend, "libvirt")) {
		ret = ov && ov->backend
			? error_code(-EINVAL, "--backend must be qemu or libvirt, not '%s'", backend)
			: ynode_error(&doc, ynode_get(doc.root, "backend"),
				      "backend must be qemu or libvirt, not '%s'", backend);
		goto out;
	}
	if (connect && !strcmp(backend, "qemu")) {
		ret = ov && ov->connect ? error_code(-EINVAL, "--connect needs --backend libvirt")
			: ynode_error(&doc, ynode_get(doc.root, "connect"),
				      "connect: is a libvirt URI; it needs backend: libvirt");
		goto out;
	}
	if (m->smp < 1 || m->smp > 8)
		ret = ynode_error(&doc, ynode_get(doc.root, "smp"), "smp must be 1..8");
	else if (m->memory_mb < 256)
		ret = ynode_error(&doc, ynode_get(doc.root, "memory"), "memory is in MiB and must be at least 256");
	else if (m->gic_version != 2 && m->gic_version != 3)
		ret = ynode_error(&doc, ynode_get(doc.root, "gic-version"), "gic-version must be 2 or 3");
	else if (strcmp(tcg, "single") && strcmp(tcg, "multi"))
		ret = ynode_error(&doc, ynode_get(doc.root, "tcg-thread"),
				  "tcg-thread must be single or multi (QEMU's -accel tcg,thread=), not '%s'",
				  tcg);
	m->name = xstrdup(name);
	m->tcg_thread = xstrdup(tcg);
	m->qemu = xstrdup(qemu);
	m->cpu = xstrdup(cpu);
	m->backend = xstrdup(backend);
	m->connect = connect ? xstrdup(connect) : NULL;
out:
	ydoc_release(&doc);
	return ret;
}

const char *machine_tcg_thread(const struct machine_cfg *c)
{
	return c->tcg_thread ? c->tcg_thread : "single";
}

const char *boot_mode_name(enum boot_mode b)
{
	return b == BOOT_UBOOT ? "u-boot" : "direct";
}

/* Whether the config fragment @rel (datadir-relative) sets @sym to y or m. */
static bool fragment_sets(const struct lab_config *cfg, const char *rel, const char *sym)
{
	char *path = path_join(cfg->datadir, rel), *text = NULL, *save = NULL;
	size_t len = strlen(sym);
	bool set = false;

	if (!read_file(path, &text, NULL))
		for (char *l = strtok_r(text, "\n", &save); l && !set; l = strtok_r(NULL, "\n", &save))
			set = !strncmp(l, sym, len) && (!strcmp(l + len, "=y") || !strcmp(l + len, "=m"));
	free(text);
	free(path);
	return set;
}

static int load_kernel(struct lab_config *cfg, const char *name)
{
	static const char *const keys[] = { "description", "deb", "image",
		"modules-dir", "modules", "cmdline", "headers", "source", "ffa-transport", NULL };
	struct kernel_cfg *k = &cfg->kernel;
	struct ydoc doc = YDOC_INIT;
	const char *image = NULL, *moddir = NULL, *cmdline = NULL;
	int ret = load_doc(cfg, "configs/kernels", name, "kernel", &doc);

	if (ret)
		goto out;
	ret = ynode_check_keys(&doc, doc.root, "a kernel", keys);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "image", &image);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "modules-dir", &moddir);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "cmdline", &cmdline);
	if (!ret)
		ret = get_strvec(&doc, doc.root, "modules", &k->modules);
	if (!ret)
		ret = ynode_get_bool(&doc, doc.root, "ffa-transport", &k->ffa_transport);
	if (ret)
		goto out;
	if (ynode_get(doc.root, "ffa-transport") && ynode_get(doc.root, "source")) {
		ret = ynode_error(&doc, ynode_get(doc.root, "ffa-transport"),
				  "a kernel built from source has the FF-A transport when a fragment "
				  "sets CONFIG_ARM_FFA_TRANSPORT; 'ffa-transport' is for the others");
		goto out;
	}
	k->name = xstrdup(name);
	k->cmdline = dup_or_null(cmdline);
	/* a source kernel: what its fragments say (below) */
	k->no_ip = ynode_get(doc.root, "source") != NULL;
	if (image) {
		k->kind = SRC_PREBUILT;
		k->image = user_path(&doc, image);
		k->modules_dir = moddir ? user_path(&doc, moddir) : NULL;
		if (ynode_get(doc.root, "deb"))
			ret = ynode_error(&doc, ynode_get(doc.root, "deb"),
					  "a kernel has either 'deb' or 'image', not both");
	} else if (ynode_get(doc.root, "source")) {
		static const char *const src_keys[] = { "deb", "base", "fragments", "kasan-only",
			NULL };
		const struct ynode *src = ynode_get(doc.root, "source");
		const char *base = "allnoconfig";

		k->kind = SRC_DEBIAN;
		k->build = true;
		ret = ynode_check_keys(&doc, src, "source", src_keys);
		if (!ret)
			ret = ynode_get_str(&doc, src, "base", &base);
		if (!ret)
			ret = get_strvec(&doc, src, "fragments", &k->fragments);
		if (!ret)
			ret = get_strvec(&doc, src, "kasan-only", &k->kasan_only);
		for (size_t i = 0; !ret && i < k->kasan_only.nr; i++) {
			const char *d = k->kasan_only.v[i];

			if (!*d || d[0] == '/' || strstr(d, ".."))
				ret = ynode_error(&doc, ynode_get(src, "kasan-only"),
						  "kasan-only names directories of the kernel tree "
						  "(e.g. drivers/tee), not '%s'", d);
		}
		if (!ret)
			ret = get_pkg(&doc, src, "deb", NULL, &k->src_deb);
		if (!ret)
			k->base_config = xstrdup(base);
		for (size_t i = 0; !ret && i < k->fragments.nr; i++) {
			k->ffa_transport |= fragment_sets(cfg, k->fragments.v[i],
							  "CONFIG_ARM_FFA_TRANSPORT");
			if (fragment_sets(cfg, k->fragments.v[i], "CONFIG_INET"))
				k->no_ip = false;
		}
	} else {
		const struct ynode *hdr = ynode_get(doc.root, "headers");

		k->kind = SRC_DEBIAN;
		ret = get_pkg(&doc, doc.root, "deb", NULL, &k->deb);
		if (!ret && hdr && hdr->type != YNODE_SEQ)
			ret = ynode_error(&doc, hdr, "'headers' is a list of packages");
		for (size_t i = 0; !ret && hdr && i < hdr->nr; i++) {
			k->headers = xrealloc(k->headers, (k->nr_headers + 1) * sizeof(*k->headers));
			memset(&k->headers[k->nr_headers], 0, sizeof(*k->headers));
			ret = parse_pkg(&doc, hdr->items[i], k->deb.suite, &k->headers[k->nr_headers]);
			if (!ret)
				k->nr_headers++;
		}
	}
out:
	ydoc_release(&doc);
	return ret;
}

/* @node: { deb: <package>, path: <in package> } (@what names it in errors) */
static int get_pkg_path(const struct ydoc *doc, const struct ynode *node, const char *what,
			struct pkg_ref *deb, char **path)
{
	static const char *const keys[] = { "deb", "path", NULL };
	const char *p = NULL;
	int ret = ynode_check_keys(doc, node, what, keys);

	if (!ret)
		ret = ynode_get_str(doc, node, "path", &p);
	if (!ret && !p)
		ret = ynode_error(doc, node, "%s needs 'path'", what);
	if (!ret)
		ret = get_pkg(doc, node, "deb", NULL, deb);
	if (!ret)
		*path = xstrdup(p);
	return ret;
}

/*
 * optee: { source: <package> | tree: <dir>, make-flags: [...], overlay: <dir> | [<dir>...],
 *          patches: [...], ta-public-key: { deb: <package>, path: <in package> },
 *          ta-dev-kit: { deb: <package>, path: <in package> } }
 */
static int load_optee_build(const struct ydoc *doc, const struct ynode *optee,
			    struct secure_cfg *s)
{
	static const char *const keys[] = { "source", "tree", "make-flags", "overlay",
		"patches", "ta-public-key", "ta-dev-kit", NULL };
	const struct ynode *key = ynode_get(optee, "ta-public-key");
	const struct ynode *kit = ynode_get(optee, "ta-dev-kit");
	const char *tree = NULL;
	int ret = ynode_check_keys(doc, optee, "optee", keys);

	s->optee_kind = SRC_DEBIAN;
	s->optee_build = true;
	if (!ret)
		ret = ynode_get_str(doc, optee, "tree", &tree);
	if (!ret)
		ret = get_strvec(doc, optee, "overlay", &s->optee_overlays);
	if (!ret)
		ret = get_strvec(doc, optee, "make-flags", &s->optee_flags);
	if (!ret)
		ret = get_strvec(doc, optee, "patches", &s->optee_patches);
	if (ret)
		return ret;
	if (tree) {
		s->optee_kind = SRC_TREE;
		s->optee_tree = user_path(doc, tree);
	} else {
		ret = get_pkg(doc, optee, "source", NULL, &s->optee_src);
		if (ret)
			return ret;
		free(s->optee_src.arch);
		s->optee_src.arch = xstrdup("source");
	}
	if (key && (ret = get_pkg_path(doc, key, "ta-public-key", &s->ta_key_deb, &s->ta_key_path)))
		return ret;
	if (kit && (ret = get_pkg_path(doc, kit, "ta-dev-kit", &s->ta_devkit_deb, &s->ta_devkit_path)))
		return ret;
	if (kit && s->optee_kind == SRC_TREE)
		return ynode_error(doc, kit, "ta-dev-kit goes with 'source:' (its version is the "
				   "source's); a tree's TAs use the dev kit its build exports");
	return 0;
}

static int load_secure(struct lab_config *cfg, const char *name)
{
	static const char *const keys[] = { "description", "tfa", "optee", "bl33", "rpmb-key",
		NULL };
	static const char *const tfa_keys[] = { "source", "tree", "bios", "make-flags",
		"spmc-manifest", NULL };
	static const char *const bin_keys[] = { "deb", "path", NULL };
	struct secure_cfg *s = &cfg->secure;
	struct ydoc doc = YDOC_INIT;
	const struct ynode *tfa, *optee, *bl33;
	const char *tree = NULL, *bios = NULL, *path = NULL, *rpmb_key = NULL, *manifest = NULL;
	int ret = load_doc(cfg, "configs/secure", name, "secure-world profile", &doc);

	if (ret)
		goto out;
	s->name = xstrdup(name);
	ret = ynode_check_keys(&doc, doc.root, "a secure-world profile", keys);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "rpmb-key", &rpmb_key);
	if (ret)
		goto out;
	if (rpmb_key) {
		size_t n = 0;

		if (!OPENSSL_hexstr2buf_ex(s->rpmb_key, sizeof(s->rpmb_key), &n, rpmb_key, '\0') ||
		    n != sizeof(s->rpmb_key)) {
			ret = ynode_error(&doc, ynode_get(doc.root, "rpmb-key"),
					  "rpmb-key must be %zu bytes in hex (%zu hex digits)",
					  sizeof(s->rpmb_key), 2 * sizeof(s->rpmb_key));
			goto out;
		}
		s->has_rpmb_key = true;
	}
	tfa = ynode_get(doc.root, "tfa");
	optee = ynode_get(doc.root, "optee");
	bl33 = ynode_get(doc.root, "bl33");
	if (!tfa || !optee || !bl33) {
		ret = ynode_error(&doc, doc.root, "a secure-world profile needs 'tfa', 'optee' and 'bl33'");
		goto out;
	}

	ret = ynode_check_keys(&doc, tfa, "tfa", tfa_keys);
	if (!ret)
		ret = ynode_get_str(&doc, tfa, "tree", &tree);
	if (!ret)
		ret = ynode_get_str(&doc, tfa, "bios", &bios);
	if (!ret)
		ret = get_strvec(&doc, tfa, "make-flags", &s->tfa_flags);
	if (!ret)
		ret = ynode_get_str(&doc, tfa, "spmc-manifest", &manifest);
	if (ret)
		goto out;
	s->tfa_spmc_manifest = dup_or_null(manifest);
	s->ffa = manifest || strvec_contains(&s->tfa_flags, "SPD=spmd");
	if (bios) {
		s->tfa_kind = SRC_PREBUILT;
		s->tfa_bios = user_path(&doc, bios);
	} else if (tree) {
		s->tfa_kind = SRC_TREE;
		s->tfa_tree = user_path(&doc, tree);
	} else {
		s->tfa_kind = SRC_DEBIAN;
		ret = get_pkg(&doc, tfa, "source", NULL, &s->tfa_src);
		if (ret)
			goto out;
		free(s->tfa_src.arch);
		s->tfa_src.arch = xstrdup("source");
	}

	if (ynode_get(optee, "source") || ynode_get(optee, "tree")) {
		ret = load_optee_build(&doc, optee, s);
		goto bl33;
	}
	ret = ynode_check_keys(&doc, optee, "optee", bin_keys);
	if (!ret)
		ret = ynode_get_str(&doc, optee, "path", &path);
	if (ret)
		goto out;
	if (!path) {
		ret = ynode_error(&doc, optee, "optee needs 'path' (the directory with tee-*_v2.bin)");
		goto out;
	}
	if (ynode_get(optee, "deb")) {
		s->optee_kind = SRC_DEBIAN;
		s->optee_dir = xstrdup(path);
		ret = get_pkg(&doc, optee, "deb", NULL, &s->optee_deb);
	} else {
		s->optee_kind = SRC_PREBUILT;
		s->optee_dir = user_path(&doc, path);
	}
bl33:
	if (ret)
		goto out;

	path = NULL;
	ret = ynode_check_keys(&doc, bl33, "bl33", bin_keys);
	if (!ret)
		ret = ynode_get_str(&doc, bl33, "path", &path);
	if (ret)
		goto out;
	if (!path) {
		ret = ynode_error(&doc, bl33, "bl33 needs 'path'");
		goto out;
	}
	if (ynode_get(bl33, "deb")) {
		s->bl33_kind = SRC_DEBIAN;
		s->bl33_path = xstrdup(path);
		ret = get_pkg(&doc, bl33, "deb", NULL, &s->bl33_deb);
	} else {
		s->bl33_kind = SRC_PREBUILT;
		s->bl33_path = user_path(&doc, path);
	}
out:
	ydoc_release(&doc);
	return ret;
}

static int load_rootfs(struct lab_config *cfg, const char *name)
{
	static const char *const keys[] = { "description", "suite", "packages",
		"programs", "copy", "dirs", "links", "overlay", "init", NULL };
	struct rootfs_cfg *r = &cfg->rootfs;
	struct ydoc doc = YDOC_INIT;
	const struct ynode *pkgs;
	const char *suite = NULL, *overlay = NULL, *init = NULL;
	int ret = load_doc(cfg, "images/rootfs", name, "rootfs recipe", &doc);

	if (ret)
		goto out;
	r->name = xstrdup(name);
	ret = ynode_check_keys(&doc, doc.root, "a rootfs recipe", keys);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "suite", &suite);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "overlay", &overlay);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "init", &init);
	if (!ret)
		ret = get_strvec(&doc, doc.root, "programs", &r->programs);
	if (!ret)
		ret = get_strvec(&doc, doc.root, "copy", &r->copy);
	if (!ret)
		ret = get_strvec(&doc, doc.root, "dirs", &r->dirs);
	if (!ret)
		ret = get_strvec(&doc, doc.root, "links", &r->links);
	if (ret)
		goto out;
	r->default_suite = dup_or_null(suite);
	r->overlay = xstrdup(overlay ? overlay : "images/rootfs/overlay");
	r->init = dup_or_null(init);
	pkgs = ynode_get(doc.root, "packages");
	if (!pkgs || pkgs->type != YNODE_SEQ || !pkgs->nr) {
		ret = ynode_error(&doc, pkgs ? pkgs : doc.root,
				  "a rootfs recipe needs a non-empty 'packages' list");
		goto out;
	}
	r->pkgs = xcalloc(pkgs->nr, sizeof(*r->pkgs));
	for (size_t i = 0; i < pkgs->nr; i++) {
		ret = parse_pkg(&doc, pkgs->items[i], suite, &r->pkgs[i]);
		if (ret)
			goto out;
		r->nr_pkgs++;
	}
	for (size_t i = 0; i < r->links.nr; i++)
		if (!strchr(r->links.v[i], '=')) {
			ret = ynode_error(&doc, ynode_get(doc.root, "links"),
					  "a link is written 'path=target', not '%s'", r->links.v[i]);
			goto out;
		}
out:
	ydoc_release(&doc);
	return ret;
}

static char *default_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg)
		return xasprintf("%s/teelab", xdg);
	if (home && *home)
		return xasprintf("%s/.cache/teelab", home);
	return xstrdup("/var/tmp/teelab-cache");
}

/* The command line's value, else a non-empty $@env, else NULL. */
static char *option_or_env(const char *opt, const char *env)
{
	const char *v = getenv(env);

	if (opt)
		return xstrdup(opt);
	return v && *v ? xstrdup(v) : NULL;
}

char *config_cache_dir(const struct config_overrides *ov)
{
	char *dir = option_or_env(ov ? ov->cache_dir : NULL, "TEELAB_CACHE_DIR");

	return dir ? dir : default_cache_dir();
}

char *config_runs_dir(const struct config_overrides *ov)
{
	char *dir = option_or_env(ov ? ov->runs_dir : NULL, "TEELAB_RUNS_DIR");

	return dir ? dir : xstrdup("runs");
}

/* Append "NAME=VALUE" (NAME: [A-Z0-9_]+) to the OP-TEE build's make flags. 0 or -EINVAL (reported). */
static int add_optee_flag(struct lab_config *cfg, const char *flag)
{
	size_t n = strspn(flag, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

	if (!n || flag[n] != '=')
		return error_code(-EINVAL, "OP-TEE flag '%s' is not NAME=VALUE (NAME in [A-Z0-9_])", flag);
	if (!cfg->secure.optee_build)
		return error_code(-EINVAL, "OP-TEE flag '%s': secure profile '%s' does not build OP-TEE "
				  "(optee: source: or tree:)", flag, cfg->secure.name);
	strvec_push(&cfg->secure.optee_flags, flag);
	return 0;
}

int config_load(struct lab_config *cfg, const struct config_overrides *ov)
{
	static const char *const keys[] = { "description", "machine", "kernel",
		"secure", "rootfs", "scmi", "kmods", "tas", "guest", NULL };
	struct ydoc doc = YDOC_INIT;
	const char *machine = "virt", *kernel = NULL, *secure = NULL, *rootfs = "xtest";
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->datadir = config_find_datadir();
	if (!cfg->datadir)
		return -ENOENT;
	cfg->profile = xstrdup(ov && ov->profile ? ov->profile : "default");
	cfg->cache_dir = config_cache_dir(ov);
	cfg->runs_dir = config_runs_dir(ov);

	ret = load_doc(cfg, "configs/profiles", cfg->profile, "profile", &doc);
	if (ret)
		goto out;
	ret = ynode_check_keys(&doc, doc.root, "a profile", keys);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "machine", &machine);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "kernel", &kernel);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "secure", &secure);
	if (!ret)
		ret = ynode_get_str(&doc, doc.root, "rootfs", &rootfs);
	if (!ret)
		ret = ynode_get_bool(&doc, doc.root, "scmi", &cfg->scmi);
	if (!ret)
		ret = get_strvec(&doc, doc.root, "kmods", &cfg->kmods);
	if (!ret)
		ret = get_strvec(&doc, doc.root, "tas", &cfg->tas);
	if (!ret)
		ret = get_strvec(&doc, doc.root, "guest", &cfg->guest);
	if (ret)
		goto out;
	if (ov && ov->machine)
		machine = ov->machine;
	if (ov && ov->kernel)
		kernel = ov->kernel;
	if (ov && ov->secure)
		secure = ov->secure;
	if (ov && ov->rootfs)
		rootfs = ov->rootfs;
	if (!kernel || !secure) {
		ret = ynode_error(&doc, doc.root, "a profile needs 'kernel' and 'secure'");
		goto out;
	}
	ret = load_machine(cfg, machine, ov);
	if (!ret)
		ret = load_kernel(cfg, kernel);
	if (!ret)
		ret = load_secure(cfg, secure);
	if (!ret && cfg->secure.tfa_kind == SRC_PREBUILT)
		cfg->machine.boot = BOOT_UBOOT;	/* the user's firmware has its own BL33 */
	if (!ret)
		ret = load_rootfs(cfg, rootfs);
	if (!ret)
		ret = load_known_failures(cfg);
	for (size_t i = 0; !ret && ov && i < ov->nr_optee_flags; i++)
		ret = add_optee_flag(cfg, ov->optee_flags[i]);
	if (!ret && cfg->secure.ffa && !cfg->kernel.ffa_transport)
		/* refused before anything is fetched or built */
		ret = error_code(-EINVAL, "secure profile '%s' talks FF-A (TF-A SPD=spmd, OP-TEE the "
				 "SPMC at S-EL1), but kernel '%s' has no FF-A transport "
				 "(CONFIG_ARM_FFA_TRANSPORT): use a kernel that has it, e.g. "
				 "src-6.12-ffa or src-6.1-ffa", cfg->secure.name, cfg->kernel.name);
out:
	ydoc_release(&doc);
	if (ret)
		config_release(cfg);
	return ret;
}

void pkg_ref_release(struct pkg_ref *r)
{
	free(r->name);
	free(r->suite);
	free(r->version);
	free(r->arch);
	free(r->where);
	memset(r, 0, sizeof(*r));
}

void config_release(struct lab_config *cfg)
{
	free(cfg->datadir);
	free(cfg->cache_dir);
	free(cfg->runs_dir);
	free(cfg->profile);
	free(cfg->machine.name);
	free(cfg->machine.qemu);
	free(cfg->machine.cpu);
	free(cfg->machine.tcg_thread);
	free(cfg->machine.backend);
	free(cfg->machine.connect);
	free(cfg->machine.replay);
	strvec_release(&cfg->machine.extra_args);
	free(cfg->kernel.name);
	pkg_ref_release(&cfg->kernel.deb);
	free(cfg->kernel.image);
	free(cfg->kernel.modules_dir);
	strvec_release(&cfg->kernel.modules);
	free(cfg->kernel.cmdline);
	for (size_t i = 0; i < cfg->kernel.nr_headers; i++)
		pkg_ref_release(&cfg->kernel.headers[i]);
	free(cfg->kernel.headers);
	strvec_release(&cfg->kmods);
	strvec_release(&cfg->tas);
	strvec_release(&cfg->guest);
	pkg_ref_release(&cfg->kernel.src_deb);
	free(cfg->kernel.base_config);
	strvec_release(&cfg->kernel.fragments);
	strvec_release(&cfg->kernel.kasan_only);
	free(cfg->secure.name);
	pkg_ref_release(&cfg->secure.tfa_src);
	free(cfg->secure.tfa_tree);
	free(cfg->secure.tfa_bios);
	free(cfg->secure.tfa_spmc_manifest);
	for (size_t i = 0; i < cfg->secure.nr_known; i++) {
		free(cfg->secure.known[i].id);
		free(cfg->secure.known[i].reason);
		free(cfg->secure.known[i].link);
	}
	free(cfg->secure.known);
	strvec_release(&cfg->secure.tfa_flags);
	pkg_ref_release(&cfg->secure.optee_deb);
	free(cfg->secure.optee_dir);
	pkg_ref_release(&cfg->secure.optee_src);
	free(cfg->secure.optee_tree);
	strvec_release(&cfg->secure.optee_flags);
	strvec_release(&cfg->secure.optee_overlays);
	strvec_release(&cfg->secure.optee_patches);
	pkg_ref_release(&cfg->secure.ta_key_deb);
	free(cfg->secure.ta_key_path);
	pkg_ref_release(&cfg->secure.ta_devkit_deb);
	free(cfg->secure.ta_devkit_path);
	pkg_ref_release(&cfg->secure.bl33_deb);
	free(cfg->secure.bl33_path);
	free(cfg->rootfs.name);
	free(cfg->rootfs.default_suite);
	for (size_t i = 0; i < cfg->rootfs.nr_pkgs; i++)
		pkg_ref_release(&cfg->rootfs.pkgs[i]);
	free(cfg->rootfs.pkgs);
	strvec_release(&cfg->rootfs.programs);
	strvec_release(&cfg->rootfs.copy);
	strvec_release(&cfg->rootfs.dirs);
	strvec_release(&cfg->rootfs.links);
	free(cfg->rootfs.overlay);
	free(cfg->rootfs.init);
	memset(cfg, 0, sizeof(*cfg));
}
