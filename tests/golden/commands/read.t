echo 'one
two
three
four' > /tmp/f
read < /tmp/f
{read; echo --; cat} < /tmp/f
{read -n 2; echo --; read; echo --; read -m} < /tmp/f
read -c 5 < /tmp/f
echo
echo -n partial | read
echo
read < /dev/null
echo $status
read -n x
echo $status
read /tmp/nothere
-- stdout --
one
one
--
two
three
four
one
two
--
three
--
four
one
t
partial
eof
usage
-- stderr --
usage: read [-m] [-n nlines] [-c nbytes] [file ...]
read: cannot open /tmp/nothere: '/tmp/nothere' file does not exist
ember: file does not exist
-- status --
1
