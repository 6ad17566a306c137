sleep 10 &
sleep 10 &
# Give both time to start running as sleep.
sleep 0.5
kill sleep | wc -w
sleep 0.3
ps | grep -c Sleep
sleep 10 &
kill $apid
echo $status
kill nosuch
echo $status
kill
echo $status
kill 999999
-- stdout --
      2
0

nothing killed
usage
-- stderr --
kill: cannot find nosuch
usage: kill [-g] pid|module ...
kill: cannot kill 999999: '/prog/999999' file does not exist
ember: nothing killed
-- status --
1
