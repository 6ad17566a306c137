# <{...} and >{...} give a /fd/N name for a pipe to a command.
cat <{echo from a pipe}
echo through | tee >{cat > /tmp/copy} > /dev/null
sleep 0.5
cat /tmp/copy
~ <{} '/fd/*' && echo names a descriptor
-- stdout --
from a pipe
through
names a descriptor
