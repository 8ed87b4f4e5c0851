// SPDX-License-Identifier: MIT
/*
 * fsqual/probe: what a row observes besides its own requests: the submitting
 * thread's context switches, the io-wq workers io_uring started for it, and
 * the page cache over the file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fsqual_impl.h"

uint64_t fsqual_nvcsw(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return (uint64_t)ru.ru_nvcsw;
}

/* Read a small /proc file into BUF (NUL-terminated). Returns the length or -errno. */
static ssize_t fsqual_read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

/* Sum of voluntary_ctxt_switches and nonvoluntary_ctxt_switches in a status file. */
static uint64_t fsqual_status_switches(const char *status)
{
	static const char *const keys[] = { "\nvoluntary_ctxt_switches:",
					    "\nnonvoluntary_ctxt_switches:" };
	uint64_t sum = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *p = strstr(status, keys[i]);

		if (p)
			sum += strtoull(p + strlen(keys[i]), NULL, 10);
	}
	return sum;
}

/*
 * Workers are named after the task whose io-wq they serve ("iou-wrk-1234";
 * comm holds 15 characters, enough for any pid under 10^7).
 */
int fsqual_iowq_scan(pid_t tid, bool detail, struct fsqual_iowq *out)
{
	char want[32], path[300], buf[2048];
	struct dirent *de;
	DIR *d;

	memset(out, 0, sizeof(*out));
	snprintf(want, sizeof(want), "iou-wrk-%d\n", (int)tid);
	d = opendir("/proc/self/task");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		if (fsqual_read_small(path, buf, sizeof(buf)) <= 0 || strcmp(buf, want))
			continue;
		out->workers++;
		if (!detail)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		if (fsqual_read_small(path, buf, sizeof(buf)) > 0)
			out->switches += fsqual_status_switches(buf);
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", de->d_name);
		if (fsqual_read_small(path, buf, sizeof(buf)) > 0)
			out->cpu_ns += strtoull(buf, NULL, 10);
	}
	closedir(d);
	return 0;
}

int fsqual_page_cache(int fd, uint64_t size, uint64_t *file_pages, uint64_t *cached_pages)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *vec = NULL;
	uint64_t pages, cached = 0;
	void *map;
	int ret = 0;

	*file_pages = 0;
	*cached_pages = 0;
	if (page <= 0)
		return -EINVAL;
	if (!size)
		return 0;
	if (size > SIZE_MAX - (uint64_t)page)
		return -EFBIG;
	pages = (size + (uint64_t)page - 1) / (uint64_t)page;
	/* Mapping touches no page: only mincore looks, and it faults nothing in. */
	map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	vec = malloc((size_t)pages);
	if (!vec) {
		ret = -ENOMEM;
		goto unmap;
	}
	if (mincore(map, (size_t)size, vec)) {
		ret = -errno;
		goto free_vec;
	}
	for (uint64_t i = 0; i < pages; i++)
		cached += vec[i] & 1;
	*file_pages = pages;
	*cached_pages = cached;
free_vec:
	free(vec);
unmap:
	munmap(map, (size_t)size);
	return ret;
}
