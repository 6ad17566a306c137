# A union searches its members in order: -a puts a member last, -b first.
bind /tmp/a /n
bind -a /tmp/b /n
cat /n/x /n/onlyb
bind /tmp/a /n
bind -b /tmp/b /n
cat /n/x /n/onlya
-- setup --
mkdir -p $ROOT/tmp/a $ROOT/tmp/b
echo 'x from a' > $ROOT/tmp/a/x
echo 'only in a' > $ROOT/tmp/a/onlya
echo 'x from b' > $ROOT/tmp/b/x
echo 'only in b' > $ROOT/tmp/b/onlyb
-- stdout --
x from a
only in b
x from b
only in a
