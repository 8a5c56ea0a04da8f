/* SPDX-License-Identifier: MIT */
/*
 * util.h - small shared helpers: errors, string builder, argv vector,
 * files and hashing.
 *
 * Conventions (see README "Code conventions"):
 *  - library code (everything but main.c and lab/cmd_*.c) returns 0 or a
 *    negative errno and reports what failed with error() (-EIO),
 *    error_errno() (-errno) or error_code() (the code given), each of which
 *    returns that code so it can be returned directly. Functions returning
 *    bool, a pointer, a count or a pid say so in their comment;
 *  - only main.c and the command files (lab/cmd_*.c) call die() or exit;
 *  - a struct S has S_INIT, S_release() (free contents, reusable after)
 *    and S_detach() as the only way to take ownership of its buffer.
 */
#ifndef TEELAB_UTIL_H
#define TEELAB_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED __attribute__((unused))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Process exit codes: a documented contract (README "Exit codes"). */
enum tl_exit {
	TL_EXIT_PASS = 0,	/* every step met its expectation */
	TL_EXIT_FAIL = 1,	/* a test step failed */
	TL_EXIT_TIMEOUT = 2,	/* a timeout or hang */
	TL_EXIT_USAGE = 3,	/* bad command line, config or scenario */
	TL_EXIT_INFRA = 4,	/* host problem: fetch, build, QEMU died */
	TL_EXIT_HANG = 5,	/* no progress for the hang window */
	TL_EXIT_KERNEL_PANIC = 6,	/* Linux panicked */
	TL_EXIT_TEE_PANIC = 7,	/* OP-TEE panicked or failed an assertion */
	TL_EXIT_DEADLOCK = 8,	/* clients stalled for their window while still running */
	TL_EXIT_KERNEL_BUG = 9,	/* Linux reported a bug and went on (KASAN, oops, WARNING, ...) */
	TL_EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM (128 + SIGINT) */
};

/*
 * Report "teelab: error: <msg>" on stderr (and in the log mirror) and
 * return a negative errno, so that `return error("cannot ...", ...);` both
 * reports and fails:
 *  - error() returns -EIO: "failed; the message says why";
 *  - error_errno() appends ": strerror(errno)" and returns -errno as it was
 *    at the call (-EIO if errno was 0); errno itself is kept;
 *  - error_code() returns @err, a negative errno such as -EINVAL or -ENOENT
 *    that a caller may test (a positive or zero @err becomes -EIO).
 */
int error(const char *fmt, ...) PRINTF(1, 2);
int error_errno(const char *fmt, ...) PRINTF(1, 2);
int error_code(int err, const char *fmt, ...) PRINTF(2, 3);
/* "teelab: warning: <msg>" on stderr. */
void warning(const char *fmt, ...) PRINTF(1, 2);
/* Print "teelab: <msg>" on stderr unless quiet mode is set. */
void info(const char *fmt, ...) PRINTF(1, 2);
/*
 * Also append every error, warning and info line (info even under -q) to
 * @path, each prefixed with "[seconds since open]" - a run's teelab.log.
 * One mirror at a time; opening another closes the first. 0 or -errno (reported).
 */
int log_mirror_open(const char *path);
/* Stop mirroring (no-op when none is open). */
void log_mirror_close(void);
/* A line that is not a diagnostic (the caller writes it whole): on stderr and in the mirror. */
void report_line(const char *fmt, ...) PRINTF(1, 2);
/* Print an error and exit with @code. Only for lab/cmd_*.c and main.c. */
void die(int code, const char *fmt, ...) PRINTF(2, 3) __attribute__((noreturn));

extern int tl_verbose;	/* -v count: 0 quiet-ish, 1 show child output */
extern bool tl_quiet;	/* -q: no info() */

/* Allocation that aborts on out-of-memory (a lab cannot run without). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a freshly allocated string; caller frees. */
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);

/* ---- growable string ---- */
struct strbuf {
	char *buf;	/* always NUL-terminated once allocated */
	size_t len;
	size_t alloc;
};
#define STRBUF_INIT { NULL, 0, 0 }
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Hand the buffer to the caller (never NULL); @sb is reset. */
char *strbuf_detach(struct strbuf *sb);
/* Contents as a C string ("" when empty, never NULL). */
const char *strbuf_str(const struct strbuf *sb);

/* ---- NULL-terminated argv vector ---- */
struct strvec {
	char **v;	/* v[nr] == NULL once anything was pushed */
	size_t nr;
	size_t alloc;
};
#define STRVEC_INIT { NULL, 0, 0 }
void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) PRINTF(2, 3);
void strvec_pushl(struct strvec *sv, ...);	/* NULL-terminated list */
void strvec_release(struct strvec *sv);
bool strvec_contains(const struct strvec *sv, const char *s);
/* Sort the entries in strcmp() order. */
void strvec_sort(struct strvec *sv);
/* The entries of directory @dir (no "." or ".."), appended to @out unsorted. 0 or -errno (reported). */
int list_dir(const char *dir, struct strvec *out);
/* Now as ISO 8601 UTC ("2026-11-21T13:20:00Z") into @buf (at least 21 bytes). */
void iso_time_now(char *buf, size_t n);
/* Join with @sep, quoting each element for a POSIX shell (for display). */
char *strvec_join_shell(const struct strvec *sv);

/* ---- files ---- */
/* mkdir -p with @mode for created directories. 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);
/* rm -rf. Missing path is success. 0 or -errno. */
int remove_tree(const char *path);
/* Read a whole file; *out is NUL-terminated, caller frees. 0 or -errno. */
int read_file(const char *path, char **out, size_t *len);
/* Write atomically (tmp + rename). 0 or -errno (reported). */
int write_file(const char *path, const void *data, size_t len, mode_t mode);
int write_file_str(const char *path, const char *s);
bool file_exists(const char *path);
bool is_dir(const char *path);
/*
 * Take the cross-process lock of cache entry @dir: an exclusive flock(2) on
 * "@dir.lock" (created; the lock goes with the descriptor, so it is
 * released when the holder exits or is killed). If another process holds
 * it, says once that it waits for @what and blocks until it is free (a
 * signal with a handler, Ctrl-C, ends the wait: -EINTR). The descriptor
 * (close it to release), or -errno (reported).
 */
int cache_entry_lock(const char *dir, const char *what);
/* Whether @prog is an executable file in one of $PATH's directories. */
/* The first executable @prog in $PATH (malloc'd), or NULL. */
char *path_lookup(const char *prog);
bool in_path(const char *prog);
/* Copy a regular file preserving the mode. 0 or -errno (reported). */
int copy_file(const char *src, const char *dst);
/*
 * Copy the open file @src_fd (read from offset 0 with pread; its offset is
 * not used) into a new file @dst (mode 0644, created, never replaced)
 * keeping its holes: only the ranges SEEK_DATA finds are written, and @dst
 * gets @src_fd's size. For sparse images such as a guest's RAM file.
 * 0 or -errno (reported, @dst removed).
 */
int copy_file_sparse(int src_fd, const char *dst);
/*
 * Ask the kernel to read @fd's data into the page cache in the background
 * (posix_fadvise WILLNEED on each SEEK_DATA range; holes are skipped, they
 * would only fill the cache with zeros). Returns at once; best effort, no
 * error; the file offset is left where it was. For a file another process
 * (QEMU) is about to read.
 */
void prefetch_file_data(int fd);
/* Join two path components; caller frees. */
char *path_join(const char *a, const char *b);
/* Seconds since an arbitrary point (CLOCK_MONOTONIC). */
double now_mono(void);

/* ---- hashing (SHA-256, OpenSSL libcrypto) ---- */
#define SHA256_HEX_LEN 64
/* Hash a file into a 65-byte hex buffer. 0 or -errno (reported). */
int sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1]);
/* base64 of the string @s (malloc'd, one line): the guest helpers' arguments. */
char *base64_str(const char *s);
/* Hash a memory buffer into a 65-byte hex buffer. */
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1]);

/* Incremental hash used for build keys ("hash of inputs"). */
struct hasher;
struct hasher *hasher_new(void);
void hasher_add(struct hasher *h, const void *data, size_t len);
void hasher_addstr(struct hasher *h, const char *s);	/* adds s and a NUL */
/* Adds the file's content hash (not its path). 0 or -errno (reported). */
int hasher_addfile(struct hasher *h, const char *path);
/* Finish into hex and free @h. */
void hasher_finish(struct hasher *h, char hex[SHA256_HEX_LEN + 1]);

/* ---- strings ---- */
bool starts_with(const char *s, const char *prefix);
bool ends_with(const char *s, const char *suffix);
/* Trim ASCII whitespace in place; returns s. */
char *strtrim(char *s);

/* ---- identity ---- */
/*
 * teelab's version: `git describe --tags --dirty` of the checkout it was built
 * from ("r<commits>-g<hash>" before the first tag), or the VERSION file of a
 * release tarball (`make dist`). Static string, never NULL.
 */
const char *teelab_version(void);

#endif
