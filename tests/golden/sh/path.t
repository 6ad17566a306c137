# $path (default /dis .) finds programs; scripts start with #!/dis/sh.
cd /tmp
./hello.sh a b
hello.sh c
path=(/tmp /dis)
hello.sh d
-- setup --
printf '#!/dis/sh\necho script $0 $*\n' > $ROOT/tmp/hello.sh
chmod +x $ROOT/tmp/hello.sh
-- stdout --
script ./hello.sh a b
script ./hello.sh c
script /tmp/hello.sh d
