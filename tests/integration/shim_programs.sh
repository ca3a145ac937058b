# SPDX-License-Identifier: Apache-2.0
# Real programs under libkest.so: output and exit status are those of a
# run without kest, every successful exec strace sees is recorded (and
# nothing else is), and the log verifies.
. "$(dirname "$0")/shimlib.sh"

# program DESC CMD...: same output and status; exec records that did not
# fail match the successful execve/execveat calls under strace, less
# strace's own exec of CMD (kest sees CMD start, not its exec).
program() {
    d=$1; shift
    same "$d" "$@"
    traced=$(strace_execs "$@")
    # strace itself must have seen the command start
    if [ "$traced" -lt 1 ]; then
        fail "$d: strace counted no exec"
        return
    fi
    check_eq "$d: exec records = successful execs under strace - 1" \
        "$((traced - 1))" "$(completed_execs)"
    check "$d: kest verify passes" verify_ok
}

program "sh -c pipeline" \
    sh -c 'ls / | sort -r | head -3; echo done | tr a-z A-Z;
           /bin/true && /bin/echo "$(/bin/echo nested)"; exit 5'

cat >"$T/script.bash" <<'EOF'
#!/bin/bash
for i in 1 2 3; do
    echo "$i $(basename /a/b$i)"
done | sort -r | tr a-z A-Z
words=$(printf 'x y z\n' | wc -w)
echo "words $words"
/usr/bin/env true
exit 3
EOF
chmod +x "$T/script.bash"
program "bash script" "$T/script.bash"

# env -i strips LD_PRELOAD and KEST_*: the record says which names came
# back, and what runs below is still recorded, linked to that record.
program "env -i" env -i /bin/sh -c '/bin/echo hello | /usr/bin/tr a-z A-Z'
check_eq "env -i: exec.env_restored names what env -i dropped" \
    "KEST_KEY,KEST_LOG,LD_PRELOAD" \
    "$(q '.[] | select(.exec.api == "execvp") | .exec.env_restored
          | split(",") | sort | join(",")')"
check_eq "env -i: the record's own env is the empty one env passed" \
    "[]" "$(q '.[] | select(.exec.api == "execvp") | .exec.env | tojson')"
check_eq "env -i: both grandchildren recorded, under the env record" \
    "$(q '[.[] | select(.exec.api == "execvp") | ._hash]
          | map(., .) | tojson')" \
    "$(q '[.[] | select(.exec.argv[0] == "/bin/echo"
                        or .exec.argv[0] == "/usr/bin/tr")
           | .parent_ids[]] | tojson')"

mkdir "$T/xargs"
program "xargs -P4" sh -c "seq 1 12 | xargs -P4 -n2 sh -c \
    'for i; do /usr/bin/expr \$i \\* 7 >$T/xargs/\$i; done' sh;
    cat $T/xargs/*"

mkdir -p "$T/tree/a/b" "$T/tree/c"
for f in a/1 a/b/2 c/3 4; do
    echo "file $f" >"$T/tree/$f.txt"
done
program "find -exec" find "$T/tree" -name '*.txt' -exec /bin/cat {} \;

# make -j2 on a small C project; gcc's driver starts its passes through
# vfork, which the shim hands to kest-record.
mkdir "$T/proj"
for i in 1 2 3 4 5; do
    printf 'int f%d(void) { return %d; }\n' "$i" "$i" >"$T/proj/f$i.c"
done
cat >"$T/proj/main.c" <<'EOF'
#include <stdio.h>
int f1(void), f2(void), f3(void), f4(void), f5(void);
int main(void)
{
    printf("%d\n", f1() + f2() + f3() + f4() + f5());
    return 0;
}
EOF
cat >"$T/proj/Makefile" <<'EOF'
OBJS = main.o f1.o f2.o f3.o f4.o f5.o
prog: $(OBJS)
	cc -o $@ $(OBJS)
%.o: %.c
	cc -O0 -c $< -o $@
clean:
	rm -f prog $(OBJS)
EOF
program "make -j2" sh -c "make -s -C $T/proj clean; make -C $T/proj -j2 \
    --no-print-directory >/dev/null && $T/proj/prog"
check "make -j2: vfork children of the compiler recorded (cc1)" \
    test "$(q '[.[] | select(.exec.resolved // "" | endswith("/cc1"))]
               | length')" -ge 6

# CPython starts children with vfork: the helper path, including the
# failed execs of its own PATH search.
program "python3 subprocess" /usr/bin/python3 -c '
import subprocess
subprocess.run(["true"], check=True)
out = subprocess.run(["/bin/echo", "from python"], capture_output=True)
print(out.stdout.decode(), end="")
raise SystemExit(subprocess.run(["sh", "-c", "exit 4"]).returncode)'

finish
