#!/bin/bash
# The image's HEALTHCHECK: GET /healthz from certo-responder's --health
# listener (CERTO_RESPONDER_HEALTH, ADDR:PORT) with bash's /dev/tcp, since
# the image has no curl.  Exit 0 when it answers 200, else 1.
hp=${CERTO_RESPONDER_HEALTH:-127.0.0.1:8081}
host=${hp%:*}
port=${hp##*:}
host=${host#[}
host=${host%]}
case $host in
""|0.0.0.0|"*") host=127.0.0.1 ;;
::) host=::1 ;;
esac
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3
IFS= read -r -t 3 line <&3 || exit 1
case $line in
"HTTP/1."?" 200 "*) exit 0 ;;
esac
exit 1
