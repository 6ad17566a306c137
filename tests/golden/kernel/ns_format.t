# The boot namespace, in Inferno's format, from the ns command and from /prog/N/ns.
ns
me=${pid}
cat /prog/$me/ns | grep dis
bind -bc /tmp /n
cd /n
ns | tail -2
-- stdout --
bind / /
bind -ac '#U' /
bind /dev /dev
bind -b '#c' /dev
bind '#p' /prog
bind '#d' /fd
bind /net /net
bind -a '#I' /net
bind -c '#e' /env
bind -a '#t' /dev
bind '#f' /chan
bind -c '#s' /srv
bind '#x' /dis
bind -a /dis /dis
bind '#N' /n
bind '#Nmnt' /mnt
cd /
bind '#x' /dis
bind -a '#U/dis' /dis
bind -bc /tmp /n
cd /n
