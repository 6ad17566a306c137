pwd
cd /lib/ndb
pwd
mkdir /tmp/x
bind /lib /tmp/x
cd /tmp/x/sh
pwd
pwd extra
-- stdout --
/
/lib/ndb
/tmp/x/sh
-- stderr --
usage: pwd
ember: usage
-- status --
1
