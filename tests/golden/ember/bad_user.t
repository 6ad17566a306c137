-- args --
-u 'bad user' sh
-- stderr --
ember: bad user name "bad user"
usage: ember [-r root] [-u user] [-v] [-G chip] [command [arg ...]]
-- status --
2
