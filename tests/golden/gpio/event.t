# event returns each enabled edge as "N rising|falling nanoseconds", read once.
echo edge 17 rising > /dev/gpio/ctl
echo sim 17 1 > /dev/gpio/ctl
(pin kind stamp) = `{read < /dev/gpio/event}
echo $pin $kind
test $stamp -gt 0 && echo stamped
# A falling edge is not asked for; with both, each change is an event, in order.
echo sim 17 0 > /dev/gpio/ctl
echo edge 17 both > /dev/gpio/ctl
echo sim 17 1 > /dev/gpio/ctl
echo sim 17 0 > /dev/gpio/ctl
read -n 2 < /dev/gpio/event > /tmp/events
(a b c d e f) = `{cat /tmp/events}
echo $a $b $d $e
test $c -le $f && echo in order
# A read waits for the edge.
{sleep 0.2; echo sim 17 1 > /dev/gpio/ctl} &
(pin kind stamp) = `{read < /dev/gpio/event}
echo $pin $kind after waiting
# A pull that moves an undriven input is an edge too.
echo edge 9 falling > /dev/gpio/ctl
echo pullup 9 > /dev/gpio/ctl
echo pulldown 9 > /dev/gpio/ctl
(pin kind stamp) = `{read < /dev/gpio/event}
echo $pin $kind
-- args --
-u glenda -G sim sh /tmp/golden.sh
-- stdout --
17 rising
stamped
17 rising 17 falling
in order
17 rising after waiting
9 falling
