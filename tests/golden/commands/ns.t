mkdir /tmp/a /tmp/b
bind -a /tmp/a /tmp/b
bind -bc /tmp/a /tmp/b
cd /tmp
ns | grep /tmp
ns -r | grep -c /tmp
ns ${pid} | tail -1
ns -x
echo $status
ns 999999
-- stdout --
bind /tmp/b /tmp/b
bind -a /tmp/a /tmp/b
bind -bc /tmp/a /tmp/b
cd /tmp
4
cd /tmp
usage
-- stderr --
usage: ns [-r] [pid]
ns: cannot open /prog/999999/ns: '/prog/999999' file does not exist
ember: file does not exist
-- status --
1
