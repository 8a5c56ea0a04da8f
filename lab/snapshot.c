// SPDX-License-Identifier: MIT
/* snapshot.c - warm starts from a saved lab; see snapshot.h */
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "runproc.h"
#include "step.h"

const char *snapshot_cold_reason(const struct lab_config *cfg, const struct scenario *sc,
				 const struct machine_ops *ops, bool forced)
{
	if (!ops || !ops->qmp_fd)
		return "the machine backend cannot save and restore a lab (only the direct qemu one can)";
	if (forced)
		return NULL;
	if (!sc->nr_steps || strcmp(sc->steps[0].ops->name, "boot"))
		return "the scenario does not start with `boot`";
	if (sc->cold_boot)
		return "the scenario says cold-boot: true";
	if (sc->cmdline_extra)
		return "the scenario adds to the kernel command line (kernel-cmdline:)";
	if (cfg->secure.ffa)
		return "the secure world talks FF-A: its notification path is not checked after a restore";
	for (size_t i = 0; i < sc->nr_steps; i++) {
		const char *k = sc->steps[i].ops->name;

		if (!strcmp(k, "reboot") || !strcmp(k, "kexec") || !strcmp(k, "sysrq"))
			return "a step reboots, kexecs or uses sysrq: the scenario tests a boot";
	}
	return NULL;
}

/* path, size and modification time of @path into @h ("-" when NULL) */
static void add_file_stamp(struct hasher *h, const char *path)
{
	struct stat st;
	char *v;

	if (!path) {
		hasher_addstr(h, "-");
		return;
	}
	if (stat(path, &st))
		v = xasprintf("%s missing", path);
	else
		v = xasprintf("%s %lld %lld.%09ld", path, (long long)st.st_size,
			      (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	hasher_addstr(h, v);
	free(v);
}

int snapshot_lookup(struct snapshot *s, const char *cache_dir, const struct machine_spec *spec,
		    const char *bootargs)
{
	const struct machine_cfg *c = spec->cfg;
	struct hasher *h;
	char *bin, *v, *meta, *state, *ram;
	json_t *j;

	memset(s, 0, sizeof(*s));
	/* the binary QEMU's name finds (add_file_stamp() says "missing" for NULL) */
	bin = strchr(c->qemu, '/') ? xstrdup(c->qemu) : path_lookup(c->qemu);
	s->qemu_version = program_version(c->qemu, cache_dir);
	if (!s->qemu_version) {
		free(bin);
		return error_code(-ENOENT, "cannot run '%s --version'", c->qemu);
	}
	h = hasher_new();
	hasher_addstr(h, SNAPSHOT_RECIPE);
	hasher_addstr(h, s->qemu_version);
	add_file_stamp(h, bin ? bin : c->qemu);
	free(bin);
	v = xasprintf("cpu=%s smp=%d mem=%d gic=%d tcg=%s boot=%s net=%d", c->cpu, c->smp,
		      c->memory_mb, c->gic_version, machine_tcg_thread(c),
		      boot_mode_name(c->boot), spec->ssh_port != 0);
	hasher_addstr(h, v);
	free(v);
	for (size_t i = 0; i < c->extra_args.nr; i++)
		hasher_addstr(h, c->extra_args.v[i]);
	add_file_stamp(h, spec->bios);
	add_file_stamp(h, spec->kernel);
	add_file_stamp(h, spec->initrd);
	add_file_stamp(h, spec->dtb);
	add_file_stamp(h, spec->kexec_disk);
	hasher_addstr(h, bootargs);
	hasher_finish(h, s->key);

	s->dir = xasprintf("%s/snapshots/%s", cache_dir, s->key);
	meta = path_join(s->dir, "meta.json");
	state = path_join(s->dir, "state.mig");
	ram = path_join(s->dir, "ram");
	j = file_exists(state) && file_exists(ram) ? json_load_file(meta, 0, NULL) : NULL;
	if (j) {
		const char *made = json_string_value(json_object_get(j, "made"));

		s->exists = true;
		s->made = xstrdup(made ? made : "?");
		s->made_secs = json_number_value(json_object_get(j, "save_seconds"));
		json_decref(j);
		utimensat(AT_FDCWD, meta, NULL, 0);	/* used now: eviction keeps it */
	}
	free(meta);
	free(state);
	free(ram);
	return 0;
}

int snapshot_ram_create(const char *cache_dir, int memory_mb)
{
	char *root = path_join(cache_dir, "snapshots");
	int fd = -1, ret = 0;

	/* unnamed (O_TMPFILE) where the file system can, else named and unlinked at once */
	if (mkdir_p(root, 0755)) {
		ret = error_errno("cannot create '%s'", root);
		goto out;
	}
	fd = open(root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		char *path = xasprintf("%s/.ram.%d", root, (int)getpid());

		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			ret = error_errno("cannot create '%s'", path);
		else
			unlink(path);
		free(path);
	}
	if (fd >= 0 && ftruncate(fd, (off_t)memory_mb << 20)) {
		ret = error_errno("cannot size the guest RAM file to %d MiB", memory_mb);
		close(fd);
		fd = -1;
	}
out:
	free(root);
	return fd >= 0 ? fd : ret;
}

char *snapshot_ram_path(const struct snapshot *s)
{
	return path_join(s->dir, "ram");
}

/* One QMP command; its "return" object (or NULL on an error reply), *err set on failure. */
static json_t *qmp_call(struct machine *m, const char *cmd, int fd, char *err, size_t errlen)
{
	char *reply = NULL;
	int ret = fd >= 0 ? m->ops->qmp_fd(m, cmd, fd, &reply, 10.0) : m->ops->qmp(m, cmd, &reply, 10.0);
	json_t *j = NULL, *r = NULL;

	if (ret) {
		snprintf(err, errlen, "QMP %s: %s", cmd, strerror(-ret));
	} else if (!(j = json_loads(reply, 0, NULL)) || !(r = json_object_get(j, "return"))) {
		json_t *d = j ? json_object_get(json_object_get(j, "error"), "desc") : NULL;

		snprintf(err, errlen, "QMP %s: %s", cmd, d ? json_string_value(d) : reply);
	} else {
		json_incref(r);
	}
	json_decref(j);
	free(reply);
	return r;
}

static bool qmp_ok(struct machine *m, const char *cmd, int fd, char *err, size_t errlen)
{
	json_t *r = qmp_call(m, cmd, fd, err, errlen);

	json_decref(r);
	return r != NULL;
}

int snapshot_save(struct snapshot *s, struct machine *m, int ram_fd, const char *nw_log,
		  const char *sw_log, double timeout)
{
	char err[512] = "";
	char *lock = xasprintf("%s.lock", s->dir), *tmp = xasprintf("%s.tmp.%d", s->dir, (int)getpid());
	char *state = path_join(tmp, "state.mig"), *p = NULL;
	double t0 = now_mono();
	int lfd = -1, fd = -1, ret = -EIO;
	const char *status = "";
	json_t *meta = NULL;

	if (mkdir_p(tmp, 0755)) {
		ret = -errno;
		snprintf(err, sizeof(err), "cannot create '%s'", tmp);
		goto out;
	}
	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB)) {
		ret = 1;	/* another run is making it */
		goto out;
	}
	if (file_exists(s->dir)) {
		ret = 1;	/* made meanwhile */
		goto out;
	}
	if (ram_fd < 0) {
		snprintf(err, sizeof(err), "the guest RAM is not in a file");
		goto out;
	}
	fd = open(state, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, sizeof(err), "cannot create '%s': %s", state, strerror(errno));
		goto out;
	}
	/* stopped first: one pass over RAM, and the state says "paused" (QEMU restores it paused) */
	if (!qmp_ok(m, "{\"execute\":\"stop\"}", -1, err, sizeof(err)) ||
	    /* the default 128 MiB/s would take a second for the ~120 MB */
	    !qmp_ok(m, "{\"execute\":\"migrate-set-parameters\",\"arguments\":"
		    "{\"max-bandwidth\":68719476736}}", -1, err, sizeof(err)) ||
	    /* the RAM in the shared file stays out of the stream: it is copied below */
	    !qmp_ok(m, "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":"
		    "[{\"capability\":\"x-ignore-shared\",\"state\":true}]}}", -1, err, sizeof(err)) ||
	    !qmp_ok(m, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"teelab-snapshot\"}}", fd,
		    err, sizeof(err)) ||
	    !qmp_ok(m, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:teelab-snapshot\"}}", -1,
		    err, sizeof(err)))
		goto out;
	close(fd);
	fd = -1;
	for (;;) {
		json_t *r = qmp_call(m, "{\"execute\":\"query-migrate\"}", -1, err, sizeof(err));
		const char *st = r ? json_string_value(json_object_get(r, "status")) : NULL;

		status = st && !strcmp(st, "completed") ? "completed"
			 : st && (!strcmp(st, "failed") || !strcmp(st, "cancelled")) ? "failed" : "";
		json_decref(r);
		if (!r || *status)
			break;
		if (now_mono() - t0 > timeout) {
			snprintf(err, sizeof(err), "the migration did not complete in %.0f s", timeout);
			break;
		}
		usleep(20000);
	}
	if (strcmp(status, "completed")) {
		if (!strcmp(status, "failed"))
			snprintf(err, sizeof(err), "QEMU's migration to '%s' failed", state);
		goto out;
	}
	/* the machine is stopped: the RAM file holds the state the stream goes with */
	p = path_join(tmp, "ram");
	ret = copy_file_sparse(ram_fd, p);
	free(p);
	if (ret) {
		snprintf(err, sizeof(err), "cannot copy the guest RAM");
		goto out;
	}
	p = path_join(tmp, "nw-console.log");
	ret = copy_file(nw_log, p);
	free(p);
	p = path_join(tmp, "sw-console.log");
	if (!ret)
		ret = copy_file(sw_log, p);
	free(p);
	if (ret) {
		snprintf(err, sizeof(err), "cannot copy the boot consoles");
		goto out;
	}
	{
		char when[64];

		iso_time_now(when, sizeof(when));
		s->made = xstrdup(when);
		s->made_secs = now_mono() - t0;
		meta = json_pack("{s:s, s:s, s:s, s:f, s:{s:s?, s:s?, s:s?, s:s?, s:s?}}",
				 "recipe", SNAPSHOT_RECIPE, "made", when, "qemu", s->qemu_version,
				 "save_seconds", s->made_secs, "images",
				 "bios", m->spec.bios, "kernel", m->spec.kernel, "initrd", m->spec.initrd,
				 "dtb", m->spec.dtb, "kexec_disk", m->spec.kexec_disk);
	}
	p = path_join(tmp, "meta.json");
	if (!meta || json_dump_file(meta, p, JSON_INDENT(2)) || rename(tmp, s->dir)) {
		ret = -EIO;
		snprintf(err, sizeof(err), "cannot write '%s' into place", s->dir);
		goto out;
	}
	s->exists = true;
	ret = 0;
out:
	if (ret < 0)
		warning("no snapshot saved for the next runs: %s", err);
	if (fd >= 0)
		close(fd);
	if (ret)
		remove_tree(tmp);
	if (lfd >= 0)
		close(lfd);	/* the lock goes with it */
	json_decref(meta);
	free(p);
	free(lock);
	free(tmp);
	free(state);
	return ret;
}

int snapshot_open(const struct snapshot *s)
{
	char *state = path_join(s->dir, "state.mig");
	int fd = open(state, O_RDONLY | O_CLOEXEC);
	int ret = fd < 0 ? -errno : fd;

	free(state);
	return ret;
}

void snapshot_drop(struct snapshot *s)
{
	char *gone = xasprintf("%s.gone.%d", s->dir, (int)getpid());

	/* renamed first: a concurrent lookup never sees half a directory */
	if (!rename(s->dir, gone))
		remove_tree(gone);
	free(gone);
	s->exists = false;
}

struct snap_ent {
	char *dir;
	time_t used;
};

static int by_use(const void *a, const void *b)
{
	const struct snap_ent *x = a, *y = b;

	return x->used < y->used ? 1 : x->used > y->used ? -1 : 0;
}

/* Whether every image meta.json names still exists. */
static bool images_there(json_t *meta)
{
	const char *k;
	json_t *v;

	json_object_foreach(json_object_get(meta, "images"), k, v)
		if (json_is_string(v) && !file_exists(json_string_value(v)))
			return false;
	return true;
}

void snapshot_evict(const char *cache_dir, int keep)
{
	char *root = path_join(cache_dir, "snapshots");
	DIR *d = opendir(root);
	struct dirent *de;
	struct snap_ent *v = NULL;
	size_t n = 0;

	while (d && (de = readdir(d))) {
		char *dir, *meta;
		struct stat st;
		json_t *j;

		if (strlen(de->d_name) != SHA256_HEX_LEN)
			continue;	/* locks, temporary and dropped directories */
		dir = path_join(root, de->d_name);
		meta = path_join(dir, "meta.json");
		j = json_load_file(meta, 0, NULL);
		if (!j || stat(meta, &st) || !images_there(j)) {
			struct snapshot s = { .dir = dir };

			snapshot_drop(&s);
			free(dir);
		} else {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n].dir = dir;
			v[n++].used = st.st_mtime;
		}
		json_decref(j);
		free(meta);
	}
	if (d)
		closedir(d);
	qsort(v, n, sizeof(*v), by_use);
	for (size_t i = 0; i < n; i++) {
		if ((int)i >= keep) {
			struct snapshot s = { .dir = v[i].dir };

			snapshot_drop(&s);
		}
		free(v[i].dir);
	}
	free(v);
	free(root);
}

void snapshot_release(struct snapshot *s)
{
	free(s->dir);
	free(s->qemu_version);
	free(s->made);
	memset(s, 0, sizeof(*s));
}
