mkdir /tmp/w
cd /tmp/w
echo hello > a
cp a b
cat b
mkdir d
cp a b d
ls d
cp d e
echo $status
cp -r d e
ls e
cat e/b
cp -r d d
echo $status
cp a a
echo $status
cp a b nodir
echo $status
cp x
echo $status
cp nothere z
-- stdout --
hello
d/a
d/b
errors
e/a
e/b
hello
errors
errors
not a directory
usage
-- stderr --
cp: d: file is a directory
cp: cannot copy d into itself
cp: a and a are the same file
cp: nodir: 'nodir' not a directory
usage: cp [-r] from to | cp [-r] from ... directory
cp: nothere: '/tmp/w/nothere' file does not exist
ember: errors
-- status --
1
