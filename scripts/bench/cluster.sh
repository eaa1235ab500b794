#!/usr/bin/env bash
# scripts/bench/cluster.sh: certo in a cluster sharing one Redis store
# (issue 11; docs/cluster.md).  Three parts, all on 127.0.0.1:
#
# 1. Challenge tokens through certo-responder --store replicas behind
#    HAProxy: scripts/bench/cluster_tokens.sh (its own figures).
# 2. Fleet renewal: BENCH_FLEET_CERTS (200) due certificates renewed by
#    one host, then (a fresh store, the same due sets again) by three
#    hosts started at the same moment, each with its own state directory
#    holding a copy of the sets.  Per run: wall time (start of the first
#    to end of the last), how many certificates Pebble issued (must be
#    exactly BENCH_FLEET_CERTS: each renewed once, by one host), that every
#    host ends with the same new certificate for every name, and each
#    host's peak RSS (VmHWM, measure.c; target < 24 MiB).
# 3. A renew pass over BENCH_PASS_CERTS (10,000) stored certificates with
#    none due: without a store, then with --store holding the same sets
#    (their keys sealed by an independent Python implementation of
#    common/seal.h's format, which a warm-up run opens): wall time and peak
#    RSS (target < 2 s without a store).
#
# Sets: due ones are made by scripts/bench/store-fixture.py (certificates
# from a throw-away CA, every set valid from 4 days ago to tomorrow, so
# certo's lifetime rule makes them due; their certo.json is that of a set
# certo issued from this Pebble through a certo-responder control socket,
# so renewals are real Pebble issuances through that responder).
#
# Environment (all optional; see also scripts/bench/lib.sh):
#   CERTO=path CERTO_RESPONDER=path   (default: a Release build)
#   BENCH_FLEET_CERTS=200  BENCH_PASS_CERTS=10000  BENCH_JOBS=4
#   BENCH_PORT=27000       first of the ports used (Pebble, redis, http-01)
#   BENCH_TOKENS_PORT=26000  first port of part 1 (cluster_tokens.sh)
#   BENCH_SKIP_TOKENS=1    skip part 1
# Prints figures; exits non-zero only when a run failed or the
# exactly-once / same-set checks do not hold.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init cluster
bench_build certo certo-responder
bench_tools
for t in redis-server redis-cli python3 openssl; do
	command -v "$t" >/dev/null || bench_die "$t not installed (scripts/deps.sh)"
done
python3 -c 'import cryptography' 2>/dev/null ||
	bench_die "python3-cryptography not installed"
FLEET=${BENCH_FLEET_CERTS:-200}
PASS=${BENCH_PASS_CERTS:-10000}
JOBS=${BENCH_JOBS:-4}
P=${BENCH_PORT:-27000}
REDIS_PORT=$((P + 4))
HTTP01=$((P + 50))
TLS01=$((P + 51))
STORE="redis://127.0.0.1:$REDIS_PORT"
KEY=$WORK/store.key
SOCK=$WORK/responder.sock
FIXTURE=$BENCH_DIR/store-fixture.py
[ -f "$FIXTURE" ] || bench_die "$FIXTURE is missing"
FAILED=0

# ---------------------------------------------------------------- part 1
if [ "${BENCH_SKIP_TOKENS:-0}" != 1 ]; then
	echo "== 1. challenge tokens (scripts/bench/cluster_tokens.sh)"
	BENCH_WORKDIR=$WORK/tokens BENCH_NO_BUILD=1 CERTO_RESPONDER=$CERTO_RESPONDER \
		BENCH_PORT=${BENCH_TOKENS_PORT:-26000} \
		bash "$BENCH_DIR/cluster_tokens.sh" || FAILED=1
fi

# ---------------------------------------------------------------- set-up
bench_ports_free "$P" $((P + 1)) $((P + 2)) $((P + 3)) "$REDIS_PORT" "$HTTP01" "$TLS01"
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 bench_pebble_start "$WORK/pebble" "$P" "$HTTP01" "$TLS01"
PLOG=$WORK/pebble/pebble.log
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$WORK" >"$LOGS/redis.log" 2>&1 &
BENCH_PIDS+=($!)
bench_wait_port "$REDIS_PORT" "${BENCH_PIDS[-1]}" || bench_die "redis did not start"
"$CERTO_RESPONDER" --socket "$SOCK" --http-port "$HTTP01" --http-addr 127.0.0.1 \
	--tls-port "$TLS01" --tls-addr 127.0.0.1 --stay-root >"$LOGS/responder.log" 2>&1 &
BENCH_PIDS+=($!)
bench_wait_port "$HTTP01" "${BENCH_PIDS[-1]}" || bench_die "certo-responder did not start"
head -c 32 /dev/urandom >"$KEY" && chmod 600 "$KEY"
# One real set: its account, the CA's directory and its certo.json are
# what the fixtures copy.
"$CERTO" issue --server "$PEBBLE_DIR_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
	--state-dir "$WORK/template" --agree-tos -m bench@example.com \
	--responder "$SOCK" -d template.store.test -q >>"$LOGS/setup.log" 2>&1 ||
	bench_die "template issuance failed, see $LOGS/setup.log"
issued() { grep -c "Issued certificate" "$PLOG"; }
rss_mib() { bench_mib "$(awk '{ print $2 }' "$1")"; }
wall_of() { awk '{ print $1 }' "$1"; }

# ---------------------------------------------------------------- part 2
echo "== 2. fleet renewal of $FLEET due certificates (--jobs $JOBS per host)"
python3 "$FIXTURE" "$WORK/template" "$WORK/due" "$FLEET" 1 ||
	bench_die "store-fixture.py failed"
# fleet_run DB HOST...: each HOST a fresh copy of the due sets, all
# started at once against store DB; figures and checks.
fleet_run() {
	local db=$1 h n0 n1 t0 t1 first="" bad=0 pids=()
	shift
	redis-cli -p "$REDIS_PORT" -n "$db" flushdb >/dev/null
	for h in "$@"; do
		rm -rf "${WORK:?}/$h" && cp -a "$WORK/due" "$WORK/$h"
	done
	n0=$(issued)
	t0=$EPOCHREALTIME
	for h in "$@"; do
		"$BENCH_MEASURE" "$WORK/$h.txt" 600 "$CERTO" --store "$STORE/$db" \
			--store-key "$KEY" renew --state-dir "$WORK/$h" --jobs "$JOBS" -q \
			>"$LOGS/$h.log" 2>&1 &
		pids+=($!)
	done
	for h in "${pids[@]}"; do
		wait "$h"
	done
	t1=$EPOCHREALTIME
	n1=$(issued)
	printf '  %d host(s): wall %.2f s, Pebble issued %d (want %d)\n' "$#" \
		"$(bench_span "$t0" "$t1")" $((n1 - n0)) "$FLEET"
	[ $((n1 - n0)) -eq "$FLEET" ] || { echo "  FAIL: not exactly once"; bad=1; }
	for h in "$@"; do
		printf '    %s: exit %s, wall %.2f s, peak RSS %s MiB (target < 24: %s)\n' \
			"$h" "$(awk '{ print $5 }' "$WORK/$h.txt")" "$(wall_of "$WORK/$h.txt")" \
			"$(rss_mib "$WORK/$h.txt")" \
			"$(bench_verdict "$(awk '{ print $2 }' "$WORK/$h.txt")" 24576 lt)"
		case "$(awk '{ print $5 }' "$WORK/$h.txt")" in 0) ;; *) bad=1 ;; esac
	done
	# Every host: the same new certificate for every name.
	for d in "$WORK/due/live"/*; do
		local name fp
		name=${d##*/}
		first=""
		for h in "$@"; do
			fp=$(openssl x509 -in "$WORK/$h/live/$name/cert.pem" -noout -fingerprint -sha256 2>/dev/null)
			[ -n "$fp" ] && [ "$fp" != "$(openssl x509 -in "$d/cert.pem" -noout -fingerprint -sha256)" ] ||
				{ bad=1; echo "  FAIL: $h has no new certificate for $name"; break; }
			[ -z "$first" ] && first=$fp
			[ "$fp" = "$first" ] || { bad=1; echo "  FAIL: $h's $name differs"; break; }
		done
	done
	[ "$bad" -eq 0 ] && echo "    same new set for all $FLEET names on every host" || FAILED=1
}
fleet_run 1 one
fleet_run 2 h1 h2 h3

# ---------------------------------------------------------------- part 3
echo "== 3. renew pass over $PASS stored certificates, none due"
python3 "$FIXTURE" "$WORK/template" "$WORK/many" "$PASS" 0 ||
	bench_die "store-fixture.py failed"
# The same sets in store db 3, keys and certo.json sealed as store_remote.c
# does (common/seal.c's format).
python3 - "$WORK/many" "$KEY" <<'PY' | redis-cli -p "$REDIS_PORT" -n 3 --pipe >"$LOGS/pipe.log" 2>&1 || bench_die "filling the store failed"
import base64, hashlib, hmac, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

state, keyfile = sys.argv[1], sys.argv[2]
ikm = open(keyfile, "rb").read()
prk = hmac.new(b"certo store seal v1", ikm, hashlib.sha256).digest()
aead = HKDFExpand(hashes.SHA256(), 32, b"certo aes-256-gcm key").derive(prk)
kid = HKDFExpand(hashes.SHA256(), 8, b"certo key id").derive(prk)
out = sys.stdout.buffer

def cmd(*args):
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        a = a if isinstance(a, bytes) else a.encode()
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))

def seal(rec, plain):
    nonce = os.urandom(12)
    ct = AESGCM(aead).encrypt(nonce, plain, b"certo-seal:1:" + kid + rec.encode())
    return "certo-seal:1:" + base64.urlsafe_b64encode(kid + nonce + ct).rstrip(b"=").decode()

live = os.path.join(state, "live")
for d in sorted(os.listdir(live)):
    files = {f: open(os.path.join(live, d, f), "rb").read()
             for f in ("cert.pem", "chain.pem", "fullchain.pem", "certo.json", "privkey.pem")}
    sha = hashlib.sha256(files["fullchain.pem"]).hexdigest()
    na = int(x509.load_pem_x509_certificate(files["cert.pem"]).not_valid_after_utc.timestamp())
    rec = "certo:set:" + d
    cmd("HSET", rec, "cert", files["cert.pem"], "chain", files["chain.pem"],
        "fullchain", files["fullchain.pem"], "sha", sha, "not_after", str(na),
        "config", seal(rec + "#config", files["certo.json"]),
        "key", seal(rec, files["privkey.pem"]))
    cmd("HSET", "certo:sets", d, "%s %d" % (sha, na))
PY
# Warm-up (untimed): a host missing one set brings it in from the store,
# opening a key sealed by the Python code above.
one=$(ls "$WORK/many/live" | head -1)
cp "$WORK/many/live/$one/privkey.pem" "$WORK/one.key"
rm -rf "$WORK/many/live/$one"
"$CERTO" --store "$STORE/3" --store-key "$KEY" renew --state-dir "$WORK/many" -q \
	>"$LOGS/warmup.log" 2>&1
# (certo writes the key in its own PKCS#8 encoding: compare public keys)
[ -n "$(openssl pkey -in "$WORK/one.key" -pubout 2>/dev/null)" ] &&
	[ "$(openssl pkey -in "$WORK/one.key" -pubout 2>/dev/null)" = \
	"$(openssl pkey -in "$WORK/many/live/$one/privkey.pem" -pubout 2>/dev/null)" ] &&
	cmp -s "$WORK/many/live/$one/cert.pem" <(sed -n '1,/END CERTIFICATE/p' "$WORK/many/live/$one/fullchain.pem") ||
	{ echo "  FAIL: the set sealed in Python did not come back intact"; FAILED=1; }
echo "  a key sealed by Python (seal.h's format) opened by certo: $([ "$FAILED" = 0 ] && echo yes || echo NO)"
# pass_run TITLE ARGS...: one timed pass (nothing due: exit 2 expected).
pass_run() {
	local title=$1 out=$WORK/pass-$RANDOM.txt
	shift
	"$BENCH_MEASURE" "$out" 120 "$CERTO" "$@" renew --state-dir "$WORK/many" -q \
		>"$LOGS/pass.log" 2>&1
	printf '  %s: exit %s, wall %.2f s, peak RSS %s MiB\n' "$title" \
		"$(awk '{ print $5 }' "$out")" "$(wall_of "$out")" "$(rss_mib "$out")"
	[ "$(awk '{ print $5 }' "$out")" = 2 ] || FAILED=1
	LAST_WALL=$(wall_of "$out")
}
pass_run "local (no store)"
printf '    target < 2 s: %s\n' "$(bench_verdict "$LAST_WALL" 2 lt)"
pass_run "with --store (same sets in Redis)" --store "$STORE/3" --store-key "$KEY"
echo "work dir: $WORK"
exit "$FAILED"
