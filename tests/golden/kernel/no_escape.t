# Nothing leads out of the root: not .., not absolute or relative symbolic links.
cat /../../etc/passwd
cd /../../..
pwd
cat /tmp/absolute
cat /tmp/relative
cat /tmp/inside
cat '#U/../../etc/passwd'
-- setup --
ln -s /etc/passwd $ROOT/tmp/absolute
ln -s ../../../../../../../../etc/passwd $ROOT/tmp/relative
echo 'inside the root' > $ROOT/tmp/target
ln -s target $ROOT/tmp/inside
-- stdout --
/
inside the root
-- stderr --
cat: cannot open /../../etc/passwd: '/etc' file does not exist
cat: cannot open /tmp/absolute: '/tmp/absolute' permission denied
cat: cannot open /tmp/relative: '/tmp/relative' permission denied
cat: cannot open #U/../../etc/passwd: '#U/etc' file does not exist
ember: errors
-- status --
1
