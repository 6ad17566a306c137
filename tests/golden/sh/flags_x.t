# sh -x prints each simple command on standard error.
sh -x -c {echo hi 'a b'}
-- stdout --
hi a b
-- stderr --
echo hi 'a b'
