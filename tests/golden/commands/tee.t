echo first > /tmp/a
echo hello | tee /tmp/a /tmp/b
cat /tmp/a /tmp/b
echo more | tee -a /tmp/a /tmp/c > /dev/null
cat /tmp/a /tmp/c
tee -z
echo $status
echo x | tee /tmp/nodir/x /tmp/d
cat /tmp/d
-- stdout --
hello
hello
hello
hello
more
more
usage
x
x
-- stderr --
usage: tee [-ai] file ...
tee: cannot open /tmp/nodir/x: '/tmp/nodir' file does not exist
