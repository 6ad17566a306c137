# A namespace without /dis cannot run programs, not even through sh.
unmount /dis
ls /
-- stderr --
sh: ls: '/dis/ls' file does not exist
ember: '/dis/ls' file does not exist
-- status --
1
