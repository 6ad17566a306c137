mkdir /tmp/u /tmp/v
echo one > /tmp/u/one
echo two > /tmp/v/two
echo other > /tmp/v/one
bind -a /tmp/v /tmp/u
ls -p /tmp/u
cat /tmp/u/one
bind -b /tmp/v /tmp/u
cat /tmp/u/one
bind /tmp/v /tmp/u
ls -p /tmp/u
bind -q /nonexistent /tmp/u
echo $status
bind -ab /tmp/v /tmp/u
echo $status
bind /nonexistent /tmp/u
-- stdout --
one
two
one
other
one
two
file does not exist
usage
-- stderr --
usage: bind [-a|-b] [-cq] new old
bind: cannot bind /nonexistent onto /tmp/u: '/nonexistent' file does not exist
ember: file does not exist
-- status --
1
