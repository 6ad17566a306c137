# run reads a script into this shell: its variables stay.
run /tmp/lib.sh arg
echo $fromlib
-- setup --
printf 'fromlib=set by lib $1\necho ran lib $0\n' > $ROOT/tmp/lib.sh
-- stdout --
ran lib /tmp/lib.sh
set by lib arg
