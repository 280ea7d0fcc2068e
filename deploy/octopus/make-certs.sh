#!/bin/sh
# A private CA and a server certificate for the Octopus-style portal over HTTPS (docs/examples/octopus.md#https).
#   deploy/octopus/make-certs.sh DIR NAME [NAME...]
# NAMEs are the host names and IP addresses browsers will use (subjectAltName; the first is also the CN).
# Writes DIR/ca.crt, DIR/ca.key (keep offline), DIR/server.crt, DIR/server.key. An existing DIR/ca.key is reused, so
# running it again issues a new server certificate from the same CA. DAYS sets the server certificate's validity
# (default 397: browsers refuse longer ones from public CAs, and some from private ones too); the CA's is 10 years.
set -eu
if [ "$#" -lt 2 ]; then
  echo "usage: $0 DIR NAME [NAME...]   e.g. $0 tls portal.office.lan 127.0.0.1" >&2
  exit 2
fi
dir=$1
shift
days=${DAYS:-397}
san=""
for name in "$@"; do
  case "$name" in
    *[!0-9.]*) entry="DNS:$name" ;; # not only digits and dots: a host name (IPv6: use a name)
    *) entry="IP:$name" ;;
  esac
  san="${san:+$san,}$entry"
done
mkdir -p "$dir"
umask 077
cd "$dir"
if [ ! -f ca.key ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Octopus portal CA" -keyout ca.key -out ca.crt 2>/dev/null
fi
openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" > san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -extfile san.ext -out server.crt 2>/dev/null
rm -f server.csr san.ext
chmod 644 ca.crt server.crt
echo "$dir/server.crt for $san, signed by $dir/ca.crt (valid $days days); keys: $dir/server.key, $dir/ca.key"
