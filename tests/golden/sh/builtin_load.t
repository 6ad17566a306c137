# Only std can be loaded, and it is always there.
load std
load expr
-- stderr --
sh: cannot load expr: no such module (std is built in)
ember: bad module
-- status --
1
