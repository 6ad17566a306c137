# #t* reaches a host tty by its path, and nothing else: not a plain file, not /dev/null,
# not the console. Other specs are refused.
cat '#t*/etc/passwd'
cat '#t*/dev/null'
cat '#t*/dev/tty'
cat '#t*/dev/console'
cat '#tx/eia0'
# Listing a host directory shows its ttys only.
ls '#t*/dev' | grep -v '^#t\*/dev/tty'
bind '#t' /n
ns | grep '#t'
# Nothing can be made there.
echo b9600 > '#t*/etc/hostname'
-- stdout --
bind -a '#t' /dev
bind '#t' /n
-- stderr --
cat: cannot open #t*/etc/passwd: '#t*/etc/passwd' file does not exist
cat: cannot open #t*/dev/null: '#t*/dev/null' file does not exist
cat: cannot open #t*/dev/tty: '#t*/dev/tty' file does not exist
cat: cannot open #t*/dev/console: '#t*/dev/console' file does not exist
cat: cannot open #tx/eia0: '#tx/eia0' bad attach specifier
sh: cannot open #t*/etc/hostname: '#t*/etc/hostname' permission denied
ember: bad redir
-- status --
1
