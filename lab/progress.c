// SPDX-License-Identifier: MIT
/* progress.c - live or plain progress lines for builds and fetches; see progress.h */
#include "progress.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS (500 * 1000 * 1000L)

static struct {
	bool forced;
	enum progress_mode mode;
	bool color;
	int width;
} force;

enum progress_mode progress_mode_pick(bool tty, const char *term, bool verbose, bool quiet)
{
	if (quiet)
		return PROGRESS_OFF;
	if (!tty || verbose || !term || !*term || !strcmp(term, "dumb"))
		return PROGRESS_PLAIN;
	return PROGRESS_LIVE;
}

bool progress_use_color(const char *no_color)
{
	/* https://no-color.org: set to anything non-empty */
	return !no_color || !*no_color;
}

void progress_force(enum progress_mode mode, bool color, int width)
{
	force.forced = true;
	force.mode = mode;
	force.color = color;
	force.width = width;
}

static enum progress_mode current_mode(void)
{
	if (force.forced)
		return force.mode;
	return progress_mode_pick(isatty(2), getenv("TERM"), tl_verbose > 0, tl_quiet);
}

static int term_width(void)
{
	struct winsize ws;

	if (force.forced && force.width)
		return force.width;
	if (!ioctl(2, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

void progress_add_duration(struct strbuf *out, double seconds)
{
	long s = seconds < 0 ? 0 : (long)(seconds + 0.5);

	if (s < 60)
		strbuf_addf(out, "%lds", s);
	else if (s < 3600)
		strbuf_addf(out, "%ldm%02lds", s / 60, s % 60);
	else
		strbuf_addf(out, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

static void add_bytes(struct strbuf *out, long long n)
{
	if (n < 1024 * 1024)
		strbuf_addf(out, "%lld kB", n / 1024);
	else
		strbuf_addf(out, "%.1f MB", (double)n / (1024 * 1024));
}

/* Append @s cut to @room visible columns, control characters as spaces. */
static void add_cut(struct strbuf *out, const char *s, size_t *room)
{
	for (; *s && *room; s++, (*room)--)
		strbuf_addch(out, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

void progress_format(struct strbuf *out, const struct progress_view *v, int width)
{
	struct strbuf text = STRBUF_INIT;
	size_t room = width > 1 ? (size_t)width - 1 : 0;
	bool bold;

	strbuf_reset(out);
	strbuf_addf(&text, "  ");
	progress_add_duration(&text, v->elapsed);
	if (v->estimate >= 0) {
		strbuf_addstr(&text, " (~");
		progress_add_duration(&text, v->estimate);
		strbuf_addch(&text, ')');
	}
	if (v->bytes >= 0) {
		strbuf_addstr(&text, "  ");
		add_bytes(&text, v->bytes);
	}
	if (v->packages >= 0)
		strbuf_addf(&text, "  %d package(s) fetched", v->packages);
	if (v->tail && *v->tail) {
		strbuf_addstr(&text, "  ");
		strbuf_addstr(&text, v->tail);
	}
	bold = v->color && room;
	if (bold)
		strbuf_addstr(out, "\033[1m");
	add_cut(out, v->verb, &room);
	if (room) {
		strbuf_addch(out, ' ');
		room--;
	}
	add_cut(out, v->what, &room);
	if (bold)
		strbuf_addstr(out, "\033[0m");
	add_cut(out, strbuf_str(&text), &room);
	strbuf_release(&text);
}

struct progress {
	char *verb, *what, *log, *bytes_dir;
	double start, estimate;
	int packages;
	enum progress_mode mode;
	bool color;
	pthread_t thread;
	bool running;
	bool stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* The last non-empty line of @path (at most its last 4 KiB), or NULL; malloc'd. */
static char *last_line(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end;
	ssize_t n;
	char *e, *b;

	if (fd < 0)
		return NULL;
	end = lseek(fd, 0, SEEK_END);
	n = end < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, end > (off_t)sizeof(buf) - 1 ?
						   end - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	e = buf + n;
	while (e > buf && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
		*--e = '\0';
	b = e;
	while (b > buf && b[-1] != '\n' && b[-1] != '\r')
		b--;
	return *b ? xstrdup(b) : NULL;
}

static long long dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	long long sum = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		if (!fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			if (S_ISDIR(st.st_mode)) {
				char *sub = path_join(dir, de->d_name);

				sum += dir_bytes(sub);
				free(sub);
			} else {
				sum += st.st_size;
			}
		}
	}
	closedir(d);
	return sum;
}

static void draw(struct progress *p)
{
	struct strbuf line = STRBUF_INIT;
	char *tail = p->log ? last_line(p->log) : NULL;
	struct progress_view v = {
		.verb = p->verb, .what = p->what, .elapsed = now_mono() - p->start,
		.estimate = p->estimate, .bytes = p->bytes_dir ? dir_bytes(p->bytes_dir) : -1,
		.packages = p->packages, .tail = tail, .color = p->color,
	};

	progress_format(&line, &v, term_width());
	fprintf(stderr, "\r\033[K%s", strbuf_str(&line));
	fflush(stderr);
	strbuf_release(&line);
	free(tail);
}

static void *ticker(void *arg)
{
	struct progress *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += TICK_NS;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		if (!p->stop)
			draw(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct progress *progress_start(const char *verb, const char *what, double estimate,
				const char *log, const char *bytes_dir, int packages)
{
	struct progress *p = xcalloc(1, sizeof(*p));

	p->verb = xstrdup(verb);
	p->what = xstrdup(what);
	p->log = log ? xstrdup(log) : NULL;
	p->bytes_dir = bytes_dir ? xstrdup(bytes_dir) : NULL;
	p->start = now_mono();
	p->estimate = estimate;
	p->packages = packages;
	p->mode = current_mode();
	p->color = force.forced ? force.color : progress_use_color(getenv("NO_COLOR"));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (p->mode == PROGRESS_LIVE) {
		draw(p);	/* at once; then the thread redraws */
		p->running = !pthread_create(&p->thread, NULL, ticker, p);
	} else if (p->mode == PROGRESS_PLAIN) {
		struct strbuf sb = STRBUF_INIT;

		if (estimate >= 0) {
			strbuf_addstr(&sb, " (last build ");
			progress_add_duration(&sb, estimate);
			strbuf_addch(&sb, ')');
		}
		if (log)
			strbuf_addf(&sb, ", log %s", log);
		info("%s: %s%s", verb, what, strbuf_str(&sb));
		strbuf_release(&sb);
	}
	return p;
}

double progress_end(struct progress *p, bool ok)
{
	double secs = now_mono() - p->start;

	if (p->running) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
		fputs("\r\033[K", stderr);
	}
	if (ok && p->mode != PROGRESS_OFF) {
		struct strbuf sb = STRBUF_INIT;

		progress_add_duration(&sb, secs);
		info("%s: %s done in %s", p->verb, p->what, strbuf_str(&sb));
		strbuf_release(&sb);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->verb);
	free(p->what);
	free(p->log);
	free(p->bytes_dir);
	free(p);
	return secs;
}
