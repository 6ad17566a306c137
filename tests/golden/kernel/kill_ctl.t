# Killing a background process through its ctl file.
sleep 100 &
p=$apid
test -e /prog/$p/ctl && echo running
echo kill > /prog/$p/ctl
sleep 0.5
test -e /prog/$p || echo gone
-- stdout --
running
gone
