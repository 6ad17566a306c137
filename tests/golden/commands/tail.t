seq 15 > /tmp/f
tail /tmp/f
echo --
tail -3 /tmp/f
echo --
tail +13 /tmp/f
echo --
tail -n +14 /tmp/f
echo --
tail -n 1 < /tmp/f
echo -n 'no newline
at end' | tail -1
echo
tail -n 0 /tmp/f
tail /tmp/f /tmp/f
echo $status
tail /tmp/nothere
-- stdout --
6
7
8
9
10
11
12
13
14
15
--
13
14
15
--
13
14
15
--
14
15
--
15
at end
usage
-- stderr --
usage: tail [-n [+]lines] [file]
tail: cannot open /tmp/nothere: '/tmp/nothere' file does not exist
ember: errors
-- status --
1
