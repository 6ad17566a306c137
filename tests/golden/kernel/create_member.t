# A create in a union goes to the first member bound with -c, and fails without one.
bind /tmp/a /n
bind -a /tmp/b /n
sh -c {echo one > /n/new}
echo status $status
bind -ac /tmp/b /n
echo two > /n/new
cat /tmp/b/new
ls /tmp/a
-- setup --
mkdir -p $ROOT/tmp/a $ROOT/tmp/b
touch $ROOT/tmp/a/x
-- stdout --
status bad redir
two
/tmp/a/x
-- stderr --
sh: cannot open /n/new: '/n/new' mounted directory forbids creation
