mkdir /tmp/u /tmp/v /tmp/w
echo one > /tmp/u/one
echo two > /tmp/v/two
echo three > /tmp/w/three
bind -a /tmp/v /tmp/u
bind -a /tmp/w /tmp/u
ls -p /tmp/u
unmount /tmp/v /tmp/u
ls -p /tmp/u
unmount /tmp/u
ls -p /tmp/u
unmount a b c
echo $status
unmount /tmp/u
-- stdout --
one
three
two
one
three
one
usage
-- stderr --
usage: unmount [name] old
unmount: cannot unmount /tmp/u: '/tmp/u' not mounted
ember: not mounted
-- status --
1
