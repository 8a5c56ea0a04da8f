/* SPDX-License-Identifier: MIT */
/*
 * images/kind.h - image kinds and the driver that builds them (internal
 * to lab/images/; the public interface is images.h).
 *
 * An image kind (one file each: tfa.c, optee.c, kernel.c, module.c, ta.c,
 * guest.c, sysroot.c, initramfs.c, dtb.c, disk.c) exports one struct
 * image_kind: its cache name, its recipe version, the kinds it reads
 * outputs of, a function adding its inputs to the hash and the build
 * function. The driver (driver.c) walks the kinds in dependency order;
 * each kind's run() makes zero or more image jobs through image_make(),
 * which does hash -> cache lookup -> build into a temporary directory ->
 * stamp and rename, and reports progress (progress.h).
 */
#ifndef TEELAB_IMAGES_KIND_H
#define TEELAB_IMAGES_KIND_H

#include "images.h"
#include "util.h"

struct image_job;

/* The kernel a lab boots, as the later kinds need it. */
struct kernel_files {
	char *build_tree;	/* a kernel built by teelab: its O= dir (for kmods), or NULL */
	char *image;
	char *modules_dir;	/* lib/modules/<release>, or NULL */
	char *release;
	char *key;		/* content identity for the initramfs hash */
};

/* One images_build() call: the configuration and what the kinds produced so far. */
struct build_ctx {
	const struct lab_config *cfg;
	struct aptroot apt;
	char *build_dir;	/* <cache>/build */
	struct lab_images *out;
	/* outputs passed between kinds */
	char *ta_sign_key;	/* optee: the key lab TAs are signed with, or NULL: the dev kit's */
	char *bl32_dir;		/* optee: the directory with tee-*_v2.bin */
	struct kernel_files k;	/* kernel */
	char *kmod_dir;		/* module: cache entry holding src-N/<name>.ko, or NULL */
	char *sysroot;		/* sysroot: the unpacked guest packages */
	char sysroot_hex[SHA256_HEX_LEN + 1];
	struct strvec prog_keys;	/* ta, guest: every program's input hash, in build order */
	struct strvec lab_files;	/* ta, guest: "built=stage-relative" for the initramfs */
};

struct image_kind {
	const char *name;	/* cache entries are <build>/<name>-<16 hex digits> */
	const char *title;	/* for people: "TF-A (BL1, BL2, BL31 + FIP)" */
	/*
	 * The recipe version, hashed by inputs() where the kind's key always
	 * had it (NULL: none). Bump it when the way the image is assembled
	 * changes, to rebuild every entry of the kind.
	 */
	const char *recipe;
	const char *const *deps;	/* kinds whose outputs run() reads; NULL-terminated or NULL */
	const char *log_name;	/* the build log's name in the entry (NULL: "build.log") */
	/*
	 * Built where it stays (no temporary directory): for kinds whose
	 * output is used in place by later builds with paths their build
	 * system records (kernel O= trees, the OP-TEE TA dev kit).
	 */
	bool in_place;
	/* Everything this kind does for the lab in @b: zero or more image_make(). 0 or -errno. */
	int (*run)(struct build_ctx *b);
	/* Add every input of @j to @h (order matters: it is the cache key). 0 or -errno (reported). */
	int (*inputs)(struct build_ctx *b, struct image_job *j, struct hasher *h);
	/* Build @j into the empty directory @dir, children logging to @log. 0 or -errno (reported). */
	int (*build)(struct build_ctx *b, struct image_job *j, const char *dir, const char *log);
};

struct image_job {
	const struct image_kind *kind;
	const char *label;	/* what is built, for messages (e.g. the source tree), or NULL */
	bool rebuild;		/* build even when a finished entry exists (a user's tree) */
	void *data;		/* the kind's own parameters and results */
	/* set by image_make() */
	char hex[SHA256_HEX_LEN + 1];	/* the input hash */
	char *dir;		/* the cache entry (malloc'd; image_job_release()) */
	bool built;		/* built by this call (else reused) */
};

/*
 * Hash @j's inputs, reuse its cache entry when finished (unless
 * j->rebuild), else build it into "<entry>.tmp" (the entry itself for
 * in_place kinds), stamp it ".complete" (the build's seconds) and rename
 * it into place; b->out->builds counts the build. Progress and the
 * failing kind with its log go to stderr. 0 or -errno.
 */
int image_make(struct build_ctx *b, struct image_job *j);
void image_job_release(struct image_job *j);
/*
 * Hash @j's inputs and look for its finished cache entry, building
 * nothing (j->dir names the entry either way): 1 when it is there, 0 when
 * not, -errno (reported) when an input could not be hashed.
 */
int image_lookup(struct build_ctx *b, struct image_job *j);

/* Whether cache entry @dir is finished. */
bool image_entry_complete(const char *dir);
/*
 * Claim cache entry @dir for building it: 0 when it is finished (nothing to
 * do, no lock taken), else the descriptor of its lock (cache_entry_lock(),
 * @what in the waiting line), taken and the entry seen still unfinished;
 * close it once the entry is stamped or the build failed. -errno (reported).
 */
int image_entry_claim(const char *dir, const char *what);
/* Stamp @dir finished, recording @seconds (<0: unknown). 0 or -errno (reported). */
int image_entry_stamp(const char *dir, double seconds);
/*
 * The duration of the newest finished build of kind @name under
 * @build_dir (its stamp, or a kernel's build-seconds), or -1 if none.
 */
double image_last_seconds(const char *build_dir, const char *name);

/*
 * Order @nr kinds so that each comes after its deps: @order gets indexes
 * into @kinds, the table's order kept where the deps allow. 0, or -EINVAL
 * (reported) for an unknown dependency or a cycle.
 */
int image_kinds_order(const struct image_kind *const *kinds, size_t nr, size_t *order);
/* The table of every kind, in the order they are declared (driver.c). */
extern const struct image_kind *const image_kinds[];
extern const size_t image_kinds_nr;

extern const struct image_kind tfa_kind, optee_kind, kernel_kind, module_kind, ta_kind,
	guest_kind, sysroot_kind, initramfs_kind, dtb_kind, disk_kind;

/*
 * tfa.c: whether TF-A make flags @flags bind the build to BL32's contents
 * (trusted board boot, an encrypted BL32), so that BL32 can't be swapped
 * into its FIP afterwards. Exported for the unit tests.
 */
bool tfa_bl32_bound(const struct strvec *flags);

/* ---- helpers shared by the kinds (common.c) ---- */

/* Record symbol file @path (dir/rel, if it exists) as @what for --gdb (lab_images.symbols). */
void image_symbol(struct build_ctx *b, const char *what, const char *dir, const char *rel);
/* Append "key=value" to the lab's provenance (result.json "environment"). */
void provenance(struct build_ctx *b, const char *key, const char *fmt, ...) PRINTF(3, 4);
/* Hash every file under @dir/@rel (sorted relative paths, modes, contents). 0 or -errno. */
int hash_tree(struct hasher *h, const char *dir, const char *rel);
/* What every cross build's key shares: @recipe, the cross compiler's version, @flags. 0 or -errno. */
int hash_cross_build(struct build_ctx *b, struct hasher *h, const char *recipe,
		     const struct strvec *flags);
/* Copy @src (file, symlink or tree) to @dst, keeping symlinks as links. 0 or -errno. */
int copy_path(const char *src, const char *dst);
/* mkdir -p the parent of @path. 0 or -errno. */
int mkparent(const char *path);
/* A fresh, empty directory. 0 or -errno. */
int fresh_dir(const char *dir);
/* The host's online CPUs (at least 1), for make -j. */
int nproc(void);
/* The first name in @dir (sorted) with @prefix, @infix and @suffix; malloc'd or NULL. */
char *first_match(const char *dir, const char *prefix, const char *infix, const char *suffix);
/* first_match() as a path under @dir; malloc'd or NULL. */
char *find_in(const char *dir, const char *prefix, const char *infix, const char *suffix);
/*
 * Fetch @ref and unpack it once into <build>/deb-<sha>/: *dir (and
 * *sha_out unless NULL) malloc'd. 0 or -errno (reported).
 */
int unpacked_deb(struct build_ctx *b, const struct pkg_ref *ref, char **dir, char **sha_out);
/*
 * The source tree of a build: the user's @user_tree, or the Debian source
 * package @ref unpacked and patched once; its identity goes into @h.
 * *tree and *version (NULL for a user tree) are malloc'd. 0 or -errno.
 */
int input_tree(struct build_ctx *b, const char *what, const char *user_tree,
	       const struct pkg_ref *ref, struct hasher *h, char **tree, char **version);
/* Unpack @tarball (stripping @strip components) into @dir once, with progress. 0 or -errno. */
int unpack_once(const char *tarball, const char *dir, int strip);

/* ---- between kinds ---- */

/* module.c: copy the built .ko files into @dir, their names appended to @order. 0 or -errno. */
int module_copy(struct build_ctx *b, const char *dir, struct strvec *order);
/*
 * ta.c/guest.c: build one lab program directory (make -C <datadir>/@rel O=...).
 * labprog_inputs(), labprog_build() and labprog_run_all(): 0 or -errno (reported).
 */
struct labprog {
	const char *rel;		/* datadir-relative source directory */
	const struct strvec *also;	/* other source trees it includes */
	const struct strvec *vars;	/* make variables */
};
int labprog_inputs(struct build_ctx *b, struct image_job *j, struct hasher *h);
int labprog_build(struct build_ctx *b, struct image_job *j, const char *dir, const char *log);
/*
 * Build each of @rels as a lab program of @kind, collect its outputs
 * (@suffix, or executables when NULL) into b->lab_files under @dest.
 */
int labprog_run_all(struct build_ctx *b, const struct image_kind *kind, const struct strvec *rels,
		    const struct strvec *also, const struct strvec *vars, const char *suffix,
		    const char *dest);
/* disk.c: the kexec disk of @n files named @names, into *out (replaced). */
int disk_make(struct build_ctx *b, const char *const *files, const char *const *names, size_t n,
	      char **out);

#endif
