// SPDX-License-Identifier: MIT
/*
 * boot_direct.c - the memory layout of a direct boot (machine `boot:
 * direct`): TF-A's BL31 enters the kernel QEMU preloaded at
 * DIRECT_KERNEL_BASE, with x0 = the device tree at the base of RAM, which
 * must then say itself where the initramfs is and what the command line
 * is: no bootloader writes /chosen. See machine.h.
 */
#include "machine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dtb.h"
#include "util.h"

#define SZ_2M 0x200000ULL

/* Linux Documentation/arch/arm64/booting.rst, "Call the kernel image": the 64-byte header */
#define ARM64_IMAGE_MAGIC_OFF 0x38
#define ARM64_IMAGE_SIZE_OFF 0x10
static const unsigned char arm64_magic[4] = { 'A', 'R', 'M', 0x64 };

/* Size of @path in bytes, or -1. */
static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The kernel's image_size (bytes it occupies from its load address, bss included). */
static int arm64_image_size(const char *kernel, uint64_t *size)
{
	unsigned char hdr[64];
	ssize_t n = -1;
	int fd = open(kernel, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = pread(fd, hdr, sizeof(hdr), 0);
		close(fd);
	}
	if (n < 0)
		return error_code(-errno, "kernel '%s': %s", kernel, strerror(errno));
	if (n < (ssize_t)sizeof(hdr) || memcmp(hdr + ARM64_IMAGE_MAGIC_OFF, arm64_magic, 4))
		return error_code(-EINVAL, "kernel '%s' is not an uncompressed arm64 Image (no \"ARM\\x64\" "
				  "magic at 0x38): a direct boot loads it as it is; decompress it "
				  "(Image.gz: zcat) or boot through U-Boot (--boot u-boot)", kernel);
	*size = le64(hdr + ARM64_IMAGE_SIZE_OFF);
	if (!*size) {
		/* before Linux 3.17 image_size was 0: assume the file plus a generous bss */
		off_t fsz = file_size(kernel);

		*size = fsz > 0 ? (uint64_t)fsz + 16 * 1024 * 1024 : 64 * 1024 * 1024;
	}
	return 0;
}

int direct_boot_prepare(const struct machine_cfg *cfg, const char *kernel, const char *initrd,
			const char *dtb_in, const char *bootargs, const char *dtb_out,
			uint64_t *initrd_addr)
{
	uint64_t ksize = 0, isize = 0, at, ram_end;
	char *blob = NULL;
	size_t len = 0;
	off_t fsz;
	int ret;

	if ((ret = arm64_image_size(kernel, &ksize)))
		return ret;
	if (initrd) {
		if ((fsz = file_size(initrd)) < 0)
			return error_code(-ENOENT, "initramfs '%s' is missing", initrd);
		isize = (uint64_t)fsz;
	}
	at = (DIRECT_KERNEL_BASE + ksize + SZ_2M - 1) & ~(SZ_2M - 1);
	if (at < DIRECT_INITRD_MIN)
		at = DIRECT_INITRD_MIN;
	ram_end = VIRT_RAM_BASE + (uint64_t)cfg->memory_mb * 1024 * 1024;
	if (at + isize > ram_end)
		return error_code(-EINVAL, "a direct boot needs the kernel (%llu MiB from 0x%llx) and the "
				  "initramfs (%llu MiB from 0x%llx) in the guest's RAM, which ends at "
				  "0x%llx: give machine '%s' more memory",
				  (unsigned long long)(ksize >> 20), (unsigned long long)DIRECT_KERNEL_BASE,
				  (unsigned long long)(isize >> 20), (unsigned long long)at,
				  (unsigned long long)ram_end, cfg->name);
	if ((ret = read_file(dtb_in, &blob, &len)))
		return error_code(ret, "cannot read the device tree '%s': %s", dtb_in, strerror(-ret));
	ret = dtb_set_chosen(&blob, &len, bootargs, initrd ? at : 0, initrd ? at + isize : 0);
	if (!ret)
		ret = write_file(dtb_out, blob, len, 0644);
	free(blob);
	if (!ret)
		*initrd_addr = at;
	return ret;
}
