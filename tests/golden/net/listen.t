# listen: usage errors, bad addresses, the keyring it needs without -A, and a service that
# answers on loopback (the port is the host's choice, read from the announced conversation).
listen
listen -x 'tcp!127.0.0.1!0' {echo}
listen -A 'tcp!127.0.0.1!0'
listen -A 'tcp!127.0.0.1!0' {echo} extra
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
-- stdout --
status no keyring /usr/glenda/keyring/default: make one with auth/keygen
announced on 127.0.0.1
-- stderr --
usage: listen [-Asv] [-k keyfile] addr {command}
usage: listen [-Asv] [-k keyfile] addr {command}
usage: listen [-Asv] [-k keyfile] addr {command}
usage: listen [-Asv] [-k keyfile] addr {command}
usage: listen [-Asv] [-k keyfile] addr {command}
listen: calls to bogus are not authenticated (-A)
listen: cannot announce bogus: bad network address bogus
listen: cannot announce tcp!127.0.0.1!nosuchservice: cs: can't translate service
listen: cannot announce frob!127.0.0.1!1: cs: network unavailable: frob
listen: no keyring /usr/glenda/keyring/default: make one with auth/keygen
hello from /net/tcp/2
