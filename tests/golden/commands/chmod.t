mkdir /tmp/w
cd /tmp/w
echo x > f
chmod 600 f
ls -l f | grep -c '^--rw------- '
chmod go+r f
ls -l f | grep -c '^--rw-r--r-- '
chmod u+x,g f
echo $status
chmod 755 f
test -x f
echo $status
chmod 'a=r' f
ls -l f | grep -c '^--r--r--r-- '
chmod 644 nothere f
-- stdout --
1
1
usage

1
-- stderr --
chmod: bad mode u+x,g
usage: chmod 0777 file ... | chmod [ugoa][+-=][rwxal] file ...
chmod: nothere: '/tmp/w/nothere' file does not exist
ember: errors
-- status --
1
