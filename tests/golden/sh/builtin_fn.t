# fn and subfn define commands and substitution builtins; they reach child shells.
fn greet {echo hello $1}
greet world
subfn double {result = $1 $1}
echo ${double x}
sh -c {greet child}
whatis greet
fn greet
greet again
-- stdout --
hello world
x x
hello child
fn greet {echo hello $1}
-- stderr --
sh: greet: '/dis/greet' file does not exist
ember: '/dis/greet' file does not exist
-- status --
1
