/*
 * The index of the stored sets (<state>/index): read one line at a time
 * as a pass visits the sets in name order, rewritten only when a record
 * changed.  Format (version 1): a first line "certo-index 1", then one
 * line per set, sorted by name, of tab-separated fields:
 *
 *   name  cert.pem's stamp  certo.json's stamp  notBefore  notAfter
 *   key type  allow_http (0/1)  server  ca_bundle  ARI ID  SANs  names
 *
 * a stamp being "inode:size:mtime_ns:ctime_ns", times Unix seconds, the
 * lists space-separated, every string with bytes up to ' ', '%' and DEL
 * written as %XX.
 */
#include "store_index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "errors.h"
#include "file.h"
#include "log.h"

#define INDEX_FILE "index"
/* A new certo version rebuilds it (what it reads may have changed). */
#define INDEX_HEADER "certo-index 1 " CERTO_VERSION "\n"
#define INDEX_NFIELDS 12
#define INDEX_LIST_MAX 1000

static const char *const index_files[STORE_INDEX_NFILES] = { "cert.pem",
	CONFIG_FILE };

/* A space-separated list of a record, split in place. */
struct index_list {
	char **v;
	size_t n, cap;
};

struct store_index {
	char *state, *path;
	int live_fd;                /* live/, for the stamps (-1: none) */
	FILE *in;                   /* the kept index, or NULL */
	size_t hdr_len;             /* its header's length (0: no header) */
	size_t offset;              /* where its next line starts */
	size_t clean_end;           /* end of the records used as they are */
	char *line, *raw;           /* the current line: split, as read */
	size_t raw_len;
	bool have;                  /* line holds an unconsumed record */
	char *prev;                 /* the last record's name (order check) */
	struct store_index_entry cur;
	struct index_list sans, names;
	bool dirty;                 /* the index must be rewritten */
	FILE *out;                  /* the new index (temp name), or NULL */
	char *tmp;
	bool failed;                /* writing failed: keep the old one */
};

/* ---------------------------------------------------------------- read */

/* %XX decoded in place; false when s holds a bad escape. */
static bool
index_unescape(char *s)
{
	char *w = s, hex[3] = { 0 }, *end;

	for (; *s; s++) {
		if (*s != '%') {
			*w++ = *s;
			continue;
		}
		if (s[1] == '\0' || s[2] == '\0')
			return false;
		hex[0] = s[1];
		hex[1] = s[2];
		*w++ = (char)strtoul(hex, &end, 16);
		if (*end != '\0')
			return false;
		s += 2;
	}
	*w = '\0';
	return true;
}

/* Split s (modified) at spaces into l.  False when too long. */
static bool
index_split_list(char *s, struct index_list *l)
{
	char *tok, *save = NULL;

	l->n = 0;
	for (tok = strtok_r(s, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 8;
			char **v;

			if (cap > INDEX_LIST_MAX ||
			    (v = realloc(l->v, cap * sizeof(*v))) == NULL)
				return false;
			l->v = v;
			l->cap = cap;
		}
		if (!index_unescape(tok))
			return false;
		l->v[l->n++] = tok;
	}
	return true;
}

/* "inode:size:mtime_ns:ctime_ns" into st. */
static bool
index_parse_stamp(const char *s, struct store_index_stamp *st)
{
	char *end;

	errno = 0;
	st->ino = strtoull(s, &end, 10);
	if (*end != ':')
		return false;
	st->size = strtoull(end + 1, &end, 10);
	if (*end != ':')
		return false;
	st->mtime_ns = strtoll(end + 1, &end, 10);
	if (*end != ':')
		return false;
	st->ctime_ns = strtoll(end + 1, &end, 10);
	return *end == '\0' && errno == 0;
}

/* A decimal time_t. */
static bool
index_parse_time(const char *s, time_t *t)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	*t = (time_t)v;
	return *s != '\0' && *end == '\0' && errno == 0;
}

/* Split idx->line into idx->cur.  False when it is no valid record. */
static bool
index_parse_line(struct store_index *idx)
{
	struct store_index_entry *e = &idx->cur;
	char *f[INDEX_NFIELDS], *p = idx->line;
	size_t n = 0;

	/* strsep, not strtok: empty fields count. */
	while (n < INDEX_NFIELDS && (f[n] = strsep(&p, "\t")) != NULL)
		n++;
	if (n != INDEX_NFIELDS || p != NULL)
		return false;
	for (size_t i = 0; i < 10; i++)
		if (!index_unescape(f[i]))
			return false;
	memset(e, 0, sizeof(*e));
	e->name = f[0];
	if (*e->name == '\0' || *e->name == '.' || strchr(e->name, '/') ||
	    !index_parse_stamp(f[1], &e->stamp[0]) ||
	    !index_parse_stamp(f[2], &e->stamp[1]) ||
	    !index_parse_time(f[3], &e->not_before) ||
	    !index_parse_time(f[4], &e->not_after) ||
	    (strcmp(f[6], "0") != 0 && strcmp(f[6], "1") != 0) ||
	    !index_split_list(f[10], &idx->sans) ||
	    !index_split_list(f[11], &idx->names))
		return false;
	e->key_desc = f[5];
	e->allow_http = f[6][0] == '1';
	e->server = f[7];
	e->ca_bundle = f[8];
	e->ari_id = f[9];
	e->sans = idx->sans.v;
	e->nsans = idx->sans.n;
	e->names = idx->names.v;
	e->nnames = idx->names.n;
	return true;
}

/*
 * Read the next line of the kept index into idx->line (and raw).
 * Returns 1 with a line, 0 at its end, -1 for a line that is too long
 * or not ended (skipped).
 */
static int
index_read_line(struct store_index *idx)
{
	size_t len;
	int c;

	if (fgets(idx->line, STORE_INDEX_LINE_MAX + 2, idx->in) == NULL)
		return 0;
	len = strlen(idx->line);
	idx->offset += len;
	if (len > 0 && idx->line[len - 1] == '\n') {
		idx->line[len - 1] = '\0';
		memcpy(idx->raw, idx->line, len - 1);
		idx->raw[len - 1] = '\n';
		idx->raw_len = len;
		return 1;
	}
	/* Too long (skip to its end) or cut short (a torn write). */
	while ((c = getc(idx->in)) != EOF) {
		idx->offset++;
		if (c == '\n')
			break;
	}
	return -1;
}

/* Start writing the new index (first change of the pass). */
static void index_mark_dirty(struct store_index *idx);

/*
 * Make the next record of the kept index current (idx->have).  Lines
 * that are no valid record, or out of order, are dropped.  False at
 * its end.
 */
static bool
index_advance(struct store_index *idx)
{
	int r;

	while (idx->in != NULL && !idx->have) {
		if ((r = index_read_line(idx)) == 0)
			return false;
		if (r < 0 || !index_parse_line(idx) || (idx->prev != NULL &&
		    strcmp(idx->prev, idx->cur.name) >= 0)) {
			index_mark_dirty(idx);
			continue;
		}
		free(idx->prev);
		if ((idx->prev = strdup(idx->cur.name)) == NULL) {
			index_mark_dirty(idx);
			fclose(idx->in); /* stop reading: out of memory */
			idx->in = NULL;
			return false;
		}
		idx->have = true;
	}
	return idx->have;
}

/* ---------------------------------------------------------------- write */

/* A write of the new index failed: keep the old one. */
static void
index_write_failed(struct store_index *idx, const char *what)
{
	if (!idx->failed)
		log_debug("index: not updated: %s %s: %s", what,
		    idx->tmp ? idx->tmp : idx->path, strerror(errno));
	idx->failed = true;
}

/*
 * The temp file of the new index ("index.tmp.<pid>.XXXXXX", locked
 * while it has that name, as file_write_atomic's), its header written.
 */
static void
index_create_tmp(struct store_index *idx)
{
	int fd;

	/* Index temp names that killed runs left in the state dir. */
	file_sweep_tmp(idx->state, INDEX_FILE ".tmp.");
	if (asprintf(&idx->tmp, "%s.tmp.%ld.XXXXXX", idx->path,
	    (long)getpid()) < 0) {
		idx->tmp = NULL;
		index_write_failed(idx, "create");
		return;
	}
	if ((fd = mkostemp(idx->tmp, O_CLOEXEC)) < 0) {
		index_write_failed(idx, "create");
		free(idx->tmp);
		idx->tmp = NULL;
		return;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fchmod(fd, 0600) != 0 ||
	    (idx->out = fdopen(fd, "w")) == NULL) {
		index_write_failed(idx, "create");
		close(fd);
		return;
	}
	if (fputs(INDEX_HEADER, idx->out) == EOF)
		index_write_failed(idx, "write");
}

/* Copy the kept index's bytes [from, to) to the new one. */
static void
index_copy_kept(struct store_index *idx, size_t from, size_t to)
{
	char buf[16384];
	ssize_t n;
	int fd = fileno(idx->in);

	while (from < to && !idx->failed) {
		size_t want = to - from < sizeof(buf) ? to - from : sizeof(buf);

		if ((n = pread(fd, buf, want, (off_t)from)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			index_write_failed(idx, "read");
			return;
		}
		if (fwrite(buf, 1, (size_t)n, idx->out) != (size_t)n)
			index_write_failed(idx, "write");
		from += (size_t)n;
	}
}

static void
index_mark_dirty(struct store_index *idx)
{
	if (idx->dirty)
		return;
	idx->dirty = true;
	index_create_tmp(idx);
	/* The records used so far, as they were. */
	if (!idx->failed && idx->in != NULL && idx->hdr_len > 0)
		index_copy_kept(idx, idx->hdr_len, idx->clean_end);
}

/* The current record is used unchanged. */
static void
index_use(struct store_index *idx)
{
	idx->have = false;
	if (!idx->dirty)
		idx->clean_end = idx->offset;
	else if (!idx->failed &&
	    fwrite(idx->raw, 1, idx->raw_len, idx->out) != idx->raw_len)
		index_write_failed(idx, "write");
}

/* The current record is gone (its set changed or was removed). */
static void
index_drop(struct store_index *idx)
{
	idx->have = false;
	index_mark_dirty(idx);
}

/* s escaped (see the header comment) to out. */
static void
index_put_str(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == '%' || *p == 0x7f)
			fprintf(out, "%%%02X", *p);
		else
			putc(*p, out);
}

static void
index_put_list(FILE *out, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			putc(' ', out);
		index_put_str(out, v[i]);
	}
}

static void
index_put_stamp(FILE *out, const struct store_index_stamp *st)
{
	fprintf(out, "\t%" PRIu64 ":%" PRIu64 ":%" PRId64 ":%" PRId64, st->ino,
	    st->size, st->mtime_ns, st->ctime_ns);
}

/* A new record after the ones visited (store_index.h). */
int
store_index_put(struct store_index *idx, const struct store_index_entry *e)
{
	FILE *out;

	index_mark_dirty(idx);
	if (idx->failed)
		return 0;
	out = idx->out;
	index_put_str(out, e->name);
	for (size_t i = 0; i < STORE_INDEX_NFILES; i++)
		index_put_stamp(out, &e->stamp[i]);
	fprintf(out, "\t%lld\t%lld\t", (long long)e->not_before,
	    (long long)e->not_after);
	index_put_str(out, e->key_desc ? e->key_desc : "");
	fprintf(out, "\t%d\t", e->allow_http ? 1 : 0);
	index_put_str(out, e->server ? e->server : "");
	putc('\t', out);
	index_put_str(out, e->ca_bundle ? e->ca_bundle : "");
	putc('\t', out);
	index_put_str(out, e->ari_id ? e->ari_id : "");
	putc('\t', out);
	index_put_list(out, e->sans, e->nsans);
	putc('\t', out);
	index_put_list(out, e->names, e->nnames);
	if (putc('\n', out) == EOF)
		index_write_failed(idx, "write");
	return 0;
}

/* ---------------------------------------------------------------- pass */

/* Open the kept index and check its header (none: rebuilt). */
static void
index_open_kept(struct store_index *idx)
{
	if ((idx->in = fopen(idx->path, "re")) == NULL)
		return; /* no index yet: every set is read, then indexed */
	if (fgets(idx->line, STORE_INDEX_LINE_MAX + 2, idx->in) == NULL ||
	    strcmp(idx->line, INDEX_HEADER) != 0) {
		/* Another version or garbage: rebuilt from the sets. */
		fclose(idx->in);
		idx->in = NULL;
		idx->dirty = false;
		index_mark_dirty(idx);
		return;
	}
	idx->hdr_len = idx->offset = idx->clean_end = strlen(INDEX_HEADER);
}

/* Start a pass over the index of state (store_index.h). */
int
store_index_open(const char *state, struct store_index **out)
{
	struct store_index *idx;
	char *live;

	*out = NULL;
	if ((idx = calloc(1, sizeof(*idx))) == NULL)
		return CERTO_ENOMEM;
	idx->live_fd = -1;
	if ((idx->state = strdup(state)) == NULL ||
	    (idx->path = file_join(state, INDEX_FILE)) == NULL ||
	    (idx->line = malloc(STORE_INDEX_LINE_MAX + 2)) == NULL ||
	    (idx->raw = malloc(STORE_INDEX_LINE_MAX + 2)) == NULL ||
	    (live = file_join(state, "live")) == NULL) {
		store_index_close(idx, false);
		return CERTO_ENOMEM;
	}
	idx->live_fd = open(live, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(live);
	index_open_kept(idx);
	*out = idx;
	return 0;
}

/* The identity of a set's live files (store_index.h). */
int
store_index_stamp(const struct store_index *idx, const char *name,
    struct store_index_stamp stamp[STORE_INDEX_NFILES])
{
	char rel[1024];
	struct stat st;

	for (size_t i = 0; i < STORE_INDEX_NFILES; i++) {
		if ((size_t)snprintf(rel, sizeof(rel), "%s/%s", name,
		    index_files[i]) >= sizeof(rel) || idx->live_fd < 0 ||
		    fstatat(idx->live_fd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			return -1;
		stamp[i].ino = (uint64_t)st.st_ino;
		stamp[i].size = (uint64_t)st.st_size;
		stamp[i].mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
		    st.st_mtim.tv_nsec;
		stamp[i].ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 +
		    st.st_ctim.tv_nsec;
	}
	return 0;
}

/* The record of name, if made from these files (store_index.h). */
bool
store_index_find(struct store_index *idx, const char *name,
    const struct store_index_stamp stamp[STORE_INDEX_NFILES],
    struct store_index_entry *entry)
{
	int c;

	while (index_advance(idx)) {
		if ((c = strcmp(idx->cur.name, name)) > 0)
			return false; /* none for name; the record waits */
		if (c < 0) {
			index_drop(idx); /* a set no longer stored */
			continue;
		}
		if (memcmp(stamp, idx->cur.stamp,
		    sizeof(idx->cur.stamp)) != 0) {
			index_drop(idx); /* changed since: read again */
			return false;
		}
		*entry = idx->cur;
		index_use(idx);
		return true;
	}
	return false;
}

/* Keep the record of name unchanged (store_index.h). */
void
store_index_pass(struct store_index *idx, const char *name)
{
	int c;

	while (index_advance(idx)) {
		if ((c = strcmp(idx->cur.name, name)) > 0)
			return;
		if (c < 0)
			index_drop(idx);
		else
			index_use(idx);
		if (c == 0)
			return;
	}
}

/* Put the new index in place (fsync, rename, fsync of the directory). */
static void
index_commit(struct store_index *idx)
{
	if (fflush(idx->out) != 0 || fsync(fileno(idx->out)) != 0) {
		index_write_failed(idx, "write");
		return;
	}
	if (rename(idx->tmp, idx->path) != 0) {
		index_write_failed(idx, "rename");
		return;
	}
	file_fsync_dir(idx->state);
	certo_errclear(); /* a cache: never the run's message */
	free(idx->tmp);
	idx->tmp = NULL; /* renamed: nothing to remove */
}

/* End the pass; the new index replaces the old one (store_index.h). */
void
store_index_close(struct store_index *idx, bool complete)
{
	if (idx == NULL)
		return;
	/* Records after the last set visited are sets no longer stored. */
	if (complete && idx->in != NULL && (idx->have ||
	    index_read_line(idx) != 0))
		index_mark_dirty(idx);
	if (idx->out != NULL && complete && idx->dirty && !idx->failed)
		index_commit(idx);
	if (idx->tmp != NULL)
		unlink(idx->tmp); /* not renamed: removed while still locked */
	if (idx->out != NULL)
		fclose(idx->out);
	if (idx->in != NULL)
		fclose(idx->in);
	if (idx->live_fd >= 0)
		close(idx->live_fd);
	free(idx->tmp);
	free(idx->prev);
	free(idx->sans.v);
	free(idx->names.v);
	free(idx->line);
	free(idx->raw);
	free(idx->path);
	free(idx->state);
	free(idx);
}
