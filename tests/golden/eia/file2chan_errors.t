# file2chan needs a #f directory (bound into the path's directory) and a free name; each
# error is raised, so every attempt runs in a process of its own (@).
load file2chan
@ file2chan /tmp/x {echo} {}
echo $status
bind -a '#f' /dev
@ file2chan /dev/cons {echo} {}
@ file2chan /dev/x {echo}
@ file2chan /dev/x echo {}
file2chan /dev/ok {echo ok} {}
@ file2chan /dev/ok {echo again} {}
cat /dev/ok
# A named #f directory is shared by every namespace.
file2chan '#fshared/note' {echo shared} {}
sh -c {cat '#fshared/note'}
# Nothing but file2chan makes files there.
echo new > '#f/new'
-- stdout --
bad file2chan
ok
shared
-- stderr --
file2chan: '/tmp' is not a file2chan directory (bind -a '#f' there first)
file2chan: '/dev/cons' file already exists
sh: usage: file2chan file {read} {write} [{close}]
sh: usage: file2chan file {read} {write} [{close}]
file2chan: '/dev/ok' file already exists
sh: cannot open #f/new: '#f/new' permission denied
ember: bad redir
-- status --
1
