# myip: usage errors, no service to ask, a closed port, an unknown host; then a service that
# answers with the address it sees (what $net/remote holds), by argument and by $myip.
myip -x
myip a b
myip
myip 'tcp!127.0.0.1!1'
myip 'tcp!nosuchhost.invalid!80'
listen -A 'tcp!127.0.0.1!0' {cat $net/remote}
for c in /net/tcp/[0-9]* {
	~ `{cat $c/status} Announced && (ip port) = ${split ! `{cat $c/local}}
}
myip 'tcp!127.0.0.1!'^$port
myip = 'tcp!127.0.0.1!'^$port
myip
kill listen > /dev/null
-- stdout --
127.0.0.1
127.0.0.1
-- stderr --
usage: myip [addr]
usage: myip [addr]
myip: no service to ask: give an address, set $myip, or add myip=addr to /lib/ndb/local
myip: cannot dial tcp!127.0.0.1!1: connection refused
myip: cannot dial tcp!nosuchhost.invalid!80: cs: unknown host
