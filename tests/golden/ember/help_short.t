-- args --
-h
-- stdout --
usage: ember [-r root] [-u user] [-v] [-G chip] [command [arg ...]]
