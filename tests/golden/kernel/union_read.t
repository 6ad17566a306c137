# Reading a union directory reads every member in turn.
bind /tmp/a /n
bind -a /tmp/b /n
ls /n
bind -b '#c' /n
ls /n/user /n/x
-- setup --
mkdir -p $ROOT/tmp/a $ROOT/tmp/b
touch $ROOT/tmp/a/x $ROOT/tmp/a/y $ROOT/tmp/b/z
-- stdout --
/n/x
/n/y
/n/z
/n/user
/n/x
