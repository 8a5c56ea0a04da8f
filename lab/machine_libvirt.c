// SPDX-License-Identifier: MIT
/*
 * machine_libvirt.c - the libvirt backend: libvirt runs qemu-system-aarch64.
 *
 * The URI is the machine's `connect:` (or --connect): by default
 * qemu:///embed?root=<cache dir>/libvirt/embed-N, libvirt's QEMU driver
 * inside this process (no daemon; libvirt allows one process per root, so
 * parallel cells take the first free N); qemu:///system; or a remote daemon,
 * qemu+ssh://host/system or qemu+tcp://host/system.
 *
 * The domain is transient, started paused and with AUTODESTROY (the daemon
 * destroys it when this connection goes away). Both PL011 UARTs are ptys
 * that libvirt streams to us (virDomainOpenConsole, which also works
 * remotely); the streams are opened while the guest is paused, then the
 * domain is resumed, so not a byte of TF-A's banner is lost. A thread
 * runs libvirt's default event loop and copies each stream into a
 * socketpair whose other end is the machine's console fd, so the engine
 * sees the same fds as with the direct backend (and reads them with its
 * deadlines).
 *
 * What libvirt does not model goes into <qemu:commandline>: the
 * `secure=on` machine property (TrustZone: BL1/BL2/BL31 and OP-TEE in the
 * secure world) and user networking with the SSH port forward.
 *
 * Files: with the embed driver QEMU runs as this user and reads teelab's
 * cache in place. Any other URI gets the boot images uploaded into a
 * libvirt storage pool "teelab" on that host (a dir pool, created
 * transient at /var/lib/libvirt/images/teelab if missing; volumes are
 * named by content hash, so each image crosses once), which makes them
 * readable by the user libvirt runs QEMU as (libvirt-qemu with
 * qemu:///system) and present on remote hosts.
 */
#include "machine.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <libxml/uri.h>
#include <libxml/xmlwriter.h>


/* The libvirt pool that holds uploaded images on non-embed hosts. */
#define LV_POOL "teelab"
#define LV_POOL_PATH "/var/lib/libvirt/images/teelab"
/* embed roots tried (one process per root) */
#define LV_EMBED_ROOTS 32

/* One console: stream (guest -> us) and the socketpair end we write into. */
struct lv_con {
	atomic_int refs;	/* priv + stream callback + input handle */
	pthread_mutex_t lock;
	virStreamPtr st;
	int fd;			/* our end of the socketpair (the engine has the other) */
	int watch;		/* virEventAddHandle id for input, or -1 */
	bool stream_cb;		/* stream callback registered */
	atomic_bool eof;
};

struct lv_priv {
	virDomainPtr dom;
	char *name;
	char *log_path;		/* QEMU's log on this host (embed/system), or NULL */
	struct lv_con *con[CON_COUNT];
	int lifecycle;		/* callback id, or -1 */
	atomic_bool exited;
	atomic_int status;
	atomic_bool decided;	/* status set: the first of event and pty hang-up wins */
	atomic_bool destroying;	/* our stop(): a destroy is not a crash */
	pid_t watchdog;		/* embed: kills QEMU if teelab dies */
};

/*
 * ---- libvirt, loaded when this backend is first used ----
 *
 * libvirt and the ~45 libraries it links (GLib, GnuTLS, ICU, Kerberos, ...)
 * cost every teelab process 25-40 ms of CPU at exec, most runs using the
 * qemu backend never call them. They are dlopen()ed by SONAME (the ABI
 * libvirt keeps stable, libvirt0's package) on the first connection; the
 * prototypes come from libvirt's headers at build time, so each pointer
 * has the function's own type.
 */
#define LV_FUNCS(X) \
	X(virConnectDomainEventDeregisterAny) \
	X(virConnectDomainEventRegisterAny) \
	X(virConnectDomainXMLToNative) \
	X(virConnectListAllDomains) \
	X(virConnectOpen) \
	X(virConnectSetKeepAlive) \
	X(virDomainCreateXML) \
	X(virDomainDestroy) \
	X(virDomainDestroyFlags) \
	X(virDomainFree) \
	X(virDomainGetName) \
	X(virDomainGetState) \
	X(virDomainOpenConsole) \
	X(virDomainResume) \
	X(virEventAddHandle) \
	X(virEventRegisterDefaultImpl) \
	X(virEventRemoveHandle) \
	X(virEventRunDefaultImpl) \
	X(virGetLastError) \
	X(virInitialize) \
	X(virSetErrorFunc) \
	X(virStoragePoolCreate) \
	X(virStoragePoolCreateXML) \
	X(virStoragePoolIsActive) \
	X(virStoragePoolLookupByName) \
	X(virStorageVolCreateXML) \
	X(virStorageVolDelete) \
	X(virStorageVolFree) \
	X(virStorageVolGetInfo) \
	X(virStorageVolGetPath) \
	X(virStorageVolLookupByName) \
	X(virStorageVolUpload) \
	X(virStreamAbort) \
	X(virStreamEventAddCallback) \
	X(virStreamEventRemoveCallback) \
	X(virStreamFinish) \
	X(virStreamFree) \
	X(virStreamNew) \
	X(virStreamRecv) \
	X(virStreamSend)
#define LV_QEMU_FUNCS(X) X(virDomainQemuMonitorCommand)

static struct {
#define LV_PTR(f) __typeof__(f) *f;
	LV_FUNCS(LV_PTR)
	LV_QEMU_FUNCS(LV_PTR)
#undef LV_PTR
} lv;

/* Load libvirt.so.0 and libvirt-qemu.so.0 once. 0, or -1 with the reason in @err. */
static int lv_load(char *err, size_t len)
{
	void *h = dlopen("libvirt.so.0", RTLD_NOW | RTLD_GLOBAL);
	void *hq = h ? dlopen("libvirt-qemu.so.0", RTLD_NOW | RTLD_GLOBAL) : NULL;

	if (!h || !hq) {
		snprintf(err, len, "cannot load libvirt (package libvirt0): %s", dlerror());
		return -1;
	}
#define LV_SYM(f) if (!(lv.f = (__typeof__(f) *)dlsym(h, #f))) goto missing;
#define LV_QSYM(f) if (!(lv.f = (__typeof__(f) *)dlsym(hq, #f))) goto missing;
	LV_FUNCS(LV_SYM)
	LV_QEMU_FUNCS(LV_QSYM)
#undef LV_SYM
#undef LV_QSYM
	return 0;
missing:
	snprintf(err, len, "libvirt lacks a function teelab calls: %s", dlerror());
	return -1;
}

/* ---- the process-wide connection and event loop ---- */

static pthread_once_t loop_once = PTHREAD_ONCE_INIT;
static int loop_ok;
static virConnectPtr lv_conn;
static char *lv_conn_uri;	/* what was asked for (NULL: embed default) */
static char *lv_embed_root;

static void *event_loop(void *arg)
{
	(void)arg;
	for (;;)
		if (lv.virEventRunDefaultImpl() < 0)
			usleep(10000);
	return NULL;
}

/* libvirt's own log (warnings and errors): a file, not teelab's stderr */
static char *loop_log;
static char load_err[512];	/* why libvirt could not be loaded */

static void loop_start(void)
{
	pthread_t t;
	sigset_t all, old;

	if (loop_log && !getenv("LIBVIRT_LOG_OUTPUTS")) {
		char *v = xasprintf("3:file:%s", loop_log);

		setenv("LIBVIRT_LOG_OUTPUTS", v, 1);
		free(v);
	}
	if (lv_load(load_err, sizeof(load_err))) {
		loop_ok = -1;
		return;
	}
	if (lv.virInitialize() < 0 || lv.virEventRegisterDefaultImpl() < 0) {
		loop_ok = -1;
		return;
	}
	/* the loop thread takes no signals: the engine's signalfd sees them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	loop_ok = pthread_create(&t, NULL, event_loop, NULL) ? -1 : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!loop_ok)
		pthread_detach(t);
}

static const char *lv_err(void)
{
	virErrorPtr e = lv.virGetLastError();

	return e && e->message ? e->message : "unknown libvirt error";
}

/* libvirt prints its errors to stderr by default: route them to teelab.log */
static void lv_error_cb(void *opaque, virErrorPtr e)
{
	(void)opaque;
	(void)e;	/* reported by the caller with lv_err() where it matters */
}

/*
 * The embed driver's config in our own root: QEMU runs as the user
 * running teelab (Debian's default user libvirt-qemu need not exist, and
 * the images stay in the user's cache), no security driver relabelling, no
 * private mount namespace for QEMU (libvirt rebuilds /dev there from the
 * host's device nodes, which fails in a chroot or a container: "Could not
 * open '/dev/urandom'").
 */
static int embed_prepare(const char *root)
{
	char *etc = path_join(root, "etc"), *conf = path_join(etc, "qemu.conf");
	char *text = xasprintf("# written by teelab: the embedded QEMU driver's settings\n"
			       "user = \"+%u\"\ngroup = \"+%u\"\nsecurity_driver = \"none\"\n"
			       "# no chown of the images (QEMU runs as their owner)\n"
			       "dynamic_ownership = 0\nremember_owner = 0\n"
			       "# QEMU's stderr into log/qemu/<domain>.log, no virtlogd daemon\n"
			       "stdio_handler = \"file\"\n"
			       "# QEMU sees the host's /dev (no passthrough devices here): in a\n"
			       "# chroot or container libvirt cannot rebuild /dev for it\n"
			       "namespaces = []\n",
			       (unsigned)getuid(), (unsigned)getgid());
	int ret = mkdir_p(etc, 0755);

	if (!ret)
		ret = write_file_str(conf, text);
	free(etc);
	free(conf);
	free(text);
	return ret;
}

/*
 * Destroy running domains named teelab-* in an embed root we now hold
 * alone: their teelab died without stopping them (SIGKILL).
 */
static void embed_reap(virConnectPtr c)
{
	virDomainPtr *doms = NULL;
	int n = lv.virConnectListAllDomains(c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);

	for (int i = 0; i < n; i++) {
		const char *name = lv.virDomainGetName(doms[i]);

		if (name && starts_with(name, "teelab-")) {
			warning("libvirt: cleaning up domain '%s', left by a teelab that died", name);
			lv.virDomainDestroy(doms[i]);
		}
		lv.virDomainFree(doms[i]);
	}
	free(doms);
}

bool libvirt_uri_host(const char *uri, char *host, size_t len)
{
	xmlURIPtr u = uri ? xmlParseURI(uri) : NULL;
	const char *h = u && u->server ? u->server : "";
	size_t n = strlen(h);
	bool ok;

	/* an IP literal keeps its brackets in libxml2's server field */
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	ok = n > 0 && n < len;
	if (ok) {
		memcpy(host, h, n);
		host[n] = '\0';
	}
	xmlFreeURI(u);
	return ok;
}

/* Whether @uri names a host, not this machine's own daemon or driver. */
static bool remote_uri(const char *uri)
{
	char host[256];

	return libvirt_uri_host(uri, host, sizeof(host));
}

/* Connect once per process to @uri (NULL: an embed root under @state_dir). */
static virConnectPtr lv_connect(const char *uri, const char *state_dir, const char *run_dir)
{
	if (!loop_log)
		loop_log = path_join(run_dir, "libvirt.log");
	pthread_once(&loop_once, loop_start);
	if (loop_ok) {
		if (*load_err)
			error("libvirt: %s", load_err);
		else
			error("libvirt: cannot start its event loop: %s", lv_err());
		return NULL;
	}
	if (lv_conn) {
		if ((!uri && !lv_conn_uri) || (uri && lv_conn_uri && !strcmp(uri, lv_conn_uri)))
			return lv_conn;
		error("libvirt: this process is already connected to another URI");
		return NULL;
	}
	lv.virSetErrorFunc(NULL, lv_error_cb);
	if (uri) {
		lv_conn = lv.virConnectOpen(uri);
		if (!lv_conn) {
			error("libvirt: cannot connect to '%s': %s", uri, lv_err());
			return NULL;
		}
	} else {
		for (int n = 0; n < LV_EMBED_ROOTS && !lv_conn; n++) {
			char *root = xasprintf("%s/libvirt/embed-%d", state_dir, n);
			char *u = xasprintf("qemu:///embed?root=%s", root);

			if (!embed_prepare(root))
				lv_conn = lv.virConnectOpen(u);
			if (lv_conn) {
				lv_embed_root = root;
				embed_reap(lv_conn);
			} else {
				free(root);
			}
			free(u);
		}
		if (!lv_conn) {
			error("libvirt: no free embed root under %s/libvirt (last error: %s)",
			      state_dir, lv_err());
			return NULL;
		}
	}
	lv_conn_uri = uri ? xstrdup(uri) : NULL;
	/* a remote daemon that stops answering is noticed within ~15 s */
	if (remote_uri(uri))
		lv.virConnectSetKeepAlive(lv_conn, 5, 3);
	return lv_conn;
}

/* ---- console pumps (run on the event loop thread) ---- */

static void con_unref(void *opaque)
{
	struct lv_con *c = opaque;

	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	if (c->st)
		lv.virStreamFree(c->st);
	if (c->fd >= 0)
		close(c->fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* End of a console: the engine sees EOF on its fd. Called with c->lock. */
static void con_close(struct lv_con *c)
{
	if (c->stream_cb) {
		lv.virStreamEventRemoveCallback(c->st);
		c->stream_cb = false;
		lv.virStreamAbort(c->st);
	}
	if (c->watch >= 0) {
		lv.virEventRemoveHandle(c->watch);
		c->watch = -1;
	}
	if (c->fd >= 0) {
		shutdown(c->fd, SHUT_RDWR);
	}
	atomic_store(&c->eof, true);
}

/*
 * Write all of @buf to non-blocking @fd, waiting up to 10 s for room.
 * 0 or -errno (-EAGAIN once the 10 s are up; not reported).
 */
static int write_all(int fd, const char *buf, size_t len)
{
	double deadline = now_mono() + 10;

	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && now_mono() < deadline) {
			struct pollfd pfd = { fd, POLLOUT, 0 };

			poll(&pfd, 1, 100);
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* guest -> engine */
static void con_stream_cb(virStreamPtr st, int events, void *opaque)
{
	struct lv_con *c = opaque;
	char buf[65536];

	pthread_mutex_lock(&c->lock);
	if (!c->stream_cb) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if (events & VIR_STREAM_EVENT_READABLE) {
		for (;;) {
			int n = lv.virStreamRecv(st, buf, sizeof(buf));

			if (n == -2)
				break;		/* nothing more for now */
			if (n <= 0 || write_all(c->fd, buf, (size_t)n)) {
				con_close(c);	/* EOF (QEMU gone) or error */
				break;
			}
		}
	}
	if (c->stream_cb && (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)))
		con_close(c);
	pthread_mutex_unlock(&c->lock);
}

/* engine -> guest (the serial shell's keystrokes) */
static void con_input_cb(int watch, int fd, int events, void *opaque)
{
	struct lv_con *c = opaque;
	char buf[4096];
	ssize_t n;

	(void)watch;
	(void)events;
	pthread_mutex_lock(&c->lock);
	if (c->watch < 0 || !c->stream_cb) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	n = read(fd, buf, sizeof(buf));
	if (n > 0) {
		size_t off = 0;
		double deadline = now_mono() + 5;

		while (off < (size_t)n && now_mono() < deadline) {
			int w = lv.virStreamSend(c->st, buf + off, (size_t)n - off);

			if (w == -2) {
				usleep(1000);
				continue;
			}
			if (w < 0)
				break;
			off += (size_t)w;
		}
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		lv.virEventRemoveHandle(c->watch);	/* the engine closed its end */
		c->watch = -1;
	}
	pthread_mutex_unlock(&c->lock);
}

/* Open console @dev ("serial0") of @dom and pump it into a socketpair. 0 or -errno (reported). */
static int con_open(virConnectPtr conn, virDomainPtr dom, const char *dev,
		    struct lv_con **out, int *engine_fd)
{
	struct lv_con *c = xcalloc(1, sizeof(*c));
	int sp[2];

	c->fd = c->watch = -1;
	atomic_init(&c->refs, 1);
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		return error_errno("socketpair");
	c->fd = sp[1];
	*engine_fd = sp[0];
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	fcntl(sp[1], F_SETFL, O_NONBLOCK);	/* input side; writes loop in write_all */
	c->st = lv.virStreamNew(conn, VIR_STREAM_NONBLOCK);
	if (!c->st || lv.virDomainOpenConsole(dom, dev, c->st, VIR_DOMAIN_CONSOLE_FORCE) < 0)
		return error("libvirt: cannot open console %s: %s", dev, lv_err());
	pthread_mutex_lock(&c->lock);
	atomic_fetch_add(&c->refs, 1);
	if (lv.virStreamEventAddCallback(c->st, VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR |
				      VIR_STREAM_EVENT_HANGUP, con_stream_cb, c, con_unref) < 0) {
		atomic_fetch_sub(&c->refs, 1);
		pthread_mutex_unlock(&c->lock);
		return error("libvirt: cannot watch console %s: %s", dev, lv_err());
	}
	c->stream_cb = true;
	atomic_fetch_add(&c->refs, 1);
	c->watch = lv.virEventAddHandle(c->fd, VIR_EVENT_HANDLE_READABLE, con_input_cb, c, con_unref);
	if (c->watch < 0)
		atomic_fetch_sub(&c->refs, 1);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* ---- images ---- */

/*
 * The path on the libvirt host of local file @path: @path itself for the
 * embed driver, else a volume of pool "teelab" named <sha256[:16]>-<name>,
 * uploaded if not there yet. malloc'd, or NULL (reported).
 */
static char *host_path(virConnectPtr conn, const char *path)
{
	static virStoragePoolPtr pool;
	char hex[SHA256_HEX_LEN + 1], *name, *xml, *out = NULL;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	virStorageVolPtr vol;
	struct stat stt;

	if (lv_embed_root) {
		/* libvirt's QEMU does not run in our directory: a relative path (./runs) is resolved here */
		char *abs = realpath(path, NULL);

		if (!abs)
			error_errno("cannot resolve '%s'", path);
		return abs;
	}
	if (stat(path, &stt) || sha256_file(path, hex)) {
		error_errno("cannot read '%s' for the libvirt host", path);
		return NULL;
	}
	if (!pool) {
		pool = lv.virStoragePoolLookupByName(conn, LV_POOL);
		if (!pool) {
			xml = xasprintf("<pool type='dir'><name>%s</name><target><path>%s</path>"
					"</target></pool>", LV_POOL, LV_POOL_PATH);
			pool = lv.virStoragePoolCreateXML(conn, xml, VIR_STORAGE_POOL_CREATE_WITH_BUILD);
			free(xml);
			if (!pool)
				pool = lv.virStoragePoolLookupByName(conn, LV_POOL);	/* a race */
		} else if (lv.virStoragePoolIsActive(pool) != 1) {
			lv.virStoragePoolCreate(pool, 0);
		}
		if (!pool) {
			error("libvirt: no storage pool '%s' for the images: %s", LV_POOL, lv_err());
			return NULL;
		}
	}
	hex[16] = '\0';
	name = xasprintf("%s-%s", hex, base);
	vol = lv.virStorageVolLookupByName(pool, name);
	if (!vol) {
		virStreamPtr st = lv.virStreamNew(conn, 0);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		char buf[1 << 16];
		ssize_t n = 0;
		int ret = -1;

		xml = xasprintf("<volume><name>%s</name><capacity unit='bytes'>%lld</capacity>"
				"<target><format type='raw'/><permissions><mode>0644</mode>"
				"</permissions></target></volume>", name, (long long)stt.st_size);
		vol = lv.virStorageVolCreateXML(pool, xml, 0);
		free(xml);
		if (vol && fd >= 0 && st &&
		    lv.virStorageVolUpload(vol, st, 0, (unsigned long long)stt.st_size, 0) == 0) {
			ret = 0;
			while (!ret && (n = read(fd, buf, sizeof(buf))) > 0)
				ret = lv.virStreamSend(st, buf, (size_t)n) == n ? 0 : -1;
			if (!ret && n == 0)
				ret = lv.virStreamFinish(st);
			else
				lv.virStreamAbort(st);
		}
		if (ret && vol) {
			error("libvirt: uploading '%s' to pool %s failed: %s", path, LV_POOL, lv_err());
			lv.virStorageVolDelete(vol, 0);
			lv.virStorageVolFree(vol);
			vol = NULL;
		} else if (!vol) {
			/* another cell created it at the same moment: wait for its upload */
			for (int i = 0; i < 600 && !vol; i++) {
				virStorageVolInfo vi;

				vol = lv.virStorageVolLookupByName(pool, name);
				if (vol && (lv.virStorageVolGetInfo(vol, &vi) || vi.allocation < vi.capacity)) {
					lv.virStorageVolFree(vol);
					vol = NULL;
				}
				if (!vol)
					usleep(100000);
			}
			if (!vol)
				error("libvirt: cannot put '%s' in pool %s: %s", path, LV_POOL, lv_err());
		} else {
			info("libvirt: uploaded %s (%lld bytes) to pool %s", base,
			     (long long)stt.st_size, LV_POOL);
		}
		if (st)
			lv.virStreamFree(st);
		if (fd >= 0)
			close(fd);
	}
	if (vol) {
		out = lv.virStorageVolGetPath(vol);
		lv.virStorageVolFree(vol);
	}
	free(name);
	return out;
}

/* ---- domain ---- */

/*
 * Record how QEMU ended, once: libvirt's STOPPED event and the two ptys
 * hanging up (lv_exited) race, and the first one to see it decides.
 * @status: 0 for a guest power-off or our own destroy, else 128 + SIGKILL.
 * libvirt never reports QEMU's exit status: a QEMU that died (killed, or
 * ended on its own without a guest power-off) is seen by libvirt as its
 * monitor closing without a SHUTDOWN event (event STOPPED_FAILED, state
 * SHUTOFF_CRASHED, libvirt's processMonitorEOFEvent), and reported here as
 * the direct backend reports a killed QEMU.
 */
static void lv_decide(struct lv_priv *p, int status)
{
	bool no = false;

	if (!atomic_compare_exchange_strong(&p->decided, &no, true))
		return;
	atomic_store(&p->status, atomic_load(&p->destroying) ? 0 : status);
	atomic_store(&p->exited, true);
}

static void lifecycle_cb(virConnectPtr c, virDomainPtr dom, int event, int detail, void *opaque)
{
	(void)c;
	(void)dom;
	if (event != VIR_DOMAIN_EVENT_STOPPED)
		return;
	lv_decide(opaque, detail == VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN ? 0 : 128 + SIGKILL);
}

/*
 * The address of the libvirt host as this machine reaches it, for the SSH
 * forward: 127.0.0.1 for local URIs, else the URI's host resolved (IPv4).
 * 0 or -EIO (reported).
 */
static int forward_host(const char *uri, char *out, size_t outlen)
{
	char host[256];
	struct addrinfo hints = { .ai_family = AF_INET }, *ai = NULL;

	snprintf(out, outlen, "127.0.0.1");
	if (!libvirt_uri_host(uri, host, sizeof(host)) || !strcmp(host, "localhost"))
		return 0;
	if (getaddrinfo(host, NULL, &hints, &ai) || !ai)
		return error("libvirt: cannot resolve host '%s' of '%s'", host, uri);
	inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, out, (socklen_t)outlen);
	freeaddrinfo(ai);
	return 0;
}

/* <tag attr=value ...>text</tag>; @attrs NULL-terminated name/value pairs. */
static void x_elem(xmlTextWriterPtr w, const char *tag, const char *text, ...)
{
	va_list ap;
	const char *n;

	xmlTextWriterStartElement(w, BAD_CAST tag);
	va_start(ap, text);
	while ((n = va_arg(ap, const char *)))
		xmlTextWriterWriteAttribute(w, BAD_CAST n, BAD_CAST va_arg(ap, const char *));
	va_end(ap);
	if (text)
		xmlTextWriterWriteString(w, BAD_CAST text);
	xmlTextWriterEndElement(w);
}

/* <address type='pci' domain='0' bus='0' slot=@slot function='0'/> */
static void x_pci(xmlTextWriterPtr w, const char *slot)
{
	x_elem(w, "address", NULL, "type", "pci", "domain", "0", "bus", "0", "slot", slot,
	       "function", "0", NULL);
}

static void qemu_arg(xmlTextWriterPtr w, const char *v)
{
	x_elem(w, "qemu:arg", NULL, "value", v, NULL);
}

char *libvirt_domain_xml(const struct machine *m, const char *name, char *const hp[5])
{
	const struct machine_spec *s = &m->spec;
	const struct machine_cfg *c = s->cfg;
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	char num[32], *text = NULL;

	if (!w) {
		xmlBufferFree(buf);
		return NULL;
	}
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST "  ");
	xmlTextWriterStartElement(w, BAD_CAST "domain");
	xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "qemu");
	xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:qemu",
				    BAD_CAST "http://libvirt.org/schemas/domain/qemu/1.0");
	x_elem(w, "name", name, NULL);
	text = xasprintf("teelab lab machine (run %s)", s->run_dir);
	x_elem(w, "description", text, NULL);
	free(text);
	snprintf(num, sizeof(num), "%d", c->memory_mb);
	x_elem(w, "memory", num, "unit", "MiB", NULL);
	snprintf(num, sizeof(num), "%d", c->smp);
	x_elem(w, "vcpu", num, NULL);
	xmlTextWriterStartElement(w, BAD_CAST "os");
	x_elem(w, "type", "hvm", "arch", "aarch64", "machine", "virt", NULL);
	/* BL1 + FIP (TF-A's qemu_fw.bios): -bios */
	x_elem(w, "loader", hp[0], "type", "rom", "readonly", "yes", NULL);
	if (c->boot == BOOT_UBOOT) {
		x_elem(w, "kernel", hp[1], NULL);
		if (hp[2])
			x_elem(w, "initrd", hp[2], NULL);
		x_elem(w, "cmdline", s->append, NULL);
		if (hp[3])
			x_elem(w, "dtb", hp[3], NULL);
	}	/* boot: direct: no <kernel>; the loaders and -dtb in qemu:commandline */
	xmlTextWriterEndElement(w);	/* os */
	xmlTextWriterStartElement(w, BAD_CAST "features");
	snprintf(num, sizeof(num), "%d", c->gic_version);
	x_elem(w, "gic", NULL, "version", num, NULL);
	xmlTextWriterEndElement(w);
	xmlTextWriterStartElement(w, BAD_CAST "cpu");
	xmlTextWriterWriteAttribute(w, BAD_CAST "mode", BAD_CAST "custom");
	xmlTextWriterWriteAttribute(w, BAD_CAST "match", BAD_CAST "exact");
	x_elem(w, "model", c->cpu, "fallback", "forbid", NULL);
	xmlTextWriterEndElement(w);
	/* a guest reset (TF-A's PSCI SYSTEM_RESET, `reboot` steps) goes through BL1 again */
	x_elem(w, "on_poweroff", "destroy", NULL);
	x_elem(w, "on_reboot", "restart", NULL);
	x_elem(w, "on_crash", "destroy", NULL);
	xmlTextWriterStartElement(w, BAD_CAST "devices");
	if (c->qemu[0] == '/')
		x_elem(w, "emulator", c->qemu, NULL);
	/* UART0: normal world (TF-A, U-Boot, Linux); UART1: OP-TEE (secure-status in the DT) */
	for (int i = 0; i < CON_COUNT; i++) {
		snprintf(num, sizeof(num), "%d", i);
		xmlTextWriterStartElement(w, BAD_CAST "serial");
		xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "pty");
		xmlTextWriterStartElement(w, BAD_CAST "target");
		xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "system-serial");
		xmlTextWriterWriteAttribute(w, BAD_CAST "port", BAD_CAST num);
		x_elem(w, "model", NULL, "name", "pl011", NULL);
		xmlTextWriterEndElement(w);	/* target */
		xmlTextWriterEndElement(w);	/* serial */
	}
	/* entropy: crng is ready at once (dropbear waits for it) */
	xmlTextWriterStartElement(w, BAD_CAST "rng");
	xmlTextWriterWriteAttribute(w, BAD_CAST "model", BAD_CAST "virtio");
	x_elem(w, "backend", "/dev/urandom", "model", "random", NULL);
	x_pci(w, "2");
	xmlTextWriterEndElement(w);
	if (hp[4]) {
		/* the lab's own kernels and initrds for kexec steps (tl-kexec reads /dev/vda) */
		xmlTextWriterStartElement(w, BAD_CAST "disk");
		xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "file");
		xmlTextWriterWriteAttribute(w, BAD_CAST "device", BAD_CAST "disk");
		x_elem(w, "driver", NULL, "name", "qemu", "type", "raw", NULL);
		x_elem(w, "source", NULL, "file", hp[4], NULL);
		x_elem(w, "target", NULL, "dev", "vda", "bus", "virtio", NULL);
		x_elem(w, "readonly", NULL, NULL);
		x_pci(w, "3");
		xmlTextWriterEndElement(w);
	}
	x_elem(w, "memballoon", NULL, "model", "none", NULL);
	xmlTextWriterEndElement(w);	/* devices */
	xmlTextWriterStartElement(w, BAD_CAST "qemu:commandline");
	/* TrustZone: QEMU merges this into libvirt's own -machine virt,... */
	qemu_arg(w, "-machine");
	qemu_arg(w, "secure=on,virtualization=off");
	if (s->ssh_port) {
		char *v = xasprintf("user,id=tlnet0,hostfwd=tcp:%s:%d-:22", m->ssh_host, s->ssh_port);

		qemu_arg(w, "-netdev");
		qemu_arg(w, v);
		qemu_arg(w, "-device");
		/*
		 * JSON like libvirt's own -device options: QEMU creates the
		 * key=value ones first, which would take the slot libvirt gave
		 * its first PCIe root port.
		 */
		qemu_arg(w, "{\"driver\":\"virtio-net-pci\",\"netdev\":\"tlnet0\",\"romfile\":\"\","
			 "\"bus\":\"pcie.0\",\"addr\":\"0x1\"}");
		free(v);
	}
	if (c->boot == BOOT_DIRECT) {
		/* as machine_qemu.c: BL31 enters the kernel QEMU preloaded; /chosen in the tree */
		char *v = loader_value(hp[1], DIRECT_KERNEL_BASE);

		qemu_arg(w, "-device");
		qemu_arg(w, v);
		free(v);
		if (hp[2]) {
			v = loader_value(hp[2], s->initrd_addr);
			qemu_arg(w, "-device");
			qemu_arg(w, v);
			free(v);
		}
		if (hp[3]) {
			qemu_arg(w, "-dtb");
			qemu_arg(w, hp[3]);
		}
	}
	for (size_t i = 0; i < c->extra_args.nr; i++)
		qemu_arg(w, c->extra_args.v[i]);
	xmlTextWriterEndElement(w);	/* qemu:commandline */
	xmlTextWriterEndElement(w);	/* domain */
	if (xmlTextWriterEndDocument(w) >= 0)
		text = xstrdup((const char *)xmlBufferContent(buf));
	xmlFreeTextWriter(w);
	xmlBufferFree(buf);
	return text;
}

/* qemu.cmdline (libvirt's own translation), domain.xml and qemu-rerun.sh in the run dir */
static void write_run_files(virConnectPtr conn, const struct machine *m, const char *uri,
			    const char *xml)
{
	const char *dir = m->spec.run_dir;
	char *p = path_join(dir, "domain.xml");
	char *argv = lv.virConnectDomainXMLToNative(conn, "qemu-argv", xml, 0);
	char *script;

	write_file_str(p, xml);
	free(p);
	p = path_join(dir, "qemu.cmdline");
	write_file_str(p, argv ? argv : "(libvirt could not translate the domain XML)\n");
	free(p);
	free(argv);
	script = xasprintf("#!/bin/sh\n"
			   "# Reruns this lab's machine by hand through libvirt: the normal world\n"
			   "# on this terminal (Ctrl-] leaves; the domain goes with the console).\n"
			   "cd \"$(dirname \"$0\")\" || exit 1\n"
			   "exec virsh -c '%s' create domain.xml --console --autodestroy\n", uri);
	p = path_join(dir, "qemu-rerun.sh");
	write_file(p, script, strlen(script), 0755);
	free(p);
	free(script);
}

/*
 * embed: QEMU is not our child (libvirt daemonizes it), so PR_SET_PDEATHSIG
 * cannot tie it to us. A forked watchdog can: it waits for this process to
 * die and then kills QEMU. Only async-signal-safe calls after fork().
 */
static pid_t start_watchdog(const char *root, const char *name)
{
	char *pidfile = xasprintf("%s/run/qemu/%s.pid", root, name);
	char *text = NULL;
	pid_t qpid = 0, w;
	sigset_t set;

	if (!read_file(pidfile, &text, NULL))
		qpid = (pid_t)atoi(text);
	free(text);
	free(pidfile);
	if (qpid <= 0)
		return 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	w = fork();
	if (w == 0) {
		int sig;

		pthread_sigmask(SIG_BLOCK, &set, NULL);
		close_range(3, ~0U, 0);	/* none of teelab's fds (pipes, sockets) */
		prctl(PR_SET_PDEATHSIG, SIGUSR1);
		if (getppid() == 1)
			kill(qpid, SIGKILL);
		else if (!sigwait(&set, &sig) && sig == SIGUSR1)
			kill(qpid, SIGKILL);	/* teelab died: QEMU goes too */
		_exit(0);
	}
	return w > 0 ? w : 0;
}

static int lv_start(struct machine *m)
{
	const struct machine_spec *s = &m->spec;
	struct lv_priv *p = xcalloc(1, sizeof(*p));
	static int seq;
	const char *uri = s->cfg->connect;
	const char *files[5] = { s->bios, s->kernel, s->initrd, s->dtb, s->kexec_disk };
	char *hp[5] = { 0 };
	char *xml = NULL;
	char hostname[64] = "";
	virConnectPtr conn;
	int ret = -EIO;

	m->priv = p;
	p->lifecycle = -1;
	snprintf(m->uri, sizeof(m->uri), "%s", uri ? uri : "qemu:///embed");
	conn = lv_connect(uri, s->state_dir, s->run_dir);
	if (!conn)
		goto out;
	if (lv_embed_root)
		snprintf(m->uri, sizeof(m->uri), "qemu:///embed?root=%s", lv_embed_root);
	if (forward_host(uri, m->ssh_host, sizeof(m->ssh_host)))
		goto out;
	for (int i = 0; i < 5; i++)
		if (files[i] && !(hp[i] = host_path(conn, files[i])))
			goto out;
	gethostname(hostname, sizeof(hostname) - 1);
	hostname[strcspn(hostname, ".")] = '\0';
	p->name = xasprintf("teelab-%s-%d-%d", hostname, (int)getpid(), ++seq);
	xml = libvirt_domain_xml(m, p->name, hp);
	if (!xml) {
		error("libvirt: cannot write the domain XML (libxml2)");
		goto out;
	}
	write_run_files(conn, m, m->uri, xml);
	m->started = now_mono();
	/* paused until both consoles are attached; gone when this connection closes */
	/* (the embed driver has no autodestroy: the watchdog below does its work) */
	p->dom = lv.virDomainCreateXML(conn, xml, VIR_DOMAIN_START_PAUSED |
				    (lv_embed_root ? 0 : VIR_DOMAIN_START_AUTODESTROY));
	if (!p->dom) {
		error("libvirt (%s) did not start the domain: %s", m->uri, lv_err());
		goto out;
	}
	if (lv_embed_root) {
		p->log_path = xasprintf("%s/log/qemu/%s.log", lv_embed_root, p->name);
		p->watchdog = start_watchdog(lv_embed_root, p->name);
	} else if (!remote_uri(uri)) {
		p->log_path = xasprintf("/var/log/libvirt/qemu/%s.log", p->name);
	}
	p->lifecycle = lv.virConnectDomainEventRegisterAny(conn, p->dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
							VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), p, NULL);
	for (int i = 0; i < CON_COUNT; i++) {
		char dev[32];

		snprintf(dev, sizeof(dev), "serial%d", i);
		if (con_open(conn, p->dom, dev, &p->con[i], &m->console_fd[i]))
			goto out;
	}
	if (lv.virDomainResume(p->dom) < 0) {
		error("libvirt: cannot resume the domain: %s", lv_err());
		goto out;
	}
	ret = 0;
out:
	if (ret && !p->dom) {
		/* the run dir says why, as QEMU's own log would */
		char *log = path_join(s->run_dir, "qemu.log");
		char *msg = xasprintf("teelab: no machine through libvirt (%s): %s\n", m->uri, lv_err());

		snprintf(m->why, sizeof(m->why), "libvirt (%s): %s", m->uri, lv_err());

		write_file_str(log, msg);
		free(log);
		free(msg);
	}
	for (int i = 0; i < 5; i++)
		free(hp[i]);
	free(xml);
	return ret;
}

static bool lv_exited(struct machine *m, int *status)
{
	struct lv_priv *p = m->priv;

	if (!p || !p->dom)
		return true;
	if (!atomic_load(&p->exited) && p->con[CON_NORMAL] && p->con[CON_SECURE] &&
	    atomic_load(&p->con[CON_NORMAL]->eof) && atomic_load(&p->con[CON_SECURE]->eof)) {
		/*
		 * Both ptys hung up: QEMU is gone (a guest reset keeps them).
		 * libvirt's STOPPED event can come seconds later, once it has
		 * seen the monitor close. Its state already tells a guest
		 * power-off (it saw QEMU's SHUTDOWN event) from a QEMU that died
		 * (monitor closed without one); while it still says running, or
		 * the transient domain is already gone, only the event can tell.
		 */
		int state = -1, reason = 0;

		if (lv.virDomainGetState(p->dom, &state, &reason, 0) < 0)
			state = -1;
		if (state == VIR_DOMAIN_SHUTDOWN ||
		    (state == VIR_DOMAIN_SHUTOFF && reason == VIR_DOMAIN_SHUTOFF_SHUTDOWN))
			lv_decide(p, 0);
		else if (state == VIR_DOMAIN_SHUTOFF && (reason == VIR_DOMAIN_SHUTOFF_CRASHED ||
							 reason == VIR_DOMAIN_SHUTOFF_FAILED))
			lv_decide(p, 128 + SIGKILL);
	}
	if (status)
		*status = atomic_load(&p->status);
	return atomic_load(&p->exited);
}

static int lv_qmp(struct machine *m, const char *json, char **reply, double timeout)
{
	struct lv_priv *p = m->priv;
	char *res = NULL;

	(void)timeout;	/* libvirt bounds monitor commands itself */
	if (!p || !p->dom || lv_exited(m, NULL))
		return -EPIPE;
	if (lv.virDomainQemuMonitorCommand(p->dom, json, &res, 0) < 0) {
		warning("libvirt: QMP command failed: %s", lv_err());
		return -EIO;
	}
	if (reply)
		*reply = res;
	else
		free(res);
	return 0;
}

static int lv_stop(struct machine *m, double grace)
{
	struct lv_priv *p = m->priv;
	double deadline;

	if (!p || !p->dom)
		return 0;
	if (!lv_exited(m, NULL)) {
		atomic_store(&p->destroying, true);
		/* SIGTERM (QEMU flushes its chardevs), then SIGKILL */
		if (lv.virDomainDestroyFlags(p->dom, VIR_DOMAIN_DESTROY_GRACEFUL) < 0)
			lv.virDomainDestroy(p->dom);
	}
	/* the consoles' last bytes: wait for both streams to end */
	deadline = now_mono() + grace;
	while (now_mono() < deadline) {
		bool open = false;

		for (int i = 0; i < CON_COUNT; i++)
			if (p->con[i] && !atomic_load(&p->con[i]->eof))
				open = true;
		if (!open)
			break;
		usleep(10000);
	}
	atomic_store(&p->exited, true);
	return 0;
}

static void lv_release(struct machine *m)
{
	struct lv_priv *p = m->priv;

	if (p->lifecycle >= 0 && lv_conn)
		lv.virConnectDomainEventDeregisterAny(lv_conn, p->lifecycle);
	for (int i = 0; i < CON_COUNT; i++) {
		struct lv_con *c = p->con[i];

		if (!c)
			continue;
		pthread_mutex_lock(&c->lock);
		con_close(c);
		pthread_mutex_unlock(&c->lock);
		con_unref(c);
	}
	if (p->log_path && file_exists(p->log_path)) {
		/* libvirt's log of this QEMU (its command line and stderr) */
		char *dst = path_join(m->spec.run_dir, "qemu.log");

		copy_file(p->log_path, dst);
		free(dst);
	}
	if (p->watchdog > 0) {
		kill(p->watchdog, SIGTERM);
		waitpid(p->watchdog, NULL, 0);
	}
	if (p->dom)
		lv.virDomainFree(p->dom);
	free(p->log_path);
	free(p->name);
	free(p);
}

const struct machine_ops machine_libvirt_ops = {
	.name = "libvirt",
	.start = lv_start,
	.stop = lv_stop,
	.exited = lv_exited,
	.qmp = lv_qmp,
	.release = lv_release,
	/*
	 * Both ptys' hang-ups seen by their reader threads: more than 1 s
	 * after QEMU's death on a loaded host (libvirt.t under CI, and with
	 * six busy loops on 2 cores here: the killed QEMU's step ended FAIL,
	 * not INFRA). Waited for only when a step failed.
	 */
	.exit_latency = 5.0,
};
