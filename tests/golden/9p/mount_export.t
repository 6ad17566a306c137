# mount {export dir} serves part of the namespace back to us over 9P through a pipe.
mkdir -p /tmp/share/sub
echo hello > /tmp/share/greeting
mount -c {export /tmp/share} /n
ls /n
cat /n/greeting
echo written through 9P > /n/new
cat /tmp/share/new
mkdir /n/sub/deeper
ls /tmp/share/sub
rm /n/new
ls /tmp/share
ns | grep ' /n$'
unmount /n
ls /n
-- stdout --
/n/greeting
/n/sub
hello
written through 9P
/tmp/share/sub/deeper
/tmp/share/greeting
/tmp/share/sub
mount -c '#|/data' /n
