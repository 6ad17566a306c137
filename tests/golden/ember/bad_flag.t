-- args --
-z sh
-- stderr --
ember: unknown flag -z
usage: ember [-r root] [-u user] [-v] [-G chip] [command [arg ...]]
-- status --
2
