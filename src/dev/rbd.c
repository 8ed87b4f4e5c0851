// SPDX-License-Identifier: MIT
/*
 * dev: a Ceph RBD image named rbd:POOL/[NS/]IMAGE[@SNAP][:KEY=VALUE]... (qemu's
 * syntax). Opening one connects to the cluster (librados) and keeps the
 * connection and the pool's I/O context for the device's life: a connection
 * costs a handshake with the monitors and a set of messenger threads, and the
 * rados handle is thread-safe. Every rbd engine context on the device also
 * shares one image handle (dev_rbd_image_get): with a handle each, contexts
 * writing an image with the exclusive-lock feature took the lock from each
 * other on every write. Describing one connects, reads and disconnects.
 * librados and librbd are not linked: the first rbd: path loads them
 * (rbd_lib.c), and a process without them fails only that open, saying so.
 *
 * Timeouts. librbd waits forever for an OSD by default (rados_osd_op_timeout
 * 0) and a connect waits 300 s for the monitors (client_mount_timeout). rawio
 * sets both, and rados_mon_op_timeout, to DEV_RBD_TIMEOUT_S unless the path
 * sets them, or the conf file gives the op timeout a value other than Ceph's
 * default 0 (see rbd_timeouts).
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/rawio.h>

#include "dev_impl.h"
#include "util/errbuf.h"

#define DEV_RBD_PREFIX "rbd:"

bool rawio_dev_is_rbd_path(const char *path)
{
	return path && !strncmp(path, DEV_RBD_PREFIX, strlen(DEV_RBD_PREFIX));
}

#ifndef RAWIO_HAVE_RBD

int dev_rbd_connect(const char *path, struct rawio_dev_info *info, unsigned flags, char *errbuf,
		    size_t errlen, struct dev_rbd **keep)
{
	(void)info;
	(void)flags;
	(void)keep;
	errbuf_set(errbuf, errlen,
		   "%.200s: this rawio was built without librbd's headers (install librbd-dev "
		   "and rebuild)",
		   path);
	return -EOPNOTSUPP;
}

void dev_rbd_close(struct dev_rbd *r)
{
	(void)r;
}

#else

#include <rbd/features.h>

#include "rbd.h"
#include "rbd_lib.h"

/*
 * 60 s: a real cluster takes osd_heartbeat_grace (20 s) to mark a dead OSD
 * down, then peers its placement groups, and I/O stalls for that long on a
 * routine failure; a timeout below about 30 s turns routine failovers into
 * I/O errors. Twice that still fails within a minute, before the kernel's
 * hung-task warning (120 s) and well before Ceph's own "forever".
 */
#define DEV_RBD_TIMEOUT_S   60
#define DEV_RBD_MAX_OPTS    32
#define DEV_RBD_TIMEOUT_KEY "rados_osd_op_timeout"

struct rbd_opt {
	const char *key, *val;
};

struct rbd_path {
	char *buf; /* owns the strings below */
	const char *pool, *ns, *image, *snap, *conf, *id;
	struct rbd_opt opts[DEV_RBD_MAX_OPTS];
	unsigned nr_opts;
};

/*
 * Cut S at the next unescaped ':' (qemu: "\:" is a colon, "\\" a backslash),
 * unescaping in place. Returns where the next field starts, or NULL at the end.
 */
static char *rbd_field(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '\\' && r[1]) {
			*w++ = *++r;
			continue;
		}
		if (*r == ':') {
			*w = '\0';
			return r + 1;
		}
		*w++ = *r;
	}
	*w = '\0';
	return NULL;
}

/* Option keys as Ceph compares them: "rados osd op timeout" == "rados_osd_op_timeout". */
static bool rbd_key_is(const char *key, const char *name)
{
	for (; *key && *name; key++, name++) {
		char a = *key == ' ' || *key == '-' ? '_' : *key;

		if (a != *name)
			return false;
	}
	return !*key && !*name;
}

static int rbd_path_parse(const char *path, struct rbd_path *p, char *errbuf, size_t errlen)
{
	char *next, *spec, *at, *slash;

	memset(p, 0, sizeof(*p));
	p->buf = strdup(path + strlen(DEV_RBD_PREFIX));
	if (!p->buf)
		return -ENOMEM;
	spec = p->buf;
	next = rbd_field(spec);
	at = strchr(spec, '@');
	if (at) {
		*at = '\0';
		p->snap = at + 1;
	}
	slash = strchr(spec, '/');
	if (!slash || slash == spec)
		goto bad;
	*slash = '\0';
	p->pool = spec;
	p->image = slash + 1;
	slash = strchr(p->image, '/');
	if (slash) {
		*slash = '\0';
		p->ns = p->image;
		p->image = slash + 1;
	}
	if (!*p->image || strchr(p->image, '/') || (p->snap && !*p->snap))
		goto bad;
	while (next) {
		char *field = next, *eq;

		next = rbd_field(field);
		eq = strchr(field, '=');
		if (!eq || eq == field) {
			errbuf_set(errbuf, errlen, "rbd:%s/%s: option '%.64s' is not KEY=VALUE",
				   p->pool, p->image, field);
			goto inval;
		}
		*eq = '\0';
		if (!strcmp(field, "conf")) {
			p->conf = eq + 1;
		} else if (!strcmp(field, "id")) {
			p->id = eq + 1;
		} else if (p->nr_opts < DEV_RBD_MAX_OPTS) {
			p->opts[p->nr_opts++] = (struct rbd_opt){ field, eq + 1 };
		} else {
			errbuf_set(errbuf, errlen, "rbd:%s/%s: more than %d options", p->pool,
				   p->image, DEV_RBD_MAX_OPTS);
			goto inval;
		}
	}
	return 0;
bad:
	errbuf_set(errbuf, errlen,
		   "%.200s: not an RBD image name (rbd:POOL/IMAGE[@SNAP][:conf=PATH][:id=NAME])",
		   path);
inval:
	free(p->buf);
	p->buf = NULL;
	return -EINVAL;
}

static bool rbd_path_sets(const struct rbd_path *p, const char *name)
{
	for (unsigned i = 0; i < p->nr_opts; i++)
		if (rbd_key_is(p->opts[i].key, name))
			return true;
	return false;
}

/* Our timeouts where nobody else chose one (the top of this file). */
static int rbd_timeouts(const struct dev_rbd *r, const struct rbd_path *p)
{
	const struct rbd_lib *lib = r->lib;
	static const char *const names[] = { "rados_osd_op_timeout", "rados_mon_op_timeout",
					     "client_mount_timeout" };
	char val[32], dflt[16];
	int ret;

	snprintf(dflt, sizeof(dflt), "%d", DEV_RBD_TIMEOUT_S);
	if (rbd_path_sets(p, DEV_RBD_TIMEOUT_KEY))
		return 0;
	/* A conf file that sets a non-zero op timeout chose for the others too. */
	if (!lib->rados_conf_get(r->cluster, DEV_RBD_TIMEOUT_KEY, val, sizeof(val)) &&
	    strtod(val, NULL) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (rbd_path_sets(p, names[i]))
			continue;
		ret = lib->rados_conf_set(r->cluster, names[i], dflt);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * librbd options whose default rawio changes (docs/remote.md, "The engine"):
 * set to OURS unless the path sets the option or the conf file gave it a value
 * other than Ceph's default CEPH.
 */
static const struct {
	const char *name, *ceph, *ours;
} rbd_defaults[] = {
	/* No copy of a write's buffer: a request's buffer is the caller's until it
	 * completes (the engine contract), which is what librbd then needs. */
	{ "rbd_disable_zero_copy_writes", "true", "false" },
};

static int rbd_option_defaults(const struct dev_rbd *r, const struct rbd_path *p)
{
	const struct rbd_lib *lib = r->lib;
	char val[32];
	int ret;

	for (size_t i = 0; i < sizeof(rbd_defaults) / sizeof(rbd_defaults[0]); i++) {
		if (rbd_path_sets(p, rbd_defaults[i].name))
			continue;
		if (!lib->rados_conf_get(r->cluster, rbd_defaults[i].name, val, sizeof(val)) &&
		    strcmp(val, rbd_defaults[i].ceph))
			continue;
		ret = lib->rados_conf_set(r->cluster, rbd_defaults[i].name, rbd_defaults[i].ours);
		if (ret)
			return ret;
	}
	return 0;
}

static bool rbd_conf_bool(const struct dev_rbd *r, const char *name)
{
	char val[16];

	return !r->lib->rados_conf_get(r->cluster, name, val, sizeof(val)) && !strcmp(val, "true");
}

static void rbd_feature_names(uint64_t f, char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{ RBD_FEATURE_LAYERING, RBD_FEATURE_NAME_LAYERING },
		{ RBD_FEATURE_STRIPINGV2, RBD_FEATURE_NAME_STRIPINGV2 },
		{ RBD_FEATURE_EXCLUSIVE_LOCK, RBD_FEATURE_NAME_EXCLUSIVE_LOCK },
		{ RBD_FEATURE_OBJECT_MAP, RBD_FEATURE_NAME_OBJECT_MAP },
		{ RBD_FEATURE_FAST_DIFF, RBD_FEATURE_NAME_FAST_DIFF },
		{ RBD_FEATURE_DEEP_FLATTEN, RBD_FEATURE_NAME_DEEP_FLATTEN },
		{ RBD_FEATURE_JOURNALING, RBD_FEATURE_NAME_JOURNALING },
		{ RBD_FEATURE_DATA_POOL, RBD_FEATURE_NAME_DATA_POOL },
		{ RBD_FEATURE_OPERATIONS, RBD_FEATURE_NAME_OPERATIONS },
		{ RBD_FEATURE_MIGRATING, RBD_FEATURE_NAME_MIGRATING },
		{ RBD_FEATURE_NON_PRIMARY, RBD_FEATURE_NAME_NON_PRIMARY },
		{ RBD_FEATURE_DIRTY_CACHE, RBD_FEATURE_NAME_DIRTY_CACHE },
	};
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((f & names[i].bit) && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
					      names[i].name);
}

static void rbd_set(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Read the image's geometry into INFO. 0 or -errno with a line in ERRBUF. */
static int rbd_probe(struct dev_rbd *r, struct rawio_dev_info *info, char *errbuf, size_t errlen)
{
	const struct rbd_lib *lib = r->lib;
	struct rawio_rbd_info *ri = &info->rbd;
	rbd_image_info_t st;
	rbd_image_t img;
	char val[32];
	int ret;

	ret = lib->rbd_open_read_only(r->ioctx, r->image, &img, r->snap);
	if (ret) {
		errbuf_set(errbuf, errlen, "%s: cannot open the image: %s", r->name,
			   rawio_strerror(ret));
		return ret;
	}
	ret = lib->rbd_stat(img, &st, sizeof(st));
	if (!ret)
		ret = lib->rbd_get_features(img, &ri->features);
	if (!ret)
		ret = lib->rbd_get_stripe_unit(img, &ri->stripe_unit);
	if (!ret)
		ret = lib->rbd_get_stripe_count(img, &ri->stripe_count);
	lib->rbd_close(img);
	if (ret) {
		errbuf_set(errbuf, errlen, "%s: cannot read the image's header: %s", r->name,
			   rawio_strerror(ret));
		return ret;
	}
	info->size = st.size;
	ri->object_size = st.obj_size;
	rbd_feature_names(ri->features, ri->feature_names, sizeof(ri->feature_names));
	if (lib->rados_cluster_fsid(r->cluster, ri->fsid, sizeof(ri->fsid)) < 0)
		ri->fsid[0] = '\0';
	if (!lib->rados_conf_get(r->cluster, DEV_RBD_TIMEOUT_KEY, val, sizeof(val)))
		ri->osd_op_timeout_s = (unsigned)strtoul(val, NULL, 10);
	ri->cache = rbd_conf_bool(r, "rbd_cache");
	/* Writethrough until the first flush, then writeback (librbd's default). */
	if (ri->cache && !lib->rados_conf_get(r->cluster, "rbd_cache_max_dirty", val, sizeof(val)))
		ri->cache_writeback = strtoull(val, NULL, 10) > 0;
	if (lib->rados_conf_get(r->cluster, "rbd_persistent_cache_mode", ri->cache_mode,
				sizeof(ri->cache_mode)))
		rbd_set(ri->cache_mode, sizeof(ri->cache_mode), "?");

	/* librbd takes any offset, length and buffer: nothing to align. */
	info->logical_block_size = 512;
	info->physical_block_size = 512;
	info->offset_align = 1;
	info->mem_align = 1;
	info->align_source = RAWIO_ALIGN_RBD;
	info->direct = true;
	info->discard = true;
	info->rotational = -1;
	rbd_set(info->write_cache, sizeof(info->write_cache),
		ri->cache_writeback ? "write back" : "write through");
	return 0;
}

int dev_rbd_image_get(struct dev_rbd *r, rbd_image_t *out)
{
	const struct rbd_lib *lib = r->lib;
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (!r->handle_refs) {
		ret = r->read_only
			      ? lib->rbd_open_read_only(r->ioctx, r->image, &r->handle, r->snap)
			      : lib->rbd_open(r->ioctx, r->image, &r->handle, NULL);
		if (ret)
			r->handle = NULL;
	}
	if (!ret) {
		r->handle_refs++;
		*out = r->handle;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void dev_rbd_image_put(struct dev_rbd *r)
{
	const struct rbd_lib *lib = r->lib;
	pthread_mutex_lock(&r->lock);
	assert(r->handle_refs);
	if (!--r->handle_refs) {
		lib->rbd_close(r->handle);
		r->handle = NULL;
	}
	pthread_mutex_unlock(&r->lock);
}

/*
 * Own the image for the device's life (DESIGN: a handle that writes a device
 * owns it). An image with the exclusive-lock feature: the device opens the
 * shared handle now and keeps a reference, and takes librbd's lock by hand
 * (rbd_lock_acquire), which also sets librbd's policy to refuse other clients'
 * requests for it until the handle closes. Another rawio writer, or any client
 * that took the lock by hand, refuses ours: -EBUSY, naming the image and the
 * holder. A client that holds the lock under librbd's automatic policy (qemu,
 * fio, rbd bench) hands it over when asked, as librbd clients do, and then
 * cannot write until this device is closed. An image without the feature has
 * no lock to take (nothing enforces one writer: docs/remote.md).
 */
/* Who holds IMG's lock, for a message: "client.4157 at 127.0.0.1:0/2349", else what we know. */
static void rbd_lock_holder(const struct rbd_lib *lib, rbd_image_t img, char *who, size_t len)
{
	char tag[128], clients[128], cookies[256], addrs[128], *owners[4] = { NULL };
	size_t tl = sizeof(tag), cl = sizeof(clients), kl = sizeof(cookies), al = sizeof(addrs);
	size_t nr = sizeof(owners) / sizeof(owners[0]);
	rbd_lock_mode_t mode;
	int excl;

	snprintf(who, len, "another client");
	if (lib->rbd_list_lockers(img, &excl, tag, &tl, clients, &cl, cookies, &kl, addrs, &al) >
	    0) {
		snprintf(who, len, "%.60s at %.60s", clients, addrs);
		return;
	}
	if (!lib->rbd_lock_get_owners(img, &mode, owners, &nr) && nr) {
		snprintf(who, len, "%.120s", owners[0]);
		lib->rbd_lock_get_owners_cleanup(owners, nr);
	}
}

static int rbd_own(struct dev_rbd *r, char *errbuf, size_t errlen)
{
	const struct rbd_lib *lib = r->lib;
	rbd_image_t img;
	int ret;

	ret = dev_rbd_image_get(r, &img);
	if (ret) {
		errbuf_set(errbuf, errlen, "%s: cannot open the image: %s", r->name,
			   rawio_strerror(ret));
		return ret;
	}
	ret = lib->rbd_lock_acquire(img, RBD_LOCK_MODE_EXCLUSIVE);
	if (!ret) {
		r->owns_lock = true;
		return 0;
	}
	if (ret == -EROFS || ret == -EBUSY) {
		char who[160];

		rbd_lock_holder(r->lib, img, who, sizeof(who));
		errbuf_set(errbuf, errlen,
			   "%s: in use by another writer: %s holds the image's exclusive lock",
			   r->name, who);
		ret = -EBUSY;
	} else {
		errbuf_set(errbuf, errlen, "%s: cannot take the image's exclusive lock: %s",
			   r->name, rawio_strerror(ret));
	}
	dev_rbd_image_put(r);
	return ret;
}

void dev_rbd_close(struct dev_rbd *r)
{
	const struct rbd_lib *lib;

	if (!r)
		return;
	lib = r->lib; /* NULL only before it loaded: then nothing below is set */
	if (r->owns_lock)
		dev_rbd_image_put(r); /* closing the handle releases the lock */
	assert(!r->handle_refs);      /* every engine context is closed first */
	pthread_mutex_destroy(&r->lock);
	if (r->ioctx)
		lib->rados_ioctx_destroy(r->ioctx);
	if (r->cluster)
		lib->rados_shutdown(r->cluster);
	free(r->spec);
	free(r);
}

int dev_rbd_connect(const char *path, struct rawio_dev_info *info, unsigned flags, char *errbuf,
		    size_t errlen, struct dev_rbd **keep)
{
	struct rawio_rbd_info *ri = &info->rbd;
	const struct rbd_lib *lib;
	struct rbd_path p;
	struct dev_rbd *r;
	const char *step;
	char why[256];
	int ret;

	ret = rbd_path_parse(path, &p, errbuf, errlen);
	if (ret)
		return ret;
	r = calloc(1, sizeof(*r));
	if (!r) {
		free(p.buf);
		return -ENOMEM;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->spec = p.buf;
	r->image = p.image;
	r->snap = p.snap;
	snprintf(r->name, sizeof(r->name), "rbd:%.120s/%s%s%.120s%s%.120s", p.pool,
		 p.ns ? p.ns : "", p.ns ? "/" : "", p.image, p.snap ? "@" : "",
		 p.snap ? p.snap : "");
	rbd_set(ri->pool, sizeof(ri->pool), p.pool);
	rbd_set(ri->pool_ns, sizeof(ri->pool_ns), p.ns);
	rbd_set(ri->image, sizeof(ri->image), p.image);
	rbd_set(ri->snap, sizeof(ri->snap), p.snap);
	snprintf(ri->client, sizeof(ri->client), "client.%.50s", p.id ? p.id : "admin");
	ret = rbd_lib_get(&r->lib, why, sizeof(why));
	if (ret) {
		errbuf_set(errbuf, errlen, "%s: %s", r->name, why);
		goto fail;
	}
	lib = r->lib;
	if (p.snap && !(flags & RAWIO_DEV_RDONLY)) {
		errbuf_set(errbuf, errlen, "%s: a snapshot is read-only (open it read-only)",
			   r->name);
		ret = -EROFS;
		goto fail;
	}

	step = "creating a cluster handle";
	ret = lib->rados_create(&r->cluster, p.id);
	if (ret) {
		r->cluster = NULL;
		goto fail_step;
	}
	/* The conf file first (named, else $CEPH_CONF and the usual places), then the path. */
	ret = lib->rados_conf_read_file(r->cluster, p.conf);
	if (ret && p.conf) {
		errbuf_set(errbuf, errlen, "%s: cannot read %.200s: %s", r->name, p.conf,
			   rawio_strerror(ret));
		goto fail;
	}
	step = "the timeout options";
	ret = rbd_timeouts(r, &p);
	if (ret)
		goto fail_step;
	step = "rawio's librbd defaults";
	ret = rbd_option_defaults(r, &p);
	if (ret)
		goto fail_step;
	for (unsigned i = 0; i < p.nr_opts; i++) {
		ret = lib->rados_conf_set(r->cluster, p.opts[i].key, p.opts[i].val);
		if (ret) {
			errbuf_set(errbuf, errlen, "%s: option %.64s=%.64s: %s", r->name,
				   p.opts[i].key, p.opts[i].val,
				   ret == -ENOENT ? "no such Ceph option" : rawio_strerror(ret));
			ret = -EINVAL;
			goto fail;
		}
	}
	step = "connecting to the cluster";
	ret = lib->rados_connect(r->cluster);
	if (ret)
		goto fail_step;
	ret = lib->rados_ioctx_create(r->cluster, p.pool, &r->ioctx);
	if (ret) {
		r->ioctx = NULL;
		errbuf_set(errbuf, errlen, "%s: pool %s: %s", r->name, p.pool,
			   ret == -ENOENT ? "no such pool" : rawio_strerror(ret));
		goto fail;
	}
	if (p.ns)
		lib->rados_ioctx_set_namespace(r->ioctx, p.ns);
	ret = rbd_probe(r, info, errbuf, errlen);
	if (ret)
		goto fail;
	info->read_only = flags & RAWIO_DEV_RDONLY;
	r->read_only = info->read_only;
	if (keep && !r->read_only && (ri->features & RBD_FEATURE_EXCLUSIVE_LOCK)) {
		ret = rbd_own(r, errbuf, errlen);
		if (ret)
			goto fail;
	}
	if (keep)
		*keep = r;
	else
		dev_rbd_close(r);
	return 0;

fail_step:
	errbuf_set(errbuf, errlen, "%s: %s (as client.%.50s, conf %.200s): %s", r->name, step,
		   p.id ? p.id : "admin", p.conf ? p.conf : "default", rawio_strerror(ret));
fail:
	dev_rbd_close(r);
	return ret;
}

struct dev_rbd *dev_rbd(const struct rawio_dev *dev)
{
	return dev && dev->info.kind == RAWIO_DEV_RBD ? dev->rbd : NULL;
}

#endif
