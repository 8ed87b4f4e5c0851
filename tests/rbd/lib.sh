# RBD tests: the cluster the fixture rbd.cluster.start made ($RAWIO_RBD_DIR), an image per
# test. Source after tests/lib.sh. Skips (77) when there is no cluster (Ceph not installed).
# Images are not removed: the cluster is thrown away by rbd.cluster.stop, and each rbd CLI
# call costs a second of connecting under load.
conf=${RAWIO_RBD_DIR:?RAWIO_RBD_DIR is not set}/ceph.conf
[ -f "$conf" ] || skip "no Ceph cluster (scripts/deps.sh installs Ceph; the rbd.cluster.start fixture starts it)"
need_tool rbd

# rbd_image NAME SIZE: a fresh image (layering only); sets $path.
rbd_image() {
	if ! timeout 60 rbd -c "$conf" create --size "$2" --image-feature layering "rbd/$1" \
		2>/dev/null; then
		# Left by an earlier run of this test on the same cluster.
		timeout 60 rbd -c "$conf" rm --no-progress "rbd/$1" >/dev/null 2>&1 || true
		timeout 60 rbd -c "$conf" create --size "$2" --image-feature layering "rbd/$1" ||
			fail "cannot create rbd/$1"
	fi
	path="rbd:rbd/$1:conf=$conf"
}
