# Inputs float to their pull, and follow what the outside world drives (sim N 0|1|off).
echo function 4 in > /dev/gpio/ctl
echo pull 4 up > /dev/gpio/ctl
cat /dev/gpio/4
echo pull 4 down > /dev/gpio/ctl
cat /dev/gpio/4
echo sim 4 1 > /dev/gpio/ctl
cat /dev/gpio/4
echo sim 4 off > /dev/gpio/ctl
cat /dev/gpio/4
# Inferno's verbs: pullup, pulldown, float; a pin that was never configured reads as it is.
echo pullup 5 > /dev/gpio/ctl
echo pulldown 6 > /dev/gpio/ctl
echo float 7 > /dev/gpio/ctl
echo sim 8 1 > /dev/gpio/ctl
cat /dev/gpio/5 /dev/gpio/6 /dev/gpio/7 /dev/gpio/8
cat /dev/gpio/ctl
-- args --
-u glenda -G sim sh /tmp/golden.sh
-- stdout --
1
0
1
0
1
0
0
1
4 in down 0 none
5 in up 1 none
6 in down 0 none
7 in off 0 none
