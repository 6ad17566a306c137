man ls
man 2 bind
man bind
man -w ls bind
man -l 10 2
man -l 2
man nothing
echo $status
man
echo $status
man ls nothing
man 7 bind
echo $status
-- setup --
mkdir -p $ROOT/man/1 $ROOT/man/2 $ROOT/man/10
printf 'ls page\n' > $ROOT/man/1/ls
printf 'bind: the command\n' > $ROOT/man/1/bind
printf 'bind: the system call\n' > $ROOT/man/2/bind
printf 'a tenth section\n' > $ROOT/man/10/extra
-- stdout --
ls page
bind: the system call
bind: the command
/man/1/ls
/man/1/bind
extra(10)
bind(2)
bind(2)
no entry
usage
ls page
no section 7
-- stderr --
man: no manual page for nothing
usage: man [-w] [section] title ... | man -l [section ...]
man: no manual page for nothing
man: no section 7
