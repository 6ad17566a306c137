# /n and /mnt are served as mntgen(4) does: any name there is an empty directory to mount
# on, with no mkdir first; the directory lists what is mounted in this namespace.
ls /n
ls /n/anything
bind '#c' /n/cons
ls /n/cons/user
mount {export /lib/ndb} /n/ndb
ls /n/ndb/common
ls /n
bind /lib /mnt/lib
ls /mnt
ls /mnt/lib/ndb/local
mkdir -p /n/gw && echo mkdir -p works
sh -c {bind /lib /n/private; ls /n}
ls /n
unmount /n/cons
ls /n
touch /n/file
-- stdout --
/n/cons/user
/n/ndb/common
/n/cons
/n/ndb
/mnt/lib
/mnt/lib/ndb/local
mkdir -p works
/n/cons
/n/ndb
/n/private
/n/cons
/n/ndb
/n/ndb
-- stderr --
touch: /n/file: cannot create: '/n/file' file already exists
ember: errors
-- status --
1
