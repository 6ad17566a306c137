-- setup --
mkdir -p $ROOT/tmp/other/dis $ROOT/tmp/other/lib
echo 'a different root' > $ROOT/tmp/other/lib/motd
-- args --
-r $ROOT/tmp/other -u alice sh -c 'cat /lib/motd; cat /dev/user; echo'
-- stdout --
a different root
alice
