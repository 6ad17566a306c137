cat /nonexistent
echo after
-- stdout --
after
-- stderr --
cat: cannot open /nonexistent: '/nonexistent' file does not exist
