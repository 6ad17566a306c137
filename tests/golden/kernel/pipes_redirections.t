# Pipes, and redirections of every kind in the issue's list.
echo hello | cat
echo one > /tmp/f
echo two >> /tmp/f
cat < /tmp/f
cat /missing >[2] /tmp/err
cat /tmp/err
cat /missing >[2=1] | cat
echo to stderr >[1=2]
-- stdout --
hello
one
two
cat: cannot open /missing: '/missing' file does not exist
cat: cannot open /missing: '/missing' file does not exist
-- stderr --
to stderr
