# GPIO over 9P: a pin toggled through mount {export /dev} changes here, a blocking read of
# event through the mount is woken by an edge, and killing a reader blocked there flushes its
# read on the server, so the next edge goes to the next reader.
mkdir -p /tmp/pi
mount {export /dev} /tmp/pi
echo function 17 out > /tmp/pi/gpio/ctl
echo 1 > /tmp/pi/gpio/17
cat /dev/gpio/17
echo 0 > /tmp/pi/gpio/17
cat /dev/gpio/17
echo edge 4 both > /dev/gpio/ctl
{sleep 0.3; echo sim 4 1 > /dev/gpio/ctl} &
(pin kind stamp) = `{read < /tmp/pi/gpio/event}
echo $pin $kind through the mount
read < /tmp/pi/gpio/event > /tmp/lost &
reader=$apid
sleep 0.3
kill $reader
sleep 0.3
test -e /prog/$reader || echo blocked reader killed
{sleep 0.3; echo sim 4 0 > /dev/gpio/ctl} &
(pin kind stamp) = `{read < /tmp/pi/gpio/event}
echo $pin $kind to the next reader
cat /tmp/lost
-- args --
-u glenda -G sim sh /tmp/golden.sh
-- stdout --
1
0
4 rising through the mount
blocked reader killed
4 falling to the next reader
