#!/bin/bash
# CI helper: install Ceph RGW from Debian 12 and run a throwaway 1-mon/1-OSD(memstore) cluster on 127.0.0.1.
# Usage: ci-s3-rgw.sh install | start | stop
set -euo pipefail
D=${CEPH_DIR:-/tmp/ci-ceph}; RGW_PORT=${RGW_PORT:-7480}; MON_PORT=${MON_PORT:-6789}
AK=${S3_ACCESS_KEY:-testkey}; SK=${S3_SECRET_KEY:-testsecret123}
case "$1" in
install)
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends radosgw ceph-mon ceph-osd >/dev/null ;;
start)
  rm -rf "$D"; mkdir -p "$D"/{mon,osd0,run,log,rgw}
  FSID=$(cat /proc/sys/kernel/random/uuid)
  cat > "$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon data avail crit = 1
mon data avail warn = 2
run dir = $D/run
log file = $D/log/\$name.log
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
[mon.a]
mon data = $D/mon
[osd]
osd objectstore = memstore
memstore device bytes = 1073741824
osd data = $D/osd\$id
osd crush update on start = false
osd class update on start = false
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $D/rgw
CONF
  C=(-c "$D/ceph.conf")
  monmaptool --create --add a 127.0.0.1:$MON_PORT --fsid "$FSID" "$D/monmap" >/dev/null
  ceph-mon "${C[@]}" -i a --mkfs --monmap "$D/monmap"
  ceph-mon "${C[@]}" -i a
  U=$(cat /proc/sys/kernel/random/uuid)
  ceph "${C[@]}" osd new "$U" >/dev/null
  ceph "${C[@]}" osd crush add osd.0 1.0 root=default 2>/dev/null
  ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$U" 2>/dev/null
  ceph-osd "${C[@]}" -i 0 2>/dev/null
  radosgw "${C[@]}" -n client.rgw
  for i in $(seq 1 120); do curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/" && break; sleep 0.5; done
  radosgw-admin "${C[@]}" user create --uid=ci --display-name=ci --access-key="$AK" --secret-key="$SK" >/dev/null
  echo "RGW ready on http://127.0.0.1:$RGW_PORT" ;;
stop)
  for n in client.rgw osd.0 mon.a; do f="$D/run/$n.pid"; [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  for n in client.rgw osd.0 mon.a; do f="$D/run/$n.pid"; [ -f "$f" ] || continue; p=$(cat "$f")
    for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done; kill -9 "$p" 2>/dev/null || true; done ;;
esac
