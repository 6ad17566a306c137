# load, whatis, builtin, pctl.
load std
whatis if echo
fn if {echo shadowed}
if {~ a a} {echo x}
builtin if {~ a a} {echo real if}
whatis if
fn if
x=(1 2)
whatis x
pctl forkns newpgrp
pctl bogus
-- stdout --
builtin if
/dis/echo
shadowed
real if
fn if {echo shadowed}
x=1 2
-- stderr --
pctl: unknown flag bogus
ember: usage
-- status --
1
