-- args --
sh -c 'cat /nonexistent'
-- stderr --
cat: cannot open /nonexistent: '/nonexistent' file does not exist
ember: errors
-- status --
1
