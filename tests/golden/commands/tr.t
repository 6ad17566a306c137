echo 'Hello, World' > /tmp/f
tr a-z A-Z < /tmp/f
tr -d lo < /tmp/f
tr -s l < /tmp/f
tr lo 01 < /tmp/f
tr a-z x < /tmp/f
tr -c a-zA-Z '\n' < /tmp/f
tr -cs a-zA-Z '\012' < /tmp/f
echo héllo | tr é e
tr -ds l o < /tmp/f
tr a
echo $status
tr z-a x < /tmp/f
-- stdout --
HELLO, WORLD
He, Wrd
Helo, World
He001, W1r0d
Hxxxx, Wxxxx
Hello

World
Hello
World
hello
Heo, Word
usage
-- stderr --
usage: tr [-cds] [set1 [set2]]
tr: bad range z-a
ember: bad range z-a
-- status --
1
