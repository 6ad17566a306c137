-- args --
-r
-- stderr --
ember: -r needs a value
usage: ember [-r root] [-u user] [-v] [-G chip] [command [arg ...]]
-- status --
2
