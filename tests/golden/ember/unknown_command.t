-- args --
nosuchcommand
-- stderr --
ember: nosuchcommand: '/dis/nosuchcommand' file does not exist
-- status --
1
