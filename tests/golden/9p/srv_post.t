# A connection posted in /srv can be mounted by anyone who sees /srv.
mkdir -p /tmp/share /tmp/mnt
echo posted > /tmp/share/f
# A pipe: serve 9P on one end, post the other end as /srv/share.
bind '#|' /n
export -a /tmp/share /n/data1
echo 3 > /srv/share <>[3] /n/data
mount /srv/share /tmp/mnt
cat /tmp/mnt/f
ls /srv
-- stdout --
posted
/srv/share
