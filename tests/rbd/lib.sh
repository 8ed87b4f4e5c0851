# RBD tests: the cluster the fixture rbd.cluster.start made ($RAWIO_RBD_DIR), an image per
# test. Source after tests/lib.sh. Skips (77) when there is no cluster (Ceph not installed).
conf=${RAWIO_RBD_DIR:?RAWIO_RBD_DIR is not set}/ceph.conf
[ -f "$conf" ] || skip "no Ceph cluster (scripts/deps.sh installs Ceph; the rbd.cluster.start fixture starts it)"
need_tool rbd
images=()
rbd_cleanup() {
	local i
	for i in "${images[@]}"; do
		timeout 60 rbd -c "$conf" rm --no-progress "rbd/$i" >/dev/null 2>&1 || true
	done
}
trap rbd_cleanup EXIT

# rbd_image NAME SIZE: a fresh image (layering only), removed on exit; sets $path.
rbd_image() {
	timeout 60 rbd -c "$conf" rm --no-progress "rbd/$1" >/dev/null 2>&1 || true
	timeout 60 rbd -c "$conf" create --size "$2" --image-feature layering "rbd/$1" ||
		fail "cannot create rbd/$1"
	images+=("$1")
	path="rbd:rbd/$1:conf=$conf"
}
