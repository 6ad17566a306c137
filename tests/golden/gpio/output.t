# On the simulated chip an output reads back what was written, through its file or ctl's set.
echo function 17 out > /dev/gpio/ctl
cat /dev/gpio/17
echo 1 > /dev/gpio/17
cat /dev/gpio/17
echo set 17 0 > /dev/gpio/ctl
cat /dev/gpio/17
echo set 17 1 > /dev/gpio/ctl
cat /dev/gpio/ctl
# The outside world cannot change what an output drives.
echo sim 17 0 > /dev/gpio/ctl
cat /dev/gpio/17
# Released, the line is an input again and reads the outside world.
echo release 17 > /dev/gpio/ctl
cat /dev/gpio/17
cat /dev/gpio/ctl
-- args --
-u glenda -G sim sh /tmp/golden.sh
-- stdout --
0
1
0
17 out off 1 none
1
0
