// SPDX-License-Identifier: MIT
/*
 * rawio iotune DIR|DEVICE [OPTIONS]: measure a disk as Seastar's iotune does
 * (rawio_iotune_run in <rawio/sched.h> does the work) and print its
 * io_properties.yaml on stdout (or JSON with --json); the summary, the
 * warnings and a progress line (on a terminal) go to stderr.
 * Exit 0 on success, 1 when the run failed, 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rawio/dev.h>
#include <rawio/bench.h>
#include <rawio/sched.h>

#include "cli.h"

static void iotune_usage(FILE *f)
{
	fprintf(f,
		"usage: rawio iotune DIR|DEVICE [--duration SECS] [--json] [--engine NAME]\n"
		"                   [--size BYTES] [--max-qd N] [--properties-file FILE]\n"
		"                   [--write-device] [--no-fsqual] [--throttle SPEC]\n"
		"  DIR              a directory on the disk (a test file is made there and "
		"removed)\n"
		"  DEVICE           a block device (overwritten: needs --write-device) or "
		"mem:SIZE\n"
		"  --duration       seconds for the measured phases, about (default 30)\n"
		"  --size           bytes of file or device to use (default 256m)\n"
		"  --max-qd         deepest queue for random I/O and the depth sweep (default 64)\n"
		"  --properties-file  also write io_properties.yaml there\n"
		"  --throttle SPEC  measure an emulated disk (engine throttle; e.g. "
		"iops=5000,bw=100m)\n"
		"  --no-fsqual      skip fsqual's quick check of DIR's filesystem\n"
		"  --json           one JSON object instead of io_properties.yaml\n");
}

static void iotune_progress(void *arg, const struct rawio_iotune_progress *p)
{
	struct cli_progress *pr = arg;

	if (p->bandwidth)
		cli_progress(pr, "[%s] %.1f MB/s  %.0f%%", p->phase, p->value / 1e6, p->done * 100);
	else
		cli_progress(pr, "[%s] %.0f IOPS  %.0f%%", p->phase, p->value, p->done * 100);
}

static void iotune_rate_line(const char *what, const struct rawio_iotune_rate *r, bool bw)
{
	double dev = r->mean > 0 ? r->stdev / r->mean * 100 : 0;

	if (bw)
		fprintf(stderr, "%-12s %10.1f MB/s  +-%4.1f%% (%u samples, %u KiB, qd %u)\n", what,
			r->mean / 1e6, dev, r->samples, r->bs >> 10, r->qd);
	else
		fprintf(stderr, "%-12s %10.0f IOPS  +-%4.1f%% (%u samples, %u KiB, qd %u)\n", what,
			r->mean, dev, r->samples, r->bs >> 10, r->qd);
}

static cJSON *iotune_rate_json(const struct rawio_iotune_rate *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "mean", r->mean);
	cJSON_AddNumberToObject(o, "stdev", r->stdev);
	cJSON_AddNumberToObject(o, "samples", r->samples);
	cJSON_AddNumberToObject(o, "bs", r->bs);
	cJSON_AddNumberToObject(o, "qd", r->qd);
	cJSON_AddNumberToObject(o, "lat_p50_ns", (double)r->lat_p50_ns);
	cJSON_AddNumberToObject(o, "lat_p99_ns", (double)r->lat_p99_ns);
	return o;
}

static void iotune_print_json(const struct rawio_iotune_result *r)
{
	cJSON *o = cJSON_CreateObject(), *disk = cJSON_CreateObject(), *sw = cJSON_CreateArray();

	cJSON_AddStringToObject(disk, "mountpoint", r->props.mountpoint);
	cJSON_AddNumberToObject(disk, "read_iops", (double)r->props.read_iops);
	cJSON_AddNumberToObject(disk, "read_bandwidth", (double)r->props.read_bandwidth);
	cJSON_AddNumberToObject(disk, "write_iops", (double)r->props.write_iops);
	cJSON_AddNumberToObject(disk, "write_bandwidth", (double)r->props.write_bandwidth);
	cJSON_AddItemToObject(o, "disk", disk);
	cJSON_AddStringToObject(o, "engine", r->engine);
	cJSON_AddItemToObject(o, "seq_write", iotune_rate_json(&r->seq_write));
	cJSON_AddItemToObject(o, "seq_read", iotune_rate_json(&r->seq_read));
	cJSON_AddItemToObject(o, "rand_write", iotune_rate_json(&r->rand_write));
	cJSON_AddItemToObject(o, "rand_read", iotune_rate_json(&r->rand_read));
	for (unsigned i = 0; i < r->nr_sweep; i++) {
		cJSON *s = cJSON_CreateObject();

		cJSON_AddNumberToObject(s, "qd", r->sweep[i].qd);
		cJSON_AddNumberToObject(s, "iops", r->sweep[i].iops);
		cJSON_AddNumberToObject(s, "lat_p50_ns", (double)r->sweep[i].lat_p50_ns);
		cJSON_AddNumberToObject(s, "lat_p99_ns", (double)r->sweep[i].lat_p99_ns);
		cJSON_AddItemToArray(sw, s);
	}
	cJSON_AddItemToObject(o, "depth_sweep", sw);
	cJSON_AddNumberToObject(o, "saturation_qd", r->saturation_qd);
	for (unsigned d = 0; d < 2; d++) {
		cJSON *ls =
			cJSON_AddArrayToObject(o, d ? "write_length_sweep" : "read_length_sweep");

		for (unsigned i = 0; i < RAWIO_IOTUNE_LEN_STEPS; i++) {
			cJSON *s = cJSON_CreateObject();

			cJSON_AddNumberToObject(s, "bs", (double)(131072u << i));
			cJSON_AddNumberToObject(s, "bandwidth", r->lengths[d][i]);
			cJSON_AddItemToArray(ls, s);
		}
	}
	cJSON_AddNumberToObject(o, "read_saturation_length",
				(double)r->props.read_saturation_length);
	cJSON_AddNumberToObject(o, "write_saturation_length",
				(double)r->props.write_saturation_length);
	cJSON_AddNumberToObject(o, "physical_block_size", (double)r->props.physical_block_size);
	cJSON_AddBoolToObject(o, "fsqual_ran", r->fsqual_ran);
	cJSON_AddNumberToObject(o, "fsqual_bad_rows", r->fsqual_bad);
	cJSON_AddStringToObject(o, "fsqual_warning", r->fsqual_warning);
	cJSON_AddNumberToObject(o, "elapsed_s", (double)r->elapsed_ns / 1e9);
	cli_json_print(o);
}

/* Seastar's iotune warnings about the queue's settings. */
static void iotune_warn_queue(const char *path)
{
	struct rawio_dev_info info;

	if (!strncmp(path, "mem:", 4) || rawio_dev_describe(path, &info))
		return;
	if (info.scheduler[0] && strcmp(info.scheduler, "none") && strcmp(info.scheduler, "noop"))
		fprintf(stderr,
			"warning: scheduler for %s is %s: set it to none before measuring, or the "
			"results are skewed\n",
			info.disk, info.scheduler);
	if (!strcmp(info.write_cache, "write back"))
		fprintf(stderr,
			"warning: write_cache for %s is write back: some disks implement it "
			"poorly; "
			"check how stable the numbers are\n",
			info.disk);
}

int cmd_iotune(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "engine", required_argument, NULL, 'e' },
		{ "size", required_argument, NULL, 's' },
		{ "max-qd", required_argument, NULL, 'q' },
		{ "properties-file", required_argument, NULL, 'p' },
		{ "write-device", no_argument, NULL, 'W' },
		{ "no-fsqual", no_argument, NULL, 'F' },
		{ "throttle", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rawio_iotune_opts o = { .size = sizeof(o) };
	struct rawio_engine_opts eo = { .size = sizeof(eo) };
	struct rawio_throttle_params tp = { .size = sizeof(tp) };
	struct rawio_throttle *thr = NULL;
	struct cli_progress pr;
	struct rawio_iotune_result res;
	const char *props_file = NULL, *throttle = NULL;
	char err[512] = "", yaml[2048];
	bool json = false;
	unsigned secs = 30;
	FILE *f;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (cli_uint("--duration", optarg, 1, 3600, &secs))
				return 2;
			break;
		case 'j':
			json = true;
			break;
		case 'e':
			if (cli_engine("--engine", optarg))
				return 2;
			o.engine = optarg;
			break;
		case 's':
			if (cli_size("--size", optarg, &o.region))
				return 2;
			break;
		case 'q':
			if (cli_uint("--max-qd", optarg, 1, 4096, &o.max_qd))
				return 2;
			break;
		case 'p':
			props_file = optarg;
			break;
		case 'W':
			o.write_device = true;
			break;
		case 'F':
			o.skip_fsqual = true;
			break;
		case 't':
			throttle = optarg;
			break;
		case 'h':
			iotune_usage(stdout);
			return 0;
		default:
			iotune_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		iotune_usage(stderr);
		return 2;
	}
	o.duration_ns = (uint64_t)secs * 1000000000ull;
	if (throttle) {
		if (rawio_throttle_parse(throttle, &tp)) {
			cli_err("--throttle: cannot parse '%s'", throttle);
			return 2;
		}
		ret = rawio_throttle_new(&thr, &tp);
		if (ret) {
			cli_err("--throttle: %s", rawio_strerror(ret));
			return 1;
		}
		eo.throttle = thr;
		o.engine_opts = &eo;
		if (!o.engine)
			o.engine = "throttle";
	}
	cli_progress_init(&pr, true);
	if (pr.on) {
		o.progress = iotune_progress;
		o.arg = &pr;
	}
	o.errbuf = err;
	o.errbuf_len = sizeof(err);
	iotune_warn_queue(argv[optind]);
	ret = rawio_iotune_run(argv[optind], &o, &res);
	cli_progress_done(&pr, NULL);
	if (res.fsqual_ran && res.fsqual_warning[0])
		fprintf(stderr,
			"warning: asynchronous I/O is not fully asynchronous on %s (%u BAD rows in "
			"fsqual's quick check: %s); measure with the engine rawio picks, or run "
			"rawio fsqual %s\n",
			argv[optind], res.fsqual_bad, res.fsqual_warning, argv[optind]);
	rawio_throttle_free(thr);
	if (ret) {
		cli_err("%s", err[0] ? err : rawio_strerror(ret));
		return 1;
	}
	fprintf(stderr, "%s: engine %s, %.1f s\n", argv[optind], res.engine,
		(double)res.elapsed_ns / 1e9);
	iotune_rate_line("seq write", &res.seq_write, true);
	iotune_rate_line("seq read", &res.seq_read, true);
	iotune_rate_line("rand write", &res.rand_write, false);
	iotune_rate_line("rand read", &res.rand_read, false);
	fprintf(stderr, "depth sweep (4 KiB random reads):");
	for (unsigned i = 0; i < res.nr_sweep; i++)
		fprintf(stderr, " qd%u=%.0f", res.sweep[i].qd, res.sweep[i].iops);
	fprintf(stderr, "\nsaturation depth: %u (the shallowest within 10%% of the best IOPS)\n",
		res.saturation_qd);
	for (unsigned d = 0; d < 2; d++) {
		fprintf(stderr, "%s length sweep (depth 8, MB/s):", d ? "write" : "read");
		for (unsigned i = 0; i < RAWIO_IOTUNE_LEN_STEPS; i++)
			fprintf(stderr, " %uk=%.0f", 128u << i, res.lengths[d][i] / 1e6);
		fprintf(stderr, "; saturation length %llu KiB\n",
			(unsigned long long)((d ? res.props.write_saturation_length
						: res.props.read_saturation_length) >>
					     10));
	}
	rawio_io_props_format(&res.props, 1, yaml, sizeof(yaml));
	if (props_file) {
		f = fopen(props_file, "w");
		if (!f || fputs(yaml, f) == EOF || fclose(f)) {
			cli_err("%s: cannot write", props_file);
			return 1;
		}
	}
	if (json)
		iotune_print_json(&res);
	else
		fputs(yaml, stdout);
	return 0;
}
