mkdir /tmp/w
cd /tmp/w
touch a
ls a
echo hello > b
touch b
cat b
touch -t 86400 b
echo $status
touch -c c
echo $status
ls c
touch -t soon b
echo $status
touch
-- stdout --
a
hello

errors
usage
-- stderr --
touch: c: cannot wstat: '/tmp/w/c' file does not exist
ls: c: '/tmp/w/c' file does not exist
touch: bad time soon
usage: touch [-c] [-t time] file ...
usage: touch [-c] [-t time] file ...
ember: usage
-- status --
1
