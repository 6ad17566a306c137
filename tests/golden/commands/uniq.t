echo 'a
a
b
c
c
c
a' > /tmp/f
uniq /tmp/f
echo --
uniq -c /tmp/f
echo --
uniq -d /tmp/f
echo --
uniq -u < /tmp/f
uniq /tmp/f /tmp/f
echo $status
uniq /tmp/nothere
-- stdout --
a
b
c
a
--
   2 a
   1 b
   3 c
   1 a
--
a
c
--
b
a
usage
-- stderr --
usage: uniq [-cdu] [file]
uniq: cannot open /tmp/nothere: '/tmp/nothere' file does not exist
ember: errors
-- status --
1
