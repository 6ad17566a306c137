mkdir /tmp/w
cd /tmp/w
mkdir d e
echo one > d/a
mv d/a d/b
ls -p d
echo two > e/c
mv d/b e/c
cat e/c
ls -p d e
mv e/c d
ls -p d e
mv d e
ls -p . e e/d
mv nothere x
echo $status
mv a
echo $status
mv e/d/c e/d/c
-- stdout --
b
one
c
c
e
d
c
errors
usage
-- stderr --
mv: nothere: '/tmp/w/nothere' file does not exist
usage: mv from to | mv from ... directory
mv: e/d/c and e/d/c are the same file
ember: errors
-- status --
1
