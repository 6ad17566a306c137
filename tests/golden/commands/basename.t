basename /usr/glenda/lib/profile
basename /dis/ls.dis .dis
basename ls.dis ls.dis
basename -d /usr/glenda/lib/profile
basename -d profile
basename -d /profile
basename a/b/
basename -x
echo $status
basename
-- stdout --
profile
ls

/usr/glenda/lib
.


usage
-- stderr --
usage: basename [-d] string [suffix]
usage: basename [-d] string [suffix]
ember: usage
-- status --
1
