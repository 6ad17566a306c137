# sh forks its namespace unless -n: binds inside sh -c {...} stay inside.
sh -c {bind /tmp/a /n; cat /n/x}
ls /n
sh -n -c {bind /tmp/a /n}
cat /n/x
-- setup --
mkdir -p $ROOT/tmp/a
echo 'x from a' > $ROOT/tmp/a/x
-- stdout --
x from a
x from a
