sleep 0
sleep 0.1
echo $status
sleep 1x
echo $status
sleep
echo $status
sleep soon
-- stdout --

bad time 1x
usage
-- stderr --
sleep: bad time 1x
usage: sleep seconds
sleep: bad time soon
ember: bad time soon
-- status --
1
