# std and file2chan are always loaded; the optional modules only when loaded; no module
# is read from /dis/sh.
load std /dis/sh/file2chan.dis
echo ${loaded}
load expr
echo ${loaded}
unload expr
echo ${loaded}
load nosuch
-- stdout --
builtin std file2chan
builtin std file2chan expr
builtin std file2chan
-- stderr --
sh: cannot load nosuch: no such module (built in: std file2chan expr string regex)
ember: bad module
-- status --
1
