# With -G sim the boot namespace binds the simulated chip after /dev; /dev keeps the console.
ns | grep G
ls /dev/gpio | wc -l
ls /dev/gpio/ctl /dev/gpio/event /dev/gpio/0 /dev/gpio/53
cat /dev/user
echo
# Any process can attach a chip by name; every attach of a chip is the same chip.
echo function 20 out > /dev/gpio/ctl
bind '#Gsim' /n
cat /n/gpio/ctl
-- args --
-u glenda -G sim sh /tmp/golden.sh
-- stdout --
bind -a '#G' /dev
     56
/dev/gpio/0
/dev/gpio/53
/dev/gpio/ctl
/dev/gpio/event
glenda
20 out off 0 none
