// SPDX-License-Identifier: MIT
/*
 * dev: an NBD export named by a URI. Opening one connects once, reads what
 * the server says about the export (size, block sizes, flags) and
 * disconnects: each nbd engine context opens its own connections, so a device
 * shared by several threads holds no socket of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#include <rawio/rawio.h>

#include "dev_impl.h"
#include "util/errbuf.h"

#define DEV_NBD_MIN_ALIGN 512u
#define DEV_NBD_MEM_ALIGN 512u

bool rawio_dev_is_nbd_uri(const char *path)
{
	static const char *const schemes[] = { "nbd://",       "nbds://",      "nbd+unix://",
					       "nbds+unix://", "nbd+vsock://", "nbds+vsock://" };

	if (!path)
		return false;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncmp(path, schemes[i], strlen(schemes[i])))
			return true;
	return false;
}

/* A libnbd failure as -errno (ENOTCONN when libnbd did not say). */
static int dev_nbd_err(void)
{
	int err = nbd_get_errno();

	return err > 0 ? -err : -ENOTCONN;
}

static int64_t dev_nbd_block(struct nbd_handle *h, int which)
{
	int64_t v = nbd_get_block_size(h, which);

	return v > 0 && v <= UINT32_MAX ? v : 0;
}

/*
 * Connect to URI, fill the NBD part of INFO and the geometry the engines
 * need. Leaves kind, path and the rest of INFO to the caller.
 */
int dev_nbd_probe(const char *uri, struct rawio_dev_info *info, char *errbuf, size_t errlen)
{
	struct rawio_nbd_info *n = &info->nbd;
	struct nbd_handle *h;
	char *name;
	int64_t size;
	uint32_t align;
	int ret;

	h = nbd_create();
	if (!h) {
		errbuf_set(errbuf, errlen, "%s: libnbd: %s", uri, nbd_get_error());
		return -ENOMEM;
	}
	if (!nbd_supports_uri(h)) {
		errbuf_set(errbuf, errlen, "%s: this libnbd was built without URI support", uri);
		ret = -EOPNOTSUPP;
		goto close;
	}
	if (nbd_connect_uri(h, uri) == -1) {
		ret = dev_nbd_err();
		errbuf_set(errbuf, errlen, "%s: cannot connect: %s", uri, nbd_get_error());
		goto close;
	}
	size = nbd_get_size(h);
	if (size < 0) {
		ret = dev_nbd_err();
		errbuf_set(errbuf, errlen, "%s: size: %s", uri, nbd_get_error());
		goto close;
	}
	info->size = (uint64_t)size;
	n->min_block = (uint32_t)dev_nbd_block(h, LIBNBD_SIZE_MINIMUM);
	n->pref_block = (uint32_t)dev_nbd_block(h, LIBNBD_SIZE_PREFERRED);
	n->max_block = (uint32_t)dev_nbd_block(h, LIBNBD_SIZE_MAXIMUM);
	n->server_read_only = nbd_is_read_only(h) == 1;
	n->can_flush = nbd_can_flush(h) == 1;
	n->can_fua = nbd_can_fua(h) == 1;
	n->can_trim = nbd_can_trim(h) == 1;
	n->can_zero = nbd_can_zero(h) == 1;
	n->can_multi_conn = nbd_can_multi_conn(h) == 1;
	name = nbd_get_export_name(h);
	if (name) {
		snprintf(n->export_name, sizeof(n->export_name), "%s", name);
		free(name);
	}
	nbd_shutdown(h, 0);

	/* Offsets and lengths: the server's minimum, never below a sector. */
	align = n->min_block > DEV_NBD_MIN_ALIGN ? n->min_block : DEV_NBD_MIN_ALIGN;
	info->logical_block_size = align;
	info->physical_block_size = n->pref_block > align ? n->pref_block : align;
	info->offset_align = align;
	info->mem_align = DEV_NBD_MEM_ALIGN;
	info->align_source = RAWIO_ALIGN_NBD;
	info->direct = true;
	info->discard = n->can_trim;
	info->rotational = -1;
	ret = 0;
close:
	nbd_close(h);
	return ret;
}
