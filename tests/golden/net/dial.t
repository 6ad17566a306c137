# dial: usage errors, addresses that cannot be dialled (a closed loopback port, an unknown
# host, a service cs does not know, an address without a port), a block that is not a block,
# the keyring it needs without -A; then a call whose block talks and whose status is dial's.
dial
dial -x 'tcp!127.0.0.1!1' {cat}
dial -A 'tcp!127.0.0.1!1'
dial -A 'tcp!127.0.0.1!1' cat
dial -A 'tcp!127.0.0.1!1' {cat}
echo status $status
dial -A 'tcp!nosuchhost.invalid!80' {cat}
dial -A 'tcp!127.0.0.1!nosuchservice' {cat}
dial -A 'tcp!127.0.0.1' {cat}
dial -A 'frob!127.0.0.1!1' {cat}
dial 'tcp!127.0.0.1!1' {cat}
listen -A 'tcp!127.0.0.1!0' {read; echo bye}
for c in /net/tcp/[0-9]* {
	~ `{cat $c/status} Announced && (ip port) = ${split ! `{cat $c/local}}
}
dial -A 'tcp!127.0.0.1!'^$port {echo hi; read > /dev/null; echo $net >[1=2]; ~ `{read} bye}
echo status $status
dial -A 'tcp!127.0.0.1!'^$port {echo hi; ~ `{read} hello}
echo status $status
# The call's $net was the block's alone: the shell that ran dial never sees it.
cat /env/net >[2] /dev/null || echo no net left behind
kill listen > /dev/null
-- stdout --
status cannot dial tcp!127.0.0.1!1: connection refused
status
status no match
no net left behind
-- stderr --
usage: dial [-A] [-k keyfile] addr {command} | command [arg ...]
usage: dial [-A] [-k keyfile] addr {command} | command [arg ...]
usage: dial [-A] [-k keyfile] addr {command} | command [arg ...]
dial: cannot dial tcp!127.0.0.1!1: connection refused
dial: cannot dial tcp!127.0.0.1!1: connection refused
dial: cannot dial tcp!nosuchhost.invalid!80: cs: unknown host
dial: cannot dial tcp!127.0.0.1!nosuchservice: cs: can't translate service
dial: cannot dial tcp!127.0.0.1: bad format request
dial: cannot dial frob!127.0.0.1!1: cs: network unavailable: frob
dial: no keyring /usr/glenda/keyring/default: make one with auth/keygen
/net/tcp/1
