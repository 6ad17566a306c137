# if with conditions, elif chains and else.
if {~ a a} {echo first}
if {~ a b} {echo no} {~ a a} {echo second}
if {~ a b} {echo no} {echo else branch}
if {~ a b} {echo no}
echo status after false if: $status
if {echo x}
-- stdout --
first
second
else branch
status after false if: no match
-- stderr --
sh: usage: if {cond} {action} [{cond} {action}]... [{elseaction}]
ember: usage
-- status --
1
