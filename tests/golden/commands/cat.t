# cat: files in turn, - for standard input; missing files reported, the rest still copied.
echo one > /tmp/a
echo two > /tmp/b
cat /tmp/a - /tmp/b < /tmp/b
cat /tmp/a /missing /tmp/b
echo status $status
cat -x
-- stdout --
one
two
two
one
two
status errors
-- stderr --
cat: cannot open /missing: '/missing' file does not exist
usage: cat [file ...]
ember: usage
-- status --
1
