# Bad pins, bad verbs and writes to an input each get an error naming the problem.
echo function 54 out > /dev/gpio/ctl
echo set x 1 > /dev/gpio/ctl
echo blink 17 > /dev/gpio/ctl
echo function 17 > /dev/gpio/ctl
echo function 17 alt0 > /dev/gpio/ctl
echo pull 17 sideways > /dev/gpio/ctl
echo 1 > /dev/gpio/4
echo set 4 1 > /dev/gpio/ctl
echo function 4 in > /dev/gpio/ctl
echo 1 > /dev/gpio/4
echo function 5 out > /dev/gpio/ctl
echo edge 5 rising > /dev/gpio/ctl
echo high > /dev/gpio/5
cat /dev/gpio/54
echo nothing was changed by the errors:
cat /dev/gpio/ctl
-- args --
-u glenda -G sim sh /tmp/golden.sh
-- stdout --
nothing was changed by the errors:
4 in off 0 none
5 out off 0 none
-- stderr --
echo: write error: no pin 54: pins are 0 to 53
echo: write error: bad pin 'x': pins are 0 to 53
echo: write error: unknown control message 'blink'
echo: write error: usage: function N in|out
echo: write error: function alt0 is not supported: Linux's GPIO interface offers only in and out
echo: write error: unknown pull 'sideways'; usage: pull N up|down|off
echo: write error: pin 4 is not an output (make it one with 'function 4 out')
echo: write error: pin 4 is not an output (make it one with 'function 4 out')
echo: write error: pin 4 is not an output (make it one with 'function 4 out')
echo: write error: pin 5 is an output: edge detection needs an input
echo: write error: bad level 'high': write 0 or 1
cat: cannot open /dev/gpio/54: '/dev/gpio/54' file does not exist
