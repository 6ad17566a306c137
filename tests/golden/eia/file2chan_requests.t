# What the blocks see: $fid tells opens apart, $offset and $count a read, $data a write; the
# read block's output is the file, continued by later reads of the same open; a failing
# block fails the request with its status; the close block runs at each close.
bind -a '#f' /dev
file2chan /dev/log {echo offset $offset count $count} {
	echo wrote $data at $offset >[1=2]
} {
	echo closed >[1=2]
}
cat /dev/log
echo -n hello > /dev/log
# One byte at a time: the block runs once, the later reads continue its output.
read -c 9 < /dev/log
echo
# A long output is read in pieces, one copy of it.
file2chan /dev/seq {seq 3000} {raise 'read only'}
wc -l < /dev/seq
echo x > /dev/seq
echo status $status
# A block that fails gives its status as the error.
file2chan /dev/fail {status 'no sensor'} {}
cat /dev/fail
echo status $status
# Removing the file ends its server.
ps | grep -c File2chan
rm /dev/fail
sleep 0.2
ps | grep -c File2chan
ls /dev/fail
-- stdout --
offset 0 count 65536
offset 0 
   3000
status write error: read only
status errors
3
2
-- stderr --
closed
wrote hello at 0
closed
closed
echo: write error: read only
cat: error reading /dev/fail: no sensor
ls: /dev/fail: '/dev/fail' file does not exist
ember: errors
-- status --
1
