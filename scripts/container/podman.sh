# Sourced by scripts/container/build.sh and tests/container/*.sh: sets
# PODMAN to a podman command line that runs on this host.
#
# Podman from Debian defaults to crun and the systemd cgroup manager.  On
# hosts where crun cannot run (not installed) or that have cgroup v1, the
# runtime is runc, with a containers.conf of our own
# (CONTAINERS_CONF) that sets no default ulimits (containers keep the
# limits podman itself has, which a nested host may not let it raise),
# cgroupfs when PID 1 is not systemd, and the file events logger (no
# journald).
# CERTO_PODMAN_ROOT=DIR keeps images and containers in DIR/storage
# instead of the host's podman storage (the tests do this, so that nothing
# is cached between runs), and the run state in a short path under /tmp
# ($CERTO_PODMAN_RUNROOT: podman refuses a runroot over 50 characters).
# Where crun and systemd work, podman runs with the host's own settings.
# After podman_setup: $PODMAN, $CERTO_PODMAN_RUNTIME, $CERTO_PODMAN_WHY.

podman_setup() {
	PODMAN=""
	command -v podman >/dev/null 2>&1 || {
		CERTO_PODMAN_WHY="podman is not installed (scripts/deps.sh)"
		return 1
	}
	conf_dir=${CERTO_PODMAN_ROOT:-${TMPDIR:-/tmp}/certo-podman-$(id -u)}
	mkdir -p "$conf_dir"
	runtime=crun
	cgroups=systemd
	[ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] || cgroups=cgroupfs
	if ! command -v crun >/dev/null 2>&1; then
		runtime=runc
	elif [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ]; then
		# cgroup v1: runc, the runtime this was tested with there
		# (crun was not installed on that host).
		runtime=runc
	fi
	if [ "$runtime" = runc ] && ! command -v runc >/dev/null 2>&1; then
		CERTO_PODMAN_WHY="neither crun nor runc can run containers here"
		return 1
	fi
	PODMAN=podman
	if [ "$runtime" != crun ] || [ "$cgroups" != systemd ]; then
		cat >"$conf_dir/containers.conf" <<CONF
# Written by scripts/container/podman.sh for this host.
[containers]
default_ulimits = []
[engine]
runtime = "$runtime"
cgroup_manager = "$cgroups"
events_logger = "file"
CONF
		CONTAINERS_CONF=$conf_dir/containers.conf
		export CONTAINERS_CONF
		PODMAN="podman --runtime $runtime --cgroup-manager $cgroups --events-backend file"
	fi
	if [ -n "${CERTO_PODMAN_ROOT:-}" ]; then
		CERTO_PODMAN_RUNROOT=/tmp/certo-podrun-$(echo "$CERTO_PODMAN_ROOT" |
			cksum | cut -d' ' -f1)
		mkdir -p "$CERTO_PODMAN_ROOT/storage" "$CERTO_PODMAN_RUNROOT"
		PODMAN="$PODMAN --root $CERTO_PODMAN_ROOT/storage --runroot $CERTO_PODMAN_RUNROOT"
	fi
	CERTO_PODMAN_RUNTIME=$runtime
	if ! $PODMAN info >"$conf_dir/podman-info.log" 2>&1; then
		CERTO_PODMAN_WHY="podman info fails: $(tail -1 "$conf_dir/podman-info.log")"
		return 1
	fi
	return 0
}
