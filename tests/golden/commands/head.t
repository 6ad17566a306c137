seq 15 > /tmp/f
head /tmp/f
echo --
head -3 /tmp/f
echo --
head -n 2 /tmp/f /tmp/f
echo --
seq 100000 | head -n 1
head -n x /tmp/f
echo $status
head -n 1 /tmp/nothere /tmp/f
-- stdout --
1
2
3
4
5
6
7
8
9
10
--
1
2
3
--
1
2
1
2
--
1
usage
1
-- stderr --
usage: head [-n lines] [file ...]
head: cannot open /tmp/nothere: '/tmp/nothere' file does not exist
ember: errors
-- status --
1
