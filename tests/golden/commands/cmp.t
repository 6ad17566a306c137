echo hello > /tmp/a
echo hello > /tmp/b
echo hellO > /tmp/c
echo 'hello
world' > /tmp/d
echo 'x
y
zz' > /tmp/e
echo 'x
y
zy' > /tmp/f
cmp /tmp/a /tmp/b
echo $status
cmp /tmp/a /tmp/c
echo $status
cmp -l /tmp/a /tmp/c
cmp -s /tmp/a /tmp/c
echo $status
cmp -L /tmp/e /tmp/f
cmp /tmp/a /tmp/d
echo $status
cmp /tmp/e /tmp/f 0x4 04
cmp /tmp/a
echo $status
cmp /tmp/a /tmp/nothere
-- stdout --

/tmp/a /tmp/c differ: char 5
differ
     5 0x6f 0x4f
differ
/tmp/e /tmp/f differ: char 6 line 3
EOF on /tmp/a after 6 bytes
EOF
/tmp/e /tmp/f differ: char 2
usage
-- stderr --
usage: cmp [-lLs] file1 file2 [offset1 [offset2]]
cmp: cannot open /tmp/nothere: '/tmp/nothere' file does not exist
ember: file does not exist
-- status --
1
