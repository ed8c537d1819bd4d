#!/usr/bin/env bash
# Starts the two S3 stores the suite judges besides its own emulator (docs/peers.md), each
# pinned and installed into a project-local folder by its own script, on loopback ports:
#
#   SeaweedFS 4.48 (scripts/setup-seaweedfs.sh): `weed server -s3`, HTTP on 127.0.0.1:18333
#     and HTTPS on 127.0.0.1:18443 (a certificate for 127.0.0.1 made here, .peers/tls/), S3
#     authentication on (an identity with generated keys), SSE-S3 with a generated key-
#     encryption key (WEED_S3_SSE_KEK), SSE-KMS through SeaweedFS's
#     `local` KMS provider configured in the same -s3.config file, as its KMS documentation
#     describes (an in-memory key; no external KMS).
#   moto 5.2.5 (scripts/setup-moto.sh): `moto_server` over HTTPS on 127.0.0.1:15443 with the
#     same certificate (moto serves one scheme per process).
#
#   scripts/peers.sh start    # install if needed, start both, wait until each answers
#   scripts/peers.sh start seaweedfs   # only SeaweedFS (what .ci/run samples)
#   scripts/peers.sh stop     # stop what `start` started (by the process ids it recorded)
#   scripts/peers.sh env      # the credential variables the peer profiles name (eval it)
#
# Everything lives under .peers/ (gitignored): data, logs, the certificate, the pids and
# `env`. `cos-suite peers` (docs/peers.md) runs the catalog against both and the emulator.
# Ports: SEAWEEDFS_PORT_BASE (default 18000: S3 +333/+443, master +1333, volume +80, filer
# +888, gRPC +10000 each) and MOTO_PORT (default 15443); the profiles in fixtures/profiles/
# name the defaults.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.peers"
base="${SEAWEEDFS_PORT_BASE:-18000}"
moto_port="${MOTO_PORT:-15443}"

say() { echo "peers: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port() {
    local port="$1" what="$2" log="$3"
    for _ in $(seq 1 120); do
        if ! port_free "$port"; then
            return 0
        fi
        sleep 0.5
    done
    die "$what did not listen on 127.0.0.1:$port within 60 s (log: $log)"
}

make_cert() {
    # A CA (trusted by the profiles: tls.ca_file) and a leaf for 127.0.0.1 signed by it
    # (a self-signed leaf is refused by webpki as a CA used as an end entity).
    mkdir -p "$state/tls"
    [ -f "$state/tls/cert.pem" ] && [ -f "$state/tls/ca.pem" ] && return 0
    command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"
    local t="$state/tls"
    {
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=cos-suite peers CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
            -keyout "$t/ca-key.pem" -out "$t/ca.pem" &&
            openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
                -keyout "$t/key.pem" -out "$t/leaf.csr" &&
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$t/leaf.ext" &&
            openssl x509 -req -in "$t/leaf.csr" -CA "$t/ca.pem" -CAkey "$t/ca-key.pem" \
                -CAcreateserial -days 3650 -extfile "$t/leaf.ext" -out "$t/cert.pem"
    } >/dev/null 2>&1 || die "openssl could not make the certificates"
}

credentials() {
    if [ ! -f "$state/env" ]; then
        local ak sk
        ak="SWAK$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)"
        sk="$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')"
        {
            echo "export SEAWEEDFS_ACCESS_KEY=$ak"
            echo "export SEAWEEDFS_SECRET_KEY=$sk"
            # moto checks no signature by default; any pair signs.
            echo "export MOTO_ACCESS_KEY=testing"
            echo "export MOTO_SECRET_KEY=testing"
        } >"$state/env"
    fi
    # shellcheck disable=SC1091
    . "$state/env"
}

start_seaweedfs() {
    local pid="$state/seaweedfs.pid" dir="$state/seaweedfs"
    if running "$pid"; then
        say "SeaweedFS already running (pid $(cat "$pid"))"
        return 0
    fi
    local weed
    weed="$("$root/scripts/setup-seaweedfs.sh" | tail -n 1)"
    for p in $((base + 333)) $((base + 443)) $((base + 1333)) $((base + 80)) $((base + 888)); do
        port_free "$p" || die "port $p is taken (set SEAWEEDFS_PORT_BASE)"
    done
    rm -rf "$dir"
    mkdir -p "$dir/data" "$dir/tmp"
    cat >"$dir/s3.json" <<JSON
{"identities":[{"name":"cos-suite","credentials":[{"accessKey":"$SEAWEEDFS_ACCESS_KEY","secretKey":"$SEAWEEDFS_SECRET_KEY"}],"actions":["Admin","Read","List","Tagging","Write"]}],
 "kms":{"default_provider":"local","providers":{"local":{"type":"local"}}}}
JSON
    (
        cd "$dir"
        # SSE-S3 needs a key-encryption key (hex, 256 bits: s3.sse.kek of security.toml,
        # or this variable); the data directory is new every start, so is the key.
        WEED_S3_SSE_KEK="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" \
            HOME="$dir" TMPDIR="$dir/tmp" exec "$weed" -logtostderr server -dir="$dir/data" \
            -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3 \
            -master.port=$((base + 1333)) -master.port.grpc=$((base + 11333)) \
            -volume.port=$((base + 80)) -volume.port.grpc=$((base + 10080)) \
            -filer.port=$((base + 888)) -filer.port.grpc=$((base + 10888)) \
            -s3.port=$((base + 333)) -s3.port.grpc=$((base + 10333)) \
            -s3.port.https=$((base + 443)) -s3.cert.file="$state/tls/cert.pem" \
            -s3.key.file="$state/tls/key.pem" \
            -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false -volume.max=0 \
            -master.volumeSizeLimitMB=64 -s3.autoCreateBucket=false \
            -s3.config="$dir/s3.json" </dev/null >"$dir/weed.log" 2>&1
    ) &
    echo $! >"$pid"
    wait_port $((base + 333)) SeaweedFS "$dir/weed.log"
    wait_port $((base + 443)) SeaweedFS "$dir/weed.log"
    # The gateway listens before the filer is ready: wait for an S3 answer.
    for _ in $(seq 1 120); do
        code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((base + 333))/" || true)"
        case "$code" in 200 | 403) break ;; esac
        sleep 0.5
    done
    say "SeaweedFS $("$weed" version 2>/dev/null | head -n 1 | awk '{print $3}') on http://127.0.0.1:$((base + 333)) and https://127.0.0.1:$((base + 443)) (pid $(cat "$pid"))"
}

start_moto() {
    local pid="$state/moto.pid" dir="$state/moto"
    if running "$pid"; then
        say "moto already running (pid $(cat "$pid"))"
        return 0
    fi
    local server
    server="$("$root/scripts/setup-moto.sh" | tail -n 1)"
    port_free "$moto_port" || die "port $moto_port is taken (set MOTO_PORT)"
    mkdir -p "$dir"
    "$server" -H 127.0.0.1 -p "$moto_port" -c "$state/tls/cert.pem" -k "$state/tls/key.pem" \
        </dev/null >"$dir/moto.log" 2>&1 &
    echo $! >"$pid"
    wait_port "$moto_port" moto "$dir/moto.log"
    say "moto $("$(dirname "$server")/python" -c 'import moto; print(moto.__version__)') on https://127.0.0.1:$moto_port (pid $(cat "$pid"))"
}

stop_one() {
    local pid="$state/$1.pid"
    if running "$pid"; then
        kill "$(cat "$pid")" 2>/dev/null || true
        for _ in $(seq 1 40); do
            running "$pid" || break
            sleep 0.25
        done
        # weed server ignores SIGTERM for many seconds (emulator/tests/support/seaweedfs.rs).
        if running "$pid"; then kill -9 "$(cat "$pid")" 2>/dev/null || true; fi
        say "stopped $1"
    fi
    rm -f "$pid"
}

case "${1:-}" in
start)
    shift
    # `start` alone starts both; `start seaweedfs` (CI's sample) or `start moto` one.
    wanted="${*:-seaweedfs moto}"
    mkdir -p "$state"
    make_cert
    credentials
    for peer in $wanted; do
        case "$peer" in
        seaweedfs) start_seaweedfs ;;
        moto) start_moto ;;
        *) die "unknown peer '$peer' (seaweedfs, moto)" ;;
        esac
    done
    ;;
stop)
    stop_one seaweedfs
    stop_one moto
    ;;
env)
    [ -f "$state/env" ] || die "no $state/env: run 'scripts/peers.sh start' first"
    cat "$state/env"
    ;;
*)
    echo "usage: scripts/peers.sh start [seaweedfs] [moto] | stop | env" >&2
    exit 2
    ;;
esac
