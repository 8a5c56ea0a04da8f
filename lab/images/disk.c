// SPDX-License-Identifier: MIT
/*
 * images/disk.c - the lab disk: the lab's kernel and initramfs (and those
 * of `kexec: { to: }` kernels) as an uncompressed tar, handed to the guest
 * as a read-only virtio-blk disk for `kexec` steps (tl-kexec unpacks it
 * with `tar -x -f /dev/vda`): fw_cfg would work too, but Linux reads
 * fw_cfg files a byte at a time, minutes for a 40 MB Image under TCG.
 */
#include "images/kind.h"

#include <stdlib.h>

#include "archive.h"

struct disk_job {
	const char *const *files;	/* content-addressed paths (cache entries) */
	const char *const *names;	/* their names in the tar */
	size_t n;
};

static int disk_inputs(struct build_ctx *b UNUSED, struct image_job *j, struct hasher *h)
{
	const struct disk_job *d = j->data;

	hasher_addstr(h, j->kind->recipe);
	for (size_t i = 0; i < d->n; i++) {
		hasher_addstr(h, d->names[i]);
		hasher_addstr(h, d->files[i]);	/* the paths are content-addressed */
	}
	return 0;
}

static int disk_build(struct build_ctx *b UNUSED, struct image_job *j, const char *dir,
		      const char *log UNUSED)
{
	const struct disk_job *d = j->data;
	char *tar = path_join(dir, "kexec.tar");
	int ret = tar_write_files(tar, d->files, d->names, d->n, 0);

	free(tar);
	return ret;
}

int disk_make(struct build_ctx *b, const char *const *files, const char *const *names, size_t n,
	      char **out)
{
	struct disk_job d = { .files = files, .names = names, .n = n };
	struct image_job j = { .kind = &disk_kind, .data = &d };
	int ret = image_make(b, &j);

	if (!ret) {
		free(*out);
		*out = path_join(j.dir, "kexec.tar");
	}
	image_job_release(&j);
	return ret;
}

static int disk_run(struct build_ctx *b)
{
	const char *files[] = { b->out->kernel, b->out->initrd };
	static const char *const names[] = { "kexec/Image", "kexec/initrd" };

	return disk_make(b, files, names, ARRAY_SIZE(files), &b->out->kexec_disk);
}

static const char *const disk_deps[] = { "kernel", "initramfs", NULL };

const struct image_kind disk_kind = {
	.name = "kexec",
	.title = "lab disk (kexec)",
	.recipe = "kexec-disk-2",
	.deps = disk_deps,
	.run = disk_run,
	.inputs = disk_inputs,
	.build = disk_build,
};
