ps | grep -c ' Ps$'
ps | grep -s '^ +[0-9]+ +[0-9]+ +glenda [0-9]+:[0-9][0-9]\.[0-9] +[a-z]+ +[0-9]+K Sh$'
echo $status
sleep 5 &
sleep 0.3
ps | grep -c ' Sleep$'
kill $apid
ps -x
-- stdout --
1

1
-- stderr --
usage: ps
ember: usage
-- status --
1
