# A server that goes away makes later calls fail at once with an error, never hang.
mkdir -p /tmp/share
echo x > /tmp/share/f
mount {export /tmp/share; echo server gone >[1=2]} /n
cat /n/f
kill Export > /dev/null
sleep 0.5
cat /n/f
echo status $status
-- stdout --
x
status errors
-- stderr --
server gone
cat: cannot open /n/f: '/n/f' i/o on hungup channel
