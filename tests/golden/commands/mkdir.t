mkdir /tmp/w
cd /tmp/w
mkdir a b
mkdir -p c/d/e a
ls -p . c/d
mkdir a
echo $status
mkdir -z
echo $status
mkdir x/y
-- stdout --
a
b
c
e
errors
usage
-- stderr --
mkdir: cannot make directory a: '/tmp/w/a' file already exists
usage: mkdir [-p] directory ...
mkdir: cannot make directory x/y: '/tmp/w/x' file does not exist
ember: errors
-- status --
1
