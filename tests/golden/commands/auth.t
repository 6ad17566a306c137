# Making and checking keys, and each command's complaints.
auth/createsignerkey -f /tmp/ca ca
auth/createsignerkey -f /tmp/ca ca
auth/keygen -s /tmp/ca -o /tmp/k -e 30d glenda
auth/keyinfo -k /tmp/k | grep -v expires
for f in /tmp/ca /tmp/k {(mode rest) = `{ls -l $f}; echo $mode $f}
auth/keygen -s /tmp/missing glenda
auth/keygen -s /tmp/ca -e 1 glenda
auth/keygen -s /tmp/ca -e soon glenda
auth/keygen -s /tmp/ca 'a b'
auth/keygen -s /tmp/k glenda
auth/keyinfo -k /tmp/nothing
auth/keyinfo -k nothing
auth/keygen
auth/createsignerkey -x
# Key files open to group or others are refused, and the error says how to fix them.
chmod 644 /tmp/ca
auth/keygen -s /tmp/ca -o /tmp/k2 glenda
chmod 600 /tmp/ca
# The same keyring claiming another user: its signature no longer matches.
{echo 'ember-keyring 1'; echo user eve; grep -v '^(ember|user)' /tmp/k} > /tmp/tampered
chmod 640 /tmp/tampered
auth/keyinfo -k /tmp/tampered
chmod 600 /tmp/tampered
auth/keyinfo -k /tmp/tampered | grep -v expires
-- stdout --
/tmp/k
	user glenda
	signer ca
	ok
--rw------- /tmp/ca
--rw------- /tmp/k
/tmp/tampered
	user eve
	signer ca
-- stderr --
auth/createsignerkey: /tmp/ca exists: remove it first (every keyring it certified would stop working)
auth/keygen: cannot read /tmp/missing: '/tmp/missing' file does not exist: make the signer's key with auth/createsignerkey
auth/keygen: expiry 1 is in the past
auth/keygen: bad expiry "soon": give Unix seconds or a duration like 90d
auth/keygen: bad name "a b"
auth/keygen: /tmp/k: first line is not "ember-signer 1"
auth/keyinfo: no keyring /tmp/nothing: make one with auth/keygen
auth/keyinfo: no keyring /usr/glenda/keyring/nothing: make one with auth/keygen
usage: auth/keygen [-s signerkey] [-e expiry] [-o file] name
usage: auth/createsignerkey [-f file] name
auth/keygen: signer key /tmp/ca is open to group or others (mode 0644): make it private with chmod 600 /tmp/ca
auth/keyinfo: keyring /tmp/tampered is open to group or others (mode 0640): make it private with chmod 600 /tmp/tampered
auth/keyinfo: /tmp/tampered: certificate of eve has a bad signature (altered, or from another signer called ca)
ember: |/tmp/tampered: certificate of eve has a bad signature (altered, or from another signer called ca)
-- status --
1
