// SPDX-License-Identifier: MIT
/*
 * io_properties.yaml: Seastar's format parses (sizes with suffixes, optional
 * keys, comments, several disks), what we write parses back the same, and a
 * malformed file gets an error naming its line.
 */
#include <rawio/sched.h>

#include "harness.h"

static const char good[] = "# from iotune\n"
			   "disks:\n"
			   "  - mountpoint: /var/lib/scylla\n"
			   "    read_iops: 95000\n"
			   "    read_bandwidth: 1G   # bytes/s\n"
			   "    write_iops: 80000\n"
			   "    write_bandwidth: 900000000\n"
			   "    read_saturation_length: 128k\n"
			   "\n"
			   "  - mountpoint: \"/data\"\n"
			   "    read_iops: 1000\n"
			   "    read_bandwidth: 100M\n"
			   "    write_iops: 500\n"
			   "    write_bandwidth: 50M\n"
			   "    write_saturation_length: 65536\n"
			   "    physical_block_size: 4096\n"
			   "    rate_factor: 0.5\n";

struct bad_case {
	const char *text;
	unsigned line;
	const char *words;
};

static const struct bad_case bad[] = {
	{ "disks:\n  - mountpoint: /\n    read_iops: lots\n", 3, "read_iops" },
	{ "disks:\n  - mountpoint: /\n    read_iops: 1\n    read_bandwidth: 1\n"
	  "    write_iops: 1\n    write_bandwith: 1\n",
	  6, "unknown key 'write_bandwith'" },
	{ "disks:\n  - mountpoint: /\n    read_iops: 1\n    read_bandwidth: 1\n", 2,
	  "no write_iops" },
	{ "disks:\n  - mountpoint: /\n    read_iops: 0\n    read_bandwidth: 1\n"
	  "    write_iops: 1\n    write_bandwidth: 1\n",
	  2, "read_iops must not be zero" },
	{ "io:\n  - a: 1\n", 1, "section 'io'" },
	{ "disks:\n  - mountpoint: /\n      read_iops: 1\n", 3, "indentation" },
	{ "\n\ndisks:\n  - mountpoint: /\n    read_iops 5\n", 5, "key: value" },
	{ "# nothing\n", 1, "no 'disks:'" },
	{ "disks:\n", 1, "lists no disk" },
};

int main(void)
{
	struct rawio_io_props d[4], d2[4];
	char err[256], yaml[2048];
	size_t nr = 0, nr2 = 0;

	CHECK_OK(rawio_io_props_parse(good, d, 4, &nr, err, sizeof(err)));
	CHECK(nr == 2, "%zu disks", nr);
	CHECK(!strcmp(d[0].mountpoint, "/var/lib/scylla") && !strcmp(d[1].mountpoint, "/data"),
	      "mountpoints '%s' '%s'", d[0].mountpoint, d[1].mountpoint);
	CHECK(d[0].read_iops == 95000 && d[0].read_bandwidth == 1073741824 &&
		      d[0].write_iops == 80000 && d[0].write_bandwidth == 900000000 &&
		      d[0].read_saturation_length == 131072 && !d[0].write_saturation_length,
	      "disk 0 values");
	CHECK(d[1].read_iops == 500 && d[1].read_bandwidth == 52428800 && d[1].write_iops == 250 &&
		      d[1].write_bandwidth == 26214400 && d[1].write_saturation_length == 65536 &&
		      d[1].physical_block_size == 4096,
	      "disk 1 values (rate_factor 0.5): %llu %llu", (unsigned long long)d[1].read_iops,
	      (unsigned long long)d[1].read_bandwidth);
	CHECK(rawio_io_props_format(d, nr, yaml, sizeof(yaml)) < sizeof(yaml), "format cut");
	CHECK_OK(rawio_io_props_parse(yaml, d2, 4, &nr2, err, sizeof(err)));
	CHECK(nr2 == 2 && !memcmp(d, d2, sizeof(d[0]) * 2), "round trip differs:\n%s", yaml);
	CHECK(rawio_io_props_parse(good, d, 1, &nr, err, sizeof(err)) == -E2BIG &&
		      strstr(err, "line 10"),
	      "two disks into one: %s", err);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[32];
		int ret;

		err[0] = '\0';
		ret = rawio_io_props_parse(bad[i].text, d, 4, &nr, err, sizeof(err));
		snprintf(want, sizeof(want), "line %u:", bad[i].line);
		CHECK(ret == -EINVAL, "case %zu: returned %d", i, ret);
		CHECK(!strncmp(err, want, strlen(want)) && strstr(err, bad[i].words),
		      "case %zu: error '%s', expected '%s ... %s'", i, err, want, bad[i].words);
	}
	CHECK(rawio_io_props_load("/nonexistent/io_properties.yaml", d, 4, &nr, err, sizeof(err)) ==
			      -ENOENT &&
		      strstr(err, "/nonexistent/io_properties.yaml"),
	      "load: %s", err);
	return T_PASS;
}
