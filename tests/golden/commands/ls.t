cd /tmp/d
ls
ls /tmp/d
ls -d /tmp/d sub
ls -t
ls -rp /tmp/d
ls -F
ls -s a b
ls b /tmp/d/sub a
ls -l a b | grep -c '^--rw-r--r-- U 0 [^ ]+ +[^ ]+ +(14| 5) Jan 01  1970 (a|b)$'
ls -le a | grep -c ' 1000 a$'
mkdir /tmp/e
echo in e > /tmp/e/a
echo also > /tmp/e/c
bind -a /tmp/e /tmp/d
ls -p /tmp/d
cat /tmp/d/a
ls -z
echo $status
ls /nonexistent a
-- setup --
mkdir -p $ROOT/tmp/d/sub
printf hello > $ROOT/tmp/d/b
printf 'a longer file\n' > $ROOT/tmp/d/a
chmod 644 $ROOT/tmp/d/a $ROOT/tmp/d/b
touch -d @1000 $ROOT/tmp/d/a
touch -d @2000 $ROOT/tmp/d/b
-- stdout --
a
b
sub
/tmp/d/a
/tmp/d/b
/tmp/d/sub
/tmp/d
sub
sub
b
a
sub
b
a
a
b
sub/
1 a
1 b
b
a
2
1
a
b
c
sub
a longer file
usage
a
-- stderr --
usage: ls [-cdeklmnpqrstuFT] [file ...]
ls: /nonexistent: '/nonexistent' file does not exist
ember: errors
-- status --
1
