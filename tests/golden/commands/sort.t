echo 'pear 3
apple 10
fig 2
apple 10
banana 1' > /tmp/f
sort /tmp/f
echo --
sort -r /tmp/f
echo --
sort -u /tmp/f
echo --
sort -n -k 2 /tmp/f
echo --
sort -t e -k 2 /tmp/f
echo --
echo '10
9
-1
x' | sort -n
sort -k 0 /tmp/f
echo $status
sort /tmp/nothere
-- stdout --
apple 10
apple 10
banana 1
fig 2
pear 3
--
pear 3
fig 2
banana 1
apple 10
apple 10
--
apple 10
banana 1
fig 2
pear 3
--
banana 1
fig 2
pear 3
apple 10
apple 10
--
banana 1
fig 2
apple 10
apple 10
pear 3
--
-1
x
9
10
usage
-- stderr --
usage: sort [-fnru] [-t c] [-k first[,last]] [file ...]
sort: cannot open /tmp/nothere: '/tmp/nothere' file does not exist
ember: errors
-- status --
1
