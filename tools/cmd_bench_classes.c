// SPDX-License-Identifier: MIT
/*
 * rawio bench's class mode: --class NAME:SHARES[:RW[:BS[:QD[:NICE]]]] (repeatable),
 * --io-properties FILE, --no-sched, --latency-goal, --class-threads; their JSON (a "classes"
 * array) and text. The run itself is rawio_bench_run's class mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rawio/bench.h>

#include "cli.h"

int bench_class_parse(const char *arg, struct rawio_bench_class *c, char *name, size_t name_len)
{
	char buf[256], *f[6] = { 0 }, *save = NULL;
	unsigned n = 0;
	uint64_t v;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *t = strtok_r(buf, ":", &save); t && n < 6; t = strtok_r(NULL, ":", &save))
		f[n++] = t;
	memset(c, 0, sizeof(*c));
	c->rw = -1;
	if (n < 2 || strlen(f[0]) >= name_len || strlen(f[0]) > 31) {
		cli_err("--class: '%s' is not NAME:SHARES[:RW[:BS[:QD[:NICE]]]] (a name of up "
			"to 31 bytes)",
			arg);
		return -1;
	}
	snprintf(name, name_len, "%s", f[0]);
	c->name = name;
	if (cli_uint("--class shares", f[1], 1, 65535, &c->shares))
		return -1;
	if (n > 2) {
		enum rawio_bench_rw rw;

		if (rawio_bench_rw_parse(f[2], &rw)) {
			cli_err("--class: unknown pattern '%s' in '%s'", f[2], arg);
			return -1;
		}
		c->rw = (int)rw;
	}
	if (n > 3) {
		if (cli_size("--class bs", f[3], &v))
			return -1;
		if (!v || v > (1u << 30)) {
			cli_err("--class: block size '%s' must be from 1 byte to 1 GiB", f[3]);
			return -1;
		}
		c->bs = (uint32_t)v;
	}
	if (n > 4 && cli_uint("--class qd", f[4], 1, 65536, &c->qd))
		return -1;
	if (n > 5) {
		unsigned nice;

		if (cli_uint("--class nice", f[5], 0, 19, &nice))
			return -1;
		c->nice = (int)nice;
	}
	return 0;
}

int bench_io_props_load(const char *path, struct rawio_io_props *p)
{
	char err[512] = "";
	size_t nr = 0;
	int ret = rawio_io_props_load(path, p, 1, &nr, err, sizeof(err));

	if (ret == -E2BIG)
		cli_err("--io-properties: %s (rawio bench takes the file's first disk only)", err);
	else if (ret)
		cli_err("--io-properties: %s", err);
	return ret ? -1 : 0;
}

static cJSON *bench_class_lat_json(const struct rawio_sched_lat *l)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "p50", (double)l->p50);
	cJSON_AddNumberToObject(o, "p99", (double)l->p99);
	cJSON_AddNumberToObject(o, "max", (double)l->max);
	return o;
}

void bench_classes_json(cJSON *j, const struct rawio_bench_result *r)
{
	cJSON *a = cJSON_CreateArray(), *s = cJSON_CreateObject();

	cJSON_AddStringToObject(s, "desc", r->sched_desc);
	cJSON_AddBoolToObject(s, "model", r->sched.model);
	cJSON_AddNumberToObject(s, "latency_goal_ns", (double)r->sched.latency_goal_ns);
	cJSON_AddNumberToObject(s, "dispatched", (double)r->sched.dispatched);
	cJSON_AddNumberToObject(s, "splits", (double)r->sched.splits);
	cJSON_AddNumberToObject(s, "max_inflight", r->sched.max_inflight);
	cJSON_AddNumberToObject(s, "max_inflight_cost_ns", (double)r->sched.max_inflight_cost_ns);
	cJSON_AddNumberToObject(s, "token_waits", (double)r->sched.token_waits);
	cJSON_AddNumberToObject(s, "bound_waits", (double)r->sched.bound_waits);
	cJSON_AddNumberToObject(s, "grant_waits", (double)r->sched.grant_waits);
	cJSON_AddNumberToObject(s, "contexts", r->sched.contexts);
	cJSON_AddBoolToObject(s, "class_threads", r->class_threads);
	cJSON_AddItemToObject(j, "sched", s);
	for (unsigned i = 0; i < r->nr_classes; i++) {
		const struct rawio_bench_class_result *c = &r->classes[i];
		cJSON *o = cJSON_CreateObject(), *l = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", c->name);
		cJSON_AddNumberToObject(o, "shares", c->shares);
		cJSON_AddStringToObject(o, "rw", rawio_bench_rw_name(c->rw));
		cJSON_AddNumberToObject(o, "bs", c->bs);
		cJSON_AddNumberToObject(o, "qd", c->qd);
		cJSON_AddNumberToObject(o, "nice", c->nice);
		cJSON_AddNumberToObject(o, "ios", (double)c->ios);
		cJSON_AddNumberToObject(o, "bytes", (double)c->bytes);
		cJSON_AddNumberToObject(o, "iops", c->iops);
		cJSON_AddNumberToObject(o, "mbps", c->mbps);
		cJSON_AddNumberToObject(l, "count", (double)c->lat.count);
		cJSON_AddNumberToObject(l, "mean", c->lat.mean);
		cJSON_AddNumberToObject(l, "p50", (double)c->lat.p50);
		cJSON_AddNumberToObject(l, "p90", (double)c->lat.p90);
		cJSON_AddNumberToObject(l, "p99", (double)c->lat.p99);
		cJSON_AddNumberToObject(l, "p999", (double)c->lat.p999);
		cJSON_AddNumberToObject(l, "max", (double)c->lat.max);
		cJSON_AddItemToObject(o, "lat_ns", l);
		cJSON_AddItemToObject(o, "queue_ns", bench_class_lat_json(&c->sched.queue_lat));
		cJSON_AddItemToObject(o, "disk_ns", bench_class_lat_json(&c->sched.disk_lat));
		cJSON_AddNumberToObject(o, "cost_ns", (double)c->sched.cost_ns);
		cJSON_AddNumberToObject(o, "starved_ns", (double)c->sched.starved_ns);
		cJSON_AddItemToArray(a, o);
	}
	cJSON_AddItemToObject(j, "classes", a);
}

void bench_classes_print(const struct rawio_bench_result *r)
{
	printf("  scheduler: %s\n", r->sched_desc);
	for (unsigned i = 0; i < r->nr_classes; i++) {
		const struct rawio_bench_class_result *c = &r->classes[i];

		printf("  class %-10s shares=%-5u %s bs=%u qd=%u: IOPS=%.0f BW=%.1f MB/s "
		       "lat p50=%llu p99=%llu ns",
		       c->name, c->shares, rawio_bench_rw_name(c->rw), c->bs, c->qd, c->iops,
		       c->mbps, (unsigned long long)c->lat.p50, (unsigned long long)c->lat.p99);
		if (c->sched.requests)
			printf(", queued p99=%llu ns, starved %.1f ms",
			       (unsigned long long)c->sched.queue_lat.p99,
			       (double)c->sched.starved_ns / 1e6);
		printf("\n");
	}
}
