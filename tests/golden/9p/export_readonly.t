# export -r refuses every change.
mkdir -p /tmp/share
echo keep > /tmp/share/file
mount -c {export -r /tmp/share} /n
cat /n/file
sh -c {echo no > /n/file}
sh -c {echo no > /n/other}
rm /n/file
mkdir /n/dir
cat /tmp/share/file
-- stdout --
keep
keep
-- stderr --
sh: cannot open /n/file: '/n/file' read only file system
sh: cannot open /n/other: '/n/other' read only file system
rm: /n/file: '/n/file' read only file system
mkdir: cannot make directory /n/dir: '/n/dir' read only file system
