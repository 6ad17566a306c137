# listen: usage errors, bad addresses, the keyring it needs without -A, and a service that
# answers on loopback (the port is the host's choice, read from the announced conversation).
listen
listen -x 'tcp!127.0.0.1!0' {echo}
listen -A 'tcp!127.0.0.1!0'
listen -A -k
listen -A bogus {echo}
listen -A 'tcp!127.0.0.1!nosuchservice' {echo}
listen -A 'frob!127.0.0.1!1' {echo}
listen 'tcp!127.0.0.1!0' {echo}
echo status $status
listen -A 'tcp!127.0.0.1!0' {echo hello from $net}
for c in /net/tcp/[0-9]* {
	~ `{cat $c/status} Announced && (ip port) = ${split ! `{cat $c/local}}
}
echo announced on $ip
dial -A 'tcp!127.0.0.1!'^$port {cat >[1=2]}
kill listen > /dev/null
# A plain command and its arguments, as Inferno's `listen addr export /`; a block with
# arguments; dial takes both too.
listen -A 'tcp!127.0.0.1!0' export /lib/ndb
for c in /net/tcp/[0-9]* {
	~ `{cat $c/status} Announced && (ip port) = ${split ! `{cat $c/local}}
}
mount -A 'tcp!127.0.0.1!'^$port /n/ndb
ls /n/ndb/common
unmount /n/ndb
kill listen > /dev/null
listen -A 'tcp!127.0.0.1!0' {echo $1 $2} one two
for c in /net/tcp/[0-9]* {
	~ `{cat $c/status} Announced && (ip port) = ${split ! `{cat $c/local}}
}
dial -A 'tcp!127.0.0.1!'^$port sh -c 'cat >[1=2]'
kill listen > /dev/null
-- stdout --
status no keyring /usr/glenda/keyring/default: make one with auth/keygen
announced on 127.0.0.1
/n/ndb/common
-- stderr --
usage: listen [-Asv] [-k keyfile] addr {command} | command [arg ...]
usage: listen [-Asv] [-k keyfile] addr {command} | command [arg ...]
usage: listen [-Asv] [-k keyfile] addr {command} | command [arg ...]
usage: listen [-Asv] [-k keyfile] addr {command} | command [arg ...]
listen: calls to bogus are not authenticated (-A)
listen: cannot announce bogus: bad network address bogus
listen: cannot announce tcp!127.0.0.1!nosuchservice: cs: can't translate service
listen: cannot announce frob!127.0.0.1!1: cs: network unavailable: frob
listen: no keyring /usr/glenda/keyring/default: make one with auth/keygen
hello from /net/tcp/2
one two
