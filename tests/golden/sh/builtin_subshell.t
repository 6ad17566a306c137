# @ runs a command in a new process: assignments there do not come back.
x=outer
@ {x=inner; echo in subshell $x}
echo $x
-- stdout --
in subshell inner
outer
